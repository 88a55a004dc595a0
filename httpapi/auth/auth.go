// Package auth authenticates the callers of the REST API under /api.
//
// A caller proves who it is with one credential, looked for in this order:
//
//   - "Authorization: Bearer <token>", where the token is an API token
//     (token.Prefix "sbt_", made by "bot token create") or else a Supabase
//     access token (a JWT);
//   - the login cookie bot_session, made by POST /api/auth/login;
//   - the Supabase cookie sb-access-token (a JWT).
//
// The first credential present decides: a wrong Authorization header is not
// saved by a good cookie. A cookie is sent by the browser on its own, so a
// request that carries one and changes something (any method but GET, HEAD,
// OPTIONS and TRACE) must also show that it comes from a page of this
// server: its Origin, or else its Referer, must have the request's scheme
// and host, and an unsafe request with neither header is refused. Requests
// with an Authorization header are exempt, since no other site can make a
// browser add one.
//
// A client address that presents wrong credentials is slowed down: ten
// failures in a burst, then one every six seconds, and a refused client gets
// 429 before its credential is even looked at. Requests without any
// credential, successful ones and genuine credentials that have expired do
// not count.
//
// An Authenticator is safe for concurrent use.
package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/switchboardhq/switchboard/core/clock"
	"github.com/switchboardhq/switchboard/core/store"
	"github.com/switchboardhq/switchboard/core/token"
	"github.com/switchboardhq/switchboard/httpapi/wire"
)

// The ways a caller can have been authenticated, as Principal.Method.
const (
	MethodToken    = "token"    // an API token as the bearer token
	MethodCookie   = "cookie"   // the login cookie of POST /api/auth/login
	MethodSupabase = "supabase" // a Supabase access token, as bearer or cookie
)

// The cookies the middleware reads.
const (
	// LoginCookie holds the value of a login made by POST /api/auth/login.
	LoginCookie = "bot_session"
	// SupabaseCookie holds a Supabase access token set by the dashboard.
	SupabaseCookie = "sb-access-token"
)

// maxCredential bounds the length of a credential that is looked at; API
// tokens have 47 characters and Supabase access tokens about a thousand.
const maxCredential = 8 << 10

// Principal is the authenticated caller of a request.
type Principal struct {
	// UserID is the API token's user, the user of the login, or
	// "supabase:<sub>" for a Supabase access token.
	UserID string `json:"user_id"`
	// Method is MethodToken, MethodCookie or MethodSupabase.
	Method string `json:"method"`
}

// principalKey is the context key of the Principal.
type principalKey struct{}

// WithPrincipal returns a copy of ctx that carries p. The middleware uses
// it; tests of other packages use it to call their handlers directly.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// FromContext returns the Principal of an authenticated request's context.
func FromContext(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)

	return p, ok
}

// Supabase says which Supabase access tokens are accepted. With neither
// JWTSecret nor JWKSURL, none are.
type Supabase struct {
	// JWTSecret verifies HS256 tokens. It is never logged.
	JWTSecret string
	// JWKSURL verifies RS256 and ES256 tokens with the keys of a JWKS: an
	// http or https URL, or a local file as "file:/path" or an absolute
	// path.
	JWKSURL string
	// Audience must be among a token's aud. Default "authenticated".
	Audience string
	// Issuer must equal a token's iss when it is set.
	Issuer string
}

// Config is what an Authenticator needs.
type Config struct {
	// DB holds the API tokens and the logins.
	DB *store.DB
	// AgentID scopes the tokens and logins.
	AgentID string
	// Supabase configures the Supabase access tokens.
	Supabase Supabase
	// CookieSecure marks the login cookie Secure and makes the same-origin
	// check expect https even when the request reached us over plain HTTP
	// from a proxy.
	CookieSecure bool
	// LoginTTL is how long a login lasts.
	LoginTTL time.Duration
	// Clock tells the time; nil means the system clock.
	Clock clock.Clock
	// Logger receives failures and refusals; nil means slog.Default().
	Logger *slog.Logger
}

// Authenticator checks the credentials of API requests and serves the
// login routes.
type Authenticator struct {
	db           *store.DB
	agentID      string
	supabase     *verifier // nil while Supabase tokens are off
	cookieSecure bool
	loginTTL     time.Duration
	clock        clock.Clock
	log          *slog.Logger
	limiter      *limiter
}

// New returns an Authenticator for cfg. A JWKS file is read now, so that a
// bad one stops the start; a JWKS URL is fetched on first use.
func New(cfg Config) (*Authenticator, error) {
	switch {
	case cfg.DB == nil:
		return nil, errors.New("auth: Config.DB is required")
	case cfg.AgentID == "":
		return nil, errors.New("auth: Config.AgentID is required")
	case cfg.LoginTTL <= 0:
		return nil, fmt.Errorf("auth: Config.LoginTTL must be positive, got %s", cfg.LoginTTL)
	}

	if cfg.Clock == nil {
		cfg.Clock = clock.System{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}

	a := &Authenticator{
		db:           cfg.DB,
		agentID:      cfg.AgentID,
		cookieSecure: cfg.CookieSecure,
		loginTTL:     cfg.LoginTTL,
		clock:        cfg.Clock,
		log:          cfg.Logger.With("component", "auth"),
		limiter:      newLimiter(),
	}

	if cfg.Supabase.JWTSecret != "" || cfg.Supabase.JWKSURL != "" {
		v, err := newVerifier(cfg.Supabase, a.clock, a.log)
		if err != nil {
			return nil, fmt.Errorf("auth: supabase: %w", err)
		}
		a.supabase = v
	}

	return a, nil
}

// Middleware lets a request through to next only with a valid credential,
// with its Principal in the context. Otherwise it answers 401, 403 (a
// cookie on a cross-origin request that changes something), 429 (too many
// failures from the client's address) or, when the database or the JWKS
// cannot be reached, 500 or 503.
func (a *Authenticator) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		client := clientKey(r.RemoteAddr)
		if a.refuseLimited(w, client) {
			return
		}

		cred, err := credentialOf(r)
		if err != nil {
			a.refuse(w, r, client, err)
			return
		}

		if cred.kind == "" {
			w.Header().Set("WWW-Authenticate", "Bearer")
			wire.WriteError(w, http.StatusUnauthorized, wire.Error{Code: wire.CodeUnauthorized,
				Message: "authentication required: send \"Authorization: Bearer <API token " +
					"or Supabase access token>\", or log in with POST /api/auth/login"})
			return
		}

		if cred.ambient && !isSafe(r.Method) {
			if err := a.checkOrigin(r, true); err != nil {
				a.forbid(w, r, err)
				return
			}
		}

		p, err := a.authenticate(r.Context(), cred)
		if err != nil {
			a.refuse(w, r, client, err)
			return
		}

		next.ServeHTTP(w, r.WithContext(WithPrincipal(r.Context(), p)))
	})
}

// The kinds of credential a request can carry.
const (
	credBearer         = "bearer token"
	credLoginCookie    = "login cookie"
	credSupabaseCookie = "Supabase cookie"
)

// credential is the one credential a request is judged by.
type credential struct {
	kind    string // one of the cred constants, "" for none
	value   string
	ambient bool // sent by the browser on its own: a cookie
}

// credentialOf picks the request's credential in the package's order. It
// returns a *denial for an Authorization header that is not a bearer token.
func credentialOf(r *http.Request) (credential, error) {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, value, _ := strings.Cut(h, " ")
		value = strings.TrimSpace(value)
		if !strings.EqualFold(scheme, "Bearer") || value == "" {
			return credential{}, &denial{reason: "the Authorization header must be " +
				"\"Bearer <token>\""}
		}

		return credential{kind: credBearer, value: value}, nil
	}

	if c, err := r.Cookie(LoginCookie); err == nil && c.Value != "" {
		return credential{kind: credLoginCookie, value: c.Value, ambient: true}, nil
	}

	if c, err := r.Cookie(SupabaseCookie); err == nil && c.Value != "" {
		return credential{kind: credSupabaseCookie, value: c.Value, ambient: true}, nil
	}

	return credential{}, nil
}

// authenticate checks cred. It returns a *denial for a credential that is
// refused, and any other error when it could not tell.
func (a *Authenticator) authenticate(ctx context.Context, cred credential) (Principal, error) {
	if len(cred.value) > maxCredential {
		return Principal{}, &denial{reason: "the " + cred.kind + " is too long"}
	}

	switch {
	case cred.kind == credLoginCookie:
		return a.loginPrincipal(ctx, cred.value)

	case cred.kind == credBearer && strings.HasPrefix(cred.value, token.Prefix):
		return a.tokenPrincipal(ctx, cred.value)

	case cred.kind == credBearer && strings.Count(cred.value, ".") != 2:
		return Principal{}, &denial{reason: "the bearer token is neither an API token (" +
			token.Prefix + "...) nor a Supabase access token (a JWT)"}
	}

	userID, err := a.supabaseUser(ctx, cred.value)
	if err != nil {
		return Principal{}, err
	}

	return Principal{UserID: userID, Method: MethodSupabase}, nil
}

// tokenPrincipal looks up an API token.
func (a *Authenticator) tokenPrincipal(ctx context.Context, secret string) (Principal, error) {
	t, err := token.Lookup(ctx, a.db, a.agentID, secret)
	switch {
	case errors.Is(err, token.ErrNotFound):
		return Principal{}, &denial{reason: "unknown or revoked API token"}
	case err != nil:
		return Principal{}, fmt.Errorf("check API token: %w", err)
	}

	return Principal{UserID: t.UserID, Method: MethodToken}, nil
}

// supabaseUser verifies a Supabase access token and returns its user id.
func (a *Authenticator) supabaseUser(ctx context.Context, raw string) (string, error) {
	if a.supabase == nil {
		return "", &denial{reason: "Supabase access tokens are not accepted here: " +
			"auth.supabase is not configured"}
	}

	return a.supabase.verify(ctx, raw)
}

// isSafe reports whether method only reads, so that a cross-origin request
// with it cannot change anything.
func isSafe(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		return true
	}

	return false
}

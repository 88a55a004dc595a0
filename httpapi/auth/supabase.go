package auth

import (
	"context"
	"errors"
	"log/slog"
	"regexp"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/switchboardhq/switchboard/core/clock"
)

// leeway is how far a token's exp, nbf and iat may be off the clock.
const leeway = 30 * time.Second

// subjectPattern is what a token's sub must match to become part of a
// user id: Supabase's are UUIDs.
var subjectPattern = regexp.MustCompile(`^[A-Za-z0-9_.@:-]{1,55}$`)

// verifier checks Supabase access tokens. It is safe for concurrent use.
type verifier struct {
	secret []byte  // HS256 key; nil when HS256 is off
	keys   *keySet // RS256 and ES256 keys; nil when they are off
	parser *jwt.Parser
}

// supabaseClaims are the claims read from a token.
type supabaseClaims struct {
	jwt.RegisteredClaims
	// IsAnonymous marks Supabase's anonymous sign-ins, which anyone can
	// make and which are therefore refused.
	IsAnonymous bool `json:"is_anonymous"`
}

// newVerifier returns a verifier for s. Only the algorithms that s has keys
// for are accepted, so an HS256 token is never checked against a public
// key, nor an RS256 token against the secret.
func newVerifier(s Supabase, clk clock.Clock, log *slog.Logger) (*verifier, error) {
	v := &verifier{}

	var methods []string
	if s.JWTSecret != "" {
		v.secret = []byte(s.JWTSecret)
		methods = append(methods, jwt.SigningMethodHS256.Alg())
	}

	if s.JWKSURL != "" {
		keys, err := newKeySet(s.JWKSURL, clk, log)
		if err != nil {
			return nil, err
		}
		v.keys = keys
		methods = append(methods, jwt.SigningMethodRS256.Alg(), jwt.SigningMethodES256.Alg())
	}

	audience := s.Audience
	if audience == "" {
		audience = "authenticated"
	}

	opts := []jwt.ParserOption{
		jwt.WithValidMethods(methods),
		jwt.WithExpirationRequired(),
		jwt.WithLeeway(leeway),
		jwt.WithAudience(audience),
		jwt.WithTimeFunc(clk.Now),
	}
	if s.Issuer != "" {
		opts = append(opts, jwt.WithIssuer(s.Issuer))
	}

	v.parser = jwt.NewParser(opts...)

	return v, nil
}

// verify checks the token raw and returns its user id, "supabase:<sub>".
// A token that is refused gives a *denial; a JWKS that cannot be fetched an
// *unavailableError.
func (v *verifier) verify(ctx context.Context, raw string) (string, error) {
	var claims supabaseClaims

	_, err := v.parser.ParseWithClaims(raw, &claims, func(t *jwt.Token) (any, error) {
		return v.key(ctx, t)
	})
	if err != nil {
		return "", explain(err)
	}

	if !subjectPattern.MatchString(claims.Subject) {
		return "", &denial{reason: "invalid Supabase access token: its sub is missing " +
			"or not a user id"}
	}

	if claims.IsAnonymous {
		return "", &denial{reason: "anonymous Supabase users are not accepted"}
	}

	return "supabase:" + claims.Subject, nil
}

// key returns the key that verifies t. The parser has already refused an
// algorithm outside the configured ones.
func (v *verifier) key(ctx context.Context, t *jwt.Token) (any, error) {
	alg := t.Method.Alg()
	if alg == jwt.SigningMethodHS256.Alg() {
		if v.secret == nil {
			return nil, &denial{reason: "invalid Supabase access token: HS256 is not accepted"}
		}
		return v.secret, nil
	}

	if v.keys == nil {
		return nil, &denial{reason: "invalid Supabase access token: " + alg +
			" is not accepted"}
	}

	kid, _ := t.Header["kid"].(string)
	if kid == "" {
		return nil, &denial{reason: "invalid Supabase access token: it names no key (kid)"}
	}

	return v.keys.find(ctx, kid, alg)
}

// explain turns a parse error into a *denial that says what is wrong, or
// passes on an *unavailableError.
func explain(err error) error {
	var (
		d           *denial
		unavailable *unavailableError
	)

	if errors.As(err, &unavailable) {
		return err
	}
	if errors.As(err, &d) {
		return d
	}

	reasons := []struct {
		is     error
		reason string
	}{
		{jwt.ErrTokenMalformed, "it is malformed"},
		{jwt.ErrTokenSignatureInvalid, "its signature or algorithm is not accepted"},
		{jwt.ErrTokenExpired, "it has expired"},
		{jwt.ErrTokenNotValidYet, "it is not valid yet"},
		{jwt.ErrTokenUsedBeforeIssued, "it is issued in the future"},
		{jwt.ErrTokenInvalidAudience, "its audience (aud) is not accepted"},
		{jwt.ErrTokenInvalidIssuer, "its issuer (iss) is not accepted"},
		{jwt.ErrTokenRequiredClaimMissing, "it lacks a required claim (exp, aud or iss)"},
	}

	for _, r := range reasons {
		if errors.Is(err, r.is) {
			// Claims are checked after the signature, so an expired token
			// is a genuine one.
			return &denial{reason: "invalid Supabase access token: " + r.reason,
				expired: r.is == jwt.ErrTokenExpired}
		}
	}

	return &denial{reason: "invalid Supabase access token: it could not be verified"}
}

package auth_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/switchboardhq/switchboard/core/clock"
	"github.com/switchboardhq/switchboard/core/store"
	"github.com/switchboardhq/switchboard/core/store/storetest"
	"github.com/switchboardhq/switchboard/core/token"
	"github.com/switchboardhq/switchboard/httpapi/auth"
	"github.com/switchboardhq/switchboard/httpapi/wire"
)

const (
	agentID  = "agent-1"
	secret   = "test-jwt-secret-of-at-least-32-characters"
	issuer   = "https://abc.supabase.co/auth/v1"
	loginTTL = 720 * time.Hour
	// clientHeader names the client address the test server puts into
	// r.RemoteAddr, so that one test can speak as several clients.
	clientHeader = "X-Test-Client"
)

// t0 is when every test starts on its fake clock.
var t0 = time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)

// rsaKey is one RSA key for the whole package; making one takes a while.
var rsaKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}

	return k
})

// bundle is one test's authenticator behind a real HTTP server, with its
// database and clock.
type bundle struct {
	db     *store.DB
	clock  *clock.Fake
	auth   *auth.Authenticator
	server *httptest.Server
	client atomic.Int32 // the last client address handed out
}

// newBundle starts a server on a fresh database of kind with the
// authenticator's routes and /api/echo, which answers the Principal.
func newBundle(t *testing.T, kind store.Dialect, change func(c *auth.Config)) *bundle {
	t.Helper()

	b := &bundle{db: storetest.Open(t, kind), clock: clock.NewFake(t0)}

	cfg := auth.Config{
		DB:       b.db,
		AgentID:  agentID,
		LoginTTL: loginTTL,
		Clock:    b.clock,
		Logger:   slog.New(slog.DiscardHandler),
	}
	if change != nil {
		change(&cfg)
	}

	a, err := auth.New(cfg)
	if err != nil {
		t.Fatalf("auth.New: %v", err)
	}
	b.auth = a

	mux := http.NewServeMux()
	a.Routes(mux)
	mux.Handle("/api/echo", a.Middleware(http.HandlerFunc(echo)))

	b.server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c := r.Header.Get(clientHeader); c != "" {
			r.RemoteAddr = c + ":40000"
		}
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(b.server.Close)

	return b
}

// withSupabaseSecret configures HS256 Supabase tokens with an issuer.
func withSupabaseSecret(c *auth.Config) {
	c.Supabase = auth.Supabase{JWTSecret: secret, Audience: "authenticated", Issuer: issuer}
}

// echo answers the request's Principal.
func echo(w http.ResponseWriter, r *http.Request) {
	p, ok := auth.FromContext(r.Context())
	if !ok {
		http.Error(w, "no principal", http.StatusInternalServerError)
		return
	}

	wire.WriteJSON(w, http.StatusOK, p)
}

// answer is a response with its body read.
type answer struct {
	*http.Response
	body []byte
}

// principal decodes the body as a Principal.
func (a answer) principal(t *testing.T) auth.Principal {
	t.Helper()

	var p auth.Principal
	if err := json.Unmarshal(a.body, &p); err != nil {
		t.Fatalf("decode principal from %q: %v", a.body, err)
	}

	return p
}

// wireError decodes the body as an error answer.
func (a answer) wireError(t *testing.T) wire.Error {
	t.Helper()

	var body struct {
		Error wire.Error `json:"error"`
	}
	if err := json.Unmarshal(a.body, &body); err != nil {
		t.Fatalf("decode error from %q: %v", a.body, err)
	}

	return body.Error
}

// cookie returns the answer's cookie name, or nil.
func (a answer) cookie(name string) *http.Cookie {
	for _, c := range a.Cookies() {
		if c.Name == name {
			return c
		}
	}

	return nil
}

// origin is the test server's own origin.
func (b *bundle) origin() string { return b.server.URL }

// do sends a request to path, changed by each of opts, from a client
// address of its own unless an option sets clientHeader.
func (b *bundle) do(t *testing.T, method, path, body string, opts ...func(*http.Request),
) answer {
	t.Helper()

	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}

	req, err := http.NewRequestWithContext(context.Background(), method, b.server.URL+path, r)
	if err != nil {
		t.Fatal(err)
	}

	n := b.client.Add(1)
	req.Header.Set(clientHeader, fmt.Sprintf("10.1.%d.%d", n/250, n%250+1))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}

	for _, opt := range opts {
		opt(req)
	}

	resp, err := b.server.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()

	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}

	return answer{Response: resp, body: data}
}

// bearer sets the Authorization header.
func bearer(tok string) func(*http.Request) {
	return header("Authorization", "Bearer "+tok)
}

// header sets one header.
func header(name, value string) func(*http.Request) {
	return func(r *http.Request) { r.Header.Set(name, value) }
}

// from makes the request come from the client address addr.
func from(addr string) func(*http.Request) {
	return header(clientHeader, addr)
}

// withCookie adds a cookie.
func withCookie(name, value string) func(*http.Request) {
	return func(r *http.Request) { r.AddCookie(&http.Cookie{Name: name, Value: value}) }
}

// newToken stores an API token of user and returns its secret.
func newToken(t *testing.T, db *store.DB, user string) string {
	t.Helper()

	s, err := token.Create(context.Background(), db, agentID, user, "test", t0)
	if err != nil {
		t.Fatalf("token.Create: %v", err)
	}

	return s
}

// login logs in with an API token of user and returns the cookie's value.
func (b *bundle) login(t *testing.T, user string) string {
	t.Helper()

	body := fmt.Sprintf(`{"token": %q}`, newToken(t, b.db, user))
	resp := b.do(t, http.MethodPost, "/api/auth/login", body, header("Origin", b.origin()))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("login: %d %s", resp.StatusCode, resp.body)
	}

	c := resp.cookie(auth.LoginCookie)
	if c == nil {
		t.Fatalf("login set no %s cookie", auth.LoginCookie)
	}

	return c.Value
}

// expect checks an answer's status and, for an error, its code and that its
// message contains want.
func expect(t *testing.T, a answer, status int, code, want string) {
	t.Helper()

	if a.StatusCode != status {
		t.Fatalf("status %d, want %d; body %s", a.StatusCode, status, a.body)
	}
	if code == "" {
		return
	}

	e := a.wireError(t)
	if e.Code != code || !strings.Contains(e.Message, want) {
		t.Fatalf("error %+v, want code %s and a message with %q", e, code, want)
	}
}

// claims returns the claims of a valid token for sub, changed by change.
func claims(sub string, change func(jwt.MapClaims)) jwt.MapClaims {
	c := jwt.MapClaims{
		"sub":  sub,
		"aud":  "authenticated",
		"iss":  issuer,
		"role": "authenticated",
		"iat":  t0.Add(-time.Minute).Unix(),
		"exp":  t0.Add(time.Hour).Unix(),
	}
	if change != nil {
		change(c)
	}

	return c
}

// sign signs c with method and key, naming kid when it is not empty.
func sign(t *testing.T, method jwt.SigningMethod, key any, kid string, c jwt.MapClaims,
) string {
	t.Helper()

	tok := jwt.NewWithClaims(method, c)
	if kid != "" {
		tok.Header["kid"] = kid
	}

	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatalf("sign: %v", err)
	}

	return s
}

// signHS256 signs c with the Supabase secret.
func signHS256(t *testing.T, c jwt.MapClaims) string {
	t.Helper()

	return sign(t, jwt.SigningMethodHS256, []byte(secret), "", c)
}

// jwkOf returns the JWK of a public RSA or ECDSA key.
func jwkOf(t *testing.T, kid string, key crypto.PublicKey) map[string]string {
	t.Helper()

	enc := base64.RawURLEncoding.EncodeToString

	switch k := key.(type) {
	case *rsa.PublicKey:
		return map[string]string{"kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256",
			"n": enc(k.N.Bytes()), "e": enc(big.NewInt(int64(k.E)).Bytes())}
	case *ecdsa.PublicKey:
		point, err := k.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		return map[string]string{"kty": "EC", "kid": kid, "crv": "P-256",
			"x": enc(point[1:33]), "y": enc(point[33:])}
	}

	t.Fatalf("no JWK for %T", key)
	return nil
}

// jwks returns a JWKS document of keys.
func jwks(t *testing.T, keys ...map[string]string) []byte {
	t.Helper()

	data, err := json.Marshal(map[string]any{"keys": keys})
	if err != nil {
		t.Fatal(err)
	}

	return data
}

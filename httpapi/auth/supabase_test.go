package auth_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/switchboardhq/switchboard/core/store"
	"github.com/switchboardhq/switchboard/core/store/storetest"
	"github.com/switchboardhq/switchboard/httpapi/auth"
	"github.com/switchboardhq/switchboard/httpapi/wire"
)

// sub is the Supabase user of the tests.
const sub = "7f1c2a9e-5b3d-4c8e-9a61-2d4f8b0e6c13"

func TestSupabaseHS256(t *testing.T) {
	t.Parallel()

	storetest.Each(t, func(t *testing.T, kind store.Dialect) {
		t.Parallel()

		b := newBundle(t, kind, withSupabaseSecret)
		hs := func(change func(jwt.MapClaims)) string { return signHS256(t, claims(sub, change)) }

		none, err := jwt.NewWithClaims(jwt.SigningMethodNone, claims(sub, nil)).
			SignedString(jwt.UnsafeAllowNoneSignatureType)
		if err != nil {
			t.Fatal(err)
		}

		tests := []struct {
			name  string
			token string
			want  string // "" for success
		}{
			{"valid", hs(nil), ""},
			{"audience in a list", hs(func(c jwt.MapClaims) {
				c["aud"] = []string{"other", "authenticated"}
			}), ""},
			{"expired within the leeway", hs(func(c jwt.MapClaims) {
				c["exp"] = t0.Add(-20 * time.Second).Unix()
			}), ""},
			{"expired", hs(func(c jwt.MapClaims) { c["exp"] = t0.Add(-time.Minute).Unix() }),
				"expired"},
			{"without exp", hs(func(c jwt.MapClaims) { delete(c, "exp") }), "required claim"},
			{"not valid yet", hs(func(c jwt.MapClaims) {
				c["nbf"] = t0.Add(time.Hour).Unix()
			}), "not valid yet"},
			{"wrong signature", sign(t, jwt.SigningMethodHS256,
				[]byte("another-secret-of-at-least-32-characters"), "", claims(sub, nil)),
				"signature"},
			{"wrong audience", hs(func(c jwt.MapClaims) { c["aud"] = "anon" }), "audience"},
			{"without audience", hs(func(c jwt.MapClaims) { delete(c, "aud") }),
				"required claim"},
			{"wrong issuer", hs(func(c jwt.MapClaims) { c["iss"] = "https://evil.example" }),
				"issuer"},
			{"alg none", none, "algorithm"},
			{"rs256 without jwks", sign(t, jwt.SigningMethodRS256, rsaKey(), "k",
				claims(sub, nil)), "algorithm"},
			{"without sub", hs(func(c jwt.MapClaims) { delete(c, "sub") }), "sub"},
			{"sub with spaces", hs(func(c jwt.MapClaims) { c["sub"] = "a b" }), "sub"},
			{"anonymous user", hs(func(c jwt.MapClaims) { c["is_anonymous"] = true }),
				"anonymous"},
			{"malformed", "abc.def.ghi", "malformed"},
		}

		for _, tt := range tests {
			resp := b.do(t, http.MethodGet, "/api/echo", "", bearer(tt.token))

			if tt.want == "" {
				expect(t, resp, http.StatusOK, "", "")
				want := auth.Principal{UserID: "supabase:" + sub, Method: auth.MethodSupabase}
				if p := resp.principal(t); p != want {
					t.Fatalf("%s: principal %+v, want %+v", tt.name, p, want)
				}
				continue
			}

			if resp.StatusCode != http.StatusUnauthorized {
				t.Fatalf("%s: status %d, want 401: %s", tt.name, resp.StatusCode, resp.body)
			}
			expect(t, resp, http.StatusUnauthorized, wire.CodeUnauthorized, tt.want)

			sig := tt.token[strings.LastIndex(tt.token, ".")+1:]
			if sig != "" && strings.Contains(string(resp.body), sig) {
				t.Fatalf("%s: the answer echoes the token: %s", tt.name, resp.body)
			}
		}
	})
}

func TestSupabaseCookie(t *testing.T) {
	t.Parallel()

	storetest.Each(t, func(t *testing.T, kind store.Dialect) {
		t.Parallel()

		b := newBundle(t, kind, withSupabaseSecret)
		cookie := withCookie(auth.SupabaseCookie, signHS256(t, claims(sub, nil)))

		resp := b.do(t, http.MethodGet, "/api/echo", "", cookie)
		expect(t, resp, http.StatusOK, "", "")
		if p := resp.principal(t); p.Method != auth.MethodSupabase {
			t.Fatalf("principal %+v, want method supabase", p)
		}

		// The Supabase cookie is ambient like the login cookie.
		expect(t, b.do(t, http.MethodPost, "/api/echo", "", cookie),
			http.StatusForbidden, wire.CodeForbidden, "Origin")
		expect(t, b.do(t, http.MethodPost, "/api/echo", "", cookie,
			header("Origin", b.origin())), http.StatusOK, "", "")
	})
}

// jwksServer serves a JWKS that a test can change, and counts its fetches.
type jwksServer struct {
	*httptest.Server
	mu      sync.Mutex
	doc     []byte
	status  int
	fetches atomic.Int32
}

// newJWKSServer serves doc.
func newJWKSServer(t *testing.T, doc []byte) *jwksServer {
	t.Helper()

	s := &jwksServer{doc: doc, status: http.StatusOK}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		s.fetches.Add(1)

		s.mu.Lock()
		defer s.mu.Unlock()

		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(s.status)
		_, _ = w.Write(s.doc)
	}))
	t.Cleanup(s.Close)

	return s
}

// set replaces the served document.
func (s *jwksServer) set(doc []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()

	s.doc = doc
}

func TestSupabaseJWKSURL(t *testing.T) {
	t.Parallel()

	storetest.Each(t, func(t *testing.T, kind store.Dialect) {
		t.Parallel()

		ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}

		keys := newJWKSServer(t, jwks(t, jwkOf(t, "rsa-1", &rsaKey().PublicKey),
			jwkOf(t, "ec-1", &ecKey.PublicKey)))
		b := newBundle(t, kind, func(c *auth.Config) {
			c.Supabase = auth.Supabase{JWKSURL: keys.URL + "/auth/v1/.well-known/jwks.json"}
		})
		get := func(tok string) answer {
			return b.do(t, http.MethodGet, "/api/echo", "", bearer(tok))
		}
		valid := claims(sub, nil)

		expect(t, get(sign(t, jwt.SigningMethodRS256, rsaKey(), "rsa-1", valid)),
			http.StatusOK, "", "")
		expect(t, get(sign(t, jwt.SigningMethodES256, ecKey, "ec-1", valid)),
			http.StatusOK, "", "")

		refused := []struct {
			name  string
			token string
			want  string
		}{
			{"hs256 signed with the public key", sign(t, jwt.SigningMethodHS256,
				rsaKey().N.Bytes(), "rsa-1", valid), "algorithm"},
			{"rs256 naming the ec key", sign(t, jwt.SigningMethodRS256, rsaKey(), "ec-1",
				valid), "does not fit"},
			{"no kid", sign(t, jwt.SigningMethodRS256, rsaKey(), "", valid), "kid"},
			{"expired", sign(t, jwt.SigningMethodES256, ecKey, "ec-1",
				claims(sub, func(c jwt.MapClaims) { c["exp"] = t0.Add(-time.Hour).Unix() })),
				"expired"},
		}
		for _, tt := range refused {
			expect(t, get(tt.token), http.StatusUnauthorized, wire.CodeUnauthorized, tt.want)
		}

		if n := keys.fetches.Load(); n != 1 {
			t.Fatalf("%d fetches of the JWKS, want 1", n)
		}

		// A rotated key: unknown at first, and not fetched again for 5 minutes.
		next, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		keys.set(jwks(t, jwkOf(t, "rsa-2", &next.PublicKey)))
		rotated := sign(t, jwt.SigningMethodRS256, next, "rsa-2", valid)

		b.clock.Advance(4 * time.Minute)
		expect(t, get(rotated), http.StatusUnauthorized, wire.CodeUnauthorized, "not in the JWKS")
		if n := keys.fetches.Load(); n != 1 {
			t.Fatalf("%d fetches after an unknown kid within 5 minutes, want 1", n)
		}

		b.clock.Advance(time.Minute)
		expect(t, get(rotated), http.StatusOK, "", "")
		if n := keys.fetches.Load(); n != 2 {
			t.Fatalf("%d fetches after 5 minutes, want 2", n)
		}

		// The withdrawn key stops working once the set is reloaded.
		expect(t, get(sign(t, jwt.SigningMethodRS256, rsaKey(), "rsa-1", valid)),
			http.StatusUnauthorized, wire.CodeUnauthorized, "not in the JWKS")
	})
}

func TestSupabaseJWKSFile(t *testing.T) {
	t.Parallel()

	dir := t.TempDir()
	path := filepath.Join(dir, "jwks.json")
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}

	doc := jwks(t,
		map[string]string{"kty": "oct", "kid": "symmetric", "k": "c2VjcmV0"},
		jwkOf(t, "small", &small.PublicKey),
		jwkOf(t, "rsa-1", &rsaKey().PublicKey))
	if err := os.WriteFile(path, doc, 0o600); err != nil {
		t.Fatal(err)
	}

	for _, source := range []string{"file:" + path, path} {
		b := newBundle(t, store.SQLite, func(c *auth.Config) {
			c.Supabase = auth.Supabase{JWKSURL: source, Issuer: issuer}
		})
		get := func(tok string) answer {
			return b.do(t, http.MethodGet, "/api/echo", "", bearer(tok))
		}

		expect(t, get(sign(t, jwt.SigningMethodRS256, rsaKey(), "rsa-1", claims(sub, nil))),
			http.StatusOK, "", "")
		expect(t, get(sign(t, jwt.SigningMethodRS256, small, "small", claims(sub, nil))),
			http.StatusUnauthorized, wire.CodeUnauthorized, "not in the JWKS")
		expect(t, get(sign(t, jwt.SigningMethodHS256, []byte("secret"), "symmetric",
			claims(sub, nil))), http.StatusUnauthorized, wire.CodeUnauthorized, "algorithm")
	}

	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, jwks(t, jwkOf(t, "small", &small.PublicKey)), 0o600); err != nil {
		t.Fatal(err)
	}

	_, err = auth.New(auth.Config{DB: storetest.Open(t, store.SQLite), AgentID: agentID,
		LoginTTL: time.Hour, Supabase: auth.Supabase{JWKSURL: bad}})
	if err == nil || !strings.Contains(err.Error(), "no usable") {
		t.Fatalf("New with a JWKS of no usable key: %v, want an error that says so", err)
	}
}

func TestSupabaseJWKSUnavailable(t *testing.T) {
	t.Parallel()

	keys := newJWKSServer(t, []byte(`{"error": "down"}`))
	keys.mu.Lock()
	keys.status = http.StatusBadGateway
	keys.mu.Unlock()

	b := newBundle(t, store.SQLite, func(c *auth.Config) {
		c.Supabase = auth.Supabase{JWKSURL: keys.URL}
	})
	tok := sign(t, jwt.SigningMethodRS256, rsaKey(), "rsa-1", claims(sub, nil))

	// The JWKS being down is no failure of the client's: never 429.
	for range 12 {
		expect(t, b.do(t, http.MethodGet, "/api/echo", "", bearer(tok), from("192.0.2.9")),
			http.StatusServiceUnavailable, wire.CodeUnavailable, "signing keys")
	}

	if n := keys.fetches.Load(); n != 1 {
		t.Fatalf("%d fetches of a failing JWKS within 30 s, want 1", n)
	}

	keys.mu.Lock()
	keys.status, keys.doc = http.StatusOK, jwks(t, jwkOf(t, "rsa-1", &rsaKey().PublicKey))
	keys.mu.Unlock()

	b.clock.Advance(30 * time.Second)
	expect(t, b.do(t, http.MethodGet, "/api/echo", "", bearer(tok)), http.StatusOK, "", "")
}

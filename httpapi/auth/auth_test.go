package auth_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/switchboardhq/switchboard/core/store"
	"github.com/switchboardhq/switchboard/core/store/storetest"
	"github.com/switchboardhq/switchboard/core/token"
	"github.com/switchboardhq/switchboard/httpapi/auth"
	"github.com/switchboardhq/switchboard/httpapi/wire"
)

func TestNoCredentialsIsUnauthorized(t *testing.T) {
	t.Parallel()

	storetest.Each(t, func(t *testing.T, kind store.Dialect) {
		t.Parallel()

		b := newBundle(t, kind, withSupabaseSecret)

		methods := []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut,
			http.MethodPatch, http.MethodDelete, http.MethodOptions}
		for _, method := range methods {
			resp := b.do(t, method, "/api/echo", "", header("Origin", b.origin()))
			if resp.StatusCode != http.StatusUnauthorized {
				t.Fatalf("%s: status %d, want 401", method, resp.StatusCode)
			}
			if !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
				t.Fatalf("%s: WWW-Authenticate %q, want Bearer", method,
					resp.Header.Get("WWW-Authenticate"))
			}
			if method != http.MethodHead {
				expect(t, resp, http.StatusUnauthorized, wire.CodeUnauthorized,
					"authentication required")
			}
		}

		expect(t, b.do(t, http.MethodGet, "/api/auth/me", ""),
			http.StatusUnauthorized, wire.CodeUnauthorized, "authentication required")
		expect(t, b.do(t, http.MethodPost, "/api/auth/logout", ""),
			http.StatusUnauthorized, wire.CodeUnauthorized, "authentication required")
	})
}

func TestAPIToken(t *testing.T) {
	t.Parallel()

	storetest.Each(t, func(t *testing.T, kind store.Dialect) {
		t.Parallel()

		b := newBundle(t, kind, nil)
		alice := newToken(t, b.db, "alice@example.com")

		resp := b.do(t, http.MethodGet, "/api/echo", "", bearer(alice))
		expect(t, resp, http.StatusOK, "", "")
		want := auth.Principal{UserID: "alice@example.com", Method: auth.MethodToken}
		if p := resp.principal(t); p != want {
			t.Fatalf("principal %+v, want %+v", p, want)
		}

		resp = b.do(t, http.MethodGet, "/api/echo", "", header("Authorization",
			"bearer "+alice))
		expect(t, resp, http.StatusOK, "", "")

		// A bearer token is no ambient credential: no Origin is needed.
		resp = b.do(t, http.MethodPost, "/api/echo", "", bearer(alice),
			header("Origin", "https://evil.example"), header("Sec-Fetch-Site", "cross-site"))
		expect(t, resp, http.StatusOK, "", "")

		var used []time.Time
		err := b.db.NewRaw("SELECT last_used_at FROM api_tokens").
			Scan(context.Background(), &used)
		if err != nil || len(used) != 1 || used[0].IsZero() {
			t.Fatalf("last_used_at = %v, %v; want it set", used, err)
		}

		wrong := alice[:len(alice)-4] + "AAAA"
		tests := []struct {
			name   string
			header string
			want   string
		}{
			{"wrong token", "Bearer " + wrong, "unknown or revoked API token"},
			{"basic scheme", "Basic " + alice, "must be \"Bearer <token>\""},
			{"empty bearer", "Bearer ", "must be \"Bearer <token>\""},
			{"not a token", "Bearer hello", "neither an API token"},
			{"jwt without supabase", "Bearer a.b.c", "not configured"},
		}

		for _, tt := range tests {
			resp := b.do(t, http.MethodGet, "/api/echo", "", header("Authorization", tt.header))
			expect(t, resp, http.StatusUnauthorized, wire.CodeUnauthorized, tt.want)

			if strings.Contains(string(resp.body), strings.TrimPrefix(alice, token.Prefix)) ||
				strings.Contains(string(resp.body), strings.TrimPrefix(wrong, token.Prefix)) {
				t.Fatalf("%s: the answer echoes the token: %s", tt.name, resp.body)
			}
		}
	})
}

func TestAPITokenOfAnotherAgent(t *testing.T) {
	t.Parallel()

	storetest.Each(t, func(t *testing.T, kind store.Dialect) {
		t.Parallel()

		b := newBundle(t, kind, func(c *auth.Config) { c.AgentID = "agent-2" })
		tok := newToken(t, b.db, "owner")

		expect(t, b.do(t, http.MethodGet, "/api/echo", "", bearer(tok)),
			http.StatusUnauthorized, wire.CodeUnauthorized, "unknown or revoked")
	})
}

func TestLoginCookie(t *testing.T) {
	t.Parallel()

	storetest.Each(t, func(t *testing.T, kind store.Dialect) {
		t.Parallel()

		b := newBundle(t, kind, withSupabaseSecret)
		body := `{"token": "` + newToken(t, b.db, "owner") + `"}`

		resp := b.do(t, http.MethodPost, "/api/auth/login", body, header("Origin", b.origin()))
		expect(t, resp, http.StatusOK, "", "")

		c := resp.cookie(auth.LoginCookie)
		if c == nil || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/" ||
			c.Secure || c.MaxAge != int(loginTTL.Seconds()) {
			t.Fatalf("cookie %+v, want HttpOnly, SameSite=Strict, Path=/, not Secure, "+
				"Max-Age=%d", c, int(loginTTL.Seconds()))
		}

		if !strings.Contains(string(resp.body), `"user_id":"owner"`) ||
			!strings.Contains(string(resp.body), t0.Add(loginTTL).Format(time.RFC3339)) {
			t.Fatalf("login answered %s, want the user and the expiry", resp.body)
		}

		var stored []string
		err := b.db.NewRaw("SELECT token_hash FROM web_logins").
			Scan(context.Background(), &stored)
		if err != nil || len(stored) != 1 || strings.Contains(stored[0], c.Value) {
			t.Fatalf("web_logins hashes %v, %v; want one hash, not the value", stored, err)
		}

		resp = b.do(t, http.MethodGet, "/api/echo", "", withCookie(c.Name, c.Value))
		expect(t, resp, http.StatusOK, "", "")
		want := auth.Principal{UserID: "owner", Method: auth.MethodCookie}
		if p := resp.principal(t); p != want {
			t.Fatalf("principal %+v, want %+v", p, want)
		}

		resp = b.do(t, http.MethodGet, "/api/auth/me", "", withCookie(c.Name, c.Value))
		if p := resp.principal(t); p != want {
			t.Fatalf("/api/auth/me: %+v, want %+v", p, want)
		}

		jwtBody := `{"supabase_access_token": "` +
			signHS256(t, claims("1b2c3d4e-0000-4000-8000-000000000001", nil)) + `"}`
		resp = b.do(t, http.MethodPost, "/api/auth/login", jwtBody)
		expect(t, resp, http.StatusOK, "", "")
		if !strings.Contains(string(resp.body),
			`"user_id":"supabase:1b2c3d4e-0000-4000-8000-000000000001"`) {
			t.Fatalf("Supabase login answered %s", resp.body)
		}
	})
}

func TestLoginCookieSecure(t *testing.T) {
	t.Parallel()

	b := newBundle(t, store.SQLite, func(c *auth.Config) { c.CookieSecure = true })
	body := `{"token": "` + newToken(t, b.db, "owner") + `"}`

	resp := b.do(t, http.MethodPost, "/api/auth/login", body)
	if c := resp.cookie(auth.LoginCookie); c == nil || !c.Secure {
		t.Fatalf("cookie %+v, want Secure", c)
	}
}

func TestCookieSameOrigin(t *testing.T) {
	t.Parallel()

	storetest.Each(t, func(t *testing.T, kind store.Dialect) {
		t.Parallel()

		b := newBundle(t, kind, nil)
		session := withCookie(auth.LoginCookie, b.login(t, "owner"))
		httpsSelf := "https://" + strings.TrimPrefix(b.origin(), "http://")

		tests := []struct {
			name   string
			method string
			opts   []func(*http.Request)
			status int
			want   string
		}{
			{"get needs no origin", http.MethodGet, nil, http.StatusOK, ""},
			{"post without origin or referer", http.MethodPost, nil, http.StatusForbidden,
				"must carry an Origin or Referer"},
			{"delete without origin", http.MethodDelete, nil, http.StatusForbidden, "Origin"},
			{"post from a foreign origin", http.MethodPost,
				[]func(*http.Request){header("Origin", "http://evil.example")},
				http.StatusForbidden, "http://evil.example"},
			{"post from a null origin", http.MethodPost,
				[]func(*http.Request){header("Origin", "null")},
				http.StatusForbidden, "not an absolute URL"},
			{"post from https to http", http.MethodPut,
				[]func(*http.Request){header("Origin", httpsSelf)},
				http.StatusForbidden, "auth.cookie_secure"},
			{"post marked cross-site", http.MethodPost, []func(*http.Request){
				header("Origin", b.origin()), header("Sec-Fetch-Site", "cross-site")},
				http.StatusForbidden, "cross-site"},
			{"post from a foreign referer", http.MethodPatch,
				[]func(*http.Request){header("Referer", "http://evil.example/page?x=1")},
				http.StatusForbidden, "Referer http://evil.example"},
			{"post from the same origin", http.MethodPost, []func(*http.Request){
				header("Origin", b.origin()), header("Sec-Fetch-Site", "same-origin")},
				http.StatusOK, ""},
			{"delete with a same-origin referer", http.MethodDelete,
				[]func(*http.Request){header("Referer", b.origin()+"/dashboard")},
				http.StatusOK, ""},
		}

		for _, tt := range tests {
			resp := b.do(t, tt.method, "/api/echo", "", append(tt.opts, session)...)
			if resp.StatusCode != tt.status {
				t.Fatalf("%s: status %d, want %d: %s", tt.name, resp.StatusCode, tt.status,
					resp.body)
			}
			if tt.want != "" {
				expect(t, resp, tt.status, wire.CodeForbidden, tt.want)
			}
		}
	})
}

func TestLogout(t *testing.T) {
	t.Parallel()

	storetest.Each(t, func(t *testing.T, kind store.Dialect) {
		t.Parallel()

		b := newBundle(t, kind, nil)
		session := withCookie(auth.LoginCookie, b.login(t, "owner"))

		expect(t, b.do(t, http.MethodPost, "/api/auth/logout", "", session),
			http.StatusForbidden, wire.CodeForbidden, "Origin")

		resp := b.do(t, http.MethodPost, "/api/auth/logout", "", session,
			header("Origin", b.origin()))
		expect(t, resp, http.StatusNoContent, "", "")
		if c := resp.cookie(auth.LoginCookie); c == nil || c.MaxAge >= 0 {
			t.Fatalf("logout cookie %+v, want one that deletes it", c)
		}

		resp = b.do(t, http.MethodGet, "/api/echo", "", session)
		expect(t, resp, http.StatusUnauthorized, wire.CodeUnauthorized, "unknown or ended login")
		if c := resp.cookie(auth.LoginCookie); c == nil || c.MaxAge >= 0 {
			t.Fatalf("refused cookie %+v, want it deleted", c)
		}

		if n := count(t, b, "web_logins"); n != 0 {
			t.Fatalf("%d logins left after logout, want 0", n)
		}
	})
}

func TestLoginExpires(t *testing.T) {
	t.Parallel()

	storetest.Each(t, func(t *testing.T, kind store.Dialect) {
		t.Parallel()

		b := newBundle(t, kind, nil)
		session := withCookie(auth.LoginCookie, b.login(t, "owner"))

		b.clock.Advance(loginTTL - time.Second)
		expect(t, b.do(t, http.MethodGet, "/api/echo", "", session), http.StatusOK, "", "")

		b.clock.Advance(time.Second)
		expect(t, b.do(t, http.MethodGet, "/api/echo", "", session),
			http.StatusUnauthorized, wire.CodeUnauthorized, "expired")

		if n := count(t, b, "web_logins"); n != 0 {
			t.Fatalf("%d logins left after the expired one was refused, want 0", n)
		}

		expect(t, b.do(t, http.MethodGet, "/api/echo", "",
			withCookie(auth.LoginCookie, "short")),
			http.StatusUnauthorized, wire.CodeUnauthorized, "malformed login cookie")
	})
}

func TestLoginRequestErrors(t *testing.T) {
	t.Parallel()

	storetest.Each(t, func(t *testing.T, kind store.Dialect) {
		t.Parallel()

		b := newBundle(t, kind, withSupabaseSecret)
		tok := newToken(t, b.db, "owner")
		self := header("Origin", b.origin())

		tests := []struct {
			name   string
			body   string
			opts   []func(*http.Request)
			status int
			code   string
			want   string
		}{
			{"both credentials", `{"token": "` + tok + `", "supabase_access_token": "x.y.z"}`,
				nil, http.StatusBadRequest, wire.CodeInvalid, "not both"},
			{"no credential", `{}`, nil, http.StatusBadRequest, wire.CodeInvalid, "required"},
			{"unknown field", `{"password": "x"}`, nil, http.StatusBadRequest,
				wire.CodeInvalid, "unknown field"},
			{"not json", `{"token": "` + tok + `"}`,
				[]func(*http.Request){header("Content-Type", "text/plain")},
				http.StatusUnsupportedMediaType, wire.CodeUnsupported, "application/json"},
			{"wrong token", `{"token": "sbt_wrong"}`, nil, http.StatusUnauthorized,
				wire.CodeUnauthorized, "unknown or revoked"},
			{"bad supabase token", `{"supabase_access_token": "x.y.z"}`, nil,
				http.StatusUnauthorized, wire.CodeUnauthorized, "malformed"},
			{"foreign origin", `{"token": "` + tok + `"}`,
				[]func(*http.Request){header("Origin", "http://evil.example")},
				http.StatusForbidden, wire.CodeForbidden, "evil.example"},
			{"cross-site fetch", `{"token": "` + tok + `"}`,
				[]func(*http.Request){header("Sec-Fetch-Site", "cross-site")},
				http.StatusForbidden, wire.CodeForbidden, "cross-site"},
		}

		for _, tt := range tests {
			resp := b.do(t, http.MethodPost, "/api/auth/login", tt.body,
				append([]func(*http.Request){self}, tt.opts...)...)
			expect(t, resp, tt.status, tt.code, tt.want)

			if c := resp.cookie(auth.LoginCookie); c != nil {
				t.Fatalf("%s: a cookie was set: %+v", tt.name, c)
			}
		}

		if n := count(t, b, "web_logins"); n != 0 {
			t.Fatalf("%d logins stored by refused requests, want 0", n)
		}
	})
}

func TestRateLimit(t *testing.T) {
	t.Parallel()

	storetest.Each(t, func(t *testing.T, kind store.Dialect) {
		t.Parallel()

		b := newBundle(t, kind, withSupabaseSecret)
		tok := newToken(t, b.db, "owner")
		attacker, other := from("192.0.2.7"), from("192.0.2.8")

		for i := range 10 {
			resp := b.do(t, http.MethodGet, "/api/echo", "", attacker, bearer("sbt_guess"))
			if resp.StatusCode != http.StatusUnauthorized {
				t.Fatalf("failure %d: status %d, want 401", i+1, resp.StatusCode)
			}
		}

		resp := b.do(t, http.MethodGet, "/api/echo", "", attacker, bearer(tok))
		expect(t, resp, http.StatusTooManyRequests, wire.CodeRateLimited, "retry in 6 s")
		if got := resp.Header.Get("Retry-After"); got != "6" {
			t.Fatalf("Retry-After %q, want 6", got)
		}

		expect(t, b.do(t, http.MethodPost, "/api/auth/login", `{"token": "`+tok+`"}`,
			attacker), http.StatusTooManyRequests, wire.CodeRateLimited, "")

		expect(t, b.do(t, http.MethodGet, "/api/echo", "", other, bearer(tok)),
			http.StatusOK, "", "")

		// One more attempt every 6 s; a success does not use it up.
		b.clock.Advance(6 * time.Second)
		expect(t, b.do(t, http.MethodGet, "/api/echo", "", attacker, bearer(tok)),
			http.StatusOK, "", "")
		expect(t, b.do(t, http.MethodPost, "/api/auth/login", `{"token": "sbt_guess"}`,
			attacker), http.StatusUnauthorized, wire.CodeUnauthorized, "")
		expect(t, b.do(t, http.MethodGet, "/api/echo", "", attacker, bearer(tok)),
			http.StatusTooManyRequests, wire.CodeRateLimited, "")

		// Requests without any credential guess nothing and are not counted,
		// nor are genuine tokens that have expired.
		expired := signHS256(t, claims(sub, func(c jwt.MapClaims) {
			c["exp"] = t0.Add(-time.Hour).Unix()
		}))
		for range 15 {
			expect(t, b.do(t, http.MethodGet, "/api/echo", "", other),
				http.StatusUnauthorized, wire.CodeUnauthorized, "authentication required")
			expect(t, b.do(t, http.MethodGet, "/api/echo", "", other, bearer(expired)),
				http.StatusUnauthorized, wire.CodeUnauthorized, "expired")
		}
	})
}

func TestPrincipalContext(t *testing.T) {
	t.Parallel()

	if _, ok := auth.FromContext(context.Background()); ok {
		t.Fatal("FromContext(empty) found a principal")
	}

	want := auth.Principal{UserID: "alice", Method: auth.MethodToken}
	got, ok := auth.FromContext(auth.WithPrincipal(context.Background(), want))
	if !ok || got != want {
		t.Fatalf("FromContext(WithPrincipal(p)) = %+v, %v; want %+v", got, ok, want)
	}
}

func TestNewRefusesBadConfig(t *testing.T) {
	t.Parallel()

	db := storetest.Open(t, store.SQLite)

	tests := map[string]auth.Config{
		"no database":  {AgentID: agentID, LoginTTL: time.Hour},
		"no agent":     {DB: db, LoginTTL: time.Hour},
		"no login ttl": {DB: db, AgentID: agentID},
		"relative jwks": {DB: db, AgentID: agentID, LoginTTL: time.Hour,
			Supabase: auth.Supabase{JWKSURL: "jwks.json"}},
		"missing jwks file": {DB: db, AgentID: agentID, LoginTTL: time.Hour,
			Supabase: auth.Supabase{JWKSURL: "file:/nonexistent/jwks.json"}},
	}

	for name, cfg := range tests {
		if _, err := auth.New(cfg); err == nil {
			t.Errorf("%s: New() = nil error, want one", name)
		}
	}
}

// count returns the rows of table.
func count(t *testing.T, b *bundle, table string) int64 {
	t.Helper()

	n, err := b.db.NewSelect().Table(table).Count(context.Background())
	if err != nil {
		t.Fatalf("count %s: %v", table, err)
	}

	return n
}

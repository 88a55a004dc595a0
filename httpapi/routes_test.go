package httpapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/switchboardhq/switchboard/core/store"
)

// TestEveryRouteNeedsCredentials calls every route of the API without a
// credential, and with a token that does not exist or a malformed header:
// each is 401. Refused credentials are rate limited per address, so only
// the first routes get those.
func TestEveryRouteNeedsCredentials(t *testing.T) {
	t.Parallel()

	ta := newTestAPI(t, store.SQLite, withModel())

	patterns := append(ta.API.Patterns(), "POST /api/auth/logout", "GET /api/auth/me")
	if len(patterns) < 20 {
		t.Fatalf("only %d routes registered: %q", len(patterns), patterns)
	}

	for i, p := range patterns {
		method, path, ok := strings.Cut(p, " ")
		if !ok {
			method, path = "GET", p // a catch-all
		}

		path = strings.ReplaceAll(path, "{id}", "1")
		if strings.HasSuffix(path, "/") {
			path += "anything"
		}

		headers := []string{""}
		if i < 4 {
			headers = append(headers, "Bearer sbt_not-a-token", "Basic b3duZXI6cHc=")
		}

		for _, header := range headers {
			req, err := http.NewRequest(method, ta.URL+path, strings.NewReader("{}"))
			if err != nil {
				t.Fatal(err)
			}

			req.Header.Set("Content-Type", "application/json")
			if header != "" {
				req.Header.Set("Authorization", header)
			}

			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()

			if res.StatusCode != http.StatusUnauthorized {
				t.Errorf("%s %s with %q: %d, want 401", method, path, header, res.StatusCode)
			}
		}
	}
}

// TestBodiesOverTheLimitAreRefused sends a body just over 64 KiB to a
// route that takes JSON, and checks that nothing was stored.
func TestBodiesOverTheLimitAreRefused(t *testing.T) {
	t.Parallel()

	ta := newTestAPI(t, store.SQLite)

	big := `{"title": "` + strings.Repeat("x", 64<<10) + `"}`
	ta.wantError("POST", "/api/agent/sessions", "anna", big, http.StatusRequestEntityTooLarge,
		"")
	ta.wantError("POST", "/api/agent/memory", "anna",
		`{"content": "`+strings.Repeat("y", 64<<10)+`"}`, http.StatusRequestEntityTooLarge, "")

	var list sessionList
	ta.doJSON("GET", "/api/agent/sessions", "anna", nil, &list)

	if list.Total != 0 {
		t.Fatalf("an oversize request stored %d sessions", list.Total)
	}
}

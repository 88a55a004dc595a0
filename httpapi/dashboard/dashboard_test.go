package dashboard_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/switchboardhq/switchboard/httpapi/dashboard"
)

func TestHandlerServesTheFilesWithTheirPolicy(t *testing.T) {
	t.Parallel()

	h := dashboard.Handler()

	get := func(path string, header http.Header) *httptest.ResponseRecorder {
		t.Helper()

		req := httptest.NewRequest(http.MethodGet, path, nil)
		for k, v := range header {
			req.Header[k] = v
		}

		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)

		return rec
	}

	page := get("/", nil)
	if page.Code != http.StatusOK || !strings.Contains(page.Body.String(), `src="/app.js"`) ||
		!strings.HasPrefix(page.Header().Get("Content-Type"), "text/html") {
		t.Fatalf("GET / = %d %s", page.Code, page.Header())
	}

	csp := page.Header().Get("Content-Security-Policy")
	if !strings.Contains(csp, "default-src 'self'") ||
		!strings.Contains(csp, "connect-src 'self'") {
		t.Fatalf("policy %q does not keep the page to this server", csp)
	}

	for path, kind := range map[string]string{"/app.js": "javascript", "/style.css": "text/css"} {
		rec := get(path, nil)
		if rec.Code != http.StatusOK || !strings.Contains(rec.Header().Get("Content-Type"), kind) {
			t.Errorf("GET %s = %d %q", path, rec.Code, rec.Header().Get("Content-Type"))
		}
	}

	etag := page.Header().Get("ETag")
	if again := get("/", http.Header{"If-None-Match": {etag}}); etag == "" ||
		again.Code != http.StatusNotModified {
		t.Fatalf("revalidating with ETag %q: %d, want 304", etag, again.Code)
	}

	post := httptest.NewRecorder()
	h.ServeHTTP(post, httptest.NewRequest(http.MethodPost, "/", nil))

	if post.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST / = %d, want 405", post.Code)
	}

	for _, path := range []string{"/nothing.js", "/../dashboard.go", "/static/app.js"} {
		if rec := get(path, nil); rec.Code != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 404", path, rec.Code)
		}
	}
}

// Package dashboard serves the web dashboard: a page, a script and a
// style sheet, embedded in the binary, that drive the REST API from the
// browser. There is no build step; the files in static/ are what is
// served.
//
// Every answer carries a Content-Security-Policy that lets the page load
// and connect to nothing but this server, so the dashboard cannot request
// anything from another host even if a dependency or a message tried.
package dashboard

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"time"
)

//go:embed static
var static embed.FS

// policy is the Content-Security-Policy of every answer: this server only,
// images also from data: and blob: URLs (an attachment's preview), and no
// framing.
const policy = "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; " +
	"script-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'self'; " +
	"frame-ancestors 'none'"

// file is one embedded file with its validator.
type file struct {
	data []byte
	etag string
}

// Handler serves the dashboard: "/" is the page, the other files by name;
// anything else is 404, and a method other than GET or HEAD 405. Answers are revalidated on every load (they
// change with the binary) and are cheap to revalidate by ETag.
func Handler() http.Handler {
	files, err := load()
	if err != nil {
		// The files are compiled in; failing to read them is a build
		// defect, not a runtime condition.
		panic(err)
	}

	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)

			return
		}

		name := path.Clean(r.URL.Path)
		if name == "/" {
			name = "/index.html"
		}

		f, ok := files[name]
		if !ok {
			http.NotFound(w, r)
			return
		}

		h := w.Header()
		h.Set("Content-Security-Policy", policy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-cache")
		h.Set("ETag", f.etag)

		http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(f.data))
	})
}

// load reads every embedded file and computes its ETag.
func load() (map[string]file, error) {
	files := map[string]file{}

	err := fs.WalkDir(static, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}

		data, err := static.ReadFile(p)
		if err != nil {
			return fmt.Errorf("read embedded %s: %w", p, err)
		}

		sum := sha256.Sum256(data)
		files["/"+p[len("static/"):]] = file{data: data,
			etag: `"` + hex.EncodeToString(sum[:8]) + `"`}

		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load the dashboard: %w", err)
	}

	return files, nil
}

package webfetch_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/core/skill"
	"github.com/switchboardhq/switchboard/core/skill/webfetch"
)

const page = `<!DOCTYPE html>
<html><head><title>  The   Page &amp; Title </title>
<style>body { color: red }</style>
<script>var secret = "script text";</script>
</head>
<body>
<noscript>enable scripts</noscript>
<template><p>template text</p></template>
<svg><text>svg text</text></svg>
<h1>Heading</h1>
<p>First   paragraph
   on two lines.</p>
<p>Second<br>line&nbsp;two</p>
<ul><li>one</li><li>two</li></ul>
</body></html>`

// fixedResolver answers host names from a map.
type fixedResolver map[string][]string

func (r fixedResolver) LookupIPAddr(_ context.Context, host string) ([]net.IPAddr, error) {
	addrs, ok := r[host]
	if !ok {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}

	out := make([]net.IPAddr, 0, len(addrs))
	for _, a := range addrs {
		out = append(out, net.IPAddr{IP: net.ParseIP(a)})
	}

	return out, nil
}

func newServer(t *testing.T) *httptest.Server {
	t.Helper()

	mux := http.NewServeMux()
	mux.HandleFunc("/page", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, page)
	})
	mux.HandleFunc("/text", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprint(w, "plain  text\n  as is")
	})
	mux.HandleFunc("/json", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"a": [1, 2]}`)
	})
	mux.HandleFunc("/binary", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Length", "2048")
		w.Write(make([]byte, 2048))
	})
	mux.HandleFunc("/endless", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		chunk := []byte(strings.Repeat("word ", 200))
		for r.Context().Err() == nil {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	})
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	})
	mux.HandleFunc("/missing", http.NotFound)
	mux.HandleFunc("/redirect", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, r.URL.Query().Get("to"), http.StatusFound)
	})

	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	return srv
}

func run(t *testing.T, s *webfetch.Skill, rawURL string) (string, error) {
	t.Helper()

	args, err := json.Marshal(map[string]string{"url": rawURL})
	if err != nil {
		t.Fatalf("marshal arguments: %v", err)
	}

	return s.Run(context.Background(), skill.Call{Arguments: args})
}

func TestRunContent(t *testing.T) {
	t.Parallel()

	srv := newServer(t)

	tests := []struct {
		name    string
		path    string
		opts    webfetch.Options
		want    []string
		notWant []string
		wantErr string
	}{
		{
			name: "html",
			path: "/page",
			want: []string{
				"Title: The Page & Title\n\nHeading\n\nFirst paragraph on two lines.\n\n" +
					"Second\nline two\n\none\ntwo",
			},
			notWant: []string{"script text", "color", "enable scripts", "template text",
				"svg text"},
		},
		{name: "plain text", path: "/text", want: []string{"plain  text\n  as is"}},
		{name: "json", path: "/json", want: []string{`{"a": [1, 2]}`}},
		{
			name: "binary",
			path: "/binary",
			want: []string{"[The response is application/octet-stream, 2 KiB; it is not text"},
		},
		{
			name: "oversized body",
			path: "/endless",
			opts: webfetch.Options{MaxBytes: 4096},
			want: []string{"[The page is larger than 4 KiB; only the first 4 KiB was read.]"},
		},
		{
			name: "too many characters",
			path: "/text",
			opts: webfetch.Options{MaxChars: 5},
			want: []string{"plain\n\n[The text was cut at 5 of 19 characters.]"},
		},
		{
			name:    "slow answer",
			path:    "/slow",
			opts:    webfetch.Options{Timeout: 200 * time.Millisecond},
			wantErr: "/slow: timed out after 200ms",
		},
		{name: "not found", path: "/missing", wantErr: "the server answered 404 Not Found"},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			tt.opts.AllowPrivate = true
			got, err := run(t, webfetch.New(tt.opts), srv.URL+tt.path)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Run() error = %v, want one containing %q", err, tt.wantErr)
				}

				return
			}

			if err != nil {
				t.Fatalf("Run() error = %v", err)
			}

			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("Run() = %q, want it to contain %q", got, w)
				}
			}

			for _, w := range tt.notWant {
				if strings.Contains(got, w) {
					t.Errorf("Run() = %q, want it without %q", got, w)
				}
			}
		})
	}
}

func TestRunRefused(t *testing.T) {
	t.Parallel()

	srv := newServer(t)
	port := srv.Listener.Addr().(*net.TCPAddr).Port
	allowed := netip.MustParseAddrPort(srv.Listener.Addr().String())

	resolver := fixedResolver{
		"public.test":   {"127.0.0.1"},
		"internal.test": {"10.1.2.3"},
		"metadata.test": {"169.254.169.254"},
		"mixed.test":    {"93.184.215.14", "192.168.0.1"},
	}

	// onlyServer lets the guard reach the test server and nothing else, so
	// that public.test stands for a public site.
	onlyServer := func(target netip.AddrPort) error {
		if target == allowed {
			return nil
		}

		return webfetch.CheckAddr(target.Addr())
	}

	redirect := fmt.Sprintf("http://public.test:%d/redirect?to=", port)

	tests := []struct {
		name string
		url  string
		// realGuard uses CheckAddr itself instead of onlyServer.
		realGuard bool
		wantErr   string
	}{
		{
			name:      "loopback",
			realGuard: true,
			url:       fmt.Sprintf("http://127.0.0.1:%d/page", port),
			wantErr:   "refused: 127.0.0.1 is a loopback address",
		},
		{
			name:    "private",
			url:     "http://10.0.0.1/",
			wantErr: "refused: 10.0.0.1 is a private address",
		},
		{
			name:    "metadata",
			url:     "http://169.254.169.254/latest/meta-data",
			wantErr: "refused: 169.254.169.254 is a link-local address",
		},
		{
			name:      "ipv6 loopback",
			realGuard: true,
			url:       fmt.Sprintf("http://[::1]:%d/page", port),
			wantErr:   "refused: ::1 is a loopback address",
		},
		{
			name:    "ipv4-mapped",
			url:     "http://[::ffff:10.0.0.1]/",
			wantErr: "refused: ::ffff:10.0.0.1 is a private address",
		},
		{
			name:    "name resolving to private",
			url:     "http://internal.test/",
			wantErr: "refused: 10.1.2.3 is a private address",
		},
		{
			name:    "name resolving to metadata",
			url:     "http://metadata.test/latest/meta-data",
			wantErr: "refused: 169.254.169.254 is a link-local address",
		},
		{
			name:    "name with one private answer",
			url:     "http://mixed.test/",
			wantErr: "refused: 192.168.0.1 is a private address",
		},
		{
			name:    "redirect to private",
			url:     redirect + "http://10.0.0.1/",
			wantErr: "refused: 10.0.0.1 is a private address",
		},
		{
			name:    "redirect to other loopback",
			url:     redirect + fmt.Sprintf("http://127.0.0.2:%d/page", port),
			wantErr: "refused: 127.0.0.2 is a loopback address",
		},
		{
			name:    "redirect to other port",
			url:     redirect + "http://127.0.0.1:1/page",
			wantErr: "refused: 127.0.0.1 is a loopback address",
		},
		{
			name:    "redirect to a name resolving to private",
			url:     redirect + "http://internal.test/",
			wantErr: "refused: 10.1.2.3 is a private address",
		},
		{
			name:    "redirect to another scheme",
			url:     redirect + "ftp://public.test/file",
			wantErr: `refused: the page redirects to a "ftp" URL`,
		},
		{
			name:    "redirect with user info",
			url:     redirect + fmt.Sprintf("http://me:pw@public.test:%d/page", port),
			wantErr: "refused: the page redirects to a URL with user info",
		},
		{
			name:    "too many redirects",
			url:     strings.Repeat(redirect, 4) + "/page",
			wantErr: "stopped after 2 redirects",
		},
		{
			name:    "user info",
			url:     fmt.Sprintf("http://me:pw@public.test:%d/page", port),
			wantErr: `refused: the argument "url" holds user info`,
		},
		{
			name:    "other scheme",
			url:     "file:///etc/passwd",
			wantErr: `the argument "url" must be an http or https URL, not "file"`,
		},
		{name: "empty", url: " ", wantErr: `the argument "url" is required`},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			s := webfetch.New(webfetch.Options{
				Resolver:     resolver,
				Check:        onlyServer,
				MaxRedirects: 2,
			})
			if tt.realGuard {
				s = webfetch.New(webfetch.Options{Resolver: resolver})
			}

			got, err := run(t, s, tt.url)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Run() = %q, %v; want an error containing %q", got, err, tt.wantErr)
			}
		})
	}
}

func TestRunAllowedThroughGuard(t *testing.T) {
	t.Parallel()

	srv := newServer(t)
	allowed := netip.MustParseAddrPort(srv.Listener.Addr().String())
	port := allowed.Port()

	s := webfetch.New(webfetch.Options{
		Resolver: fixedResolver{"public.test": {"127.0.0.1"}},
		Check: func(target netip.AddrPort) error {
			if target == allowed {
				return nil
			}

			return webfetch.CheckAddr(target.Addr())
		},
	})

	url := fmt.Sprintf("http://public.test:%d/redirect?to=/text", port)
	got, err := run(t, s, url)
	if err != nil {
		t.Fatalf("Run() error = %v", err)
	}

	if got != "plain  text\n  as is" {
		t.Errorf("Run() = %q, want the plain text", got)
	}
}

// Package webfetch is the web_fetch skill: it reads a public web page and
// returns its readable text. It refuses to reach loopback, private,
// link-local and other non-public addresses, checked on the address it
// actually dials, for the first request and for every redirect.
package webfetch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/net/html/charset"

	"github.com/switchboardhq/switchboard/core/skill"
)

// Defaults for the zero fields of Options.
const (
	DefaultMaxBytes     = 1 << 20
	DefaultTimeout      = 15 * time.Second
	DefaultMaxRedirects = 5
	DefaultMaxChars     = 20_000
)

// Options configure the skill. The zero value is ready to use.
type Options struct {
	// MaxBytes is the most of a response body that is read; the rest is
	// dropped with a note. Zero means DefaultMaxBytes.
	MaxBytes int64
	// Timeout bounds the whole fetch, redirects and body included. Zero
	// means DefaultTimeout.
	Timeout time.Duration
	// MaxRedirects is how many redirects are followed. Zero means
	// DefaultMaxRedirects; a negative value follows none.
	MaxRedirects int
	// MaxChars is the most characters of text returned; longer text is cut
	// with a note. Zero means DefaultMaxChars.
	MaxChars int
	// AllowPrivate turns the address guard off. It is for tests only.
	AllowPrivate bool
	// Resolver looks up host names. Nil means net.DefaultResolver.
	Resolver Resolver
	// Check, when set, replaces CheckAddr as the guard: it is called with
	// every address about to be dialled and refuses it by returning an
	// error. Tests use it to allow exactly one local server.
	Check func(netip.AddrPort) error
}

// Skill is the web_fetch skill. It is safe for concurrent use.
type Skill struct {
	opts     Options
	resolver Resolver
	client   *http.Client
}

var _ skill.Skill = (*Skill)(nil)

// New returns the skill with the zero fields of opts set to their defaults.
func New(opts Options) *Skill {
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = DefaultMaxBytes
	}

	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}

	if opts.MaxRedirects == 0 {
		opts.MaxRedirects = DefaultMaxRedirects
	}

	if opts.MaxChars <= 0 {
		opts.MaxChars = DefaultMaxChars
	}

	s := &Skill{opts: opts, resolver: opts.Resolver}
	if s.resolver == nil {
		s.resolver = net.DefaultResolver
	}

	transport := &http.Transport{
		Proxy:                 nil,
		DialContext:           s.dial,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          16,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
	s.client = &http.Client{Transport: transport, CheckRedirect: s.checkRedirect}

	return s
}

// Name returns "web_fetch".
func (s *Skill) Name() string { return "web_fetch" }

// Description tells the model what the skill does.
func (s *Skill) Description() string {
	return "Fetch a public web page by its http or https URL and return its readable " +
		"text: the title and visible text of an HTML page, text and JSON as they are. " +
		"Use it to read a page the person links to or one you need to answer. " +
		"Addresses on private networks are refused."
}

// Parameters returns the JSON Schema of the arguments: one url.
func (s *Skill) Parameters() json.RawMessage {
	return json.RawMessage(`{"type":"object","properties":{"url":{"type":"string",` +
		`"description":"The http or https address of the page."}},` +
		`"required":["url"],"additionalProperties":false}`)
}

// Credentials returns nil: the skill needs no secrets.
func (s *Skill) Credentials() []string { return nil }

// Run fetches the URL in call's arguments and returns its readable text.
func (s *Skill) Run(ctx context.Context, call skill.Call) (string, error) {
	var args struct {
		URL string `json:"url"`
	}
	if err := json.Unmarshal(call.Arguments, &args); err != nil {
		return "", fmt.Errorf("decode arguments: %w", err)
	}

	u, err := parseURL(args.URL)
	if err != nil {
		return "", err
	}

	ctx, cancel := context.WithTimeout(ctx, s.opts.Timeout)
	defer cancel()

	text, err := s.fetch(ctx, u)
	if err != nil {
		return "", fmt.Errorf("fetch %s: %w", u.Redacted(), s.explain(ctx, err))
	}

	return text, nil
}

// parseURL checks the url argument: an absolute http or https URL with a
// host and no user info.
func parseURL(raw string) (*url.URL, error) {
	if strings.TrimSpace(raw) == "" {
		return nil, errors.New(`the argument "url" is required`)
	}

	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return nil, fmt.Errorf(`parse the argument "url": %w`, err)
	}

	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf(`the argument "url" must be an http or https URL, not %q`,
			u.Scheme)
	}

	if u.Host == "" {
		return nil, errors.New(`the argument "url" has no host`)
	}

	if u.User != nil {
		return nil, &RefusedError{Reason: `the argument "url" holds user info; ` +
			"credentials in URLs are not sent"}
	}

	return u, nil
}

// checkRedirect follows up to MaxRedirects redirects to http or https URLs
// without user info. The target's address is checked when it is dialled.
func (s *Skill) checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) > max(s.opts.MaxRedirects, 0) {
		return fmt.Errorf("stopped after %d redirects", len(via)-1)
	}

	if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
		return &RefusedError{Reason: fmt.Sprintf(
			"the page redirects to a %q URL; only http and https are fetched", req.URL.Scheme)}
	}

	if req.URL.User != nil {
		return &RefusedError{Reason: "the page redirects to a URL with user info"}
	}

	return nil
}

// explain turns a transport error into a sentence for the model.
func (s *Skill) explain(ctx context.Context, err error) error {
	if refused, ok := errors.AsType[*RefusedError](err); ok {
		return refused
	}

	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("timed out after %s", s.opts.Timeout)
	}

	return err
}

// fetch sends the GET request and renders the response.
func (s *Skill) fetch(ctx context.Context, u *url.URL) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return "", fmt.Errorf("build request: %w", err)
	}

	req.Header.Set("User-Agent", "switchboard-web-fetch/1")
	req.Header.Set("Accept", "text/html, text/plain, application/json;q=0.9, */*;q=0.5")

	resp, err := s.client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()

	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return "", fmt.Errorf("the server answered %s", resp.Status)
	}

	body, err := io.ReadAll(io.LimitReader(resp.Body, s.opts.MaxBytes+1))
	if err != nil {
		return "", fmt.Errorf("read body: %w", err)
	}

	cut := int64(len(body)) > s.opts.MaxBytes
	if cut {
		body = body[:s.opts.MaxBytes]
	}

	return s.render(resp, body, cut), nil
}

// render returns the readable text of a response body, with notes when the
// body or the text was cut.
func (s *Skill) render(resp *http.Response, body []byte, cut bool) string {
	header := resp.Header.Get("Content-Type")
	mediaType, _, err := mime.ParseMediaType(header)
	if header == "" || err != nil {
		header = http.DetectContentType(body)
		mediaType, _, _ = mime.ParseMediaType(header)
	}

	if !isText(mediaType) {
		return binaryNote(mediaType, resp.ContentLength, len(body), cut)
	}

	text := decode(body, header)
	if mediaType == "text/html" || mediaType == "application/xhtml+xml" {
		title, visible := extractHTML([]byte(text))
		text = visible
		if title != "" {
			text = "Title: " + title + "\n\n" + visible
		}
	}

	var notes []string
	if cut {
		notes = append(notes, fmt.Sprintf("The page is larger than %s; only the first %s was read.",
			formatSize(s.opts.MaxBytes), formatSize(s.opts.MaxBytes)))
	}

	if n := utf8.RuneCountInString(text); n > s.opts.MaxChars {
		text = cutRunes(text, s.opts.MaxChars)
		notes = append(notes, fmt.Sprintf("The text was cut at %d of %d characters.",
			s.opts.MaxChars, n))
	}

	if len(notes) == 0 {
		return text
	}

	return text + "\n\n[" + strings.Join(notes, " ") + "]"
}

// isText reports whether a media type is returned as text.
func isText(mediaType string) bool {
	switch {
	case strings.HasPrefix(mediaType, "text/"):
		return true
	case mediaType == "application/json", strings.HasSuffix(mediaType, "+json"),
		mediaType == "application/x-ndjson", mediaType == "application/xml",
		strings.HasSuffix(mediaType, "+xml"), mediaType == "application/javascript":
		return true
	}

	return false
}

// decode converts body to valid UTF-8 using the charset the header or the
// page declares.
func decode(body []byte, contentType string) string {
	enc, name, _ := charset.DetermineEncoding(body, contentType)
	if name != "utf-8" {
		if decoded, err := enc.NewDecoder().Bytes(body); err == nil {
			body = decoded
		}
	}

	return strings.ToValidUTF8(string(body), "\uFFFD")
}

// binaryNote describes a body that is not text instead of returning it.
func binaryNote(mediaType string, length int64, read int, cut bool) string {
	size := formatSize(int64(read))
	switch {
	case length >= 0:
		size = formatSize(length)
	case cut:
		size = "more than " + size
	}

	if mediaType == "" {
		mediaType = "of an unknown type"
	}

	return fmt.Sprintf("[The response is %s, %s; it is not text, so its content is not shown.]",
		mediaType, size)
}

// formatSize writes a byte count for people.
func formatSize(n int64) string {
	const kib, mib = 1 << 10, 1 << 20
	switch {
	case n >= mib && n%mib == 0:
		return fmt.Sprintf("%d MiB", n/mib)
	case n >= mib:
		return fmt.Sprintf("%.1f MiB", float64(n)/mib)
	case n >= kib && n%kib == 0:
		return fmt.Sprintf("%d KiB", n/kib)
	case n >= kib:
		return fmt.Sprintf("%.1f KiB", float64(n)/kib)
	}

	return fmt.Sprintf("%d bytes", n)
}

// cutRunes returns the first n characters of s.
func cutRunes(s string, n int) string {
	i := 0
	for range n {
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
	}

	return s[:i]
}

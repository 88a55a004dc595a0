package auth

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// checkOrigin refuses a request that a page of another site may have made
// the browser send: one marked "Sec-Fetch-Site: cross-site", or one whose
// Origin header (or, without it, Referer) has another scheme or host than
// the request. With required, a request with neither header is refused too;
// browsers send Origin with every POST, PUT, PATCH and DELETE, so only
// programs lack it, and those should use a bearer token.
//
// The request's host is r.Host, so a proxy in front must pass the Host
// header on unchanged. Its scheme is https when the request came over TLS
// or when the login cookie is Secure (the server sits behind HTTPS), and
// http otherwise.
func (a *Authenticator) checkOrigin(r *http.Request, required bool) error {
	if r.Header.Get("Sec-Fetch-Site") == "cross-site" {
		return errors.New("the request comes from another site (Sec-Fetch-Site: cross-site)")
	}

	header, source := "Origin", r.Header.Get("Origin")
	if source == "" {
		header, source = "Referer", r.Header.Get("Referer")
	}

	if source == "" {
		if required {
			return errors.New("a request with a cookie that changes something must carry " +
				"an Origin or Referer header of this server; programs should send " +
				"\"Authorization: Bearer <token>\" instead")
		}
		return nil
	}

	want := a.requestOrigin(r)
	got, ok := originOf(source)
	if !ok {
		return fmt.Errorf("the %s header is not an absolute URL", header)
	}

	if got == want {
		return nil
	}

	msg := fmt.Sprintf("the %s %s is not this server's origin %s", header, got, want)
	if strings.HasPrefix(got, "https://") && strings.HasPrefix(want, "http://") {
		msg += "; behind an HTTPS proxy, set auth.cookie_secure to true"
	}

	return errors.New(msg)
}

// requestOrigin returns the scheme and host the request was sent to.
func (a *Authenticator) requestOrigin(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil || a.cookieSecure {
		scheme = "https"
	}

	return scheme + "://" + normalHost(scheme, r.Host)
}

// originOf returns the scheme and host of an Origin or Referer value, in
// the form of requestOrigin. The literal Origin "null" is not one.
func originOf(raw string) (string, bool) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "", false
	}

	scheme := strings.ToLower(u.Scheme)
	if scheme != "http" && scheme != "https" {
		return "", false
	}

	return scheme + "://" + normalHost(scheme, u.Host), true
}

// normalHost lower-cases host and drops the scheme's default port, so that
// "Example.com:443" and "example.com" compare equal under https.
func normalHost(scheme, host string) string {
	host = strings.ToLower(host)

	h, port, err := net.SplitHostPort(host)
	if err != nil {
		return host
	}

	if (scheme == "http" && port == "80") || (scheme == "https" && port == "443") {
		if strings.Contains(h, ":") {
			return "[" + h + "]"
		}
		return h
	}

	return host
}

package auth

import (
	"errors"
	"math"
	"net/http"
	"strconv"

	"github.com/switchboardhq/switchboard/httpapi/wire"
)

// denial is a credential that was presented and refused. Its reason is
// shown to the caller, so it never holds the credential.
type denial struct {
	reason string
	// clearLogin asks the browser to drop its login cookie, which will
	// never work again.
	clearLogin bool
	// expired marks a credential that was genuine but has run out: no
	// guess, so it does not count against the client.
	expired bool
}

// Error returns the reason.
func (d *denial) Error() string { return d.reason }

// unavailableError means that a credential could not be checked because
// something outside, the JWKS server, did not answer.
type unavailableError struct {
	err error
}

// Error says what could not be reached.
func (e *unavailableError) Error() string {
	return "the Supabase signing keys are unavailable: " + e.err.Error()
}

// Unwrap returns the cause.
func (e *unavailableError) Unwrap() error { return e.err }

// refuse answers a request whose credential failed with err: 401 for a
// *denial, counted against the client, and 503 or 500 when the credential
// could not be checked at all.
func (a *Authenticator) refuse(w http.ResponseWriter, r *http.Request, client string,
	err error,
) {
	var d *denial
	if !errors.As(err, &d) {
		a.fail(w, r, err)
		return
	}

	exhausted := !d.expired && a.limiter.fail(client, a.clock.Now())
	if exhausted {
		a.log.Warn("client address rate limited after failed authentications",
			"client", client, "path", r.URL.Path, "reason", d.reason)
	} else {
		a.log.Debug("authentication failed", "client", client, "path", r.URL.Path,
			"reason", d.reason)
	}

	if d.clearLogin {
		http.SetCookie(w, a.loginCookie("", -1))
	}

	w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
	wire.WriteError(w, http.StatusUnauthorized, wire.Error{Code: wire.CodeUnauthorized,
		Message: d.reason})
}

// fail answers a request whose credential could not be checked.
func (a *Authenticator) fail(w http.ResponseWriter, r *http.Request, err error) {
	var unavailable *unavailableError
	if errors.As(err, &unavailable) {
		a.log.Error("check Supabase token", "path", r.URL.Path, "err", err)
		wire.WriteError(w, http.StatusServiceUnavailable, wire.Error{
			Code: wire.CodeUnavailable, Message: "the Supabase signing keys cannot be " +
				"fetched now; try again later or use an API token"})

		return
	}

	a.log.Error("authenticate", "path", r.URL.Path, "err", err)
	wire.WriteError(w, http.StatusInternalServerError, wire.Error{Code: wire.CodeInternal,
		Message: "internal error; it has been logged"})
}

// forbid answers a request refused by the same-origin check.
func (a *Authenticator) forbid(w http.ResponseWriter, r *http.Request, err error) {
	a.log.Info("cross-origin request refused", "client", clientKey(r.RemoteAddr),
		"method", r.Method, "path", r.URL.Path, "reason", err.Error())

	wire.WriteError(w, http.StatusForbidden, wire.Error{Code: wire.CodeForbidden,
		Message: err.Error()})
}

// refuseLimited answers 429 and returns true when client has used up its
// failed attempts.
func (a *Authenticator) refuseLimited(w http.ResponseWriter, client string) bool {
	wait := a.limiter.wait(client, a.clock.Now())
	if wait <= 0 {
		return false
	}

	secs := strconv.Itoa(int(math.Ceil(wait.Seconds())))
	w.Header().Set("Retry-After", secs)
	wire.WriteError(w, http.StatusTooManyRequests, wire.Error{Code: wire.CodeRateLimited,
		Message: "too many failed authentication attempts from this address; " +
			"retry in " + secs + " s"})

	return true
}

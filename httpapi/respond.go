package httpapi

import (
	"net/http"

	"github.com/switchboardhq/switchboard/core"
	"github.com/switchboardhq/switchboard/httpapi/auth"
	"github.com/switchboardhq/switchboard/httpapi/wire"
)

// caller returns the authenticated user of r; the middleware guarantees
// one on every /api route.
func caller(r *http.Request) core.UserID {
	p, _ := auth.FromContext(r.Context())

	return core.UserID(p.UserID)
}

// reject writes the answer for a request that could not be decoded.
func reject(w http.ResponseWriter, e *wire.RequestError) {
	wire.WriteError(w, e.Status, e.Body)
}

// notFound writes a 404.
func notFound(w http.ResponseWriter, message string) {
	wire.WriteError(w, http.StatusNotFound, wire.Error{Code: wire.CodeNotFound,
		Message: message})
}

// unavailable writes a 503.
func unavailable(w http.ResponseWriter, message string) {
	wire.WriteError(w, http.StatusServiceUnavailable, wire.Error{Code: wire.CodeUnavailable,
		Message: message})
}

// fail writes the answer for err and logs it when it is not the caller's
// fault.
func (a *API) fail(w http.ResponseWriter, what string, err error) {
	if !wire.Fail(w, err) {
		a.log.Error(what, "err", err)
	}
}

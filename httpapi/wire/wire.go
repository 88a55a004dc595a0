// Package wire holds what every route of the REST API shares: the error
// body, JSON answers, and the strict decoding of JSON requests (a size
// limit, unknown fields refused, errors that name the field).
package wire

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/switchboardhq/switchboard/core"
)

// MaxBody is the largest request body a route takes by default.
const MaxBody = 64 << 10

// MaxBodyWithImages is the largest body of a route that takes images.
const MaxBodyWithImages = 20 << 20

// Error is the body of every error answer: {"error": {...}}.
type Error struct {
	// Code is a stable word for programs: invalid, unauthorized, ...
	Code string `json:"code"`
	// Message says what went wrong, for people.
	Message string `json:"message"`
	// Field names the request field at fault, when there is one.
	Field string `json:"field,omitempty"`
}

// The error codes, and the status each goes with.
const (
	CodeInvalid      = "invalid"           // 400
	CodeUnauthorized = "unauthorized"      // 401
	CodeForbidden    = "forbidden"         // 403
	CodeNotFound     = "not_found"         // 404
	CodeConflict     = "conflict"          // 409
	CodeTooLarge     = "too_large"         // 413
	CodeUnsupported  = "unsupported_media" // 415
	CodeRateLimited  = "rate_limited"      // 429
	CodeInternal     = "internal"          // 500
	CodeNotBuilt     = "not_implemented"   // 501
	CodeUnavailable  = "unavailable"       // 503
	CodeTimeout      = "timeout"           // 504
)

// WriteJSON writes v as a JSON answer with the given status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// WriteError writes {"error": e} with the given status.
func WriteError(w http.ResponseWriter, status int, e Error) {
	WriteJSON(w, status, map[string]Error{"error": e})
}

// Invalid writes a 400 that names the field and the rule it broke.
func Invalid(w http.ResponseWriter, field, rule string) {
	WriteError(w, http.StatusBadRequest, Error{Code: CodeInvalid, Field: field,
		Message: field + ": " + rule})
}

// Fail writes the answer for err: a *core.InputError or a *RequestError
// is a 400 naming the field, anything else a 500 whose cause is not shown.
// It returns true when err was a 400, so that the caller can log the rest.
func Fail(w http.ResponseWriter, err error) bool {
	var ie *core.InputError
	if errors.As(err, &ie) {
		Invalid(w, ie.Field, ie.Rule)
		return true
	}

	var re *RequestError
	if errors.As(err, &re) {
		WriteError(w, re.Status, re.Body)
		return true
	}

	WriteError(w, http.StatusInternalServerError, Error{Code: CodeInternal,
		Message: "internal error; it has been logged"})

	return false
}

// RequestError is a request that cannot be served as sent, with the
// answer it gets.
type RequestError struct {
	Status int
	Body   Error
}

// Error returns the message of the answer.
func (e *RequestError) Error() string { return e.Body.Message }

// Decode reads r's JSON body into v, at most limit bytes. It refuses a
// body that is not application/json, too large, malformed, followed by
// more data, or that holds a field v does not have, with a
// *RequestError that names the field where it can.
func Decode(r *http.Request, limit int64, v any) *RequestError {
	ct := r.Header.Get("Content-Type")
	if ct != "" && !strings.HasPrefix(strings.ToLower(ct), "application/json") {
		return &RequestError{Status: http.StatusUnsupportedMediaType, Body: Error{
			Code: CodeUnsupported, Message: "the body must be application/json"}}
	}

	body := http.MaxBytesReader(nil, r.Body, limit)
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()

	if err := dec.Decode(v); err != nil {
		return decodeError(err, limit)
	}

	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return decodeError(err, limit)
		}

		return &RequestError{Status: http.StatusBadRequest, Body: Error{Code: CodeInvalid,
			Message: "the body must hold one JSON object and nothing after it"}}
	}

	return nil
}

// decodeError turns a decoding failure into the answer it gets.
func decodeError(err error, limit int64) *RequestError {
	var (
		tooLarge *http.MaxBytesError
		typeErr  *json.UnmarshalTypeError
		syntax   *json.SyntaxError
	)

	switch {
	case errors.As(err, &tooLarge):
		return &RequestError{Status: http.StatusRequestEntityTooLarge, Body: Error{
			Code: CodeTooLarge, Message: fmt.Sprintf("the body must be at most %d bytes", limit)}}
	case errors.As(err, &typeErr):
		field := typeErr.Field
		return &RequestError{Status: http.StatusBadRequest, Body: Error{Code: CodeInvalid,
			Field: field, Message: fmt.Sprintf("%s: must be %s, got %s", field,
				jsonKind(typeErr.Type.Kind().String()), typeErr.Value)}}
	case errors.As(err, &syntax), errors.Is(err, io.ErrUnexpectedEOF):
		return &RequestError{Status: http.StatusBadRequest, Body: Error{Code: CodeInvalid,
			Message: "the body is not valid JSON: " + err.Error()}}
	case errors.Is(err, io.EOF):
		return &RequestError{Status: http.StatusBadRequest, Body: Error{Code: CodeInvalid,
			Message: "the body must be a JSON object"}}
	}

	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		field := strings.Trim(name, `"`)
		return &RequestError{Status: http.StatusBadRequest, Body: Error{Code: CodeInvalid,
			Field: field, Message: field + ": unknown field"}}
	}

	return &RequestError{Status: http.StatusBadRequest, Body: Error{Code: CodeInvalid,
		Message: "the body could not be read: " + err.Error()}}
}

// jsonKind names a Go kind as JSON calls it.
func jsonKind(kind string) string {
	switch kind {
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "slice", "array":
		return "an array"
	case "map", "struct":
		return "an object"
	}

	return "a number"
}

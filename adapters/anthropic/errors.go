package anthropic

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	sdk "github.com/anthropics/anthropic-sdk-go/v2"

	"github.com/switchboardhq/switchboard/core/llm"
)

// statusOfType is the HTTP status the API gives each error type. An error
// that arrives inside a stream comes after a 200, so its type says what
// the status would have been.
var statusOfType = map[string]int{
	"invalid_request_error": http.StatusBadRequest,
	"authentication_error":  http.StatusUnauthorized,
	"billing_error":         http.StatusPaymentRequired,
	"permission_error":      http.StatusForbidden,
	"not_found_error":       http.StatusNotFound,
	"request_too_large":     http.StatusRequestEntityTooLarge,
	"rate_limit_error":      http.StatusTooManyRequests,
	"api_error":             http.StatusInternalServerError,
	"timeout_error":         http.StatusGatewayTimeout,
	"overloaded_error":      529,
}

// classify turns a failed call into an *llm.Error. A cancelled or expired
// caller context gives up; an API error is steered by its status, its
// Retry-After header and its error type; anything else, such as a refused
// connection or the call's own time-out, is retried.
func (p *Provider) classify(ctx context.Context, what string, err error) error {
	err = p.redact(fmt.Errorf("%s: %w", what, err))

	if ctxErr := ctx.Err(); ctxErr != nil {
		return &llm.Error{Action: llm.GiveUp, Err: err}
	}

	var apiErr *sdk.Error
	if !errors.As(err, &apiErr) {
		return &llm.Error{Action: llm.Retry, Err: err}
	}

	errType := string(apiErr.Type())
	status := apiErr.StatusCode
	if status < 400 {
		status = statusOfType[errType]
	}

	var retryAfter time.Duration
	if apiErr.Response != nil {
		retryAfter = parseRetryAfter(apiErr.Response.Header.Get("Retry-After"), time.Now())
	}

	modelMissing := status == http.StatusNotFound && errType == "not_found_error"
	contextTooLong := status == http.StatusBadRequest &&
		errType == "invalid_request_error" && promptTooLong(apiErr.Message)

	return &llm.Error{
		Action:     llm.Classify(status, retryAfter, modelMissing, contextTooLong),
		RetryAfter: retryAfter,
		Status:     status,
		Err:        err,
	}
}

// promptTooLong reports whether an invalid_request_error's message says
// the conversation does not fit the model's context window.
func promptTooLong(msg string) bool {
	msg = strings.ToLower(msg)

	return strings.Contains(msg, "prompt is too long") ||
		strings.Contains(msg, "context window") ||
		strings.Contains(msg, "context limit")
}

// parseRetryAfter reads a Retry-After header: a number of seconds or an
// HTTP date. It returns zero when the header is missing, unreadable or in
// the past.
func parseRetryAfter(value string, now time.Time) time.Duration {
	value = strings.TrimSpace(value)
	if value == "" {
		return 0
	}

	if secs, err := strconv.ParseFloat(value, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		return time.Duration(secs * float64(time.Second))
	}

	at, err := http.ParseTime(value)
	if err != nil {
		return 0
	}

	return max(at.Sub(now), 0)
}

// redact hides the API key in err's message, in case a proxy or the
// server echoed it back.
func (p *Provider) redact(err error) error {
	if p.apiKey == "" || !strings.Contains(err.Error(), p.apiKey) {
		return err
	}

	return &redactedError{err: err, secret: p.apiKey}
}

// redactedError is an error whose message has a secret blotted out. Its
// chain is kept for errors.As.
type redactedError struct {
	err    error
	secret string
}

func (e *redactedError) Error() string {
	return strings.ReplaceAll(e.err.Error(), e.secret, "[redacted]")
}

func (e *redactedError) Unwrap() error { return e.err }

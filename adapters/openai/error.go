package openai

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/openai/openai-go/v3/packages/ssestream"

	"github.com/switchboardhq/switchboard/core/llm"
)

// maxErrorBody bounds how much of an error answer is read.
const maxErrorBody = 64 << 10

// maxRetryAfter caps the wait a server can ask for.
const maxRetryAfter = 24 * time.Hour

// maxErrorText bounds how much of an answer that is not OpenAI's error
// JSON goes into an error.
const maxErrorText = 200

// requestError is a request that cannot be sent as it is: retrying cannot
// help.
func (p *Provider) requestError(err error) error {
	return &llm.Error{Action: llm.GiveUp, Err: p.redact(err)}
}

// callError turns a failed call into an *llm.Error. ctx is the caller's
// context and raw the HTTP response, when one arrived. A caller that went
// away gives up; an HTTP error status is classified by llm.Classify; an
// error event inside a stream, a network failure, the call's time-out and
// an answer that cannot be read are retried.
func (p *Provider) callError(ctx context.Context, raw *http.Response, err error) error {
	if ctx.Err() != nil {
		return &llm.Error{Action: llm.GiveUp, Err: p.redact(fmt.Errorf("call model: %w", err))}
	}

	if raw != nil && raw.StatusCode >= 400 {
		return p.statusError(raw)
	}

	var se *ssestream.StreamError
	if errors.As(err, &se) {
		return p.streamError(se)
	}

	if errors.Is(err, context.DeadlineExceeded) {
		err = fmt.Errorf("no answer within %s: %w", p.timeout, err)
	}

	return &llm.Error{Action: llm.Retry, Err: p.redact(fmt.Errorf("call model: %w", err))}
}

// statusError classifies an answer with an HTTP error status from its
// status, its Retry-After header and the code and message of its body.
func (p *Provider) statusError(raw *http.Response) error {
	var body []byte
	if raw.Body != nil {
		body, _ = io.ReadAll(io.LimitReader(raw.Body, maxErrorBody))
	}

	d := parseErrorBody(body)
	wait := retryAfter(raw.Header, time.Now())
	modelMissing := d.code == "model_not_found" || raw.StatusCode == http.StatusNotFound
	action := llm.Classify(raw.StatusCode, wait, modelMissing, d.contextTooLong())

	return &llm.Error{
		Action:     action,
		RetryAfter: wait,
		Status:     raw.StatusCode,
		Err:        p.redact(errors.New("call model: " + d.String())),
	}
}

// streamError classifies an error event sent inside a stream after a 200.
// OpenRouter puts the HTTP status it would have sent in the code.
func (p *Provider) streamError(se *ssestream.StreamError) error {
	d := parseErrorBody(se.Event.Data)

	status, _ := strconv.Atoi(d.code)
	if status < 400 || status > 599 {
		status = 0
	}

	modelMissing := d.code == "model_not_found" || status == http.StatusNotFound
	action := llm.Retry
	if status != 0 || modelMissing || d.contextTooLong() {
		action = llm.Classify(status, 0, modelMissing, d.contextTooLong())
	}

	return &llm.Error{
		Action: action,
		Err:    p.redact(errors.New("call model: stream failed: " + d.String())),
	}
}

// errorDetail is what an error answer says.
type errorDetail struct {
	code    string
	typ     string
	message string
	// text is the start of a body that is not error JSON.
	text string
}

// parseErrorBody reads OpenAI's {"error": {"message", "type", "code"}},
// Ollama's {"error": "message"} and a bare {"message", "code"}.
func parseErrorBody(body []byte) errorDetail {
	var env struct {
		Error   json.RawMessage `json:"error"`
		Message string          `json:"message"`
		Code    json.RawMessage `json:"code"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return errorDetail{text: excerpt(body)}
	}

	switch {
	case bytes.HasPrefix(env.Error, []byte(`"`)):
		var text string
		if json.Unmarshal(env.Error, &text) == nil {
			return errorDetail{message: text}
		}
	case bytes.HasPrefix(env.Error, []byte("{")):
		var obj struct {
			Message string          `json:"message"`
			Type    string          `json:"type"`
			Code    json.RawMessage `json:"code"`
		}
		err := json.Unmarshal(env.Error, &obj)
		d := errorDetail{code: codeString(obj.Code), typ: obj.Type, message: obj.Message}
		if err == nil && d != (errorDetail{}) {
			return d
		}
	}

	if env.Message != "" || len(env.Code) > 0 {
		return errorDetail{code: codeString(env.Code), message: env.Message}
	}

	return errorDetail{text: excerpt(body)}
}

// codeString returns an error code that is a string or a number as text,
// and "" for null.
func codeString(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}

	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		return n.String()
	}

	return ""
}

// excerpt returns the start of a body, on one line.
func excerpt(body []byte) string {
	s := strings.Join(strings.Fields(string(body)), " ")
	if len(s) <= maxErrorText {
		return s
	}

	s = s[:maxErrorText]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}

	return s + "..."
}

// contextTooLong reports whether the error says the conversation does not
// fit the model's context, by its code or, for servers without one, by
// its message.
func (d errorDetail) contextTooLong() bool {
	if d.code == "context_length_exceeded" {
		return true
	}

	msg := strings.ToLower(d.message)
	aboutContext := strings.Contains(msg, "context length") ||
		strings.Contains(msg, "context window") || strings.Contains(msg, "context_length")
	exceeded := strings.Contains(msg, "exceed") || strings.Contains(msg, "maximum") ||
		strings.Contains(msg, "too long")

	return aboutContext && exceeded
}

// String describes the error as "code: message".
func (d errorDetail) String() string {
	var parts []string
	switch {
	case d.code != "":
		parts = append(parts, d.code)
	case d.typ != "":
		parts = append(parts, d.typ)
	}

	if d.message != "" {
		parts = append(parts, d.message)
	}

	if len(parts) == 0 {
		if d.text == "" {
			return "no error details"
		}

		return d.text
	}

	return strings.Join(parts, ": ")
}

// retryAfter returns how long the server asks to wait: Retry-After-Ms in
// milliseconds, else Retry-After in seconds or as an HTTP date; zero when
// it says nothing usable.
func retryAfter(h http.Header, now time.Time) time.Duration {
	if ms := strings.TrimSpace(h.Get("Retry-After-Ms")); ms != "" {
		if d, ok := parseDelay(ms, time.Millisecond); ok {
			return d
		}
	}

	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}

	if d, ok := parseDelay(v, time.Second); ok {
		return d
	}

	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return min(t.Sub(now), maxRetryAfter)
	}

	return 0
}

// parseDelay reads a number of units, capped at maxRetryAfter. It reports
// false when v is not a number, and a zero delay when it is not positive.
func parseDelay(v string, unit time.Duration) (time.Duration, bool) {
	n, err := strconv.ParseFloat(v, 64)
	switch {
	case err != nil && !errors.Is(err, strconv.ErrRange):
		return 0, false
	case !(n > 0):
		return 0, true
	case n >= float64(maxRetryAfter/unit):
		return maxRetryAfter, true
	default:
		return time.Duration(n * float64(unit)), true
	}
}

// redact removes the API key from an error's text. An error that contains
// it is replaced by one with the same text, the key blanked, and no chain
// to the original.
func (p *Provider) redact(err error) error {
	if p.key == "" || !strings.Contains(err.Error(), p.key) {
		return err
	}

	return errors.New(strings.ReplaceAll(err.Error(), p.key, "[redacted]"))
}

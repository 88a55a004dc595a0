// Package openaitest is a fake OpenAI-compatible server for tests. It
// speaks the real JSON of POST /chat/completions, plain and streamed as
// server-sent events, and answers GET /models, so that a client under test
// runs its real HTTP code against it.
//
// A test scripts the model with a queue of replies (text, tool calls,
// usage, errors) and afterwards reads the requests the fake received,
// decoded, to check what the model was sent. Each request takes the next
// reply; a request that finds the queue empty is answered with a 400 that
// says so. Like the real API, the fake refuses with 400 a conversation
// whose tool results do not answer the assistant's tool calls.
//
// A Server is safe for use by several goroutines: tests may push replies
// while a client is calling it.
package openaitest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// DefaultModel is the model GET /models lists when no other is set.
const DefaultModel = "test-model"

// Server is a running fake. Its zero value is not usable; call NewServer.
type Server struct {
	srv    *httptest.Server
	key    string
	models []string

	mu       sync.Mutex
	queue    []Reply
	requests []Request
	calls    int
}

// Option configures a Server.
type Option func(*Server)

// WithAPIKey makes the server require "Authorization: Bearer key" and
// answer 401 otherwise, as OpenAI does. Without it any key, or none, is
// accepted, as Ollama does.
func WithAPIKey(key string) Option {
	return func(s *Server) { s.key = key }
}

// WithModels sets the models GET /models lists.
func WithModels(ids ...string) Option {
	return func(s *Server) { s.models = ids }
}

// NewServer starts a fake that stops when the test ends.
func NewServer(t testing.TB, opts ...Option) *Server {
	t.Helper()

	s := &Server{models: []string{DefaultModel}}
	for _, o := range opts {
		o(s)
	}

	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/chat/completions", s.handleCompletion)
	mux.HandleFunc("GET /v1/models", s.handleModels)
	mux.HandleFunc("/", s.handleUnknown)

	s.srv = httptest.NewServer(mux)
	t.Cleanup(s.Close)

	return s
}

// URL returns the API's base URL, ending in /v1, as a client's base URL
// setting expects it.
func (s *Server) URL() string {
	return s.srv.URL + "/v1"
}

// Close stops the server; later calls fail to connect. It is safe to call
// more than once.
func (s *Server) Close() {
	s.srv.Close()
}

// Push appends replies to the queue. Each request takes the first.
func (s *Server) Push(replies ...Reply) {
	s.mu.Lock()
	defer s.mu.Unlock()

	s.queue = append(s.queue, replies...)
}

// Pending returns how many pushed replies no request has taken yet.
func (s *Server) Pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()

	return len(s.queue)
}

// Requests returns the chat completion requests received so far, oldest
// first, including those refused for a bad key or a broken conversation.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()

	out := make([]Request, len(s.requests))
	copy(out, s.requests)

	return out
}

// handleCompletion answers POST /chat/completions with the next reply.
func (s *Server) handleCompletion(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		writeError(w, &Error{Status: 400, Type: "invalid_request_error",
			Message: "could not read the request body"})
		return
	}

	var req Request
	if err := json.Unmarshal(body, &req); err != nil {
		writeError(w, &Error{Status: 400, Type: "invalid_request_error", Message: fmt.Sprintf(
			"We could not parse the JSON body of your request. (%v)", err)})
		return
	}

	req.Body = body
	req.Header = r.Header.Clone()

	if !s.authorize(w, r) {
		s.record(req)
		return
	}

	if msg := req.validate(); msg != "" {
		s.record(req)
		writeError(w, &Error{Status: 400, Type: "invalid_request_error", Message: msg})
		return
	}

	reply, n, ok := s.take(req)
	if !ok {
		writeError(w, &Error{Status: 400, Type: "invalid_request_error", Code: "no_reply_queued",
			Message: fmt.Sprintf("openaitest: no reply queued for request %d", n)})
		return
	}

	if !wait(r, reply.Delay) {
		return
	}

	if reply.Err != nil {
		writeError(w, reply.Err)
		return
	}

	s.answer(w, req, reply, fmt.Sprintf("chatcmpl-%d", n))
}

// record keeps a request that takes no reply.
func (s *Server) record(req Request) {
	s.mu.Lock()
	defer s.mu.Unlock()

	s.requests = append(s.requests, req)
}

// take records req and pops the next reply, giving tool calls without an
// id one. It returns the request's number, from 1, and false when the
// queue is empty.
func (s *Server) take(req Request) (Reply, int, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()

	s.requests = append(s.requests, req)
	if len(s.queue) == 0 {
		return Reply{}, len(s.requests), false
	}

	reply := s.queue[0]
	s.queue = s.queue[1:]

	calls := make([]ToolCall, len(reply.ToolCalls))
	for i, c := range reply.ToolCalls {
		if c.ID == "" {
			s.calls++
			c.ID = fmt.Sprintf("call_%d", s.calls)
		}
		calls[i] = c
	}
	reply.ToolCalls = calls

	if reply.Model == "" {
		reply.Model = req.Model
	}

	return reply, len(s.requests), true
}

// authorize checks the bearer key when one is configured and answers 401
// when it is missing or wrong.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) bool {
	if s.key == "" {
		return true
	}

	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	switch {
	case !ok || got == "":
		writeError(w, &Error{Status: 401, Type: "invalid_request_error", Message: "You didn't " +
			"provide an API key. You need to provide your API key in an Authorization header " +
			"using Bearer auth (i.e. Authorization: Bearer YOUR_KEY)."})
		return false
	case got != s.key:
		// Some servers quote the whole key they got; the fake does too, so
		// that tests can check a client keeps it out of its errors.
		writeError(w, &Error{Status: 401, Type: "invalid_request_error", Code: "invalid_api_key",
			Message: "Incorrect API key provided: " + got + "."})
		return false
	}

	return true
}

// handleModels answers GET /models with the configured list.
func (s *Server) handleModels(w http.ResponseWriter, r *http.Request) {
	if !s.authorize(w, r) {
		return
	}

	data := make([]map[string]any, 0, len(s.models))
	for _, id := range s.models {
		data = append(data, map[string]any{
			"id": id, "object": "model", "created": 1700000000, "owned_by": "openaitest",
		})
	}

	writeJSON(w, http.StatusOK, map[string]any{"object": "list", "data": data})
}

// handleUnknown answers any other route as OpenAI does.
func (s *Server) handleUnknown(w http.ResponseWriter, r *http.Request) {
	writeError(w, &Error{Status: 404, Type: "invalid_request_error",
		Message: fmt.Sprintf("Invalid URL (%s %s)", r.Method, r.URL.Path)})
}

// wait sleeps for d unless the client goes away first, which it reports
// as false.
func wait(r *http.Request, d time.Duration) bool {
	if d <= 0 {
		return true
	}

	timer := time.NewTimer(d)
	defer timer.Stop()

	select {
	case <-timer.C:
		return true
	case <-r.Context().Done():
		return false
	}
}

// writeError writes e in OpenAI's error form.
func writeError(w http.ResponseWriter, e *Error) {
	status := e.Status
	if status == 0 {
		status = http.StatusInternalServerError
	}

	if e.RetryAfter != "" {
		w.Header().Set("Retry-After", e.RetryAfter)
	}

	var code any
	if e.Code != "" {
		code = e.Code
	}

	writeJSON(w, status, map[string]any{"error": map[string]any{
		"message": e.Message, "type": e.Type, "param": nil, "code": code,
	}})
}

// writeJSON writes v as the JSON body of a response with the given status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)

	_ = json.NewEncoder(w).Encode(v)
}

// Package anthropictest is a fake of Anthropic's Messages API for tests. It
// speaks the real JSON of POST /v1/messages, plain and streamed as
// server-sent events, answers from a queue of replies that the test
// scripts, and records every request so the test can check what the model
// was sent.
//
// A Server is safe for concurrent use: requests are answered one reply
// each, in the order they arrive, while the test pushes replies and reads
// the recorded requests.
package anthropictest

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

// Path is where the fake answers.
const Path = "/v1/messages"

// maxBody bounds one request body; images make bodies large.
const maxBody = 32 << 20

// Server is a fake Messages API on a local port.
type Server struct {
	srv       *httptest.Server
	closeOnce sync.Once
	done      chan struct{}

	mu         sync.Mutex
	apiKey     string
	replies    []Reply
	requests   []Request
	nextID     int
	nextToolID int
}

// NewServer starts a fake server and stops it when the test ends. It
// accepts any API key until RequireAPIKey says otherwise.
func NewServer(t testing.TB) *Server {
	t.Helper()

	s := &Server{done: make(chan struct{})}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serveHTTP))
	t.Cleanup(s.Close)

	return s
}

// URL returns the server's base URL, for the provider's BaseURL.
func (s *Server) URL() string { return s.srv.URL }

// Close stops the server. Calls made after it fail to connect, as against
// a server that is down. It may be called more than once.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		close(s.done)
		s.srv.CloseClientConnections()
		s.srv.Close()
	})
}

// RequireAPIKey makes the server refuse, with 401 authentication_error,
// every request that does not carry key, either in the x-api-key header
// or as "Authorization: Bearer key" (the official Go client sends the
// latter).
func (s *Server) RequireAPIKey(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()

	s.apiKey = key
}

// Push queues replies; each valid request takes the oldest one. A request
// that finds the queue empty gets a 400 invalid_request_error that says
// so. Push panics on a tool use whose Input is not JSON, a mistake in the
// test.
func (s *Server) Push(replies ...Reply) {
	for _, reply := range replies {
		for _, use := range reply.ToolUses {
			if use.Input != "" && !json.Valid([]byte(use.Input)) {
				panic(fmt.Sprintf("anthropictest: input of tool use %q is not JSON", use.Name))
			}
		}
	}

	s.mu.Lock()
	defer s.mu.Unlock()

	s.replies = append(s.replies, replies...)
}

// Pending returns how many queued replies no request has taken yet.
func (s *Server) Pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()

	return len(s.replies)
}

// Requests returns the requests received so far, oldest first: every one
// that passed the header checks and could be decoded, including those
// refused as invalid.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()

	return append([]Request(nil), s.requests...)
}

// LastRequest returns the newest request, and false when there is none.
func (s *Server) LastRequest() (Request, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()

	if len(s.requests) == 0 {
		return Request{}, false
	}

	return s.requests[len(s.requests)-1], true
}

// serveHTTP checks a request as the real API would, records it and
// answers it with the next reply.
func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != Path {
		writeError(w, http.StatusNotFound, "not_found_error",
			fmt.Sprintf("%s %s: not found", r.Method, r.URL.Path))
		return
	}

	if !s.authorized(r.Header) {
		writeError(w, http.StatusUnauthorized, "authentication_error", "invalid x-api-key")
		return
	}
	if r.Header.Get("anthropic-version") == "" {
		writeError(w, http.StatusBadRequest, "invalid_request_error",
			"anthropic-version: header is required")
		return
	}

	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		writeError(w, http.StatusRequestEntityTooLarge, "request_too_large",
			"request body is too large")
		return
	}

	req, err := decodeRequest(body, r.Header)
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid_request_error", err.Error())
		return
	}

	problem := req.validate()
	reply, n, ok := s.take(req, problem == "")
	if problem != "" {
		writeError(w, http.StatusBadRequest, "invalid_request_error", problem)
		return
	}
	if !ok {
		writeError(w, http.StatusBadRequest, "invalid_request_error",
			fmt.Sprintf("anthropictest: no reply queued for request %d", n))
		return
	}

	if !s.wait(r, reply.Delay) {
		return
	}

	s.answer(w, req, reply)
}

// authorized reports whether the request carries the required key.
func (s *Server) authorized(h http.Header) bool {
	s.mu.Lock()
	key := s.apiKey
	s.mu.Unlock()

	if key == "" {
		return true
	}

	return h.Get("x-api-key") == key || h.Get("Authorization") == "Bearer "+key
}

// take records req and, when it is valid, takes the next reply. It also
// returns the request's number, from 1.
func (s *Server) take(req Request, valid bool) (Reply, int, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()

	s.requests = append(s.requests, req)
	n := len(s.requests)
	if !valid || len(s.replies) == 0 {
		return Reply{}, n, false
	}

	reply := s.replies[0]
	s.replies = s.replies[1:]

	return reply, n, true
}

// wait holds the answer for d. It returns false when the caller went away
// or the server stopped first.
func (s *Server) wait(r *http.Request, d time.Duration) bool {
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
	case <-s.done:
		return false
	}
}

// answer writes reply as an error, a server-sent event stream or a
// message, as the request asked.
func (s *Server) answer(w http.ResponseWriter, req Request, reply Reply) {
	if reply.Error != nil && reply.Error.InStream && req.Stream {
		writeStreamError(w, s.message(req, Reply{}), *reply.Error)
		return
	}
	if reply.Error != nil {
		if reply.Error.RetryAfter != "" {
			w.Header().Set("Retry-After", reply.Error.RetryAfter)
		}
		writeError(w, reply.Error.Status, reply.Error.Type, reply.Error.Message)
		return
	}

	msg := s.message(req, reply)
	w.Header().Set("request-id", "req_"+strings.TrimPrefix(msg.ID, "msg_"))
	if req.Stream {
		writeStream(w, msg)
		return
	}

	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(msg)
}

// writeError writes Anthropic's error JSON with status.
func writeError(w http.ResponseWriter, status int, errType, message string) {
	body := newWireError(errType, message)

	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

// wireError is the body of an error response.
type wireError struct {
	Type  string `json:"type"`
	Error struct {
		Type    string `json:"type"`
		Message string `json:"message"`
	} `json:"error"`
}

// newWireError returns the error JSON of errType and message.
func newWireError(errType, message string) wireError {
	body := wireError{Type: "error"}
	body.Error.Type = errType
	body.Error.Message = message

	return body
}

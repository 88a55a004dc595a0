// Package telegramtest is a fake Telegram Bot API server for tests. It
// speaks the real wire protocol, so that a bot under test runs its real
// HTTP code, or github.com/go-telegram-bot-api/telegram-bot-api/v5, against
// it:
//
//	s := telegramtest.NewServer(t)
//	bot, err := tgbotapi.NewBotAPIWithAPIEndpoint(s.Token(), s.Endpoint())
//
// Every call is POST {URL}/bot{token}/{method}, with its parameters
// form-encoded, as multipart (uploads) or as a JSON object; GET with a
// query string works too, as on Telegram. Method names are
// case-insensitive. Each answer is {"ok":true,"result":...} or
// {"ok":false,"error_code":N,"description":"...","parameters":{...}} with
// the HTTP status equal to error_code. A wrong token answers 401
// "Unauthorized", an unknown method 404 "Not Found".
//
// Files: getFile answers a File whose file_path is served by GET
// {URL}/file/bot{token}/{file_path}. The library's FileEndpoint is a
// constant for the public server, so File.Link and GetFileDirectURL point
// there; a client builds the download URL from its configured base URL
// instead: base + "/file/bot" + token + "/" + file_path.
//
// Updates: a test queues them with Push, usually built by Private, Group,
// Topic, Photo, ReplyToBot or Edited, and the bot polls them with
// getUpdates, which confirms every update below its offset, holds the
// request up to its timeout (at most 50 seconds, as Telegram) and answers
// as soon as an update arrives. As on Telegram, a getUpdates that starts to
// wait ends the one already waiting with 409 "Conflict: terminated by other
// getUpdates request; make sure that only one bot instance is running", and
// getUpdates is refused with 409 while a webhook is set. Deliver posts an
// update to the webhook the bot set with setWebhook.
//
// What the bot sent (sendMessage, sendPhoto, editMessageText) is recorded
// as Sent; every call's parameters are kept for Calls. Texts are checked as
// Telegram checks them: empty or too long texts and captions, and HTML,
// MarkdownV2 or Markdown that does not parse, answer 400 with Telegram's
// description. FailNext scripts errors and delays, and WithRateLimits
// answers 429 to a bot that sends faster than Telegram allows.
//
// A Server is safe for use by several goroutines.
package telegramtest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// DefaultToken is the token a Server accepts unless WithToken says another.
const DefaultToken = "123456:TEST-token"

// DefaultBotUsername is the bot's username unless WithBotUsername says
// another.
const DefaultBotUsername = "switchboard_test_bot"

// BotID is the bot's user id, as getMe answers it.
const BotID int64 = 999000

// BotFirstName is the bot's first name, as getMe answers it.
const BotFirstName = "Switchboard Test"

// Server is a running fake. Its zero value is not usable; call NewServer.
type Server struct {
	srv        *httptest.Server
	token      string
	username   string
	rateLimits bool
	handlers   map[string]handler

	done      chan struct{}
	closeOnce sync.Once

	mu      sync.Mutex
	updates updateQueue
	chats   chatBook
	files   fileStore
	record  recorder
	hook    webhook
	limits  rateLimiter
	faults  map[string][]Fault
}

// Option configures a Server.
type Option func(*Server)

// WithToken makes the server accept tok instead of DefaultToken.
func WithToken(tok string) Option {
	return func(s *Server) { s.token = tok }
}

// WithBotUsername sets the bot's username, which getMe answers and the
// update builders mention.
func WithBotUsername(name string) Option {
	return func(s *Server) { s.username = name }
}

// WithRateLimits enforces Telegram's limits on new messages (sendMessage,
// sendPhoto): more than one a second in one chat, more than 20 a minute in
// one group (a chat id below zero) or more than 30 a second overall is
// refused with 429 and a retry_after of the seconds left, and counted in
// Violations. Refused messages do not count against the limits. Edits and
// chat actions are not limited.
func WithRateLimits() Option {
	return func(s *Server) { s.rateLimits = true }
}

// WithOnSent calls fn with every message the bot sends or edits, as it is
// recorded. fn runs while the server holds its lock: it must return
// quickly and must not call the Server.
func WithOnSent(fn func(Sent)) Option {
	return func(s *Server) { s.record.onSent = fn }
}

// NewServer starts a fake that stops when the test ends.
func NewServer(t testing.TB, opts ...Option) *Server {
	t.Helper()

	s := &Server{
		token:    DefaultToken,
		username: DefaultBotUsername,
		handlers: methodHandlers(),
		faults:   map[string][]Fault{},
		done:     make(chan struct{}),
	}
	for _, o := range opts {
		o(s)
	}

	s.updates.init()
	s.chats.init()
	s.files.init()
	s.record.init()
	s.limits.init()

	s.srv = httptest.NewServer(http.HandlerFunc(s.route))
	t.Cleanup(s.Close)

	return s
}

// Close stops the server, ending the requests still waiting; later calls
// fail to connect. It is safe to call more than once.
func (s *Server) Close() {
	s.closeOnce.Do(func() { close(s.done) })
	s.srv.Close()
}

// URL returns the server's base URL, such as http://127.0.0.1:1234.
func (s *Server) URL() string {
	return s.srv.URL
}

// Endpoint returns URL()+"/bot%s/%s", the API endpoint format the library
// takes: the token goes in the first verb, the method in the second.
func (s *Server) Endpoint() string {
	return s.srv.URL + "/bot%s/%s"
}

// FileURL returns the download URL of a file_path that getFile answered.
func (s *Server) FileURL(filePath string) string {
	return s.srv.URL + "/file/bot" + s.token + "/" + filePath
}

// Token returns the token the server accepts.
func (s *Server) Token() string {
	return s.token
}

// BotUsername returns the bot's username, without the @.
func (s *Server) BotUsername() string {
	return s.username
}

// Bot returns the bot as a User, as it appears in the from field of the
// messages it sent.
func (s *Server) Bot() User {
	return User{ID: BotID, IsBot: true, FirstName: BotFirstName, Username: s.username}
}

// call is one decoded API request.
type call struct {
	ctx    context.Context
	method string
	params url.Values
	files  map[string]upload
	at     time.Time
}

// upload is one file of a multipart request.
type upload struct {
	name string
	data []byte
}

// result is a successful answer: its result and an optional description.
type result struct {
	value       any
	description string
}

// apiError is a failed answer.
type apiError struct {
	code        int
	description string
	retryAfter  int
}

// handler answers one method.
type handler func(s *Server, c *call) (result, *apiError)

// badRequest is a 400 answer with Telegram's "Bad Request: " prefix.
func badRequest(format string, args ...any) *apiError {
	return &apiError{code: 400, description: "Bad Request: " + fmt.Sprintf(format, args...)}
}

// tooManyRequests is a 429 answer asking to wait seconds.
func tooManyRequests(seconds int) *apiError {
	return &apiError{code: 429, retryAfter: seconds,
		description: fmt.Sprintf("Too Many Requests: retry after %d", seconds)}
}

// route sends a request to the API, to the file downloads, or answers 404.
func (s *Server) route(w http.ResponseWriter, r *http.Request) {
	switch {
	case strings.HasPrefix(r.URL.Path, "/file/bot") && r.Method == http.MethodGet:
		s.handleFile(w, r)
	case strings.HasPrefix(r.URL.Path, "/bot"):
		s.handleAPI(w, r)
	default:
		writeError(w, &apiError{code: 404, description: "Not Found"})
	}
}

// handleAPI answers a call of /bot{token}/{method}, POST or GET.
func (s *Server) handleAPI(w http.ResponseWriter, r *http.Request) {
	token, method, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/bot"), "/")
	if token != s.token {
		writeError(w, &apiError{code: 401, description: "Unauthorized"})
		return
	}

	name, h := s.lookup(method)
	if h == nil {
		writeError(w, &apiError{code: 404, description: "Not Found"})
		return
	}

	params, files, err := readParams(r)
	if err != nil {
		writeError(w, badRequest("%v", err))
		return
	}

	c := &call{ctx: r.Context(), method: name, params: params, files: files, at: time.Now()}
	s.mu.Lock()
	s.record.addCall(c)
	fault, faulted := s.takeFault(name)
	s.mu.Unlock()

	if faulted {
		if !s.wait(r.Context(), fault.Delay) {
			return
		}
		if fault.Status != 0 {
			writeError(w, fault.apiError())
			return
		}
	}

	res, e := h(s, c)
	if e != nil {
		writeError(w, e)
		return
	}

	writeJSON(w, http.StatusOK, okAnswer{OK: true, Result: res.value, Description: res.description})
}

// lookup finds a method's canonical name and handler, ignoring case.
func (s *Server) lookup(method string) (string, handler) {
	for name, h := range s.handlers {
		if strings.EqualFold(name, method) {
			return name, h
		}
	}

	return "", nil
}

// methodHandlers lists the methods the fake answers.
func methodHandlers() map[string]handler {
	ok := func(*Server, *call) (result, *apiError) { return result{value: true}, nil }

	return map[string]handler{
		"getMe":               (*Server).getMe,
		"getUpdates":          (*Server).getUpdates,
		"sendMessage":         (*Server).sendMessage,
		"sendPhoto":           (*Server).sendPhoto,
		"editMessageText":     (*Server).editMessageText,
		"sendChatAction":      (*Server).sendChatAction,
		"getFile":             (*Server).getFile,
		"setMyCommands":       (*Server).setMyCommands,
		"getMyCommands":       (*Server).getMyCommands,
		"deleteMyCommands":    (*Server).deleteMyCommands,
		"setWebhook":          (*Server).setWebhook,
		"deleteWebhook":       (*Server).deleteWebhook,
		"getWebhookInfo":      (*Server).getWebhookInfo,
		"deleteMessage":       ok,
		"setMessageReaction":  ok,
		"answerCallbackQuery": ok,
		"setMyDescription":    ok,
		"setChatMenuButton":   ok,
	}
}

// getMe answers the bot's User.
func (s *Server) getMe(*call) (result, *apiError) {
	return result{value: botInfo{User: s.Bot(), CanJoinGroups: true}}, nil
}

// wait sleeps for d unless ctx ends or the server closes first, which it
// reports as false.
func (s *Server) wait(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return true
	}

	timer := time.NewTimer(d)
	defer timer.Stop()

	select {
	case <-timer.C:
		return true
	case <-ctx.Done():
		return false
	case <-s.done:
		return false
	}
}

// writeError writes e in Telegram's error form, with e.code as the status.
func writeError(w http.ResponseWriter, e *apiError) {
	answer := errorAnswer{OK: false, ErrorCode: e.code, Description: e.description}
	if e.retryAfter > 0 {
		answer.Parameters = &answerParameters{RetryAfter: e.retryAfter}
	}

	writeJSON(w, e.code, answer)
}

// writeJSON writes v as the JSON body of a response with the given status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)

	_ = json.NewEncoder(w).Encode(v)
}

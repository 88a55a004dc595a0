package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchboardhq/switchboard/core"
	"github.com/switchboardhq/switchboard/core/automation"
	"github.com/switchboardhq/switchboard/core/budget"
	"github.com/switchboardhq/switchboard/core/clock"
	"github.com/switchboardhq/switchboard/core/credential"
	"github.com/switchboardhq/switchboard/core/live"
	"github.com/switchboardhq/switchboard/core/skill"
	"github.com/switchboardhq/switchboard/core/store"
	"github.com/switchboardhq/switchboard/httpapi/auth"
)

// WebChannel is the channel of the messages sent through the API: the
// dashboard's chat and scripts.
const WebChannel core.Channel = "web"

// APIConfig is what the REST API reads and drives.
type APIConfig struct {
	DB        *store.DB
	AgentID   string
	AgentName string
	// Auth authenticates every /api route.
	Auth *auth.Authenticator
	// Skills and Credentials back the skill routes.
	Skills      *skill.Registry
	Credentials *credential.Store
	Admins      []string // user ids allowed to change skills and settings
	// Ledger reads the budget; Prices price the estimates.
	Ledger *budget.Ledger
	Prices budget.Prices
	// Automations runs the automation commands; nil answers 501.
	Automations *automation.Engine
	// Live holds what answers messages and the settings in effect, and
	// applies changes of settings.
	Live *live.Controller
	// ServerIP is the address the gateway is reached at, for status.
	ServerIP string
	// Health reports every messenger adapter's state, this one included.
	Health func() map[core.Channel]core.Health
	// Logs returns the last n log lines; nil shows none.
	Logs func(n int) []string
	// ChatTimeout bounds how long POST /api/agent/chat waits for the
	// answer, and how long the OpenAI-compatible endpoint lets the agent
	// work. Default 2 minutes.
	ChatTimeout time.Duration
	Clock       clock.Clock
	Logger      *slog.Logger
}

// API is the REST API under /api, and the "web" messenger adapter that
// its chat goes through: a message posted to the API is stored by the
// pipeline like any other, and its answer comes back through the outbox.
type API struct {
	cfg APIConfig
	log *slog.Logger

	sink     core.SinkHolder
	running  atomic.Bool
	lastSeen atomic.Int64 // unix nanoseconds of the last message

	mu      sync.Mutex
	waiters map[waitKey]*waiter

	patterns []string // the routes Routes registered behind authentication
}

// NewAPI returns the API; register it with the pipeline as the web
// adapter and mount Routes on the listener.
func NewAPI(cfg APIConfig) *API {
	if cfg.ChatTimeout <= 0 {
		cfg.ChatTimeout = 2 * time.Minute
	}

	if cfg.Clock == nil {
		cfg.Clock = clock.System{}
	}

	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}

	return &API{
		cfg:     cfg,
		log:     cfg.Logger.With("component", "api"),
		waiters: make(map[waitKey]*waiter),
	}
}

// Routes registers every /api route on mux, each behind authentication.
func (a *API) Routes(mux *http.ServeMux) {
	authed := func(pattern string, h http.HandlerFunc) {
		a.patterns = append(a.patterns, pattern)
		mux.Handle(pattern, a.cfg.Auth.Middleware(h))
	}

	a.cfg.Auth.Routes(mux)

	authed("GET /api/agent/status", a.handleStatus)
	authed("POST /api/agent/chat", a.handleChat)

	authed("GET /api/agent/sessions", a.handleListSessions)
	authed("POST /api/agent/sessions", a.handleCreateSession)
	authed("PATCH /api/agent/sessions", a.handlePatchSessionByBody)
	authed("DELETE /api/agent/sessions", a.handleDeleteSessionByQuery)
	authed("GET /api/agent/sessions/{id}", a.handleGetSession)
	authed("PATCH /api/agent/sessions/{id}", a.handlePatchSession)
	authed("DELETE /api/agent/sessions/{id}", a.handleDeleteSession)

	a.skillRoutes(authed)
	a.memoryRoutes(authed)
	a.budgetRoutes(authed)
	a.gatewayRoutes(authed)

	authed("GET /api/agent/settings", a.handleGetSettings)
	authed("PATCH /api/agent/settings", a.handlePatchSettings)

	authed("GET /api/agent/automation", a.handleListAutomations)
	authed("POST /api/agent/automation", a.handleAutomation)
	authed("GET /api/openapi.json", a.handleOpenAPI)
	authed("/api/", a.handleUnknown)
}

// Patterns returns the route patterns that Routes registered behind
// authentication, such as "GET /api/agent/status", in order.
func (a *API) Patterns() []string { return slices.Clone(a.patterns) }

// Channel returns "web".
func (a *API) Channel() core.Channel { return WebChannel }

// Run keeps the pipeline's sink for the chat route until ctx ends.
func (a *API) Run(ctx context.Context, sink core.Sink) error {
	a.sink.Set(sink)
	a.running.Store(true)
	<-ctx.Done()
	a.running.Store(false)
	a.sink.Clear()

	return nil
}

// Send takes an answer from the outbox. The answer is already stored, and
// the chat route reads it from there; Send only wakes a caller that waits
// for it, on this replica.
func (a *API) Send(_ context.Context, msg core.Outgoing) (core.Sent, error) {
	if w := a.waiter(waitKey{thread: msg.To.ThreadID, message: msg.ReplyTo}); w != nil {
		w.wake()
	}

	return core.Sent{MessageID: core.MessageID("out-" + itoa(msg.ID))}, nil
}

// Health reports the API as connected while the pipeline runs.
func (a *API) Health() core.Health {
	h := core.Health{Connected: a.running.Load()}
	if t := a.lastSeen.Load(); t > 0 {
		h.LastMessageAt = time.Unix(0, t).UTC()
	}

	return h
}

// TextLimit is large: an answer to the API is never split.
func (a *API) TextLimit() int { return 1 << 20 }

// CountText counts bytes.
func (a *API) CountText(text string) int { return len(text) }

// RepliesInThreads is true: each API session is a thread of the user's
// chat.
func (a *API) RepliesInThreads() bool { return true }

// AuthenticatesSenders is true: every API caller is authenticated.
func (a *API) AuthenticatesSenders() bool { return true }

// StreamText hands the answer's text to the caller waiting for msg.
func (a *API) StreamText(msg core.Inbound) func(string) {
	w := a.waiter(waitKey{thread: msg.ThreadID, message: msg.MessageID})
	if w == nil || !w.stream {
		return nil
	}

	return w.add
}

// handleUnknown answers routes that do not exist.
func (a *API) handleUnknown(w http.ResponseWriter, r *http.Request) {
	notFound(w, "no route "+r.Method+" "+r.URL.Path)
}

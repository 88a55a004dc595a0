package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchboardhq/switchboard/adapters/openai"
	"github.com/switchboardhq/switchboard/adapters/openai/openaitest"
	"github.com/switchboardhq/switchboard/core"
	"github.com/switchboardhq/switchboard/core/agent"
	"github.com/switchboardhq/switchboard/core/automation"
	"github.com/switchboardhq/switchboard/core/budget"
	"github.com/switchboardhq/switchboard/core/config"
	"github.com/switchboardhq/switchboard/core/credential"
	"github.com/switchboardhq/switchboard/core/live"
	"github.com/switchboardhq/switchboard/core/metrics"
	"github.com/switchboardhq/switchboard/core/outbox"
	"github.com/switchboardhq/switchboard/core/pipeline"
	"github.com/switchboardhq/switchboard/core/routing"
	"github.com/switchboardhq/switchboard/core/secret"
	"github.com/switchboardhq/switchboard/core/skill"
	"github.com/switchboardhq/switchboard/core/store"
	"github.com/switchboardhq/switchboard/core/store/storetest"
	"github.com/switchboardhq/switchboard/core/token"
	"github.com/switchboardhq/switchboard/httpapi"
	"github.com/switchboardhq/switchboard/httpapi/auth"
)

// testUsers have an API token each; owner is the administrator.
var testUsers = []string{"owner", "anna", "bob"}

// testAPI is the whole gateway behind a real HTTP server: the pipeline
// with the API as its web adapter, a real authenticator, the skills and
// the budget, on a real database.
type testAPI struct {
	t      testing.TB
	URL    string
	DB     *store.DB
	API    *httpapi.API
	Skills *skill.Registry
	Ledger *budget.Ledger
	// Model is the fake model server, when the API runs with a model.
	Model *openaitest.Server
	// Live holds the agent's parts and settings.
	Live *live.Controller

	tokens map[string]string
}

// apiSetup collects the options of newTestAPI.
type apiSetup struct {
	model       bool
	limits      budget.Limits
	prices      budget.Prices
	chatTimeout time.Duration
	responder   agent.Responder
}

// apiOption changes the test API's setup.
type apiOption func(*apiSetup)

// withModel answers with the agent loop on a fake OpenAI-compatible
// server (testAPI.Model) whose models are "small", "medium" (the
// standard) and "large", routed by complexity.
func withModel() apiOption { return func(s *apiSetup) { s.model = true } }

// withLimits sets the budget's limits.
func withLimits(l budget.Limits) apiOption { return func(s *apiSetup) { s.limits = l } }

// withPrices sets the models' prices.
func withPrices(p budget.Prices) apiOption { return func(s *apiSetup) { s.prices = p } }

// withChatTimeout bounds the chat route's wait.
func withChatTimeout(d time.Duration) apiOption {
	return func(s *apiSetup) { s.chatTimeout = d }
}

// withResponder answers with r instead of the echo.
func withResponder(r agent.Responder) apiOption {
	return func(s *apiSetup) { s.responder = r }
}

// newTestAPI starts the gateway on a fresh database of the dialect.
func newTestAPI(t testing.TB, kind store.Dialect, opts ...apiOption) *testAPI {
	t.Helper()

	setup := apiSetup{responder: agent.Echo{}}
	for _, o := range opts {
		o(&setup)
	}

	db := storetest.Open(t, kind)
	log := slog.New(slog.DiscardHandler)
	ctx := context.Background()
	ta := &testAPI{t: t, DB: db, tokens: map[string]string{}}

	box, err := secret.NewBox(make([]byte, secret.KeySize))
	if err != nil {
		t.Fatal(err)
	}

	creds := credential.New(db, box)

	ta.Skills, err = skill.NewRegistry(db, creds, skill.Time{}, skill.Calculator{},
		skill.Memory{DB: db}, skill.Weather{URL: "http://127.0.0.1:1/weather"})
	if err != nil {
		t.Fatal(err)
	}

	ta.Ledger = &budget.Ledger{DB: db, AgentID: "default", Zone: time.UTC, Limits: setup.limits}
	cfg := httpapi.APIConfig{
		DB: db, AgentID: "default", AgentName: "Testbot",
		Skills: ta.Skills, Credentials: creds, Ledger: ta.Ledger, Prices: setup.prices,
		Admins:      []string{"owner"},
		ServerIP:    "127.0.0.1",
		ChatTimeout: setup.chatTimeout,
		Logger:      log,
	}
	cfg.Health = func() map[core.Channel]core.Health {
		return map[core.Channel]core.Health{httpapi.WebChannel: ta.API.Health()}
	}

	base := config.Default()
	base.Agent.ID = "default"
	base.Deployment.Region = "eu-central"
	base.Budget.MessagesLimit = int(setup.limits.Messages)

	build := func(config.Config) (live.Parts, error) {
		return live.Parts{Responder: setup.responder}, nil
	}

	if setup.model {
		ta.Model = openaitest.NewServer(t, openaitest.WithModels("small", "medium", "large",
			"huge"))
		base.AI.Provider, base.AI.Model = "openai", "medium"
		build = func(c config.Config) (live.Parts, error) {
			return ta.modelAgent(t, c, setup)
		}
	}

	ta.Live, err = live.New(ctx, live.Config{
		Base: base, DB: db, Box: box, Ledger: ta.Ledger, Build: build,
		Check: func(ctx context.Context, c config.Config) error {
			p := openai.New(openai.Config{BaseURL: ta.Model.URL(), APIKey: c.AI.APIKey})

			return p.CheckModel(ctx, c.AI.Model)
		},
		Logger: log,
	})
	if err != nil {
		t.Fatal(err)
	}

	cfg.Live = ta.Live
	cfg.Automations = automation.NewEngine(automation.Config{DB: db, AgentID: "default",
		Responder: ta.Live.Responder(), Logger: log})
	responder := ta.Live.Responder()

	cfg.Auth, err = auth.New(auth.Config{DB: db, AgentID: "default", LoginTTL: time.Hour,
		Logger: log})
	if err != nil {
		t.Fatal(err)
	}

	ta.API = httpapi.NewAPI(cfg)
	ta.startPipeline(t, db, responder, log)

	srv := httptest.NewServer(httpapi.New(httpapi.Deps{API: ta.API,
		Registry: prometheus.NewRegistry(), Logger: log}))
	t.Cleanup(srv.Close)
	ta.URL = srv.URL

	for _, u := range testUsers {
		secret, err := token.Create(ctx, db, "default", u, u+"'s token", time.Now().UTC())
		if err != nil {
			t.Fatal(err)
		}

		ta.tokens[u] = secret
	}

	return ta
}

// modelAgent builds the agent loop on the fake model server, with
// routing ("small", the configured model, "large") and the skills.
func (ta *testAPI) modelAgent(t testing.TB, c config.Config, setup apiSetup,
) (live.Parts, error) {
	router, err := routing.New(routing.Config{
		Standard: c.AI.Model, Cheap: "small", Premium: "large",
		CheapBelow: 30, PremiumFrom: 60,
		Prices: setup.prices, Ledger: ta.Ledger, DB: ta.DB,
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		return live.Parts{}, err
	}

	tools := skill.Tools{Registry: ta.Skills, AgentID: "default", TimeZone: "UTC"}

	loop, err := agent.NewLoop(agent.LoopConfig{
		Provider: openai.New(openai.Config{BaseURL: ta.Model.URL(), APIKey: c.AI.APIKey}),
		Models:   []agent.Model{{Name: c.AI.Model}},
		Tools:    tools,
		Plan:     router.Plan,
		Recall:   tools.Recall,
		OnCall: func(ctx context.Context, req agent.Request, call agent.Call) {
			in, out := int64(call.Usage.InputTokens), int64(call.Usage.OutputTokens)
			rec := &budget.Call{AgentID: "default", InboundID: req.InboundID,
				Provider: call.Provider, Model: call.Model, InputTokens: in, OutputTokens: out,
				CostMicros: setup.prices.CostMicros(call.Model, in, out),
				ToolCalls:  call.ToolCalls, CreatedAt: time.Now().UTC()}
			if req.Session != nil {
				rec.SessionID = req.Session.ID
			}

			if err := budget.Record(context.WithoutCancel(ctx), ta.DB, rec); err != nil {
				t.Error(err)
			}
		},
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		return live.Parts{}, err
	}

	return live.Parts{Responder: loop, Router: router,
		Models: []string{c.AI.Model, "small", "large"}}, nil
}

// startPipeline runs the pipeline with the API as the web adapter until
// the test ends.
func (ta *testAPI) startPipeline(t testing.TB, db *store.DB, responder agent.Responder,
	log *slog.Logger,
) {
	t.Helper()

	ctx, cancel := context.WithCancel(context.Background())

	presence, err := db.Announce(ctx, store.NewReplicaID())
	if err != nil {
		t.Fatal(err)
	}

	p, err := pipeline.New(db, presence, pipeline.Options{
		AgentID: "default", AgentName: "Testbot", MaxParallel: 4, Responder: responder,
		Outbox: outbox.DelivererConfig{MaxAttempts: 3, MaxBackoff: 50 * time.Millisecond,
			PollInterval: 50 * time.Millisecond},
		Logger: log, Metrics: metrics.New(),
	})
	if err != nil {
		t.Fatal(err)
	}

	if err := p.Register(ta.API); err != nil {
		t.Fatal(err)
	}

	done := make(chan error, 1)

	go func() { done <- p.Run(ctx) }()

	t.Cleanup(func() {
		cancel()

		if err := <-done; err != nil {
			t.Errorf("pipeline: %v", err)
		}

		_ = presence.Close()
	})

	// The chat route needs the pipeline's sink, which Run hands over.
	deadline := time.Now().Add(5 * time.Second)
	for !ta.API.Health().Connected {
		if time.Now().After(deadline) {
			t.Fatal("the API adapter was not started within 5 s")
		}

		time.Sleep(5 * time.Millisecond)
	}
}

// token returns the API token of a test user.
func (ta *testAPI) token(user string) string { return ta.tokens[user] }

// do sends a request as user ("" for none) with body (nil for none, a
// string or []byte as it is, anything else as JSON) and returns the status
// and the body.
func (ta *testAPI) do(method, path, user string, body any) (int, []byte) {
	ta.t.Helper()

	res := ta.request(method, path, user, body, nil)
	defer res.Body.Close()

	b, err := io.ReadAll(res.Body)
	if err != nil {
		ta.t.Fatal(err)
	}

	return res.StatusCode, b
}

// request sends a request and returns the response; header adds headers.
func (ta *testAPI) request(method, path, user string, body any, header http.Header,
) *http.Response {
	ta.t.Helper()

	var r io.Reader

	switch b := body.(type) {
	case nil:
	case string:
		r = bytes.NewBufferString(b)
	case []byte:
		r = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			ta.t.Fatal(err)
		}

		r = bytes.NewReader(j)
	}

	req, err := http.NewRequest(method, ta.URL+path, r)
	if err != nil {
		ta.t.Fatal(err)
	}

	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}

	if user != "" {
		req.Header.Set("Authorization", "Bearer "+ta.tokens[user])
	}

	for k, v := range header {
		req.Header[k] = v
	}

	res, err := http.DefaultClient.Do(req)
	if err != nil {
		ta.t.Fatal(err)
	}

	return res
}

// doJSON is do that decodes a 2xx answer into out and returns the status.
func (ta *testAPI) doJSON(method, path, user string, body, out any) int {
	ta.t.Helper()

	code, b := ta.do(method, path, user, body)
	if code < 300 && out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			ta.t.Fatalf("%s %s: decode %s: %v", method, path, b, err)
		}
	}

	return code
}

// apiError is the error body of every refusal.
type apiError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Field   string `json:"field"`
	} `json:"error"`
}

// wantError checks that a request was refused with status and, when field
// is not empty, that the error names field.
func (ta *testAPI) wantError(method, path, user string, body any, status int, field string) {
	ta.t.Helper()

	code, b := ta.do(method, path, user, body)

	var e apiError
	if err := json.Unmarshal(b, &e); err != nil || code != status || e.Error.Field != field ||
		e.Error.Message == "" {
		ta.t.Errorf("%s %s %v: %d %s, want %d naming field %q", method, path, body, code, b,
			status, field)
	}
}

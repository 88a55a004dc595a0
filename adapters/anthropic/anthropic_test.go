package anthropic_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/adapters/anthropic"
	"github.com/switchboardhq/switchboard/adapters/anthropic/anthropictest"
	"github.com/switchboardhq/switchboard/core"
	"github.com/switchboardhq/switchboard/core/llm"
)

// testKey is the API key the fake requires; no error may show it.
const testKey = "sk-ant-test-0123456789secret"

// The provider is what the agent loop sees.
var (
	_ llm.Provider = (*anthropic.Provider)(nil)
	_ llm.Streamer = (*anthropic.Provider)(nil)
)

// setup starts a fake that requires testKey and a provider that calls it.
func setup(t *testing.T, cfg anthropic.Config) (*anthropictest.Server, *anthropic.Provider) {
	t.Helper()

	srv := anthropictest.NewServer(t)
	srv.RequireAPIKey(testKey)

	cfg.BaseURL = srv.URL()
	cfg.APIKey = testKey

	return srv, anthropic.New(cfg)
}

// onlyRequest returns the one request the fake received.
func onlyRequest(t *testing.T, srv *anthropictest.Server) anthropictest.Request {
	t.Helper()

	reqs := srv.Requests()
	if len(reqs) != 1 {
		t.Fatalf("fake got %d requests, want 1", len(reqs))
	}

	return reqs[0]
}

// sameJSON fails the test unless got and want hold the same JSON value.
func sameJSON(t *testing.T, what string, got, want []byte) {
	t.Helper()

	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("%s: decode %s: %v", what, got, err)
	}
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatalf("%s: decode %s: %v", what, want, err)
	}

	gb, _ := json.Marshal(g)
	wb, _ := json.Marshal(w)
	if !bytes.Equal(gb, wb) {
		t.Errorf("%s = %s, want %s", what, gb, wb)
	}
}

func TestName(t *testing.T) {
	t.Parallel()

	if got := anthropic.New(anthropic.Config{}).Name(); got != "anthropic" {
		t.Errorf("Name() = %q, want anthropic", got)
	}
}

func TestCompletePlainAnswer(t *testing.T) {
	t.Parallel()

	srv, p := setup(t, anthropic.Config{})
	srv.Push(anthropictest.Reply{
		Text:  "Hello there.",
		Usage: anthropictest.Usage{InputTokens: 12, OutputTokens: 5},
		Model: "claude-test-1-20990101",
	})

	resp, err := p.Complete(context.Background(), llm.Request{
		Model:    "claude-test-1",
		Messages: []llm.Message{{Role: llm.RoleUser, Text: "hi"}},
	})
	if err != nil {
		t.Fatalf("Complete: %v", err)
	}

	want := llm.Response{
		Text:  "Hello there.",
		Usage: llm.Usage{InputTokens: 12, OutputTokens: 5},
		Model: "claude-test-1-20990101",
	}
	if resp.Text != want.Text || resp.Usage != want.Usage || resp.Model != want.Model {
		t.Errorf("response = %+v, want %+v", resp, want)
	}
	if len(resp.ToolCalls) != 0 {
		t.Errorf("tool calls = %+v, want none", resp.ToolCalls)
	}

	req := onlyRequest(t, srv)
	if req.Model != "claude-test-1" || req.Stream || req.System != "" || len(req.Tools) != 0 {
		t.Errorf("request = model %q stream %v system %q tools %d",
			req.Model, req.Stream, req.System, len(req.Tools))
	}
	if req.Header.Get("anthropic-version") == "" {
		t.Error("request has no anthropic-version header")
	}
	if len(req.Messages) != 1 || req.Messages[0].Role != "user" ||
		req.Messages[0].Text() != "hi" {
		t.Errorf("messages = %+v, want one user message \"hi\"", req.Messages)
	}
}

func TestMaxTokens(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name    string
		config  int
		request int
		want    int
	}{
		{name: "default", want: 4096},
		{name: "from config", config: 1000, want: 1000},
		{name: "request wins", config: 1000, request: 50, want: 50},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			srv, p := setup(t, anthropic.Config{MaxTokens: tt.config})
			srv.Push(anthropictest.TextReply("ok"))

			_, err := p.Complete(context.Background(), llm.Request{
				Model:     "claude-test-1",
				Messages:  []llm.Message{{Role: llm.RoleUser, Text: "hi"}},
				MaxTokens: tt.request,
			})
			if err != nil {
				t.Fatalf("Complete: %v", err)
			}

			if got := onlyRequest(t, srv).MaxTokens; got != tt.want {
				t.Errorf("max_tokens = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestRequestMapping(t *testing.T) {
	t.Parallel()

	srv, p := setup(t, anthropic.Config{})
	srv.Push(anthropictest.TextReply("It is sunny in both."))

	schema := `{"type":"object","properties":{"city":{"type":"string"}},` +
		`"required":["city"],"additionalProperties":false}`
	req := llm.Request{
		Model:  "claude-test-1",
		System: "You are terse.",
		Messages: []llm.Message{
			{Role: llm.RoleUser, Text: "Weather in Oslo?"},
			{Role: llm.RoleUser, Text: "And Rome?"},
			{Role: llm.RoleAssistant, Text: "Checking.", ToolCalls: []llm.ToolCall{
				{ID: "toolu_a", Name: "weather", Arguments: json.RawMessage(`{"city":"Oslo"}`)},
				{ID: "toolu_b", Name: "weather", Arguments: json.RawMessage(`{"city":"Rome"}`)},
			}},
			{Role: llm.RoleTool, ToolCallID: "toolu_a", Text: "sunny"},
			{Role: llm.RoleTool, ToolCallID: "toolu_b", Text: "no such city", IsError: true},
			{Role: llm.RoleAssistant, ToolCalls: []llm.ToolCall{
				{ID: "toolu_c", Name: "weather", Arguments: json.RawMessage(`{"city":"Roma"}`)},
			}},
			{Role: llm.RoleTool, ToolCallID: "toolu_c", Text: "sunny"},
			{Role: llm.RoleUser, Text: "Thanks, summarise."},
		},
		Tools: []llm.Tool{{
			Name:        "weather",
			Description: "Current weather of a city.",
			Parameters:  json.RawMessage(schema),
		}},
	}
	if _, err := p.Complete(context.Background(), req); err != nil {
		t.Fatalf("Complete: %v", err)
	}

	got := onlyRequest(t, srv)
	if got.System != "You are terse." {
		t.Errorf("system = %q, want %q", got.System, "You are terse.")
	}

	// Each turn as role and blocks: text, tool_use id:input, and
	// tool_result id:content (with ! for an error).
	want := []string{
		`user: text:Weather in Oslo? | text:And Rome?`,
		`assistant: text:Checking. | tool_use:toolu_a:weather:{"city":"Oslo"} | ` +
			`tool_use:toolu_b:weather:{"city":"Rome"}`,
		`user: tool_result:toolu_a:sunny | tool_result:toolu_b:!no such city`,
		`assistant: tool_use:toolu_c:weather:{"city":"Roma"}`,
		`user: tool_result:toolu_c:sunny | text:Thanks, summarise.`,
	}
	if len(got.Messages) != len(want) {
		t.Fatalf("got %d turns, want %d: %+v", len(got.Messages), len(want), got.Messages)
	}
	for i, m := range got.Messages {
		if s := turn(t, m); s != want[i] {
			t.Errorf("turn %d = %s\nwant       %s", i, s, want[i])
		}
	}

	if len(got.Tools) != 1 {
		t.Fatalf("got %d tools, want 1", len(got.Tools))
	}
	tool := got.Tools[0]
	if tool.Name != "weather" || tool.Description != "Current weather of a city." {
		t.Errorf("tool = %q %q", tool.Name, tool.Description)
	}
	sameJSON(t, "input_schema", tool.InputSchema, []byte(schema))
}

// turn renders a turn compactly for comparison.
func turn(t *testing.T, m anthropictest.Message) string {
	t.Helper()

	parts := make([]string, 0, len(m.Content))
	for _, b := range m.Content {
		switch b.Type {
		case "text":
			parts = append(parts, "text:"+b.Text)
		case "tool_use":
			var input bytes.Buffer
			if err := json.Compact(&input, b.Input); err != nil {
				t.Fatalf("compact tool input %s: %v", b.Input, err)
			}
			parts = append(parts, "tool_use:"+b.ID+":"+b.Name+":"+input.String())
		case "tool_result":
			mark := ""
			if b.IsError {
				mark = "!"
			}
			parts = append(parts, "tool_result:"+b.ToolUseID+":"+mark+b.ContentText())
		default:
			parts = append(parts, b.Type)
		}
	}

	return m.Role + ": " + strings.Join(parts, " | ")
}

func TestToolCalls(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name string
		uses []anthropictest.ToolUse
	}{
		{
			name: "one call",
			uses: []anthropictest.ToolUse{
				{ID: "toolu_1", Name: "search", Input: `{"query":"go 1.26","limit":3}`},
			},
		},
		{
			name: "parallel calls",
			uses: []anthropictest.ToolUse{
				{ID: "toolu_1", Name: "weather", Input: `{"city":"Oslo"}`},
				{ID: "toolu_2", Name: "weather", Input: `{"city":"Rome"}`},
				{ID: "toolu_3", Name: "clock", Input: `{}`},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			srv, p := setup(t, anthropic.Config{})
			first := anthropictest.ToolReply(tt.uses...)
			first.Text = "Let me look."
			srv.Push(first, anthropictest.TextReply("All done."))

			history := []llm.Message{{Role: llm.RoleUser, Text: "Go on."}}
			resp, err := p.Complete(context.Background(), llm.Request{
				Model: "claude-test-1", Messages: history,
				Tools: []llm.Tool{{Name: "search"}, {Name: "weather"}, {Name: "clock"}},
			})
			if err != nil {
				t.Fatalf("first Complete: %v", err)
			}

			if resp.Text != "Let me look." {
				t.Errorf("text = %q, want %q", resp.Text, "Let me look.")
			}
			if len(resp.ToolCalls) != len(tt.uses) {
				t.Fatalf("got %d tool calls, want %d", len(resp.ToolCalls), len(tt.uses))
			}
			for i, call := range resp.ToolCalls {
				use := tt.uses[i]
				if call.ID != use.ID || call.Name != use.Name {
					t.Errorf("call %d = %s %s, want %s %s",
						i, call.ID, call.Name, use.ID, use.Name)
				}
				sameJSON(t, "arguments", call.Arguments, []byte(use.Input))
			}

			history = append(history, llm.Message{
				Role: llm.RoleAssistant, Text: resp.Text, ToolCalls: resp.ToolCalls,
			})
			for _, call := range resp.ToolCalls {
				history = append(history, llm.Message{
					Role: llm.RoleTool, ToolCallID: call.ID, Text: "result of " + call.ID,
				})
			}
			resp, err = p.Complete(context.Background(), llm.Request{
				Model: "claude-test-1", Messages: history,
			})
			if err != nil {
				t.Fatalf("second Complete: %v", err)
			}
			if resp.Text != "All done." || len(resp.ToolCalls) != 0 {
				t.Errorf("second answer = %+v, want text only", resp)
			}

			reqs := srv.Requests()
			if len(reqs) != 2 {
				t.Fatalf("fake got %d requests, want 2", len(reqs))
			}
			turns := reqs[1].Messages
			if len(turns) != 3 {
				t.Fatalf("second request has %d turns, want 3", len(turns))
			}
			results := turns[2].Content
			if turns[2].Role != "user" || len(results) != len(tt.uses) {
				t.Fatalf("last turn = %s, want one user turn of tool results", turn(t, turns[2]))
			}
			for i, b := range results {
				id := tt.uses[i].ID
				if b.Type != "tool_result" || b.ToolUseID != id ||
					b.ContentText() != "result of "+id || b.IsError {
					t.Errorf("result %d = %+v, want the result of %s", i, b, id)
				}
			}
		})
	}
}

func TestImage(t *testing.T) {
	t.Parallel()

	srv, p := setup(t, anthropic.Config{})
	srv.Push(anthropictest.TextReply("A red dot."))

	data := []byte("\x89PNG\r\n\x1a\n not really a picture")
	_, err := p.Complete(context.Background(), llm.Request{
		Model: "claude-test-1",
		Messages: []llm.Message{{
			Role:   llm.RoleUser,
			Text:   "What is this?",
			Images: []core.Image{{MIMEType: "image/png", Data: data}},
		}},
	})
	if err != nil {
		t.Fatalf("Complete: %v", err)
	}

	content := onlyRequest(t, srv).Messages[0].Content
	if len(content) != 2 {
		t.Fatalf("got %d blocks, want an image and a text", len(content))
	}

	img := content[0]
	if img.Type != "image" || img.Source == nil {
		t.Fatalf("first block = %+v, want an image", img)
	}
	if img.Source.Type != "base64" || img.Source.MediaType != "image/png" {
		t.Errorf("source = %s %s, want base64 image/png", img.Source.Type, img.Source.MediaType)
	}
	if got, err := base64.StdEncoding.DecodeString(img.Source.Data); err != nil ||
		!bytes.Equal(got, data) {
		t.Errorf("image data = %q (%v), want the picture's bytes", img.Source.Data, err)
	}
	if content[1].Type != "text" || content[1].Text != "What is this?" {
		t.Errorf("second block = %+v, want the text", content[1])
	}
}

func TestStream(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name  string
		reply anthropictest.Reply
	}{
		{
			name: "text",
			reply: anthropictest.Reply{
				Text:  "The quick brown fox jumps over the lazy dog.",
				Usage: anthropictest.Usage{InputTokens: 30, OutputTokens: 11},
			},
		},
		{
			name: "text and tool uses",
			reply: anthropictest.Reply{
				Text: "Looking that up for you now.",
				ToolUses: []anthropictest.ToolUse{
					{ID: "toolu_x", Name: "search", Input: `{"query":"Zürich weather","limit":5}`},
					{ID: "toolu_y", Name: "clock", Input: `{}`},
				},
				Usage: anthropictest.Usage{InputTokens: 120, OutputTokens: 42},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			srv, p := setup(t, anthropic.Config{})
			srv.Push(tt.reply)

			var pieces []string
			resp, err := p.Stream(context.Background(), llm.Request{
				Model:    "claude-test-1",
				Messages: []llm.Message{{Role: llm.RoleUser, Text: "Go."}},
			}, func(s string) { pieces = append(pieces, s) })
			if err != nil {
				t.Fatalf("Stream: %v", err)
			}

			if len(pieces) < 2 {
				t.Errorf("got %d text pieces, want several", len(pieces))
			}
			if joined := strings.Join(pieces, ""); joined != tt.reply.Text {
				t.Errorf("pieces join to %q, want %q", joined, tt.reply.Text)
			}
			if resp.Text != tt.reply.Text {
				t.Errorf("text = %q, want %q", resp.Text, tt.reply.Text)
			}

			want := llm.Usage{
				InputTokens:  tt.reply.Usage.InputTokens,
				OutputTokens: tt.reply.Usage.OutputTokens,
			}
			if resp.Usage != want {
				t.Errorf("usage = %+v, want %+v", resp.Usage, want)
			}
			if resp.Model != "claude-test-1" {
				t.Errorf("model = %q, want claude-test-1", resp.Model)
			}

			if len(resp.ToolCalls) != len(tt.reply.ToolUses) {
				t.Fatalf("got %d tool calls, want %d", len(resp.ToolCalls), len(tt.reply.ToolUses))
			}
			for i, call := range resp.ToolCalls {
				use := tt.reply.ToolUses[i]
				if call.ID != use.ID || call.Name != use.Name {
					t.Errorf("call %d = %s %s, want %s %s",
						i, call.ID, call.Name, use.ID, use.Name)
				}
				sameJSON(t, "arguments", call.Arguments, []byte(use.Input))
			}

			if !onlyRequest(t, srv).Stream {
				t.Error(`request did not ask for "stream": true`)
			}
		})
	}
}

// call is one way of calling the provider, so that each failure is tried
// both plain and streamed.
type call struct {
	name string
	do   func(context.Context, *anthropic.Provider, llm.Request) error
}

var calls = []call{
	{"complete", func(ctx context.Context, p *anthropic.Provider, req llm.Request) error {
		_, err := p.Complete(ctx, req)
		return err
	}},
	{"stream", func(ctx context.Context, p *anthropic.Provider, req llm.Request) error {
		_, err := p.Stream(ctx, req, func(string) {})
		return err
	}},
}

func TestErrorClassification(t *testing.T) {
	t.Parallel()

	// HTTP dates have whole seconds, so the wait is a little under 3s.
	httpDate := time.Now().Add(3 * time.Second).UTC().Format(http.TimeFormat)

	tests := []struct {
		name string
		// reply is queued when set.
		reply *anthropictest.Reply
		// before runs on the fake and the context before the call.
		before    func(*anthropictest.Server, context.CancelFunc)
		timeout   time.Duration
		action    llm.Action
		status    int
		minWait   time.Duration
		maxWait   time.Duration
		wantInErr string
	}{
		{
			name:   "429 with retry-after seconds",
			reply:  withRetryAfter(429, "rate_limit_error", "slow down", "2"),
			action: llm.Wait, status: 429, minWait: 2 * time.Second, maxWait: 2 * time.Second,
		},
		{
			name:   "429 with retry-after date",
			reply:  withRetryAfter(429, "rate_limit_error", "slow down", httpDate),
			action: llm.Wait, status: 429, minWait: time.Second, maxWait: 3 * time.Second,
		},
		{
			name:   "429 without retry-after",
			reply:  errorReply(429, "rate_limit_error", "slow down"),
			action: llm.Fallback, status: 429,
		},
		{
			name:   "500 api_error",
			reply:  errorReply(500, "api_error", "internal error"),
			action: llm.Retry, status: 500, wantInErr: "internal error",
		},
		{
			name:   "529 overloaded",
			reply:  errorReply(529, "overloaded_error", "Overloaded"),
			action: llm.Retry, status: 529,
		},
		{
			name:   "529 overloaded once streaming",
			reply:  inStream(errorReply(529, "overloaded_error", "Overloaded")),
			action: llm.Retry, status: 529,
		},
		{
			name:   "429 once streaming",
			reply:  inStream(errorReply(429, "rate_limit_error", "slow down")),
			action: llm.Fallback, status: 429,
		},
		{
			name:   "404 model missing",
			reply:  errorReply(404, "not_found_error", "model: claude-test-1"),
			action: llm.Fallback, status: 404,
		},
		{
			name: "400 prompt too long",
			reply: errorReply(400, "invalid_request_error",
				"prompt is too long: 215000 tokens > 200000 maximum"),
			action: llm.Fallback, status: 400,
		},
		{
			name:   "400 other bad request",
			reply:  errorReply(400, "invalid_request_error", "temperature: out of range"),
			action: llm.GiveUp, status: 400,
		},
		{
			name:   "401 bad key",
			reply:  errorReply(401, "authentication_error", "invalid x-api-key"),
			action: llm.GiveUp, status: 401,
		},
		{
			name: "401 echoing the key",
			reply: errorReply(401, "authentication_error",
				"key "+testKey+" is not valid"),
			action: llm.GiveUp, status: 401, wantInErr: "[redacted]",
		},
		{
			name:   "closed server",
			before: func(s *anthropictest.Server, _ context.CancelFunc) { s.Close() },
			action: llm.Retry,
		},
		{
			name:   "cancelled context",
			reply:  &anthropictest.Reply{Text: "too late"},
			before: func(_ *anthropictest.Server, cancel context.CancelFunc) { cancel() },
			action: llm.GiveUp,
		},
		{
			name:    "time-out",
			reply:   &anthropictest.Reply{Text: "too slow", Delay: 5 * time.Second},
			timeout: 100 * time.Millisecond,
			action:  llm.Retry,
		},
	}
	for _, tt := range tests {
		for _, c := range calls {
			t.Run(tt.name+"/"+c.name, func(t *testing.T) {
				t.Parallel()

				srv, p := setup(t, anthropic.Config{Timeout: tt.timeout})
				if tt.reply != nil {
					srv.Push(*tt.reply)
				}
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				if tt.before != nil {
					tt.before(srv, cancel)
				}

				err := c.do(ctx, p, llm.Request{
					Model:    "claude-test-1",
					Messages: []llm.Message{{Role: llm.RoleUser, Text: "hi"}},
				})
				checkError(t, err, tt.action, tt.status, tt.minWait, tt.maxWait)
				if tt.wantInErr != "" && !strings.Contains(err.Error(), tt.wantInErr) {
					t.Errorf("error %q does not contain %q", err, tt.wantInErr)
				}
			})
		}
	}
}

// checkError fails the test unless err is an *llm.Error with the action,
// the status and a wait between minWait and maxWait, and without the key.
func checkError(t *testing.T, err error, action llm.Action, status int, minWait,
	maxWait time.Duration,
) {
	t.Helper()

	if err == nil {
		t.Fatal("call succeeded, want an error")
	}
	if strings.Contains(err.Error(), testKey) {
		t.Errorf("error shows the API key: %v", err)
	}

	var e *llm.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not an *llm.Error", err, err)
	}
	if e.Action != action {
		t.Errorf("action = %s, want %s (error: %v)", e.Action, action, err)
	}
	if e.Status != status {
		t.Errorf("status = %d, want %d", e.Status, status)
	}
	if e.RetryAfter < minWait || e.RetryAfter > maxWait {
		t.Errorf("retry after = %s, want %s to %s", e.RetryAfter, minWait, maxWait)
	}
}

func TestCancelWhileWaiting(t *testing.T) {
	t.Parallel()

	for _, c := range calls {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()

			srv, p := setup(t, anthropic.Config{})
			srv.Push(anthropictest.Reply{Text: "slow", Delay: 10 * time.Second})

			ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
			defer cancel()

			err := c.do(ctx, p, llm.Request{
				Model:    "claude-test-1",
				Messages: []llm.Message{{Role: llm.RoleUser, Text: "hi"}},
			})
			checkError(t, err, llm.GiveUp, 0, 0, 0)
		})
	}
}

func TestEmptyQueue(t *testing.T) {
	t.Parallel()

	_, p := setup(t, anthropic.Config{})

	_, err := p.Complete(context.Background(), llm.Request{
		Model:    "claude-test-1",
		Messages: []llm.Message{{Role: llm.RoleUser, Text: "hi"}},
	})
	checkError(t, err, llm.GiveUp, 400, 0, 0)
	if !strings.Contains(err.Error(), "no reply queued") {
		t.Errorf("error %q does not say the queue is empty", err)
	}
}

func TestBadToolArguments(t *testing.T) {
	t.Parallel()

	srv, p := setup(t, anthropic.Config{})

	_, err := p.Complete(context.Background(), llm.Request{
		Model: "claude-test-1",
		Messages: []llm.Message{
			{Role: llm.RoleUser, Text: "hi"},
			{Role: llm.RoleAssistant, ToolCalls: []llm.ToolCall{
				{ID: "toolu_1", Name: "x", Arguments: json.RawMessage(`{"broken`)},
			}},
			{Role: llm.RoleTool, ToolCallID: "toolu_1", Text: "ok"},
		},
	})
	checkError(t, err, llm.GiveUp, 0, 0, 0)
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("fake got %d requests, want none", n)
	}
}

func errorReply(status int, errType, msg string) *anthropictest.Reply {
	r := anthropictest.ErrorReply(status, errType, msg)
	return &r
}

func withRetryAfter(status int, errType, msg, after string) *anthropictest.Reply {
	r := errorReply(status, errType, msg)
	r.Error.RetryAfter = after
	return r
}

func inStream(r *anthropictest.Reply) *anthropictest.Reply {
	r.Error.InStream = true
	return r
}

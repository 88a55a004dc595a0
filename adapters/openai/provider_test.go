package openai_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/adapters/openai"
	"github.com/switchboardhq/switchboard/adapters/openai/openaitest"
	"github.com/switchboardhq/switchboard/core"
	"github.com/switchboardhq/switchboard/core/llm"
)

const (
	testKey   = "sk-test-0123456789abcdef"
	testModel = "gpt-test"
)

// newPair starts a fake that requires testKey and a provider that uses it.
func newPair(t *testing.T) (*openaitest.Server, *openai.Provider) {
	t.Helper()

	srv := openaitest.NewServer(t, openaitest.WithAPIKey(testKey))
	p := openai.New(openai.Config{BaseURL: srv.URL(), APIKey: testKey})

	return srv, p
}

// ask is a request with one user message.
func ask(text string) llm.Request {
	return llm.Request{Model: testModel, Messages: []llm.Message{{Role: llm.RoleUser, Text: text}}}
}

func TestCompleteReturnsTextUsageAndModel(t *testing.T) {
	t.Parallel()

	srv, p := newPair(t)

	reply := openaitest.TextReply("Hello, Ada.")
	reply.Usage = openaitest.Usage{PromptTokens: 12, CompletionTokens: 4}
	reply.Model = "gpt-test-2025-01-01"
	srv.Push(reply)

	resp, err := p.Complete(context.Background(), ask("hi"))
	if err != nil {
		t.Fatalf("Complete: %v", err)
	}

	want := llm.Response{
		Text:  "Hello, Ada.",
		Usage: llm.Usage{InputTokens: 12, OutputTokens: 4},
		Model: "gpt-test-2025-01-01",
	}
	if resp.Text != want.Text || resp.Usage != want.Usage || resp.Model != want.Model ||
		len(resp.ToolCalls) != 0 {
		t.Fatalf("Complete = %+v, want %+v", resp, want)
	}

	reqs := srv.Requests()
	if len(reqs) != 1 {
		t.Fatalf("server got %d requests, want 1", len(reqs))
	}

	got := reqs[0]
	if got.Model != testModel || got.Stream || len(got.Tools) != 0 {
		t.Errorf("request model %q, stream %v, %d tools; want %q, no stream, no tools",
			got.Model, got.Stream, len(got.Tools), testModel)
	}
	if bytes.Contains(got.Body, []byte("max_tokens")) {
		t.Errorf("request has max_tokens although MaxTokens is 0: %s", got.Body)
	}
	if h := got.Header.Get("Authorization"); h != "Bearer "+testKey {
		t.Errorf("Authorization = %q, want the bearer key", h)
	}
	if p.Name() != "openai" {
		t.Errorf("Name = %q, want openai", p.Name())
	}
}

func TestCompleteWithoutKeySendsNoAuthorization(t *testing.T) {
	t.Parallel()

	srv := openaitest.NewServer(t)
	p := openai.New(openai.Config{BaseURL: srv.URL()})
	srv.Push(openaitest.TextReply("ok"))

	if _, err := p.Complete(context.Background(), ask("hi")); err != nil {
		t.Fatalf("Complete without a key: %v", err)
	}

	if h := srv.Requests()[0].Header.Get("Authorization"); h != "" {
		t.Errorf("Authorization = %q, want none", h)
	}
}

func TestCompleteMapsSystemPromptHistoryAndTools(t *testing.T) {
	t.Parallel()

	srv, p := newPair(t)
	srv.Push(openaitest.TextReply("Tuesday."))

	schema := `{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}`
	req := llm.Request{
		Model:  testModel,
		System: "You are terse.",
		Messages: []llm.Message{
			{Role: llm.RoleUser, Text: "What day is it?"},
			{Role: llm.RoleAssistant, Text: "Monday."},
			{Role: llm.RoleUser, Text: "And tomorrow?"},
		},
		Tools: []llm.Tool{
			{
				Name: "weather", Description: "Weather in a city.",
				Parameters: json.RawMessage(schema),
			},
			{Name: "clock"},
		},
		MaxTokens: 256,
	}
	if _, err := p.Complete(context.Background(), req); err != nil {
		t.Fatalf("Complete: %v", err)
	}

	got := srv.Requests()[0]

	wantMsgs := []struct{ role, content string }{
		{"system", "You are terse."},
		{"user", "What day is it?"},
		{"assistant", "Monday."},
		{"user", "And tomorrow?"},
	}
	if len(got.Messages) != len(wantMsgs) {
		t.Fatalf("server got %d messages, want %d: %s", len(got.Messages), len(wantMsgs), got.Body)
	}
	for i, w := range wantMsgs {
		if m := got.Messages[i]; m.Role != w.role || m.Content != w.content {
			t.Errorf("message %d = %s %q, want %s %q", i, m.Role, m.Content, w.role, w.content)
		}
	}

	if got.MaxTokens != 256 {
		t.Errorf("max_tokens = %d, want 256", got.MaxTokens)
	}

	if len(got.Tools) != 2 {
		t.Fatalf("server got %d tools, want 2", len(got.Tools))
	}
	weather := got.Tools[0]
	if weather.Type != "function" || weather.Function.Name != "weather" ||
		weather.Function.Description != "Weather in a city." ||
		!sameJSON(t, weather.Function.Parameters, []byte(schema)) {
		t.Errorf("tool 0 = %+v (parameters %s), want the weather function with its schema",
			weather, weather.Function.Parameters)
	}
	if clock := got.Tools[1].Function; clock.Name != "clock" ||
		!sameJSON(t, clock.Parameters, []byte(`{"type":"object","properties":{}}`)) {
		t.Errorf("tool 1 = %+v (parameters %s), want clock with an empty object schema",
			clock, clock.Parameters)
	}
}

func TestCompleteToolCallsAndResults(t *testing.T) {
	t.Parallel()

	cases := []struct {
		name  string
		calls []openaitest.ToolCall
	}{
		{name: "one call", calls: []openaitest.ToolCall{
			{ID: "call_a", Name: "weather", Arguments: `{"city":"Paris"}`},
		}},
		{name: "parallel calls", calls: []openaitest.ToolCall{
			{ID: "call_a", Name: "weather", Arguments: `{"city":"Paris"}`},
			{ID: "call_b", Name: "weather", Arguments: `{"city":"Oslo"}`},
			{ID: "call_c", Name: "clock", Arguments: `{}`},
		}},
	}

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()

			srv, p := newPair(t)
			first := openaitest.ToolReply(tc.calls...)
			first.Usage = openaitest.Usage{PromptTokens: 30, CompletionTokens: 9}
			srv.Push(first, openaitest.TextReply("Sunny in Paris."))

			req := ask("Weather?")
			resp, err := p.Complete(context.Background(), req)
			if err != nil {
				t.Fatalf("first Complete: %v", err)
			}

			if len(resp.ToolCalls) != len(tc.calls) || resp.Usage.OutputTokens != 9 {
				t.Fatalf("first answer = %+v, want %d tool calls and 9 output tokens",
					resp, len(tc.calls))
			}
			checkCalls(t, resp.ToolCalls, tc.calls)

			req.Messages = append(req.Messages, llm.Message{
				Role: llm.RoleAssistant, ToolCalls: resp.ToolCalls,
			})
			for i, c := range resp.ToolCalls {
				req.Messages = append(req.Messages, llm.Message{
					Role: llm.RoleTool, ToolCallID: c.ID, Text: "result " + c.ID, IsError: i == 1,
				})
			}

			final, err := p.Complete(context.Background(), req)
			if err != nil {
				t.Fatalf("second Complete: %v", err)
			}
			if final.Text != "Sunny in Paris." {
				t.Errorf("final text = %q", final.Text)
			}

			checkToolRound(t, srv.Requests()[1], tc.calls)
		})
	}
}

// checkToolRound checks that the request after a tool-calling answer
// repeats the calls and carries one tool message per call.
func checkToolRound(t *testing.T, got openaitest.Request, calls []openaitest.ToolCall) {
	t.Helper()

	if len(got.Messages) != 2+len(calls) {
		t.Fatalf("second request has %d messages, want %d: %s",
			len(got.Messages), 2+len(calls), got.Body)
	}

	asst := got.Messages[1]
	if asst.Role != "assistant" || len(asst.ToolCalls) != len(calls) {
		t.Fatalf("message 1 = %+v, want the assistant's %d tool calls", asst, len(calls))
	}
	for i, want := range calls {
		if asst.ToolCalls[i] != want {
			t.Errorf("assistant call %d = %+v, want %+v", i, asst.ToolCalls[i], want)
		}
	}

	for i, want := range calls {
		m := got.Messages[2+i]
		content := "result " + want.ID
		if i == 1 {
			content = "error: " + content
		}

		if m.Role != "tool" || m.ToolCallID != want.ID || m.Content != content {
			t.Errorf("message %d = %s %q %q, want tool %q %q",
				2+i, m.Role, m.ToolCallID, m.Content, want.ID, content)
		}
	}
}

func TestCompleteKeepsToolArgumentsValidJSON(t *testing.T) {
	t.Parallel()

	cases := []struct {
		name, sent, want string
	}{
		{name: "object", sent: `{"q": 1}`, want: `{"q": 1}`},
		{name: "empty", sent: ``, want: `{}`},
		{name: "cut off", sent: `{"q": "Par`, want: `"{\"q\": \"Par"`},
	}

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()

			srv, p := newPair(t)
			srv.Push(openaitest.ToolReply(openaitest.ToolCall{Name: "search", Arguments: tc.sent}))

			resp, err := p.Complete(context.Background(), ask("find"))
			if err != nil {
				t.Fatalf("Complete: %v", err)
			}

			args := resp.ToolCalls[0].Arguments
			if string(args) != tc.want || !json.Valid(args) {
				t.Errorf("arguments = %s, want %s", args, tc.want)
			}
			if resp.ToolCalls[0].ID == "" {
				t.Errorf("tool call has no id")
			}
		})
	}
}

func TestCompleteSendsImagesAsDataURLs(t *testing.T) {
	t.Parallel()

	srv, p := newPair(t)
	srv.Push(openaitest.TextReply("A red dot."))

	png := []byte("\x89PNG\r\n\x1a\nnot really a picture")
	req := llm.Request{Model: testModel, Messages: []llm.Message{{
		Role:   llm.RoleUser,
		Text:   "What is this?",
		Images: []core.Image{{MIMEType: "image/png", Data: png}},
	}}}
	if _, err := p.Complete(context.Background(), req); err != nil {
		t.Fatalf("Complete: %v", err)
	}

	m := srv.Requests()[0].Messages[0]
	if len(m.Parts) != 2 || m.Parts[0].Type != "text" || m.Parts[0].Text != "What is this?" ||
		m.Parts[1].Type != "image_url" || m.Parts[1].ImageURL == nil {
		t.Fatalf("user message parts = %+v, want a text part and an image_url part", m.Parts)
	}

	url := m.Parts[1].ImageURL.URL
	data, ok := strings.CutPrefix(url, "data:image/png;base64,")
	if !ok {
		t.Fatalf("image url = %.40q..., want a PNG data URL", url)
	}

	decoded, err := base64.StdEncoding.DecodeString(data)
	if err != nil || !bytes.Equal(decoded, png) {
		t.Errorf("image data = %q (%v), want the image bytes", decoded, err)
	}
}

func TestStreamHandsOutPiecesAndWholeAnswer(t *testing.T) {
	t.Parallel()

	srv, p := newPair(t)

	text := "The quick brown fox jumps."
	reply := openaitest.TextReply(text)
	reply.Usage = openaitest.Usage{PromptTokens: 7, CompletionTokens: 5}
	srv.Push(reply)

	var pieces []string
	resp, err := p.Stream(context.Background(), ask("Tell me."), func(s string) {
		pieces = append(pieces, s)
	})
	if err != nil {
		t.Fatalf("Stream: %v", err)
	}

	if len(pieces) < 2 || strings.Join(pieces, "") != text {
		t.Errorf("pieces = %q, want several that join to %q", pieces, text)
	}
	if resp.Text != text || resp.Model != testModel {
		t.Errorf("response text %q model %q, want %q %q", resp.Text, resp.Model, text, testModel)
	}
	if want := (llm.Usage{InputTokens: 7, OutputTokens: 5}); resp.Usage != want {
		t.Errorf("usage = %+v, want %+v", resp.Usage, want)
	}

	got := srv.Requests()[0]
	if !got.Stream || got.StreamOptions == nil || !got.StreamOptions.IncludeUsage {
		t.Errorf("request stream %v, options %+v; want stream with include_usage",
			got.Stream, got.StreamOptions)
	}
}

func TestStreamAssemblesToolCalls(t *testing.T) {
	t.Parallel()

	srv, p := newPair(t)

	calls := []openaitest.ToolCall{
		{ID: "call_x", Name: "weather", Arguments: `{"city":"Zürich","days":3}`},
		{ID: "call_y", Name: "clock", Arguments: `{}`},
	}
	reply := openaitest.ToolReply(calls...)
	reply.Text = "Checking."
	srv.Push(reply)

	var streamed strings.Builder
	resp, err := p.Stream(context.Background(), ask("Weather?"), func(s string) {
		streamed.WriteString(s)
	})
	if err != nil {
		t.Fatalf("Stream: %v", err)
	}

	if resp.Text != "Checking." || streamed.String() != "Checking." {
		t.Errorf("text %q, streamed %q, want Checking.", resp.Text, streamed.String())
	}
	checkCalls(t, resp.ToolCalls, calls)
}

// checkCalls compares the tool calls of an answer with the scripted ones.
func checkCalls(t *testing.T, got []llm.ToolCall, want []openaitest.ToolCall) {
	t.Helper()

	if len(got) != len(want) {
		t.Fatalf("tool calls = %+v, want %d", got, len(want))
	}

	for i, w := range want {
		g := got[i]
		if g.ID != w.ID || g.Name != w.Name || string(g.Arguments) != w.Arguments {
			t.Errorf("call %d = %s %s %s, want %s %s %s",
				i, g.ID, g.Name, g.Arguments, w.ID, w.Name, w.Arguments)
		}
	}
}

// call is Complete or Stream.
type call func(ctx context.Context, p *openai.Provider, req llm.Request) (llm.Response, error)

// ways are both ways to call a provider, for tests that must hold for
// each.
var ways = map[string]call{
	"complete": func(ctx context.Context, p *openai.Provider, r llm.Request) (llm.Response, error) {
		return p.Complete(ctx, r)
	},
	"stream": func(ctx context.Context, p *openai.Provider, r llm.Request) (llm.Response, error) {
		return p.Stream(ctx, r, func(string) {})
	},
}

func TestErrorsSteerTheLoop(t *testing.T) {
	t.Parallel()

	withRetryAfter := func(r openaitest.Reply, v string) openaitest.Reply {
		r.Err.RetryAfter = v
		return r
	}
	inThreeSeconds := time.Now().Add(3 * time.Second).UTC().Format(http.TimeFormat)

	cases := []struct {
		name    string
		reply   openaitest.Reply
		action  llm.Action
		status  int
		waitMin time.Duration
		waitMax time.Duration
	}{
		{name: "429 with Retry-After seconds",
			reply:  withRetryAfter(openaitest.ErrorReply(429, "rate_limit_exceeded", "wait"), "2"),
			action: llm.Wait, status: 429, waitMin: 2 * time.Second, waitMax: 2 * time.Second},
		{name: "429 with Retry-After date",
			reply: withRetryAfter(openaitest.ErrorReply(429, "rate_limit_exceeded", "slow down"),
				inThreeSeconds),
			action: llm.Wait, status: 429, waitMin: time.Second, waitMax: 3 * time.Second},
		{name: "429 without Retry-After",
			reply:  openaitest.ErrorReply(429, "insufficient_quota", "You exceeded your quota."),
			action: llm.Fallback, status: 429},
		{name: "500", reply: openaitest.ErrorReply(500, "", "The server had an error."),
			action: llm.Retry, status: 500},
		{name: "503", reply: openaitest.ErrorReply(503, "", "The engine is overloaded."),
			action: llm.Retry, status: 503},
		{name: "404 model_not_found",
			reply:  openaitest.ErrorReply(404, "model_not_found", "The model does not exist."),
			action: llm.Fallback, status: 404},
		{name: "400 context_length_exceeded",
			reply: openaitest.ErrorReply(400, "context_length_exceeded",
				"This model's maximum context length is 8192 tokens."),
			action: llm.Fallback, status: 400},
		{name: "400 context too long without a code",
			reply: openaitest.ErrorReply(400, "",
				"This model's maximum context length is 4096 tokens. However, you requested 5000."),
			action: llm.Fallback, status: 400},
		{name: "400 bad request", reply: openaitest.ErrorReply(400, "", "Invalid 'messages'."),
			action: llm.GiveUp, status: 400},
		{name: "401 quoting the key",
			reply:  openaitest.ErrorReply(401, "invalid_api_key", "Incorrect API key: "+testKey),
			action: llm.GiveUp, status: 401},
		{name: "time-out", reply: openaitest.Reply{Text: "late", Delay: 5 * time.Second},
			action: llm.Retry},
	}

	for _, tc := range cases {
		for how, do := range ways {
			t.Run(tc.name+"/"+how, func(t *testing.T) {
				t.Parallel()

				srv := openaitest.NewServer(t, openaitest.WithAPIKey(testKey))
				p := openai.New(openai.Config{
					BaseURL: srv.URL(), APIKey: testKey, Timeout: 200 * time.Millisecond,
				})
				srv.Push(tc.reply)

				_, err := do(context.Background(), p, ask("hi"))

				e := modelError(t, err)
				if e.Action != tc.action || e.Status != tc.status {
					t.Errorf("error = %v, want action %s and status %d", err, tc.action, tc.status)
				}
				if e.RetryAfter < tc.waitMin || e.RetryAfter > tc.waitMax {
					t.Errorf("RetryAfter = %v, want %v to %v", e.RetryAfter, tc.waitMin, tc.waitMax)
				}
			})
		}
	}
}

func TestErrorsWithoutAnAnswer(t *testing.T) {
	t.Parallel()

	closed := openaitest.NewServer(t)
	closed.Close()

	cancelled, cancel := context.WithCancel(context.Background())
	cancel()

	cases := []struct {
		name   string
		url    string
		ctx    context.Context
		action llm.Action
		cause  error
	}{
		{name: "closed server", url: closed.URL(), ctx: context.Background(), action: llm.Retry},
		{name: "cancelled context", ctx: cancelled, action: llm.GiveUp, cause: context.Canceled},
	}

	for _, tc := range cases {
		for how, do := range ways {
			t.Run(tc.name+"/"+how, func(t *testing.T) {
				t.Parallel()

				url := tc.url
				if url == "" {
					srv := openaitest.NewServer(t)
					srv.Push(openaitest.TextReply("never read"))
					url = srv.URL()
				}
				p := openai.New(openai.Config{BaseURL: url, APIKey: testKey})

				_, err := do(tc.ctx, p, ask("hi"))

				e := modelError(t, err)
				if e.Action != tc.action || e.Status != 0 {
					t.Errorf("error = %v, want action %s without status", err, tc.action)
				}
				if tc.cause != nil && !errors.Is(err, tc.cause) {
					t.Errorf("error = %v, want it to wrap %v", err, tc.cause)
				}
			})
		}
	}
}

func TestErrorBodiesOfOtherServers(t *testing.T) {
	t.Parallel()

	cases := []struct {
		name   string
		status int
		body   string
		action llm.Action
		text   string
	}{
		{name: "ollama model missing", status: 404, body: `{"error":"model \"llama9\" not found"}`,
			action: llm.Fallback, text: `model "llama9" not found`},
		{name: "openrouter numeric code", status: 402,
			body:   `{"error":{"code":402,"message":"Insufficient credits"}}`,
			action: llm.GiveUp, text: "402: Insufficient credits"},
		{name: "ollama context", status: 400,
			body:   `{"error":"the input length exceeds the context length"}`,
			action: llm.Fallback, text: "exceeds the context length"},
		{name: "proxy html", status: 502, body: "<html><body>Bad Gateway</body></html>",
			action: llm.Retry, text: "Bad Gateway"},
		{name: "empty body", status: 503, action: llm.Retry, text: "no error details"},
	}

	for _, tc := range cases {
		for how, do := range ways {
			t.Run(tc.name+"/"+how, func(t *testing.T) {
				t.Parallel()

				srv := httptest.NewServer(http.HandlerFunc(
					func(w http.ResponseWriter, _ *http.Request) {
						w.WriteHeader(tc.status)
						_, _ = w.Write([]byte(tc.body))
					}))
				t.Cleanup(srv.Close)

				p := openai.New(openai.Config{BaseURL: srv.URL + "/v1", APIKey: testKey})
				_, err := do(context.Background(), p, ask("hi"))

				e := modelError(t, err)
				if e.Action != tc.action || e.Status != tc.status {
					t.Errorf("error = %v, want action %s and status %d", err, tc.action, tc.status)
				}
				if !strings.Contains(err.Error(), tc.text) {
					t.Errorf("error = %q, want it to say %q", err, tc.text)
				}
			})
		}
	}
}

func TestWrongKeyStaysOutOfErrors(t *testing.T) {
	t.Parallel()

	wrong := "sk-wrong-fedcba9876543210"
	for how, do := range ways {
		t.Run(how, func(t *testing.T) {
			t.Parallel()

			srv := openaitest.NewServer(t, openaitest.WithAPIKey(testKey))
			p := openai.New(openai.Config{BaseURL: srv.URL(), APIKey: wrong})

			_, err := do(context.Background(), p, ask("hi"))

			e := modelError(t, err)
			if e.Action != llm.GiveUp || e.Status != http.StatusUnauthorized {
				t.Errorf("error = %v, want give_up with status 401", err)
			}
			if strings.Contains(err.Error(), wrong) {
				t.Errorf("error %q contains the API key", err)
			}
			if !strings.Contains(err.Error(), "invalid_api_key") {
				t.Errorf("error %q does not name the cause", err)
			}
		})
	}
}

func TestBadRequestsGiveUpBeforeSending(t *testing.T) {
	t.Parallel()

	cases := []struct {
		name string
		req  llm.Request
	}{
		{name: "no model", req: llm.Request{Messages: ask("hi").Messages}},
		{name: "tool result without call id", req: llm.Request{Model: testModel,
			Messages: []llm.Message{{Role: llm.RoleTool, Text: "42"}}}},
		{name: "unknown role", req: llm.Request{Model: testModel,
			Messages: []llm.Message{{Role: "narrator", Text: "Once"}}}},
		{name: "schema that is not JSON", req: llm.Request{Model: testModel,
			Messages: ask("hi").Messages,
			Tools:    []llm.Tool{{Name: "t", Parameters: json.RawMessage(`{`)}}}},
	}

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()

			srv, p := newPair(t)

			_, err := p.Complete(context.Background(), tc.req)

			if e := modelError(t, err); e.Action != llm.GiveUp {
				t.Errorf("error = %v, want give_up", err)
			}
			if n := len(srv.Requests()); n != 0 {
				t.Errorf("server got %d requests, want none", n)
			}
		})
	}
}

func TestEmptyQueueSaysSo(t *testing.T) {
	t.Parallel()

	_, p := newPair(t)

	_, err := p.Complete(context.Background(), ask("hi"))

	e := modelError(t, err)
	if e.Action != llm.GiveUp || !strings.Contains(err.Error(), "no reply") {
		t.Errorf("error = %v, want give_up saying no reply is queued", err)
	}
}

// modelError returns err as an *llm.Error, failing the test when it is
// not one or when it shows the test key.
func modelError(t *testing.T, err error) *llm.Error {
	t.Helper()

	var e *llm.Error
	if !errors.As(err, &e) {
		t.Fatalf("error = %v (%T), want an *llm.Error", err, err)
	}

	if strings.Contains(err.Error(), testKey) {
		t.Errorf("error %q contains the API key", err)
	}

	return e
}

// sameJSON reports whether a and b hold the same JSON value.
func sameJSON(t *testing.T, a, b []byte) bool {
	t.Helper()

	var va, vb any
	if err := json.Unmarshal(a, &va); err != nil {
		t.Fatalf("decode %s: %v", a, err)
	}
	if err := json.Unmarshal(b, &vb); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}

	ja, _ := json.Marshal(va)
	jb, _ := json.Marshal(vb)

	return bytes.Equal(ja, jb)
}

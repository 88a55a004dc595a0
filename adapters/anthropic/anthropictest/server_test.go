package anthropictest_test

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/switchboardhq/switchboard/adapters/anthropic/anthropictest"
)

// post sends body to the fake with the given headers and returns the
// status and the body of the answer.
func post(t *testing.T, srv *anthropictest.Server, body string, header map[string]string) (
	int, string,
) {
	t.Helper()

	req, err := http.NewRequest(http.MethodPost, srv.URL()+anthropictest.Path,
		strings.NewReader(body))
	if err != nil {
		t.Fatalf("build request: %v", err)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header.Set(k, v)
	}

	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("post: %v", err)
	}
	defer resp.Body.Close()

	out, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read answer: %v", err)
	}

	return resp.StatusCode, string(out)
}

// versioned is the header every valid request carries.
var versioned = map[string]string{"anthropic-version": "2023-06-01"}

const hello = `{"model":"m","max_tokens":10,"messages":[{"role":"user","content":"hi"}]}`

func TestHeaders(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name   string
		header map[string]string
		status int
		errTyp string
	}{
		{
			name:   "x-api-key",
			header: map[string]string{"anthropic-version": "1", "x-api-key": "k"},
			status: 200,
		},
		{
			name:   "bearer",
			header: map[string]string{"anthropic-version": "1", "Authorization": "Bearer k"},
			status: 200,
		},
		{
			name:   "wrong key",
			header: map[string]string{"anthropic-version": "1", "x-api-key": "nope"},
			status: 401, errTyp: "authentication_error",
		},
		{
			name:   "no version",
			header: map[string]string{"x-api-key": "k"},
			status: 400, errTyp: "invalid_request_error",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			srv := anthropictest.NewServer(t)
			srv.RequireAPIKey("k")
			srv.Push(anthropictest.TextReply("hello"))

			status, body := post(t, srv, hello, tt.header)
			if status != tt.status {
				t.Fatalf("status = %d, want %d: %s", status, tt.status, body)
			}
			if tt.errTyp == "" {
				return
			}

			var e struct {
				Type  string `json:"type"`
				Error struct {
					Type string `json:"type"`
				} `json:"error"`
			}
			if err := json.Unmarshal([]byte(body), &e); err != nil {
				t.Fatalf("decode error body %s: %v", body, err)
			}
			if e.Type != "error" || e.Error.Type != tt.errTyp {
				t.Errorf("error body = %s, want type %s", body, tt.errTyp)
			}
			if srv.Pending() != 1 {
				t.Errorf("a refused request took a reply")
			}
		})
	}
}

func TestMessageAnswer(t *testing.T) {
	t.Parallel()

	srv := anthropictest.NewServer(t)
	srv.Push(anthropictest.Reply{
		Text:     "Sure.",
		ToolUses: []anthropictest.ToolUse{{Name: "clock"}, {Name: "clock", Input: `{"tz":"UTC"}`}},
		Usage:    anthropictest.Usage{InputTokens: 7, OutputTokens: 3},
	})

	status, body := post(t, srv, hello, versioned)
	if status != 200 {
		t.Fatalf("status = %d: %s", status, body)
	}

	var msg struct {
		Type       string `json:"type"`
		Role       string `json:"role"`
		Model      string `json:"model"`
		StopReason string `json:"stop_reason"`
		Content    []struct {
			Type  string          `json:"type"`
			Text  string          `json:"text"`
			ID    string          `json:"id"`
			Input json.RawMessage `json:"input"`
		} `json:"content"`
		Usage struct {
			InputTokens  int `json:"input_tokens"`
			OutputTokens int `json:"output_tokens"`
		} `json:"usage"`
	}
	if err := json.Unmarshal([]byte(body), &msg); err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}

	if msg.Type != "message" || msg.Role != "assistant" || msg.Model != "m" ||
		msg.StopReason != "tool_use" {
		t.Errorf("message = %s", body)
	}
	if len(msg.Content) != 3 || msg.Content[0].Text != "Sure." ||
		msg.Content[1].ID != "toolu_01" || string(msg.Content[1].Input) != "{}" ||
		msg.Content[2].ID != "toolu_02" || string(msg.Content[2].Input) != `{"tz":"UTC"}` {
		t.Errorf("content = %s", body)
	}
	if msg.Usage.InputTokens != 7 || msg.Usage.OutputTokens != 3 {
		t.Errorf("usage = %+v, want 7 and 3", msg.Usage)
	}

	req, ok := srv.LastRequest()
	if !ok || len(req.Messages) != 1 || req.Messages[0].Text() != "hi" {
		t.Errorf("recorded request = %+v, want the string content as a text block", req)
	}
}

func TestRefusedConversations(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name string
		body string
		want string
	}{
		{
			name: "no model",
			body: `{"max_tokens":10,"messages":[{"role":"user","content":"hi"}]}`,
			want: "model",
		},
		{
			name: "no max_tokens",
			body: `{"model":"m","messages":[{"role":"user","content":"hi"}]}`,
			want: "max_tokens",
		},
		{
			name: "roles do not alternate",
			body: `{"model":"m","max_tokens":10,"messages":[` +
				`{"role":"user","content":"a"},{"role":"user","content":"b"}]}`,
			want: "alternate",
		},
		{
			name: "empty text",
			body: `{"model":"m","max_tokens":10,"messages":[` +
				`{"role":"user","content":[{"type":"text","text":""}]}]}`,
			want: "non-empty",
		},
		{
			name: "tool result without tool use",
			body: `{"model":"m","max_tokens":10,"messages":[` +
				`{"role":"user","content":"a"},{"role":"assistant","content":"b"},` +
				`{"role":"user","content":[{"type":"tool_result","tool_use_id":"t1"}]}]}`,
			want: "unexpected `tool_use_id`",
		},
		{
			name: "tool use without result",
			body: `{"model":"m","max_tokens":10,"messages":[` +
				`{"role":"user","content":"a"},{"role":"assistant","content":[` +
				`{"type":"tool_use","id":"t1","name":"x","input":{}},` +
				`{"type":"tool_use","id":"t2","name":"x","input":{}}]},` +
				`{"role":"user","content":[{"type":"tool_result","tool_use_id":"t1"}]}]}`,
			want: "without `tool_result`",
		},
		{
			name: "tool without schema",
			body: `{"model":"m","max_tokens":10,"messages":[{"role":"user","content":"a"}],` +
				`"tools":[{"name":"x"}]}`,
			want: "input_schema",
		},
		{
			name: "not JSON",
			body: `{"model":`,
			want: "decode request body",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			srv := anthropictest.NewServer(t)
			srv.Push(anthropictest.TextReply("unused"))

			status, body := post(t, srv, tt.body, versioned)
			if status != 400 || !strings.Contains(body, tt.want) {
				t.Errorf("answer = %d %s, want 400 about %q", status, body, tt.want)
			}
			if srv.Pending() != 1 {
				t.Error("a refused request took a reply")
			}
		})
	}
}

func TestEmptyQueue(t *testing.T) {
	t.Parallel()

	srv := anthropictest.NewServer(t)

	status, body := post(t, srv, hello, versioned)
	if status != 400 || !strings.Contains(body, "no reply queued for request 1") {
		t.Errorf("answer = %d %s, want 400 saying no reply is queued", status, body)
	}
	if n := len(srv.Requests()); n != 1 {
		t.Errorf("recorded %d requests, want 1", n)
	}
}

func TestErrorReply(t *testing.T) {
	t.Parallel()

	srv := anthropictest.NewServer(t)
	reply := anthropictest.ErrorReply(429, "rate_limit_error", "slow down")
	reply.Error.RetryAfter = "7"
	srv.Push(reply)

	req, err := http.NewRequest(http.MethodPost, srv.URL()+anthropictest.Path,
		strings.NewReader(hello))
	if err != nil {
		t.Fatalf("build request: %v", err)
	}
	req.Header.Set("anthropic-version", "1")

	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("post: %v", err)
	}
	defer resp.Body.Close()

	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "7" {
		t.Errorf("answer = %d retry-after %q, want 429 and 7",
			resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	want := `{"type":"error","error":{"type":"rate_limit_error","message":"slow down"}}`
	if strings.TrimSpace(string(body)) != want {
		t.Errorf("body = %s, want %s", body, want)
	}
}

func TestStreamEvents(t *testing.T) {
	t.Parallel()

	srv := anthropictest.NewServer(t)
	srv.Push(anthropictest.Reply{
		Text:     "one two",
		ToolUses: []anthropictest.ToolUse{{ID: "t1", Name: "x", Input: `{"query":"long enough"}`}},
		Usage:    anthropictest.Usage{InputTokens: 5, OutputTokens: 9},
	})

	body := `{"model":"m","max_tokens":10,"stream":true,` +
		`"messages":[{"role":"user","content":"hi"}]}`
	status, answer := post(t, srv, body, versioned)
	if status != 200 {
		t.Fatalf("status = %d: %s", status, answer)
	}

	var events []string
	var partial strings.Builder
	scanner := bufio.NewScanner(strings.NewReader(answer))
	for scanner.Scan() {
		line := scanner.Text()
		if name, ok := strings.CutPrefix(line, "event: "); ok {
			events = append(events, name)
		}
		if data, ok := strings.CutPrefix(line, "data: "); ok {
			var ev struct {
				Delta struct {
					PartialJSON string `json:"partial_json"`
				} `json:"delta"`
			}
			if err := json.Unmarshal([]byte(data), &ev); err != nil {
				t.Fatalf("decode event data %s: %v", data, err)
			}
			partial.WriteString(ev.Delta.PartialJSON)
		}
	}

	want := []string{
		"message_start", "ping",
		"content_block_start", "content_block_delta", "content_block_delta", "content_block_stop",
		"content_block_start", "content_block_delta", "content_block_delta",
		"content_block_delta", "content_block_stop",
		"message_delta", "message_stop",
	}
	if strings.Join(events, " ") != strings.Join(want, " ") {
		t.Errorf("events = %v\nwant     %v", events, want)
	}
	if partial.String() != `{"query":"long enough"}` {
		t.Errorf("input pieces join to %q", partial.String())
	}
}

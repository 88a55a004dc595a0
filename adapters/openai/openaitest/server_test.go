package openaitest_test

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/switchboardhq/switchboard/adapters/openai/openaitest"
)

const key = "sk-fake"

// post sends body to path with the given bearer key (none when empty) and
// returns the status and the body of the answer.
func post(t *testing.T, url, bearer, body string) (int, string) {
	t.Helper()

	req, err := http.NewRequest(http.MethodPost, url+"/chat/completions", strings.NewReader(body))
	if err != nil {
		t.Fatalf("new request: %v", err)
	}
	req.Header.Set("Content-Type", "application/json")
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}

	return do(t, req)
}

// do sends req and returns the status and body of the answer.
func do(t *testing.T, req *http.Request) (int, string) {
	t.Helper()

	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer func() { _ = res.Body.Close() }()

	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("read answer: %v", err)
	}

	return res.StatusCode, string(b)
}

func TestRefusals(t *testing.T) {
	t.Parallel()

	const user = `{"role":"user","content":"hi"}`
	const asst = `{"role":"assistant","content":null,"tool_calls":[` +
		`{"id":"c1","type":"function","function":{"name":"f","arguments":"{}"}},` +
		`{"id":"c2","type":"function","function":{"name":"f","arguments":"{}"}}]}`

	cases := []struct {
		name   string
		bearer string
		body   string
		status int
		says   string
	}{
		{name: "no key", body: `{"model":"m","messages":[` + user + `]}`,
			status: 401, says: "didn't provide an API key"},
		{name: "wrong key", bearer: "sk-other", body: `{"model":"m","messages":[` + user + `]}`,
			status: 401, says: `"code":"invalid_api_key"`},
		{name: "not JSON", bearer: key, body: `{"model":`, status: 400, says: "parse the JSON"},
		{name: "no model", bearer: key, body: `{"messages":[` + user + `]}`,
			status: 400, says: "model parameter"},
		{name: "tool result without call", bearer: key,
			body: `{"model":"m","messages":[` + user +
				`,{"role":"tool","tool_call_id":"c9","content":"x"}]}`,
			status: 400, says: "must be a response to a preceeding message"},
		{name: "unanswered call", bearer: key,
			body: `{"model":"m","messages":[` + user + `,` + asst +
				`,{"role":"tool","tool_call_id":"c1","content":"x"}]}`,
			status: 400, says: "did not have response messages: c2"},
		{name: "bad image", bearer: key,
			body: `{"model":"m","messages":[{"role":"user","content":[` +
				`{"type":"image_url","image_url":{"url":"data:image/png;base64,%%%"}}]}]}`,
			status: 400, says: "Invalid image URL"},
		{name: "empty queue", bearer: key, body: `{"model":"m","messages":[` + user + `]}`,
			status: 400, says: "no reply queued"},
	}

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()

			s := openaitest.NewServer(t, openaitest.WithAPIKey(key))

			status, body := post(t, s.URL(), tc.bearer, tc.body)

			if status != tc.status || !strings.Contains(body, tc.says) {
				t.Errorf("answer = %d %s, want %d saying %q", status, body, tc.status, tc.says)
			}
			if !json.Valid([]byte(body)) || !strings.Contains(body, `"error"`) {
				t.Errorf("answer %s is not OpenAI's error JSON", body)
			}
		})
	}
}

func TestPlainAnswerAndRecording(t *testing.T) {
	t.Parallel()

	s := openaitest.NewServer(t)
	s.Push(openaitest.ToolReply(
		openaitest.ToolCall{Name: "f", Arguments: `{"a":1}`},
		openaitest.ToolCall{Name: "g", Arguments: `{}`},
	))

	status, body := post(t, s.URL(), "", `{"model":"m","max_tokens":9,"messages":[`+
		`{"role":"system","content":"be brief"},{"role":"user","content":"hi"}]}`)
	if status != 200 {
		t.Fatalf("status %d: %s", status, body)
	}

	var got struct {
		Object  string `json:"object"`
		Model   string `json:"model"`
		Choices []struct {
			FinishReason string `json:"finish_reason"`
			Message      struct {
				Content   *string               `json:"content"`
				ToolCalls []openaitest.ToolCall `json:"tool_calls"`
			} `json:"message"`
		} `json:"choices"`
	}
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}

	c := got.Choices[0]
	if got.Object != "chat.completion" || got.Model != "m" || c.FinishReason != "tool_calls" ||
		c.Message.Content != nil || len(c.Message.ToolCalls) != 2 ||
		c.Message.ToolCalls[0].ID != "call_1" || c.Message.ToolCalls[1].ID != "call_2" {
		t.Errorf("answer = %s, want two numbered tool calls and null content", body)
	}

	reqs := s.Requests()
	if len(reqs) != 1 || reqs[0].MaxTokens != 9 || len(reqs[0].Messages) != 2 ||
		reqs[0].Messages[0].Content != "be brief" || s.Pending() != 0 {
		t.Errorf("recorded %+v, pending %d", reqs, s.Pending())
	}
}

func TestStreamEvents(t *testing.T) {
	t.Parallel()

	s := openaitest.NewServer(t)
	reply := openaitest.TextReply("one two three")
	reply.Usage = openaitest.Usage{PromptTokens: 3, CompletionTokens: 2}
	s.Push(reply)

	req, err := http.NewRequest(http.MethodPost, s.URL()+"/chat/completions", strings.NewReader(
		`{"model":"m","stream":true,"stream_options":{"include_usage":true},`+
			`"messages":[{"role":"user","content":"count"}]}`))
	if err != nil {
		t.Fatalf("new request: %v", err)
	}

	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("post: %v", err)
	}
	defer func() { _ = res.Body.Close() }()

	if ct := res.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Errorf("Content-Type = %q, want text/event-stream", ct)
	}

	var text strings.Builder
	var deltas, usage int
	var done bool
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		data, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok {
			continue
		}
		if data == "[DONE]" {
			done = true
			continue
		}

		var chunk struct {
			Choices []struct {
				Delta struct {
					Content string `json:"content"`
				} `json:"delta"`
			} `json:"choices"`
			Usage *struct {
				CompletionTokens int `json:"completion_tokens"`
			} `json:"usage"`
		}
		if err := json.Unmarshal([]byte(data), &chunk); err != nil {
			t.Fatalf("decode chunk %s: %v", data, err)
		}

		for _, c := range chunk.Choices {
			if c.Delta.Content != "" {
				deltas++
				text.WriteString(c.Delta.Content)
			}
		}
		if chunk.Usage != nil {
			usage = chunk.Usage.CompletionTokens
		}
	}

	if text.String() != "one two three" || deltas < 3 || usage != 2 || !done {
		t.Errorf("stream gave %q in %d deltas, usage %d, done %v",
			text.String(), deltas, usage, done)
	}
}

func TestModels(t *testing.T) {
	t.Parallel()

	s := openaitest.NewServer(t, openaitest.WithAPIKey(key), openaitest.WithModels("a", "b"))

	req, err := http.NewRequest(http.MethodGet, s.URL()+"/models", nil)
	if err != nil {
		t.Fatalf("new request: %v", err)
	}
	req.Header.Set("Authorization", "Bearer "+key)

	status, body := do(t, req)

	var list struct {
		Object string `json:"object"`
		Data   []struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	if err := json.Unmarshal([]byte(body), &list); err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}

	if status != 200 || list.Object != "list" || len(list.Data) != 2 || list.Data[1].ID != "b" {
		t.Errorf("GET /models = %d %s, want a list of a and b", status, body)
	}
}

package httpapi_test

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/adapters/openai/openaitest"
	"github.com/switchboardhq/switchboard/core/agent"
	"github.com/switchboardhq/switchboard/core/store"
	"github.com/switchboardhq/switchboard/core/store/storetest"
)

// chatAnswer is the answer of POST /api/agent/chat.
type chatAnswer struct {
	Answer      string   `json:"answer"`
	SessionID   int64    `json:"session_id"`
	MessageID   string   `json:"message_id"`
	Model       string   `json:"model"`
	ToolsCalled []string `json:"tools_called"`
	Usage       struct {
		InputTokens  int64 `json:"input_tokens"`
		OutputTokens int64 `json:"output_tokens"`
		TotalTokens  int64 `json:"total_tokens"`
	} `json:"usage"`
}

// sessionView is a session as GET /api/agent/sessions/{id} shows it.
type sessionView struct {
	ID         int64  `json:"id"`
	Title      string `json:"title"`
	Category   string `json:"category"`
	Status     string `json:"status"`
	Icon       string `json:"icon"`
	Pinned     bool   `json:"pinned"`
	Transcript []struct {
		Role        string   `json:"role"`
		Text        string   `json:"text"`
		ToolsCalled []string `json:"tools_called"`
	} `json:"transcript"`
}

// onePixelPNG is the smallest PNG, for image tests.
const onePixelPNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="

func TestChatAnswersThroughThePipeline(t *testing.T) {
	t.Parallel()

	storetest.Each(t, func(t *testing.T, kind store.Dialect) {
		t.Parallel()

		ta := newTestAPI(t, kind)

		var first chatAnswer
		if code := ta.doJSON("POST", "/api/agent/chat", "anna",
			map[string]any{"message": "hello there"}, &first); code != http.StatusOK {
			t.Fatalf("chat: %d", code)
		}

		if first.Answer != "hello there" || first.SessionID == 0 || first.MessageID == "" ||
			first.ToolsCalled == nil {
			t.Fatalf("answer = %+v", first)
		}

		var second chatAnswer
		ta.doJSON("POST", "/api/agent/chat", "anna", map[string]any{"message": "again",
			"session_id": first.SessionID, "images": []string{onePixelPNG}}, &second)

		if second.SessionID != first.SessionID || second.Answer != "[1 image] again" {
			t.Fatalf("second answer = %+v, want the same session and the image noted", second)
		}

		var s sessionView
		path := fmt.Sprintf("/api/agent/sessions/%d", first.SessionID)
		if code := ta.doJSON("GET", path, "anna", nil, &s); code != http.StatusOK {
			t.Fatalf("get session: %d", code)
		}

		var turns []string
		for _, turn := range s.Transcript {
			turns = append(turns, turn.Role+": "+turn.Text)
		}

		want := "user: hello there|assistant: hello there|user: again|assistant: [1 image] again"
		if strings.Join(turns, "|") != want || s.Title != "hello there" {
			t.Fatalf("session %q with transcript %q, want %q", s.Title, turns, want)
		}

		// Bob can neither read anna's session nor write into it.
		ta.wantError("GET", path, "bob", nil, http.StatusNotFound, "")
		ta.wantError("POST", "/api/agent/chat", "bob", map[string]any{"message": "hi",
			"session_id": first.SessionID}, http.StatusNotFound, "session_id")

		// A command works in the API's chat too.
		var help chatAnswer
		ta.doJSON("POST", "/api/agent/chat", "anna", map[string]any{"message": "/help"}, &help)

		if !strings.Contains(help.Answer, "/new") {
			t.Fatalf("/help = %q", help.Answer)
		}
	})
}

// countingEcho is the echo responder that counts its calls.
type countingEcho struct{ calls atomic.Int64 }

func (c *countingEcho) Name() string { return "counting echo" }

func (c *countingEcho) Respond(ctx context.Context, req agent.Request) (agent.Reply, error) {
	c.calls.Add(1)

	return agent.Echo{}.Respond(ctx, req)
}

func TestChatRetryWithIdempotencyKeyIsAnsweredOnce(t *testing.T) {
	t.Parallel()

	echo := &countingEcho{}
	ta := newTestAPI(t, store.SQLite, withResponder(echo))

	send := func() chatAnswer {
		t.Helper()

		res := ta.request("POST", "/api/agent/chat", "anna", map[string]any{"message": "once"},
			http.Header{"Idempotency-Key": {"retry-123"}})
		defer res.Body.Close()

		var a chatAnswer
		if err := json.NewDecoder(res.Body).Decode(&a); err != nil || res.StatusCode != 200 {
			t.Fatalf("chat: %d %v", res.StatusCode, err)
		}

		return a
	}

	a, b := send(), send()
	if a.Answer != "once" || b.Answer != "once" || a.MessageID != b.MessageID {
		t.Fatalf("answers %+v and %+v, want the same", a, b)
	}

	if n := echo.calls.Load(); n != 1 {
		t.Fatalf("the responder ran %d times for one message sent twice", n)
	}

	res := ta.request("POST", "/api/agent/chat", "anna", map[string]any{"message": "x"},
		http.Header{"Idempotency-Key": {strings.Repeat("k", 129)}})
	res.Body.Close()

	if res.StatusCode != http.StatusBadRequest {
		t.Fatalf("an idempotency key of 129 characters got %d", res.StatusCode)
	}
}

func TestChatWithTheModelReportsToolsAndUsage(t *testing.T) {
	t.Parallel()

	ta := newTestAPI(t, store.SQLite, withModel())
	ta.Model.Push(
		openaitest.Reply{ToolCalls: []openaitest.ToolCall{{Name: "calculator",
			Arguments: `{"expression":"6 * 7"}`}},
			Usage: openaitest.Usage{PromptTokens: 100, CompletionTokens: 10}},
		openaitest.Reply{Text: "It is 42.",
			Usage: openaitest.Usage{PromptTokens: 120, CompletionTokens: 5}},
	)

	var a chatAnswer
	if code := ta.doJSON("POST", "/api/agent/chat", "anna",
		map[string]any{"message": "what is 6 * 7"}, &a); code != http.StatusOK {
		t.Fatalf("chat: %d", code)
	}

	if a.Answer != "It is 42." || a.Model != "small" ||
		strings.Join(a.ToolsCalled, ",") != "calculator" ||
		a.Usage.InputTokens != 220 || a.Usage.OutputTokens != 15 || a.Usage.TotalTokens != 235 {
		t.Fatalf("answer = %+v", a)
	}
}

// sseEvent is one server-sent event.
type sseEvent struct {
	name string
	data string
}

// readEvents reads server-sent events until the stream ends.
func readEvents(t *testing.T, res *http.Response) []sseEvent {
	t.Helper()

	var (
		out []sseEvent
		cur sseEvent
	)

	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		line := sc.Text()

		switch {
		case strings.HasPrefix(line, "event: "):
			cur.name = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			cur.data = strings.TrimPrefix(line, "data: ")
		case line == "" && cur.name != "":
			out = append(out, cur)
			cur = sseEvent{}
		}
	}

	return out
}

func TestChatStreamsTheAnswer(t *testing.T) {
	t.Parallel()

	ta := newTestAPI(t, store.SQLite, withModel())
	ta.Model.Push(openaitest.Reply{Text: "Streams arrive piece by piece, in order.",
		Usage: openaitest.Usage{PromptTokens: 30, CompletionTokens: 9}})

	res := ta.request("POST", "/api/agent/chat", "anna", map[string]any{"message": "stream?"},
		http.Header{"Accept": {"text/event-stream"}})
	defer res.Body.Close()

	if ct := res.Header.Get("Content-Type"); res.StatusCode != 200 ||
		!strings.HasPrefix(ct, "text/event-stream") {
		t.Fatalf("status %d, content type %q", res.StatusCode, ct)
	}

	// Pieces that arrive together are sent as one delta, so there may be
	// only one here; TestChatStreamsPiecesAsTheyCome shows them apart.
	events := readEvents(t, res)
	if len(events) < 3 || events[0].name != "session" || events[len(events)-1].name != "done" {
		t.Fatalf("events = %+v, want session, deltas, done", events)
	}

	var text strings.Builder

	for _, e := range events[1 : len(events)-1] {
		var d struct{ Text string }
		if e.name != "delta" || json.Unmarshal([]byte(e.data), &d) != nil {
			t.Fatalf("event %+v, want a delta", e)
		}

		text.WriteString(d.Text)
	}

	var done chatAnswer
	if err := json.Unmarshal([]byte(events[len(events)-1].data), &done); err != nil {
		t.Fatal(err)
	}

	if text.String() != "Streams arrive piece by piece, in order." ||
		done.Answer != text.String() || done.Usage.OutputTokens != 9 || done.SessionID == 0 {
		t.Fatalf("streamed %q, done %+v", text.String(), done)
	}

	if !ta.Model.Requests()[0].Stream {
		t.Fatal("the model was not asked to stream")
	}
}

func TestChatRejectsBadRequests(t *testing.T) {
	t.Parallel()

	storetest.Each(t, func(t *testing.T, kind store.Dialect) {
		t.Parallel()

		ta := newTestAPI(t, kind)
		gif := base64.StdEncoding.EncodeToString([]byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;"))
		text := base64.StdEncoding.EncodeToString([]byte("just some text"))

		cases := []struct {
			body  any
			code  int
			field string
		}{
			{map[string]any{}, 400, "message"},
			{map[string]any{"message": "   "}, 400, "message"},
			{map[string]any{"message": strings.Repeat("a", 64<<10+1)}, 400, "message"},
			{map[string]any{"message": "hi", "mood": "happy"}, 400, "mood"},
			{map[string]any{"message": 42}, 400, "message"},
			{map[string]any{"message": "hi", "session_id": "one"}, 400, "session_id"},
			{map[string]any{"message": "hi", "session_id": 999999}, 404, "session_id"},
			{map[string]any{"message": "hi", "images": []string{"not base64!"}}, 400,
				"images[0]"},
			{map[string]any{"message": "hi", "images": []string{gif, text}}, 400, "images[1]"},
			{map[string]any{"message": "hi", "images": make([]string, 9)}, 400, "images"},
			{`{"message": "hi"} {"message": "again"}`, 400, ""},
			{`{"message": `, 400, ""},
			{strings.Repeat(" ", 20<<20+1), 413, ""},
		}

		for _, c := range cases {
			ta.wantError("POST", "/api/agent/chat", "anna", c.body, c.code, c.field)
		}

		// Nothing was stored: anna has no session.
		var list struct{ Total int }
		ta.doJSON("GET", "/api/agent/sessions", "anna", nil, &list)

		if list.Total != 0 {
			t.Fatalf("refused requests left %d sessions", list.Total)
		}

		res := ta.request("POST", "/api/agent/chat", "anna", "message=hi",
			http.Header{"Content-Type": {"application/x-www-form-urlencoded"}})
		res.Body.Close()

		if res.StatusCode != http.StatusUnsupportedMediaType {
			t.Fatalf("a form body got %d, want 415", res.StatusCode)
		}
	})
}

// stuck never answers until its context ends.
type stuck struct{}

func (stuck) Name() string { return "stuck" }

func (stuck) Respond(ctx context.Context, _ agent.Request) (agent.Reply, error) {
	<-ctx.Done()

	return agent.Reply{}, ctx.Err()
}

func TestChatTimesOut(t *testing.T) {
	t.Parallel()

	ta := newTestAPI(t, store.SQLite, withResponder(stuck{}),
		withChatTimeout(300*time.Millisecond))

	ta.wantError("POST", "/api/agent/chat", "anna", map[string]any{"message": "hello?"},
		http.StatusGatewayTimeout, "")
}

// slowWriter writes its answer in three pieces with pauses between them.
type slowWriter struct{}

func (slowWriter) Name() string { return "slow writer" }

func (slowWriter) Respond(_ context.Context, req agent.Request) (agent.Reply, error) {
	pieces := []string{"one ", "two ", "three"}
	for _, p := range pieces {
		if req.OnText != nil {
			req.OnText(p)
		}

		time.Sleep(50 * time.Millisecond)
	}

	return agent.Reply{Text: strings.Join(pieces, "")}, nil
}

func TestChatStreamsPiecesAsTheyCome(t *testing.T) {
	t.Parallel()

	ta := newTestAPI(t, store.SQLite, withResponder(slowWriter{}))

	res := ta.request("POST", "/api/agent/chat", "anna", map[string]any{"message": "count"},
		http.Header{"Accept": {"text/event-stream"}})
	defer res.Body.Close()

	var names, deltas []string

	for _, e := range readEvents(t, res) {
		names = append(names, e.name)

		if e.name == "delta" {
			deltas = append(deltas, e.data)
		}
	}

	want := []string{`{"text":"one "}`, `{"text":"two "}`, `{"text":"three"}`}
	if strings.Join(deltas, "|") != strings.Join(want, "|") ||
		strings.Join(names, ",") != "session,delta,delta,delta,done" {
		t.Fatalf("events %q with deltas %q", names, deltas)
	}
}

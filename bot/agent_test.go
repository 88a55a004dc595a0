package main

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchboardhq/switchboard/adapters/openai/openaitest"
	"github.com/switchboardhq/switchboard/core/agent"
)

func TestServeAnswersWithTheConfiguredModel(t *testing.T) {
	t.Parallel()

	model := openaitest.NewServer(t, openaitest.WithAPIKey("model-key"))
	model.Push(
		openaitest.Reply{ToolCalls: []openaitest.ToolCall{{Name: "calculator",
			Arguments: `{"expression":"6 * 7"}`}},
			Usage: openaitest.Usage{PromptTokens: 120, CompletionTokens: 12}},
		openaitest.Reply{Text: "Hello from the model",
			Usage: openaitest.Usage{PromptTokens: 140, CompletionTokens: 5}},
	)

	dir := t.TempDir()
	rcv := newReceiver(t)
	p := startServe(t, dir,
		"BOT_AGENT_RESPONDER=agent",
		"BOT_AGENT_SYSTEM_PROMPT=Be a test.",
		"BOT_AI_PROVIDER=openai",
		"BOT_AI_BASE_URL="+model.URL(),
		"BOT_AI_API_KEY=model-key",
		"BOT_AI_MODEL=test-model",
		"BOT_AI_PRICES=test-model=1/2",
		"BOT_BUDGET_MESSAGES_LIMIT=1",
		"BOT_ACCESS_OWNERS=webhook:u1",
		"BOT_WEBHOOK_DELIVER_URL="+rcv.URL,
		"BOT_WEBHOOK_SECRET="+testSecret)

	msg := map[string]any{"message_id": "1", "chat_id": "c", "user_id": "u1", "text": "hi"}
	if code, body := post(t, p.addr, testSecret, msg); code != http.StatusAccepted {
		t.Fatalf("post: %d %s", code, body)
	}

	if got := rcv.wait(t, 1); got != "Hello from the model" {
		t.Fatalf("answer = %q", got)
	}

	req := model.Requests()[0]
	if req.Model != "test-model" || req.Messages[0].Content != "Be a test." ||
		req.Messages[len(req.Messages)-1].Content != "hi" {
		t.Fatalf("model was asked %+v", req)
	}

	var tools []string
	for _, tool := range req.Tools {
		tools = append(tools, tool.Function.Name)
	}

	if strings.Join(tools, ",") != "calculator,memory,reminders,time,weather,web_fetch" {
		t.Fatalf("model was offered %v", tools)
	}

	second := model.Requests()[1].Messages
	if result := second[len(second)-1]; result.Role != "tool" || result.Content != "42" {
		t.Fatalf("the calculator's result reached the model as %+v", result)
	}

	if _, err := os.Stat(filepath.Join(dir, "data", "secret.key")); err != nil {
		t.Fatalf("no credential key was made on first start: %v", err)
	}

	var calls, messages, tokens, cost int
	err := openData(t, dir).QueryRowContext(context.Background(),
		"SELECT count(*), count(DISTINCT inbound_id), sum(input_tokens + output_tokens), "+
			"sum(cost_micros) FROM model_calls "+
			"WHERE model = 'test-model' AND session_id IS NOT NULL").Scan(&calls, &messages,
		&tokens, &cost)
	if err != nil || calls != 2 || messages != 1 || tokens != 277 || cost != 260*1+17*2 {
		t.Fatalf("recorded %d calls for %d messages with %d tokens costing %d micros (%v), "+
			"want 2 for 1 with 277 costing 294", calls, messages, tokens, cost, err)
	}

	// The limit of one message is reached: the next is refused unasked.
	msg["message_id"], msg["text"] = "2", "and again"
	post(t, p.addr, testSecret, msg)

	if got := rcv.wait(t, 2); !strings.Contains(got, "reached this month's budget (1 of 1") {
		t.Fatalf("answer past the limit = %q", got)
	}

	if n := len(model.Requests()); n != 2 {
		t.Fatalf("the model was called %d times, want the 2 calls of the first message", n)
	}

	if strings.Contains(p.logs(), "model-key") {
		t.Fatalf("the API key appears in the logs")
	}
}

func TestServeWithoutModelSaysHowToSetOne(t *testing.T) {
	t.Parallel()

	rcv := newReceiver(t)
	p := startServe(t, t.TempDir(),
		"BOT_AGENT_RESPONDER=agent",
		"BOT_ACCESS_OWNERS=webhook:u1",
		"BOT_WEBHOOK_DELIVER_URL="+rcv.URL,
		"BOT_WEBHOOK_SECRET="+testSecret)

	post(t, p.addr, testSecret, map[string]any{"message_id": "1", "chat_id": "c",
		"user_id": "u1", "text": "hi"})
	post(t, p.addr, testSecret, map[string]any{"message_id": "2", "chat_id": "c",
		"user_id": "u1", "text": "/help"})

	if got := rcv.wait(t, 1); got != agent.UnconfiguredReply {
		t.Fatalf("answer = %q, want how to configure a model", got)
	}

	if got := rcv.wait(t, 2); !strings.Contains(got, "/new - Start a fresh session") {
		t.Fatalf("/help without a model = %q", got)
	}
}

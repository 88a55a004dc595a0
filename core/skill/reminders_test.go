package skill_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/switchboardhq/switchboard/adapters/openai"
	"github.com/switchboardhq/switchboard/adapters/openai/openaitest"
	"github.com/switchboardhq/switchboard/core"
	"github.com/switchboardhq/switchboard/core/agent"
	"github.com/switchboardhq/switchboard/core/automation"
	"github.com/switchboardhq/switchboard/core/skill"
	"github.com/switchboardhq/switchboard/core/store"
	"github.com/switchboardhq/switchboard/core/store/storetest"
)

// TestRemindersSkill lets the model set, list and cancel a reminder for
// the person it talks to, through the real client and the automation
// engine.
func TestRemindersSkill(t *testing.T) {
	t.Parallel()

	db := storetest.Open(t, store.SQLite)
	ctx := context.Background()
	engine := automation.NewEngine(automation.Config{DB: db, AgentID: "a",
		DefaultZone: "Europe/Berlin", Logger: slog.New(slog.DiscardHandler)})

	reg, err := skill.NewRegistry(db, nil, &skill.Reminders{DB: db, Engine: engine})
	if err != nil {
		t.Fatal(err)
	}

	srv := openaitest.NewServer(t)

	l, err := agent.NewLoop(agent.LoopConfig{
		Provider: openai.New(openai.Config{BaseURL: srv.URL()}),
		Models:   []agent.Model{{Name: "m"}},
		Tools:    skill.Tools{Registry: reg, AgentID: "a"},
		Logger:   slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}

	ask := func(args string) string {
		t.Helper()

		srv.Push(openaitest.ToolReply(openaitest.ToolCall{Name: "reminders", Arguments: args}),
			openaitest.TextReply("done"))

		_, err := l.Respond(ctx, agent.Request{Message: core.Inbound{Channel: "telegram",
			ChatID: "c1", UserID: "anna", Text: "please"}})
		if err != nil {
			t.Fatal(err)
		}

		reqs := srv.Requests()
		msgs := reqs[len(reqs)-1].Messages

		return msgs[len(msgs)-1].Content
	}

	if got := ask(`{"action":"set","request":"in 20 minutes to stretch"}`); !strings.Contains(
		got, "I'll remind you") || !strings.Contains(got, "stretch") {
		t.Fatalf("set: the model got %q", got)
	}

	if got := ask(`{"action":"list"}`); !strings.Contains(got, "#1 reminder: stretch") {
		t.Fatalf("list: the model got %q", got)
	}

	if got := ask(`{"action":"cancel","id":1}`); !strings.Contains(got, "Cancelled #1") {
		t.Fatalf("cancel: the model got %q", got)
	}

	if got := ask(`{"action":"set","request":"yesterday to stretch"}`); !strings.Contains(
		got, "couldn't") {
		t.Fatalf("a time in the past: the model got %q", got)
	}
}

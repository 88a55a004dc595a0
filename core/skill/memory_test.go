package skill_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/adapters/openai"
	"github.com/switchboardhq/switchboard/adapters/openai/openaitest"
	"github.com/switchboardhq/switchboard/core"
	"github.com/switchboardhq/switchboard/core/agent"
	"github.com/switchboardhq/switchboard/core/memory"
	"github.com/switchboardhq/switchboard/core/skill"
	"github.com/switchboardhq/switchboard/core/store"
	"github.com/switchboardhq/switchboard/core/store/storetest"
)

func TestMemorySkillKeepsPrivateFactsPrivate(t *testing.T) {
	t.Parallel()

	storetest.Each(t, func(t *testing.T, kind store.Dialect) {
		t.Parallel()

		m := skill.Memory{DB: storetest.Open(t, kind)}
		ctx := context.Background()

		run := func(user, args string) string {
			t.Helper()

			out, err := m.Run(ctx, skill.Call{AgentID: "a", Channel: "telegram",
				UserID: core.UserID(user), Arguments: json.RawMessage(args)})
			if err != nil {
				t.Fatalf("%s %s: %v", user, args, err)
			}

			return out
		}

		run("anna", `{"action":"save","content":"Anna's door code is 4711"}`)
		run("anna", `{"action":"save","content":"The office opens at nine","shared":true}`)

		const doorCode = `{"action":"search","query":"door code"}`

		if got := run("anna", doorCode); !strings.Contains(got, "4711") {
			t.Fatalf("anna's own search = %q", got)
		}

		if got := run("bob", doorCode); strings.Contains(got, "4711") {
			t.Fatalf("bob was offered anna's private fact: %q", got)
		}

		office := run("bob", `{"action":"search","query":"office"}`)
		if !strings.Contains(office, "nine") {
			t.Fatalf("bob does not see the shared fact: %q", office)
		}

		_, err := m.Run(ctx, skill.Call{AgentID: "a", Arguments: json.RawMessage(
			`{"action":"teleport"}`)})
		if err == nil || !strings.Contains(err.Error(), "action") {
			t.Fatalf("bad action: %v", err)
		}
	})
}

// TestRecallOffersOnlyTheSendersMemories reads what the model is sent: a
// person's own and the shared memories that match the message, never
// another person's, and none while the memory skill is off.
func TestRecallOffersOnlyTheSendersMemories(t *testing.T) {
	t.Parallel()

	storetest.Each(t, func(t *testing.T, kind store.Dialect) {
		t.Parallel()

		db := storetest.Open(t, kind)
		ctx := context.Background()
		now := time.Now().UTC()

		reg, err := skill.NewRegistry(db, nil, skill.Memory{DB: db})
		if err != nil {
			t.Fatal(err)
		}

		facts := []struct {
			user    core.UserID
			scope   memory.Scope
			content string
		}{
			{"anna", memory.ScopePrivate, "Anna's dog is called Bruno"},
			{"bob", memory.ScopePrivate, "Bob's dog is called Max"},
			{"bob", memory.ScopeShared, "The office dog is called Rex"},
			{"anna", memory.ScopePrivate, "Anna prefers tea"},
		}

		for _, f := range facts {
			owner := memory.Owner{Channel: "telegram", UserID: f.user}
			if _, err := memory.Save(ctx, db, "a", owner, f.scope, f.content, now); err != nil {
				t.Fatal(err)
			}
		}

		tools := skill.Tools{Registry: reg, AgentID: "a"}
		srv := openaitest.NewServer(t)

		l, err := agent.NewLoop(agent.LoopConfig{
			Provider:     openai.New(openai.Config{BaseURL: srv.URL()}),
			Models:       []agent.Model{{Name: "m"}},
			SystemPrompt: "Be brief.",
			Tools:        tools,
			Recall:       tools.Recall,
		})
		if err != nil {
			t.Fatal(err)
		}

		system := func(user core.UserID) string {
			t.Helper()

			srv.Push(openaitest.TextReply("ok"))

			_, err := l.Respond(ctx, agent.Request{Message: core.Inbound{
				Channel: "telegram", UserID: user, Text: "What is my dog called?",
			}})
			if err != nil {
				t.Fatal(err)
			}

			reqs := srv.Requests()

			return reqs[len(reqs)-1].Messages[0].Content
		}

		anna := system("anna")
		if !strings.Contains(anna, "Bruno") || !strings.Contains(anna, "Rex") ||
			strings.Contains(anna, "Max") || strings.Contains(anna, "tea") ||
			!strings.HasPrefix(anna, "Be brief.") {
			t.Errorf("anna's prompt:\n%s", anna)
		}

		bob := system("bob")
		if !strings.Contains(bob, "Max") || !strings.Contains(bob, "Rex") ||
			strings.Contains(bob, "Bruno") {
			t.Errorf("bob's prompt:\n%s", bob)
		}

		if err := reg.SetEnabled(ctx, "a", "memory", false, now); err != nil {
			t.Fatal(err)
		}

		if off := system("anna"); off != "Be brief." {
			t.Errorf("prompt with the memory skill off:\n%s", off)
		}
	})
}

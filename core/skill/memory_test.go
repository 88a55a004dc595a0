package skill_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/switchboardhq/switchboard/core"
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

package httpapi_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/core/budget"
	"github.com/switchboardhq/switchboard/core/store"
	"github.com/switchboardhq/switchboard/core/store/storetest"
)

// statusView is the answer of GET /api/agent/status.
type statusView struct {
	Agent struct {
		ID            string `json:"id"`
		Status        string `json:"status"`
		ServerIP      string `json:"server_ip"`
		ServerTier    string `json:"server_tier"`
		ServerRegion  string `json:"server_region"`
		AIModel       string `json:"ai_model"`
		MessagesUsed  int64  `json:"messages_used"`
		MessagesLimit int64  `json:"messages_limit"`
		PlanTier      string `json:"plan_tier"`
	} `json:"agent"`
	Messages []struct {
		Role string `json:"role"`
		Text string `json:"text"`
	} `json:"messages"`
	Skills []struct {
		Name string `json:"name"`
	} `json:"skills"`
	Logs   []string `json:"logs"`
	Health map[string]struct {
		Connected     bool       `json:"connected"`
		LastMessageAt *time.Time `json:"last_message_at"`
	} `json:"health"`
}

func TestStatus(t *testing.T) {
	t.Parallel()

	storetest.Each(t, func(t *testing.T, kind store.Dialect) {
		t.Parallel()

		ta := newTestAPI(t, kind, withLimits(budget.Limits{Messages: 1000}))

		ta.doJSON("POST", "/api/agent/chat", "anna", map[string]any{"message": "ping"}, nil)
		ta.doJSON("POST", "/api/agent/chat", "bob", map[string]any{"message": "bob's"}, nil)

		for i := range 3 {
			err := budget.Record(context.Background(), ta.DB, &budget.Call{AgentID: "default",
				InboundID: int64(i + 1), Provider: "openai", Model: "m",
				CreatedAt: time.Now().UTC()})
			if err != nil {
				t.Fatal(err)
			}
		}

		var plain statusView
		if code := ta.doJSON("GET", "/api/agent/status", "anna", nil, &plain); code != 200 {
			t.Fatalf("status: %d", code)
		}

		a := plain.Agent
		if a.ID != "default" || a.Status != "running" || a.ServerIP != "127.0.0.1" ||
			a.ServerTier != "standard" || a.ServerRegion != "eu-central" ||
			a.MessagesUsed != 3 || a.MessagesLimit != 1000 || a.PlanTier != "standard" ||
			plain.Messages != nil || plain.Health != nil {
			t.Fatalf("status = %+v", plain)
		}

		var full statusView
		ta.doJSON("GET", "/api/agent/status?include=messages,skills,health", "anna", nil,
			&full)

		if len(full.Messages) != 2 || full.Messages[0].Text != "ping" ||
			full.Messages[1].Role != "assistant" {
			t.Fatalf("anna's recent messages = %+v", full.Messages)
		}

		if len(full.Skills) != 4 || full.Logs != nil {
			t.Fatalf("skills %+v, logs %v", full.Skills, full.Logs)
		}

		// Logs concern every user: administrators only.
		ta.wantError("GET", "/api/agent/status?include=logs", "anna", nil, http.StatusForbidden,
			"")

		var admin statusView
		if code := ta.doJSON("GET", "/api/agent/status?include=logs", "owner", nil,
			&admin); code != 200 || admin.Logs == nil {
			t.Fatalf("owner's logs: %d %v", code, admin.Logs)
		}

		web, ok := full.Health["web"]
		if !ok || !web.Connected || web.LastMessageAt == nil {
			t.Fatalf("health = %+v", full.Health)
		}

		ta.wantError("GET", "/api/agent/status?include=messages,secrets", "anna", nil,
			http.StatusBadRequest, "include")
	})
}

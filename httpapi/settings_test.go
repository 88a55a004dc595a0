package httpapi_test

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/adapters/openai/openaitest"
	"github.com/switchboardhq/switchboard/core/store"
	"github.com/switchboardhq/switchboard/core/store/storetest"
)

// standardText scores in the standard tier: a paragraph with code.
const standardText = "Here is my loop, what is wrong with it?\nfor i := range n {\n" +
	"\tsum += i\n}\nxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"

// settingsState is the answer of the settings routes.
type settingsState struct {
	AIModel       string `json:"aiModel"`
	MessengerType string `json:"messengerType"`
	ServerTier    string `json:"serverTier"`
	ServerRegion  string `json:"serverRegion"`
	AIAPIKeySet   bool   `json:"aiApiKeySet"`
	MaxParallel   int    `json:"maxParallel"`
	MessagesLimit int    `json:"messagesLimit"`
	Status        string `json:"status"`
	StatusReason  string `json:"statusReason"`
}

// settled waits until the agent is no longer provisioning and returns
// its status.
func (ta *testAPI) settled(t *testing.T) statusView {
	t.Helper()

	select {
	case <-ta.Live.Applied():
	case <-time.After(10 * time.Second):
		t.Fatal("the settings were not applied within 10 s")
	}

	var s statusView
	ta.doJSON("GET", "/api/agent/status", "owner", nil, &s)

	return s
}

// lastModel is the model of the fake server's newest request.
func (ta *testAPI) lastModel() string {
	reqs := ta.Model.Requests()

	return reqs[len(reqs)-1].Model
}

func TestSettingsChangeInPlace(t *testing.T) {
	t.Parallel()

	storetest.Each(t, func(t *testing.T, kind store.Dialect) {
		t.Parallel()

		ta := newTestAPI(t, kind, withModel())

		var before settingsState
		ta.doJSON("GET", "/api/agent/settings", "anna", nil, &before)

		if before.AIModel != "medium" || before.Status != "running" || before.AIAPIKeySet ||
			before.ServerTier != "standard" || before.MaxParallel != 16 {
			t.Fatalf("settings at start = %+v", before)
		}

		// A message being answered while the model changes is answered
		// by the model it started with.
		ta.Model.Push(openaitest.Reply{Text: "slow answer", Delay: 300 * time.Millisecond})

		inFlight := make(chan chatAnswer, 1)

		go func() {
			var a chatAnswer
			ta.doJSON("POST", "/api/agent/chat", "anna", map[string]any{"message": standardText},
				&a)
			inFlight <- a
		}()

		for len(ta.Model.Requests()) == 0 {
			time.Sleep(5 * time.Millisecond)
		}

		var accepted settingsState
		if code := ta.doJSON("PATCH", "/api/agent/settings", "owner",
			map[string]any{"aiModel": "huge"}, &accepted); code != http.StatusAccepted {
			t.Fatalf("patch: %d", code)
		}

		if a := <-inFlight; a.Answer != "slow answer" || a.Model != "medium" {
			t.Fatalf("the message in flight got %+v", a)
		}

		if s := ta.settled(t); s.Agent.Status != "running" || s.Agent.AIModel != "huge" {
			t.Fatalf("status after the change = %+v", s.Agent)
		}

		ta.Model.Push(openaitest.TextReply("from huge"))

		var a chatAnswer
		ta.doJSON("POST", "/api/agent/chat", "anna", map[string]any{"message": standardText}, &a)

		if a.Answer != "from huge" || ta.lastModel() != "huge" {
			t.Fatalf("after the change: %+v from %s", a, ta.lastModel())
		}

		// A model the server lacks is an error with the reason; the
		// previous model keeps answering.
		ta.doJSON("PATCH", "/api/agent/settings", "owner", map[string]any{"aiModel": "gone"},
			nil)

		s := ta.settled(t)
		if s.Agent.Status != "error" || s.Agent.AIModel != "huge" {
			t.Fatalf("status after a bad model = %+v", s.Agent)
		}

		var failed settingsState
		ta.doJSON("GET", "/api/agent/settings", "owner", nil, &failed)

		if !strings.Contains(failed.StatusReason, `no model "gone"`) {
			t.Fatalf("reason = %q", failed.StatusReason)
		}

		ta.Model.Push(openaitest.TextReply("still huge"))
		ta.doJSON("POST", "/api/agent/chat", "anna", map[string]any{"message": standardText}, &a)

		if a.Answer != "still huge" || ta.lastModel() != "huge" {
			t.Fatalf("after a failed change: %+v from %s", a, ta.lastModel())
		}
	})
}

func TestSettingsTierRegionMessengerAndKey(t *testing.T) {
	t.Parallel()

	storetest.Each(t, func(t *testing.T, kind store.Dialect) {
		t.Parallel()

		ta := newTestAPI(t, kind, withModel())

		ta.doJSON("PATCH", "/api/agent/settings", "owner", map[string]any{
			"aiModel": "medium", "serverTier": "starter", "serverRegion": "eu-north",
			"messengerType": "telegram", "aiApiKey": "sk-do-not-show-1234"}, nil)

		s := ta.settled(t)
		if s.Agent.ServerTier != "starter" || s.Agent.PlanTier != "starter" ||
			s.Agent.ServerRegion != "eu-north" || s.Agent.MessagesLimit != 1000 ||
			s.Agent.Status != "running" {
			t.Fatalf("status = %+v", s.Agent)
		}

		code, body := ta.do("GET", "/api/agent/settings", "owner", nil)

		var got settingsState
		ta.doJSON("GET", "/api/agent/settings", "owner", nil, &got)

		if code != 200 || bytes.Contains(body, []byte("do-not-show")) || !got.AIAPIKeySet ||
			got.MaxParallel != 4 || got.MessengerType != "telegram" {
			t.Fatalf("settings = %d %s", code, body)
		}

		// The key is sealed in the database and reaches the model server.
		var raw []byte
		if err := ta.DB.NewRaw("SELECT ai_api_key FROM agent_settings").
			Scan(context.Background(), &raw); err != nil {
			t.Fatal(err)
		}

		if bytes.Contains(raw, []byte("do-not-show")) {
			t.Fatal("the API key is stored in plain text")
		}

		ta.Model.Push(openaitest.TextReply("ok"))
		ta.doJSON("POST", "/api/agent/chat", "anna", map[string]any{"message": "hi"}, nil)

		reqs := ta.Model.Requests()
		if auth := reqs[len(reqs)-1].Header.Get("Authorization"); auth !=
			"Bearer sk-do-not-show-1234" {
			t.Fatalf("the model server got Authorization %q", auth)
		}
	})
}

func TestSettingsRejectBadRequests(t *testing.T) {
	t.Parallel()

	ta := newTestAPI(t, store.SQLite, withModel())

	cases := []struct {
		user  string
		body  any
		code  int
		field string
	}{
		{"anna", map[string]any{"aiModel": "huge"}, 403, ""},
		{"owner", map[string]any{}, 400, "aiModel"},
		{"owner", map[string]any{"aiModel": " "}, 400, "aiModel"},
		{"owner", map[string]any{"serverTier": "xl"}, 400, "serverTier"},
		{"owner", map[string]any{"serverRegion": "moon"}, 400, "serverRegion"},
		{"owner", map[string]any{"messengerType": "icq"}, 400, "messengerType"},
		{"owner", map[string]any{"aiApiKey": ""}, 400, "aiApiKey"},
		{"owner", map[string]any{"aiApiKey": 42}, 400, "aiApiKey"},
		{"owner", map[string]any{"theme": "dark"}, 400, "theme"},
	}

	for _, c := range cases {
		ta.wantError("PATCH", "/api/agent/settings", c.user, c.body, c.code, c.field)
	}

	var after settingsState
	ta.doJSON("GET", "/api/agent/settings", "owner", nil, &after)

	if after.AIModel != "medium" || after.ServerTier != "standard" || after.AIAPIKeySet {
		t.Fatalf("refused changes changed the settings: %+v", after)
	}
}

package skill_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/adapters/openai"
	"github.com/switchboardhq/switchboard/adapters/openai/openaitest"
	"github.com/switchboardhq/switchboard/core"
	"github.com/switchboardhq/switchboard/core/agent"
	"github.com/switchboardhq/switchboard/core/credential"
	"github.com/switchboardhq/switchboard/core/secret"
	"github.com/switchboardhq/switchboard/core/skill"
	"github.com/switchboardhq/switchboard/core/store"
	"github.com/switchboardhq/switchboard/core/store/storetest"
)

// keyed is a skill that needs an API key and reports what it got.
type keyed struct{}

func (keyed) Name() string                { return "keyed" }
func (keyed) Description() string         { return "Needs a key." }
func (keyed) Parameters() json.RawMessage { return json.RawMessage(`{"type":"object"}`) }
func (keyed) Credentials() []string       { return []string{"api_key"} }

func (keyed) Run(_ context.Context, c skill.Call) (string, error) {
	return "used key of length " + string(rune('0'+len(c.Credentials["api_key"])%10)), nil
}

func newRegistry(t *testing.T, kind store.Dialect) (*skill.Registry, *credential.Store) {
	t.Helper()

	db := storetest.Open(t, kind)

	box, err := secret.NewBox(make([]byte, secret.KeySize))
	if err != nil {
		t.Fatal(err)
	}

	creds := credential.New(db, box)

	r, err := skill.NewRegistry(db, creds, skill.Calculator{}, skill.Time{}, keyed{})
	if err != nil {
		t.Fatal(err)
	}

	return r, creds
}

func TestEnablingChangesWhatTheModelIsOffered(t *testing.T) {
	t.Parallel()

	storetest.Each(t, func(t *testing.T, kind store.Dialect) {
		t.Parallel()

		r, _ := newRegistry(t, kind)
		ctx := context.Background()
		now := time.Now().UTC()

		srv := openaitest.NewServer(t)
		l, err := agent.NewLoop(agent.LoopConfig{
			Provider: openai.New(openai.Config{BaseURL: srv.URL()}),
			Models:   []agent.Model{{Name: "m"}},
			Tools:    skill.Tools{Registry: r, AgentID: "a"},
		})
		if err != nil {
			t.Fatal(err)
		}

		offered := func() []string {
			srv.Push(openaitest.TextReply("ok"))

			req := agent.Request{Message: core.Inbound{Text: "hi"}}
			if _, err := l.Respond(ctx, req); err != nil {
				t.Fatal(err)
			}

			reqs := srv.Requests()

			var names []string
			for _, tool := range reqs[len(reqs)-1].Tools {
				names = append(names, tool.Function.Name)
			}

			return names
		}

		if got := offered(); !slices.Equal(got, []string{"calculator", "keyed", "time"}) {
			t.Fatalf("offered %v, want every skill", got)
		}

		if err := r.SetEnabled(ctx, "a", "calculator", false, now); err != nil {
			t.Fatal(err)
		}

		if got := offered(); !slices.Equal(got, []string{"keyed", "time"}) {
			t.Fatalf("offered %v after turning the calculator off", got)
		}

		if err := r.SetEnabled(ctx, "a", "calculator", true, now); err != nil {
			t.Fatal(err)
		}

		if got := offered(); len(got) != 3 {
			t.Fatalf("offered %v after turning it on again", got)
		}

		err = r.SetEnabled(ctx, "a", "teleport", true, now)
		if ie, ok := err.(*core.InputError); !ok || ie.Field != "skill" {
			t.Fatalf("unknown skill: err = %v, want an input error on skill", err)
		}
	})
}

func TestMissingCredentialIsSaid(t *testing.T) {
	t.Parallel()

	storetest.Each(t, func(t *testing.T, kind store.Dialect) {
		t.Parallel()

		r, creds := newRegistry(t, kind)
		ctx := context.Background()

		_, err := r.Run(ctx, "keyed", skill.Call{AgentID: "a"})
		if err == nil || !strings.Contains(err.Error(), `needs its "api_key" credential`) {
			t.Fatalf("without the key: err = %v", err)
		}

		if err := creds.Set(ctx, "a", "keyed", map[string]string{"api_key": "k-123456789012"},
			time.Now().UTC()); err != nil {
			t.Fatal(err)
		}

		got, err := r.Run(ctx, "keyed", skill.Call{AgentID: "a"})
		if err != nil || got != "used key of length 4" {
			t.Fatalf("with the key: %q, %v", got, err)
		}

		list, err := r.List(ctx, "a")
		if err != nil {
			t.Fatal(err)
		}

		for _, info := range list {
			if info.Name == "keyed" && info.Credentials["api_key"] != "••••9012" {
				t.Fatalf("listed credential %q, want the mask", info.Credentials["api_key"])
			}
		}

		if err := r.SetEnabled(ctx, "a", "keyed", false, time.Now().UTC()); err != nil {
			t.Fatal(err)
		}

		if _, err := r.Run(ctx, "keyed", skill.Call{AgentID: "a"}); err == nil ||
			!strings.Contains(err.Error(), "turned off") {
			t.Fatalf("disabled skill ran: %v", err)
		}
	})
}

package skill

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/switchboardhq/switchboard/core/agent"
	"github.com/switchboardhq/switchboard/core/memory"
	"github.com/switchboardhq/switchboard/core/store"
)

// Memory is the "memory" skill: the model saves, searches and forgets
// facts. What it saves is private to the person it talks to unless the
// person asks to share it with everyone the agent talks to.
type Memory struct {
	DB *store.DB
}

// Name returns "memory".
func (Memory) Name() string { return "memory" }

// Description tells the model when to use it.
func (Memory) Description() string {
	return "Remember facts across conversations. action=save stores content (private to " +
		"this person unless shared=true), action=search finds saved facts by words, " +
		"action=forget deletes one by its id."
}

// Parameters takes the action and its inputs.
func (Memory) Parameters() json.RawMessage {
	return json.RawMessage(`{"type":"object","required":["action"],"properties":{` +
		`"action":{"type":"string","enum":["save","search","forget"]},` +
		`"content":{"type":"string","description":"the fact to save"},` +
		`"shared":{"type":"boolean","description":"share with everyone the agent talks to"},` +
		`"query":{"type":"string","description":"words to search for"},` +
		`"id":{"type":"integer","description":"the id of the fact to forget"}}}`)
}

// Credentials returns none.
func (Memory) Credentials() []string { return nil }

// Run saves, searches or forgets, as the person the agent talks to.
func (m Memory) Run(ctx context.Context, call Call) (string, error) {
	var args struct {
		Action  string `json:"action"`
		Content string `json:"content"`
		Shared  bool   `json:"shared"`
		Query   string `json:"query"`
		ID      int64  `json:"id"`
	}

	if err := decodeArgs(call.Arguments, &args); err != nil {
		return "", err
	}

	me := memory.Owner{Channel: call.Channel, UserID: call.UserID}

	switch args.Action {
	case "save":
		scope := memory.ScopePrivate
		if args.Shared {
			scope = memory.ScopeShared
		}

		saved, err := memory.Save(ctx, m.DB, call.AgentID, me, scope, args.Content,
			time.Now().UTC())
		if err != nil {
			return "", err
		}

		return fmt.Sprintf("saved as #%d (%s)", saved.ID, scope), nil
	case "search":
		found, err := memory.Search(ctx, m.DB, call.AgentID, me, args.Query, 10)
		if err != nil {
			return "", err
		}

		if len(found) == 0 {
			return "nothing found", nil
		}

		var b strings.Builder
		for _, f := range found {
			fmt.Fprintf(&b, "#%d (%s, %s): %s\n", f.ID, f.Scope,
				f.CreatedAt.Format("2006-01-02"), f.Content)
		}

		return b.String(), nil
	case "forget":
		if err := memory.Forget(ctx, m.DB, call.AgentID, me, args.ID); err != nil {
			return "", err
		}

		return fmt.Sprintf("forgot #%d", args.ID), nil
	default:
		return "", fmt.Errorf("action: must be save, search or forget, got %q", args.Action)
	}
}

// Recall returns, when the memory skill is enabled, the facts the agent
// remembers that share words with the message: the sender's own and the
// shared ones, never another person's, each as "#id (scope): content" so
// that the model can forget one by its id. The loop adds them to the
// system prompt.
func (t Tools) Recall(ctx context.Context, req agent.Request) ([]string, error) {
	skills, err := t.Registry.Enabled(ctx, t.AgentID)
	if err != nil {
		return nil, err
	}

	i := slices.IndexFunc(skills, func(s Skill) bool { return s.Name() == Memory{}.Name() })
	if i < 0 {
		return nil, nil
	}

	m, ok := skills[i].(Memory)
	if !ok {
		return nil, nil
	}

	me := memory.Owner{Channel: req.Message.Channel, UserID: req.Message.UserID}

	found, err := memory.Relevant(ctx, m.DB, t.AgentID, me, req.Message.Text, 0)
	if err != nil {
		return nil, err
	}

	facts := make([]string, len(found))
	for i, f := range found {
		facts[i] = fmt.Sprintf("#%d (%s): %s", f.ID, f.Scope, f.Content)
	}

	return facts, nil
}

package skill

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/switchboardhq/switchboard/core/automation"
	"github.com/switchboardhq/switchboard/core/store"
)

// Reminders is the "reminders" skill: the model sets, lists and cancels
// the person's reminders when they ask in plain words, with the same
// engine and the same words as /remind and /status. Engine is set once
// the engine exists, before the gateway takes messages.
type Reminders struct {
	DB     *store.DB
	Engine *automation.Engine
}

// Name returns "reminders".
func (*Reminders) Name() string { return "reminders" }

// Description tells the model when to use it.
func (*Reminders) Description() string {
	return "Set, list or cancel the person's reminders. action=set with request in the " +
		"form of /remind, e.g. \"in 20 minutes to stretch\" or \"tomorrow at 9 to call " +
		"Anna\"; action=list; action=cancel with the reminder's id. Times are read in the " +
		"person's time zone. Tell the person the confirmation you get back."
}

// Parameters takes the action and its inputs.
func (*Reminders) Parameters() json.RawMessage {
	return json.RawMessage(`{"type":"object","required":["action"],"properties":{` +
		`"action":{"type":"string","enum":["set","list","cancel"]},` +
		`"request":{"type":"string","description":"when and what, as after /remind"},` +
		`"id":{"type":"integer","description":"the reminder to cancel"}}}`)
}

// Credentials returns none.
func (*Reminders) Credentials() []string { return nil }

// Run sets, lists or cancels, as the person the agent talks to.
func (r *Reminders) Run(ctx context.Context, call Call) (string, error) {
	if r.Engine == nil {
		return "", fmt.Errorf("reminders are not running in this gateway")
	}

	var args struct {
		Action  string `json:"action"`
		Request string `json:"request"`
		ID      int64  `json:"id"`
	}

	if err := decodeArgs(call.Arguments, &args); err != nil {
		return "", err
	}

	o := automation.Origin{Conversation: call.Conversation, UserID: call.UserID}
	now := time.Now().UTC()

	switch args.Action {
	case "set":
		text := args.Request
		if line := r.Engine.Rewrite(ctx, o, automation.KindRemind, text, now); line != "" {
			text = line
		}

		return r.Engine.Command(ctx, r.DB, o, automation.KindRemind, text, now)
	case "list":
		return r.Engine.Command(ctx, r.DB, o, "status", "", now)
	case "cancel":
		return r.Engine.Command(ctx, r.DB, o, "status", fmt.Sprintf("cancel %d", args.ID), now)
	default:
		return "", fmt.Errorf("action: must be set, list or cancel, got %q", args.Action)
	}
}

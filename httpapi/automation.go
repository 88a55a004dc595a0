package httpapi

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/uptrace/bun"

	"github.com/switchboardhq/switchboard/core"
	"github.com/switchboardhq/switchboard/core/automation"
	"github.com/switchboardhq/switchboard/core/automation/when"
	"github.com/switchboardhq/switchboard/httpapi/wire"
)

// automationBody is the body of POST /api/agent/automation.
type automationBody struct {
	Command string `json:"command"`
	Text    string `json:"text"`
}

// handleAutomation runs an automation command as the slash command would
// in chat, and answers with the same words. Automations made here send
// their messages to the caller's web chat. Text that cannot be read is a
// 400 on text, with what was not understood and an example.
func (a *API) handleAutomation(w http.ResponseWriter, r *http.Request) {
	if a.cfg.Automations == nil {
		wire.WriteError(w, http.StatusNotImplemented, wire.Error{Code: wire.CodeNotBuilt,
			Message: "automations are not running in this gateway"})

		return
	}

	var body automationBody
	if rerr := wire.Decode(r, wire.MaxBody, &body); rerr != nil {
		reject(w, rerr)
		return
	}

	name := strings.TrimPrefix(strings.ToLower(strings.TrimSpace(body.Command)), "/")
	if !slices.Contains(automation.Names, name) {
		wire.Invalid(w, "command", "must be one of "+strings.Join(automation.Names, ", "))
		return
	}

	user := caller(r)
	o := automation.Origin{UserID: user, Conversation: core.Conversation{Channel: WebChannel,
		ChatID: core.ChatID(user)}}

	text := body.Text
	if line := a.cfg.Automations.Rewrite(r.Context(), o, name, text,
		a.cfg.Clock.Now()); line != "" {
		text = line
	}

	var reply string

	err := a.cfg.DB.RunInTx(r.Context(), nil, func(ctx context.Context, tx bun.Tx) error {
		var err error
		reply, err = a.cfg.Automations.Do(ctx, tx, o, name, text, a.cfg.Clock.Now())

		return err
	})

	var pe *when.Error
	if errors.As(err, &pe) {
		wire.Invalid(w, "text", pe.Reason+". For example: "+pe.Example)
		return
	}

	if err != nil {
		a.fail(w, "automation command", err)
		return
	}

	wire.WriteJSON(w, http.StatusOK, map[string]string{"command": name, "reply": reply})
}

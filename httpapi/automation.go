package httpapi

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

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

// automationItem is one automation in GET /api/agent/automation.
type automationItem struct {
	ID          int64      `json:"id"`
	Kind        string     `json:"kind"`
	Text        string     `json:"text"`
	Description string     `json:"description"`
	Status      string     `json:"status"`
	NextRunAt   *time.Time `json:"next_run_at"`
	NextRun     string     `json:"next_run"`
	LastRunAt   *time.Time `json:"last_run_at"`
	LastResult  string     `json:"last_result"`
}

// automationList is the answer of GET /api/agent/automation.
type automationList struct {
	TimeZone    string           `json:"time_zone"`
	Automations []automationItem `json:"automations"`
}

// handleListAutomations lists the caller's active and paused automations
// of the web channel, with their times in the caller's zone; /status in
// the dashboard's chat lists the same.
func (a *API) handleListAutomations(w http.ResponseWriter, r *http.Request) {
	if a.cfg.Automations == nil {
		wire.WriteError(w, http.StatusNotImplemented, wire.Error{Code: wire.CodeNotBuilt,
			Message: "automations are not running in this gateway"})

		return
	}

	all, zone, err := a.cfg.Automations.List(r.Context(), a.cfg.DB, webOrigin(caller(r)))
	if err != nil {
		a.fail(w, "list automations", err)
		return
	}

	out := automationList{TimeZone: zone.String(), Automations: make([]automationItem, 0,
		len(all))}

	for i := range all {
		au := &all[i]
		item := automationItem{ID: au.ID, Kind: au.Kind, Text: au.Text,
			Description: automation.Describe(au, zone), Status: au.Status,
			LastResult: au.LastResult}

		if !au.NextRunAt.IsZero() {
			next := au.NextRunAt.Time.UTC()
			item.NextRunAt, item.NextRun = &next, next.In(zone).Format(automation.TimeFormat)
		}

		if !au.LastRunAt.IsZero() {
			last := au.LastRunAt.Time.UTC()
			item.LastRunAt = &last
		}

		out.Automations = append(out.Automations, item)
	}

	wire.WriteJSON(w, http.StatusOK, out)
}

// webOrigin is where automations of the caller made through the API
// belong: their web chat.
func webOrigin(user core.UserID) automation.Origin {
	return automation.Origin{UserID: user, Conversation: core.Conversation{Channel: WebChannel,
		ChatID: core.ChatID(user)}}
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

	o := webOrigin(caller(r))

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

package automation

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/switchboardhq/switchboard/core"
	"github.com/switchboardhq/switchboard/core/agent"
	"github.com/switchboardhq/switchboard/core/automation/when"
)

// Rewriter turns a phrase the parser could not read into one of the forms
// it reads, or answers "" when it cannot either.
type Rewriter func(ctx context.Context, kind, text string, now time.Time,
	zone *time.Location) (string, error)

// forms are the phrases a rewrite may produce, per kind.
var forms = map[string]string{
	KindRemind: "in N minutes to WHAT\nin N hours to WHAT\n" +
		"on YYYY-MM-DD at HH:MM to WHAT",
	KindSchedule: "every day at HH:MM TASK\nevery weekday at HH:MM TASK\n" +
		"every monday at HH:MM TASK (any day name)\nevery N hours TASK\n" +
		"every N minutes TASK\nat \"MIN HOUR DAY MONTH WEEKDAY\" TASK (5-field cron)",
	KindTrigger: "when a message contains \"WORD\" then remind me in N minutes\n" +
		"when a message contains \"WORD\" then say \"TEXT\"",
}

// ModelRewriter asks the model of the responder that current returns for
// one of the forms the parser reads; current returns nil while no model
// is configured. The answer is parsed like anything typed, so a model
// cannot set up what a person could not.
func ModelRewriter(current func() agent.Responder) Rewriter {
	return func(ctx context.Context, kind, text string, now time.Time, zone *time.Location,
	) (string, error) {
		r := current()
		if r == nil {
			return "", nil
		}

		form := forms[kind]
		if kind == KindAutomate {
			form = forms[KindSchedule]
		}

		reply, err := r.Respond(ctx, agent.Request{
			Message: core.Inbound{Text: text, Direct: true},
			Instructions: fmt.Sprintf("Do not answer the message. It is a /%s request "+
				"that a parser could not read. It is now %s in %s. Rewrite it as one line "+
				"in exactly one of these forms, keeping the person's own words for what "+
				"to do:\n%s\nAnswer with that line only, or UNREADABLE when the message "+
				"does not say when.", kind, now.In(zone).Format("Mon 2 Jan 2006 15:04"),
				zone, form),
		})
		if err != nil {
			return "", fmt.Errorf("rewrite /%s with the model: %w", kind, err)
		}

		line := strings.Trim(strings.TrimSpace(reply.Text), "`\"")
		if line == "" || strings.Contains(line, "UNREADABLE") || strings.Contains(line, "\n") {
			return "", nil
		}

		return line, nil
	}
}

// Rewrite returns the phrase to use for a command whose text the parser
// cannot read but the configured Rewriter can turn into a form it reads;
// "" when the text reads as it is, or cannot be helped. It calls a model,
// so it runs outside any transaction.
func (e *Engine) Rewrite(ctx context.Context, o Origin, kind, text string,
	now time.Time,
) string {
	if e.cfg.Rewrite == nil || (kind != KindRemind && kind != KindSchedule &&
		kind != KindAutomate && kind != KindTrigger) {
		return ""
	}

	zoneName, err := ZoneOf(ctx, e.cfg.DB, e.cfg.AgentID, o.Conversation.Channel, o.UserID,
		e.cfg.DefaultZone)
	if err != nil {
		return ""
	}

	zone, err := time.LoadLocation(zoneName)
	if err != nil {
		zone = time.UTC
	}

	if readable(kind, text, now, zone) {
		return ""
	}

	line, err := e.cfg.Rewrite(ctx, kind, text, now, zone)
	if err != nil {
		e.log.Warn("rewrite a command with the model", "command", kind, "err", err)
		return ""
	}

	if line == "" || !readable(kind, line, now, zone) {
		return ""
	}

	e.log.Debug("command read with the model", "command", kind)

	return line
}

// readable reports whether the parser reads text for the kind.
func readable(kind, text string, now time.Time, zone *time.Location) bool {
	var err error

	switch kind {
	case KindRemind:
		_, err = when.ParseReminder(text, now, zone)
	case KindTrigger:
		_, err = when.ParseTrigger(text)
	default:
		_, err = when.ParseRecurring(text, now, zone)
	}

	return err == nil
}

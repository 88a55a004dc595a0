package automation_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/adapters/openai"
	"github.com/switchboardhq/switchboard/adapters/openai/openaitest"
	"github.com/switchboardhq/switchboard/core"
	"github.com/switchboardhq/switchboard/core/agent"
	"github.com/switchboardhq/switchboard/core/automation"
	"github.com/switchboardhq/switchboard/core/clock"
	"github.com/switchboardhq/switchboard/core/outbox"
	"github.com/switchboardhq/switchboard/core/store"
	"github.com/switchboardhq/switchboard/core/store/storetest"
)

// start is Thu 3 Dec 2026 10:15 in Berlin.
var start = time.Date(2026, 12, 3, 9, 15, 0, 0, time.UTC)

// anna's chat is where her automations answer.
var anna = automation.Origin{UserID: "anna", Conversation: core.Conversation{
	Channel: "telegram", ChatID: "anna-chat"}}

// fixture is an engine on a real database with a fake clock.
type fixture struct {
	t     *testing.T
	db    *store.DB
	clock *clock.Fake
	e     *automation.Engine
}

func newFixture(t *testing.T, kind store.Dialect, responder agent.Responder) *fixture {
	t.Helper()

	f := &fixture{t: t, db: storetest.Open(t, kind), clock: clock.NewFake(start)}
	f.e = f.engine(responder, "r1")

	return f
}

// engine returns another engine on the fixture's database and clock.
func (f *fixture) engine(responder agent.Responder, replica string) *automation.Engine {
	return automation.NewEngine(automation.Config{DB: f.db, AgentID: "a",
		DefaultZone: "Europe/Berlin", Responder: responder, ReplicaID: replica,
		Backoff: time.Minute, Clock: f.clock, Logger: slog.New(slog.DiscardHandler)})
}

// do runs a command as anna and returns the reply.
func (f *fixture) do(name, text string) string {
	f.t.Helper()

	reply, err := f.e.Command(context.Background(), f.db, anna, name, text, f.clock.Now())
	if err != nil {
		f.t.Fatalf("/%s %s: %v", name, text, err)
	}

	return reply
}

// at moves the clock to t and fires what is due.
func (f *fixture) at(t time.Time) {
	f.t.Helper()

	f.clock.Advance(t.Sub(f.clock.Now()))

	if _, err := f.e.FireDue(context.Background()); err != nil {
		f.t.Fatal(err)
	}
}

// sent returns the texts in the outbox, oldest first.
func (f *fixture) sent() []string {
	f.t.Helper()

	var rows []outbox.Message
	if err := f.db.NewSelect().Model(&rows).OrderExpr("id").Scan(context.Background()); err != nil {
		f.t.Fatal(err)
	}

	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = r.Text
	}

	return out
}

// count returns how many automations are stored.
func (f *fixture) count() int64 {
	f.t.Helper()

	n, err := f.db.NewSelect().Table("automations").Count(context.Background())
	if err != nil {
		f.t.Fatal(err)
	}

	return n
}

func TestReminderFiresOnceOnTime(t *testing.T) {
	t.Parallel()

	storetest.Each(t, func(t *testing.T, kind store.Dialect) {
		t.Parallel()

		f := newFixture(t, kind, nil)

		reply := f.do("remind", "me in 10 minutes to stretch")
		if !strings.Contains(reply, "I'll remind you") || !strings.Contains(reply, "stretch") ||
			!strings.Contains(reply, "Europe/Berlin") {
			t.Fatalf("confirmation = %q", reply)
		}

		f.at(start.Add(9*time.Minute + 59*time.Second))

		if got := f.sent(); len(got) != 0 {
			t.Fatalf("sent before it was due: %q", got)
		}

		f.at(start.Add(10 * time.Minute))
		f.at(start.Add(11 * time.Minute))

		if got := f.sent(); len(got) != 1 || got[0] != "⏰ Reminder: stretch" {
			t.Fatalf("sent %q, want the reminder once", got)
		}

		if list := f.do("status", ""); strings.Contains(list, "#1") {
			t.Fatalf("a reminder that fired is still listed: %q", list)
		}
	})
}

func TestCatchUpAfterDowntime(t *testing.T) {
	t.Parallel()

	storetest.Each(t, func(t *testing.T, kind store.Dialect) {
		t.Parallel()

		f := newFixture(t, kind, agent.Echo{})

		f.do("remind", "me in 10 minutes to stretch")
		f.do("schedule", "every day at 11:00 send me the news")
		f.do("schedule", "every day at 12:00 water the plants")
		f.do("status", "catchup 3 skip")

		// The gateway was down for three days; at start everything is
		// due at once.
		f.at(start.Add(72*time.Hour + time.Hour))

		if err := f.runWork(); err != nil {
			t.Fatal(err)
		}

		got := f.sent()
		if len(got) != 2 || !strings.HasPrefix(got[0], "⏰ Reminder: stretch") ||
			!strings.Contains(got[0], "late") || !strings.Contains(got[1], "send me the news") ||
			!strings.Contains(got[1], "late") {
			t.Fatalf("after the downtime sent %q, want the reminder and one news run, "+
				"both saying they are late, and no plants (skip)", got)
		}

		list := f.do("status", "")
		// 11:15 on Sunday: the news ran late for today and is next due
		// tomorrow; the plants skipped Saturday and are due today at noon.
		if !strings.Contains(list, "next Mon 7 Dec 11:00") ||
			!strings.Contains(list, "next Sun 6 Dec 12:00") {
			t.Fatalf("after catching up: %q", list)
		}
	})
}

// runWork starts the queued agent work and waits for it.
func (f *fixture) runWork() error {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)

	go func() { done <- f.e.Run(ctx) }()

	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		var pending int

		err := f.db.NewRaw("SELECT count(*) FROM automation_runs WHERE status = 'pending' "+
			"AND next_attempt_at <= ?", f.clock.Now().UTC()).Scan(context.Background(), &pending)
		if err != nil || pending == 0 {
			break
		}

		time.Sleep(10 * time.Millisecond)
	}

	cancel()

	return <-done
}

func TestPauseResumeCancel(t *testing.T) {
	t.Parallel()

	f := newFixture(t, store.SQLite, agent.Echo{})

	f.do("schedule", "every day at 11:00 send me the news")
	f.do("remind", "me tomorrow at 9 to call Anna")

	if r := f.do("status", "pause 1"); !strings.Contains(r, "Paused #1") {
		t.Fatalf("pause: %q", r)
	}

	f.at(start.Add(26 * time.Hour)) // past both
	_ = f.runWork()

	if got := f.sent(); len(got) != 1 || !strings.Contains(got[0], "call Anna") {
		t.Fatalf("with the schedule paused sent %q", got)
	}

	if r := f.do("status", "resume 1"); !strings.Contains(r, "Next: Sat 5 Dec 11:00") {
		t.Fatalf("resume: %q", r)
	}

	if r := f.do("status", "cancel 1"); !strings.Contains(r, "Cancelled #1") {
		t.Fatalf("cancel: %q", r)
	}

	f.at(start.Add(50 * time.Hour))
	_ = f.runWork()

	if got := f.sent(); len(got) != 1 {
		t.Fatalf("a cancelled schedule sent %q", got[1:])
	}

	for _, bad := range []string{"cancel 99", "pause x", "stop 1"} {
		if r := f.do("status", bad); !strings.Contains(r, "no automation") &&
			!strings.Contains(r, "couldn't") {
			t.Errorf("/status %s = %q", bad, r)
		}
	}

	// Another person cannot touch anna's automations.
	bob := automation.Origin{UserID: "bob", Conversation: anna.Conversation}

	r, err := f.e.Command(context.Background(), f.db, bob, "status", "cancel 2", f.clock.Now())
	if err != nil || !strings.Contains(r, "no automation #2") {
		t.Fatalf("bob cancelling anna's reminder: %q, %v", r, err)
	}
}

func TestTriggers(t *testing.T) {
	t.Parallel()

	storetest.Each(t, func(t *testing.T, kind store.Dialect) {
		t.Parallel()

		f := newFixture(t, kind, nil)
		ctx := context.Background()

		if r := f.do("trigger", `when a message contains "invoice" then say "Forward it to `+
			`accounting"`); !strings.Contains(r, "Trigger #1") {
			t.Fatalf("trigger: %q", r)
		}

		f.do("trigger", "when someone mentions deploy in this chat then remind me in 1 hour")

		msg := func(id int64, text string) core.Inbound {
			return core.Inbound{Channel: "telegram", ChatID: "anna-chat", UserID: "carl",
				UserName: "Carl", MessageID: core.MessageID(fmt.Sprint(id)), Text: text}
		}

		f.e.Observe(ctx, msg(1, "Here is the Invoice for November"), 1)
		f.e.Observe(ctx, msg(1, "Here is the Invoice for November"), 1) // seen again
		f.e.Observe(ctx, msg(2, "/status invoice"), 2)                  // a command
		f.e.Observe(ctx, msg(3, "redeploying later"), 3)                // not the word

		other := msg(4, "invoice")
		other.ChatID = "elsewhere"
		f.e.Observe(ctx, other, 4)

		got := f.sent()
		if len(got) != 1 || !strings.Contains(got[0], "Forward it to accounting") ||
			!strings.Contains(got[0], "Carl") {
			t.Fatalf("sent %q, want the invoice trigger once", got)
		}

		f.e.Observe(ctx, msg(5, "Deploy at 5?"), 5)
		f.at(start.Add(59 * time.Minute))

		if n := len(f.sent()); n != 1 {
			t.Fatalf("the deploy reminder came early")
		}

		f.at(start.Add(61 * time.Minute))

		got = f.sent()
		if len(got) != 2 || !strings.Contains(got[1], "deploy") {
			t.Fatalf("an hour after the deploy message sent %q", got)
		}
	})
}

func TestBadInputStoresNothing(t *testing.T) {
	t.Parallel()

	f := newFixture(t, store.SQLite, nil)

	for _, c := range []struct{ name, text string }{
		{"remind", "me on 2020-01-01 at 10:00 to renew the passport"},
		{"remind", "me on 31 February at 10:00 to party"},
		{"remind", "me in 5 minutes"},
		{"schedule", `at "0 0 9 * * 1" send the report`},
		{"trigger", ""},
		{"timezone", "Mars/Olympus_Mons"},
	} {
		r := f.do(c.name, c.text)
		if !strings.Contains(r, "couldn't") || !strings.Contains(r, "For example") {
			t.Errorf("/%s %s = %q, want a refusal with an example", c.name, c.text, r)
		}
	}

	if n := f.count(); n != 0 {
		t.Fatalf("refused commands stored %d automations", n)
	}
}

func TestFailingWorkIsRetriedThenReported(t *testing.T) {
	t.Parallel()

	srv := openaitest.NewServer(t)
	for range 3 {
		srv.Push(openaitest.ErrorReply(401, "invalid_api_key", "Incorrect API key"))
	}

	loop, err := agent.NewLoop(agent.LoopConfig{
		Provider: openai.New(openai.Config{BaseURL: srv.URL()}),
		Models:   []agent.Model{{Name: "m"}},
		Logger:   slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}

	f := newFixture(t, store.SQLite, loop)
	f.do("automate", "every day at 11:00 summarise https://example.org/feed")

	f.at(time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)) // 11:00 in Berlin
	_ = f.runWork()

	if n := len(srv.Requests()); n != 1 || len(f.sent()) != 0 {
		t.Fatalf("first try: %d model calls, sent %q", n, f.sent())
	}

	f.at(f.clock.Now().Add(time.Minute)) // first backoff
	_ = f.runWork()
	f.at(f.clock.Now().Add(2 * time.Minute)) // doubled
	_ = f.runWork()

	got := f.sent()
	if len(srv.Requests()) != 3 || len(got) != 1 || !strings.Contains(got[0], "failed after 3") {
		t.Fatalf("after three tries: %d calls, sent %q", len(srv.Requests()), got)
	}
}

// TestReplicasFireEachOccurrenceOnce runs two engines on one PostgreSQL
// database against the same due reminders.
func TestReplicasFireEachOccurrenceOnce(t *testing.T) {
	t.Parallel()

	f := newFixture(t, store.Postgres, nil)
	other := f.engine(nil, "r2")

	for i := range 200 {
		f.do("remind", fmt.Sprintf("me in %d seconds to do task %d", 30+i%30, i))
	}

	f.clock.Advance(2 * time.Minute)

	var wg sync.WaitGroup

	for _, e := range []*automation.Engine{f.e, other} {
		wg.Go(func() {
			if _, err := e.FireDue(context.Background()); err != nil {
				t.Error(err)
			}
		})
	}

	wg.Wait()

	got := f.sent()
	seen := make(map[string]int)

	for _, text := range got {
		seen[text]++
	}

	if len(got) != 200 || len(seen) != 200 {
		t.Fatalf("two replicas sent %d messages, %d different; want 200 once each",
			len(got), len(seen))
	}
}

// TestModelReadsWhatTheParserCannot rewrites a phrase with the model into
// a form the parser reads; what the model answers is parsed like anything
// typed, and an answer the parser cannot read either is refused.
func TestModelReadsWhatTheParserCannot(t *testing.T) {
	t.Parallel()

	srv := openaitest.NewServer(t)

	loop, err := agent.NewLoop(agent.LoopConfig{
		Provider: openai.New(openai.Config{BaseURL: srv.URL()}),
		Models:   []agent.Model{{Name: "m"}},
		Logger:   slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}

	f := newFixture(t, store.SQLite, nil)
	f.e = automation.NewEngine(automation.Config{DB: f.db, AgentID: "a",
		DefaultZone: "Europe/Berlin", Clock: f.clock, Logger: slog.New(slog.DiscardHandler),
		Rewrite: automation.ModelRewriter(func() agent.Responder { return loop })})

	ctx := context.Background()
	vague := "the dentist thing, first thing after breakfast on the day I come back"

	srv.Push(openaitest.TextReply("on 2026-12-04 at 09:00 to call the dentist"))

	line := f.e.Rewrite(ctx, anna, "remind", vague, f.clock.Now())
	if line != "on 2026-12-04 at 09:00 to call the dentist" {
		t.Fatalf("rewrite = %q", line)
	}

	if prompt := srv.Requests()[0].Messages[0].Content; !strings.Contains(prompt,
		"on YYYY-MM-DD at HH:MM to WHAT") || !strings.Contains(prompt, "Europe/Berlin") {
		t.Fatalf("the model was asked %q", prompt)
	}

	if r := f.do("remind", line); !strings.Contains(r, "Fri 4 Dec 2026 at 09:00") {
		t.Fatalf("confirmation = %q", r)
	}

	// A phrase the parser reads needs no model.
	if line := f.e.Rewrite(ctx, anna, "remind", "me in 5 minutes to stretch",
		f.clock.Now()); line != "" || len(srv.Requests()) != 1 {
		t.Fatalf("a readable phrase was rewritten to %q", line)
	}

	for _, answer := range []string{"UNREADABLE", "next blue moon to party"} {
		srv.Push(openaitest.TextReply(answer))

		if line := f.e.Rewrite(ctx, anna, "remind", vague, f.clock.Now()); line != "" {
			t.Fatalf("model answer %q gave %q, want nothing", answer, line)
		}
	}
}

package pipeline_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/switchboardhq/switchboard/core"
	"github.com/switchboardhq/switchboard/core/access"
	"github.com/switchboardhq/switchboard/core/agent"
	"github.com/switchboardhq/switchboard/core/command"
	"github.com/switchboardhq/switchboard/core/pipeline"
	"github.com/switchboardhq/switchboard/core/store"
	"github.com/switchboardhq/switchboard/core/store/storetest"
)

func TestRedeliveredMessageGetsOneAnswer(t *testing.T) {
	t.Parallel()

	storetest.Each(t, func(t *testing.T, kind store.Dialect) {
		t.Parallel()

		h := newHarness(t, kind)
		msg := direct(owner, 1, "hello")

		for range 5 {
			h.deliver(msg)
		}

		got := h.waitSent(1)
		h.quiet(1, 300*time.Millisecond)

		if got[0].Text != "hello" || got[0].ReplyTo != "1" {
			t.Fatalf("answer = %+v, want echo of hello replying to 1", got[0].Outgoing)
		}

		if n := testutil.ToFloat64(h.metrics.Deduplicated.WithLabelValues(string(channel))); n != 4 {
			t.Fatalf("deduplicated counter = %v, want 4", n)
		}

		if n := h.count("SELECT count(*) FROM inbound_messages"); n != 1 {
			t.Fatalf("stored %d inbound rows, want 1", n)
		}
	})
}

func TestOrderWithinSession(t *testing.T) {
	t.Parallel()

	storetest.Each(t, func(t *testing.T, kind store.Dialect) {
		t.Parallel()

		var calls atomic.Int64

		slow := responderFunc(func(_ context.Context, req agent.Request) (agent.Reply, error) {
			// Earlier messages take longer, so any parallelism would
			// reorder the answers.
			n := calls.Add(1)
			time.Sleep(time.Duration(20-n%20) * time.Millisecond)

			return agent.Reply{Text: req.Message.Text}, nil
		})

		h := newHarness(t, kind, withOptions(func(o *pipeline.Options) { o.Responder = slow }))

		const n = 20
		for i := range n {
			h.deliver(direct(owner, i, fmt.Sprintf("m%02d", i)))
		}

		got := h.waitSent(n)
		for i, s := range got {
			if want := fmt.Sprintf("m%02d", i); s.Text != want {
				t.Fatalf("answer %d = %q, want %q (all: %v)", i, s.Text, want, texts(got))
			}
		}

		turns := h.count("SELECT count(*) FROM turns")
		if turns != 2*n {
			t.Fatalf("transcript has %d turns, want %d", turns, 2*n)
		}
	})
}

func TestSessionsRunInParallelUpToTheBound(t *testing.T) {
	t.Parallel()

	storetest.Each(t, func(t *testing.T, kind store.Dialect) {
		t.Parallel()

		const bound = 3

		var (
			mu       sync.Mutex
			running  int
			peak     int
			reached  bool
			release  = make(chan struct{})
			reachedN = make(chan struct{})
		)

		blocking := responderFunc(func(ctx context.Context, req agent.Request) (agent.Reply, error) {
			mu.Lock()
			running++
			peak = max(peak, running)
			// Released responders finish one by one, so the bound can
			// be reached again; the channel is closed once.
			if running == bound && !reached {
				reached = true
				close(reachedN)
			}
			mu.Unlock()

			select {
			case <-release:
			case <-ctx.Done():
			}

			mu.Lock()
			running--
			mu.Unlock()

			return agent.Reply{Text: req.Message.Text}, nil
		})

		h := newHarness(t, kind, withOptions(func(o *pipeline.Options) {
			o.Responder = blocking
			o.MaxParallel = bound
		}))

		for i := range 6 {
			msg := direct(owner, i, fmt.Sprintf("chat %d", i))
			msg.ChatID = core.ChatID(fmt.Sprintf("chat-%d", i))
			h.deliver(msg)
		}

		select {
		case <-reachedN:
		case <-time.After(10 * time.Second):
			t.Fatalf("sessions never ran %d at once", bound)
		}

		time.Sleep(100 * time.Millisecond)
		close(release)
		h.waitSent(6)

		if peak != bound {
			t.Fatalf("peak parallel sessions = %d, want %d", peak, bound)
		}
	})
}

func TestMessageQueuedWhileSessionBusy(t *testing.T) {
	t.Parallel()

	storetest.Each(t, func(t *testing.T, kind store.Dialect) {
		t.Parallel()

		started := make(chan string, 10)
		release := make(chan struct{})

		blocking := responderFunc(func(ctx context.Context, req agent.Request) (agent.Reply, error) {
			started <- req.Message.Text
			if req.Message.Text == "first" {
				<-release
			}

			return agent.Reply{Text: "re: " + req.Message.Text}, nil
		})

		h := newHarness(t, kind, withOptions(func(o *pipeline.Options) { o.Responder = blocking }))

		h.deliver(direct(owner, 1, "first"))

		if got := <-started; got != "first" {
			t.Fatalf("first responder call got %q", got)
		}

		h.deliver(direct(owner, 2, "second"))
		h.deliver(direct(owner, 3, "third"))

		select {
		case got := <-started:
			t.Fatalf("responder started %q while the session was busy", got)
		case <-time.After(200 * time.Millisecond):
		}

		close(release)

		got := h.waitSent(3)
		want := []string{"re: first", "re: second", "re: third"}

		if strings.Join(texts(got), "|") != strings.Join(want, "|") {
			t.Fatalf("answers = %v, want %v", texts(got), want)
		}

		// The history the responder sees grows with the session.
		var history int
		for range 1 {
			history = h.count("SELECT count(*) FROM turns")
		}

		if history != 6 {
			t.Fatalf("transcript has %d turns, want 6", history)
		}
	})
}

func TestPairing(t *testing.T) {
	t.Parallel()

	storetest.Each(t, func(t *testing.T, kind store.Dialect) {
		t.Parallel()

		h := newHarness(t, kind)

		h.deliver(direct("stranger", 1, "hi"))
		got := h.waitSent(1)
		code := pairingCode(t, got[0].Text)

		h.deliver(direct("stranger", 2, "hello?"))
		got = h.waitSent(2)

		if again := pairingCode(t, got[1].Text); again != code {
			t.Fatalf("second message got code %s, want the same %s", again, code)
		}

		for i, u := range []core.UserID{"s2", "s3"} {
			h.deliver(direct(u, 10+i, "hi"))
		}

		got = h.waitSent(4)
		for _, s := range got[2:] {
			pairingCode(t, s.Text)
		}

		h.deliver(direct("s4", 20, "hi"))
		got = h.waitSent(5)

		if !strings.Contains(got[4].Text, "can't take more pairing requests") {
			t.Fatalf("fourth stranger got %q, want a refusal", got[4].Text)
		}

		if n := h.count("SELECT count(*) FROM pairing_requests"); n != 3 {
			t.Fatalf("%d pairing requests stored, want 3", n)
		}

		approve(t, h, code)

		h.deliver(direct("stranger", 3, "now?"))
		got = h.waitSent(6)

		if got[5].Text != "now?" {
			t.Fatalf("approved user got %q, want the agent's echo", got[5].Text)
		}

		h.deliver(direct("s4", 21, "and me?"))
		got = h.waitSent(7)
		pairingCode(t, got[6].Text) // a slot came free
	})
}

func approve(t *testing.T, h *harness, code string) {
	t.Helper()

	ctx := context.Background()
	tx, err := h.db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}

	if _, err := access.Approve(ctx, tx, "default", strings.ToLower(code),
		time.Now().UTC()); err != nil {
		t.Fatalf("approve %s: %v", code, err)
	}

	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

func pairingCode(t *testing.T, text string) string {
	t.Helper()

	_, after, ok := strings.Cut(text, "bot pair approve ")
	if !ok || len(after) != 8 {
		t.Fatalf("reply %q carries no pairing code", text)
	}

	return after
}

func TestPairingCodeExpires(t *testing.T) {
	t.Parallel()

	storetest.Each(t, func(t *testing.T, kind store.Dialect) {
		t.Parallel()

		clk := newClock()
		h := newHarness(t, kind, withOptions(func(o *pipeline.Options) { o.Clock = clk }))

		h.deliver(direct("stranger", 1, "hi"))
		first := pairingCode(t, h.waitSent(1)[0].Text)

		clk.Advance(access.PairingTTL + time.Minute)

		ctx := context.Background()
		_, err := access.Approve(ctx, h.db, "default", first, clk.Now())
		if !errors.Is(err, access.ErrExpiredCode) {
			t.Fatalf("approve expired code: err = %v, want ErrExpiredCode", err)
		}

		h.deliver(direct("stranger", 2, "hi again"))
		second := pairingCode(t, h.waitSent(2)[1].Text)

		if second == first {
			t.Fatalf("expired code %s was handed out again", first)
		}
	})
}

func TestGroupGating(t *testing.T) {
	t.Parallel()

	group := func(user core.UserID, id int, text string, mentioned, reply bool) core.Inbound {
		return core.Inbound{
			ChatID:       "group-1",
			UserID:       user,
			MessageID:    core.MessageID(fmt.Sprint(id)),
			Text:         text,
			Mentioned:    mentioned,
			ReplyToAgent: reply,
		}
	}

	storetest.Each(t, func(t *testing.T, kind store.Dialect) {
		t.Parallel()

		t.Run("mention", func(t *testing.T) {
			t.Parallel()

			h := newHarness(t, kind)

			h.deliver(group(owner, 1, "chatter", false, false))
			h.deliver(group("stranger", 2, "@bot hi", true, false))
			h.deliver(group(owner, 3, "@bot mentioned", true, false))
			h.deliver(group(owner, 4, "replied", false, true))

			got := h.waitSent(2)
			h.quiet(2, 300*time.Millisecond)

			if got[0].Text != "@bot mentioned" || got[1].Text != "replied" {
				t.Fatalf("group answers = %v", texts(got))
			}

			if n := h.count("SELECT count(*) FROM pairing_requests"); n != 0 {
				t.Fatalf("a group message created %d pairing requests", n)
			}
		})

		t.Run("all", func(t *testing.T) {
			t.Parallel()

			h := newHarness(t, kind, withOptions(func(o *pipeline.Options) {
				o.GroupReply = access.GroupReplyAll
			}))

			h.deliver(group(owner, 1, "chatter", false, false))
			h.deliver(group("stranger", 2, "me too", false, false))

			got := h.waitSent(1)
			h.quiet(1, 300*time.Millisecond)

			if got[0].Text != "chatter" {
				t.Fatalf("group answers = %v", texts(got))
			}
		})
	})
}

func TestOutboxRetriesAfterFailedSend(t *testing.T) {
	t.Parallel()

	storetest.Each(t, func(t *testing.T, kind store.Dialect) {
		t.Parallel()

		h := newHarness(t, kind)
		h.a.FailNext(errors.New("connection reset"), errors.New("502 bad gateway"))

		h.deliver(direct(owner, 1, "try hard"))
		got := h.waitSent(1)

		if got[0].Text != "try hard" || got[0].Attempt != 3 {
			t.Fatalf("sent %+v, want the answer on attempt 3", got[0].Outgoing)
		}

		h.eventually("outbox row marked sent with the platform id", func() bool {
			return h.count("SELECT count(*) FROM outbox WHERE status = 'sent' AND "+
				"platform_message_id = ?", got[0].PlatformID) == 1
		})
	})
}

func TestOutboxHonoursRetryAfter(t *testing.T) {
	t.Parallel()

	storetest.Each(t, func(t *testing.T, kind store.Dialect) {
		t.Parallel()

		h := newHarness(t, kind)
		h.a.FailNext(core.RetryAfter(700*time.Millisecond, errors.New("429 too many requests")),
			core.RetryAfter(100*time.Millisecond, errors.New("429 too many requests")),
			core.RetryAfter(100*time.Millisecond, errors.New("429 too many requests")))

		start := time.Now()

		h.deliver(direct(owner, 1, "slow down"))
		h.deliver(direct(owner, 2, "after that"))

		got := h.waitSent(2)

		if waited := got[0].At.Sub(start); waited < 900*time.Millisecond {
			t.Fatalf("answer sent after %v, want at least the 900ms asked for", waited)
		}

		// Waits asked for by the platform do not use up attempts: three
		// of them exceed MaxAttempts (3) and the message still goes.
		if got[0].Text != "slow down" || got[1].Text != "after that" {
			t.Fatalf("answers = %v, want both in order", texts(got))
		}
	})
}

func TestOutboxGivesUpAfterBound(t *testing.T) {
	t.Parallel()

	storetest.Each(t, func(t *testing.T, kind store.Dialect) {
		t.Parallel()

		h := newHarness(t, kind)
		h.a.FailNext(errors.New("e1"), errors.New("e2"), errors.New("e3"),
			core.Undeliverable(errors.New("chat not found")))

		h.deliver(direct(owner, 1, "doomed"))
		h.deliver(direct(owner, 2, "also doomed"))
		h.deliver(direct(owner, 3, "fine"))

		got := h.waitSent(1)
		if got[0].Text != "fine" {
			t.Fatalf("sent %q, want only the third answer", got[0].Text)
		}

		h.eventually("two rows marked failed and counted", func() bool {
			failed := testutil.ToFloat64(h.metrics.Failed.WithLabelValues(string(channel)))

			return failed == 2 &&
				h.count("SELECT count(*) FROM outbox WHERE status = 'failed'") == 2
		})

		var lastError string
		if err := h.db.NewRaw("SELECT last_error FROM outbox WHERE attempts = 3").
			Scan(context.Background(), &lastError); err != nil || lastError != "e3" {
			t.Fatalf("last_error of the exhausted row = %q (%v), want e3", lastError, err)
		}
	})
}

func TestSplitting(t *testing.T) {
	t.Parallel()

	storetest.Each(t, func(t *testing.T, kind store.Dialect) {
		t.Parallel()

		h := newHarness(t, kind, withLimit(100))

		para := strings.Repeat("word ", 15) // 75 characters
		text := para + "\n\n" + para + "\n\n" + strings.Repeat("é", 150)

		h.deliver(direct(owner, 1, text))
		got := h.waitSent(4)

		var joined []string
		for i, s := range got {
			if n := len([]rune(s.Text)); n > 100 {
				t.Fatalf("part %d has %d characters, limit 100", i+1, n)
			}

			if s.Part != i+1 || s.Parts != 4 {
				t.Fatalf("part %d is numbered %d of %d", i+1, s.Part, s.Parts)
			}

			joined = append(joined, s.Text)
		}

		if got[0].Text != para || got[1].Text != para {
			t.Fatalf("first parts %q, %q: want a cut at each paragraph", got[0].Text, got[1].Text)
		}

		if strings.Join(joined, "") != strings.ReplaceAll(text, "\n\n", "") {
			t.Fatalf("parts lose or add text")
		}
	})
}

func TestBadInput(t *testing.T) {
	t.Parallel()

	storetest.Each(t, func(t *testing.T, kind store.Dialect) {
		t.Parallel()

		h := newHarness(t, kind)
		ctx := context.Background()

		cases := []struct {
			name  string
			msg   core.Inbound
			field string
		}{
			{"empty", direct(owner, 1, "   "), "text"},
			{"too long", direct(owner, 2, strings.Repeat("a", core.MaxTextBytes+1)), "text"},
			{"no chat", core.Inbound{UserID: owner, MessageID: "3", Text: "x"}, "chat_id"},
			{"bad utf8", direct(owner, 4, "a\xffb"), "text"},
			{"unknown channel", core.Inbound{Channel: "fax", ChatID: "c", UserID: owner,
				MessageID: "5", Text: "x"}, "channel"},
		}

		for _, tc := range cases {
			err := h.a.Deliver(ctx, tc.msg)

			var ie *core.InputError
			if !errors.As(err, &ie) || ie.Field != tc.field {
				t.Errorf("%s: err = %v, want an input error on %s", tc.name, err, tc.field)
			}
		}

		if n := h.count("SELECT count(*) FROM inbound_messages"); n != 0 {
			t.Fatalf("bad input stored %d rows", n)
		}

		h.deliver(direct(owner, 9, strings.Repeat("a", core.MaxTextBytes)))
		h.waitSent(1)
	})
}

func TestCommands(t *testing.T) {
	t.Parallel()

	storetest.Each(t, func(t *testing.T, kind store.Dialect) {
		t.Parallel()

		h := newHarness(t, kind)

		h.deliver(direct(owner, 1, "remember this"))
		h.deliver(direct(owner, 2, "/status"))
		h.deliver(direct(owner, 3, "/frobnicate now"))
		h.deliver(direct(owner, 4, "/help@testbot"))
		h.deliver(direct(owner, 5, "/new"))
		h.deliver(direct(owner, 6, "/status"))

		got := h.waitSent(6)

		checks := []struct {
			i    int
			want string
		}{
			{1, `"remember this": 2 messages`},
			{2, "I don't know /frobnicate. I know: /help, /new, /status."},
			{3, "/new - Start a fresh session"},
			{4, "Started a fresh session (#2)"},
			{5, `Session #2 "untitled": 0 messages`},
		}

		for _, c := range checks {
			if !strings.Contains(got[c.i].Text, c.want) {
				t.Errorf("reply %d = %q, want it to contain %q", c.i, got[c.i].Text, c.want)
			}
		}

		if n := h.count("SELECT count(*) FROM sessions WHERE status = 'completed'"); n != 1 {
			t.Fatalf("%d completed sessions after /new, want 1", n)
		}
	})
}

func TestRestartPicksUpStoredMessages(t *testing.T) {
	t.Parallel()

	storetest.Each(t, func(t *testing.T, kind store.Dialect) {
		t.Parallel()

		db := storetest.Open(t, kind)
		release := make(chan struct{})

		stuck := responderFunc(func(ctx context.Context, req agent.Request) (agent.Reply, error) {
			select {
			case <-release:
			case <-ctx.Done():
			}

			return agent.Reply{Text: req.Message.Text}, nil
		})

		first := startHarness(t, db, withOptions(func(o *pipeline.Options) { o.Responder = stuck }))
		first.deliver(direct(owner, 1, "one"))
		first.deliver(direct(owner, 2, "two"))
		first.shutdown()

		if n := len(first.a.Sent()); n != 0 {
			t.Fatalf("stopped pipeline sent %d answers", n)
		}

		second := startHarness(t, db)
		got := second.waitSent(2)

		if got[0].Text != "one" || got[1].Text != "two" {
			t.Fatalf("answers after restart = %v", texts(got))
		}
	})
}

func TestStopLetsSendUnderWayFinish(t *testing.T) {
	t.Parallel()

	storetest.Each(t, func(t *testing.T, kind store.Dialect) {
		t.Parallel()

		h := newHarness(t, kind)
		entered := make(chan struct{})
		release := make(chan struct{})

		h.a.OnSend(func(core.Outgoing) {
			close(entered)
			<-release
		})

		h.deliver(direct(owner, 1, "in flight"))
		<-entered

		stopped := make(chan struct{})

		go func() {
			h.shutdown()
			close(stopped)
		}()

		time.Sleep(200 * time.Millisecond)
		close(release)
		<-stopped

		if got := h.a.Sent(); len(got) != 1 {
			t.Fatalf("sent %d messages, want the one under way", len(got))
		}

		// Recorded as sent despite the stop, so the next start does not
		// send it again.
		if n := h.count("SELECT count(*) FROM outbox WHERE status = 'sent'"); n != 1 {
			t.Fatalf("%d rows marked sent after the stop, want 1", n)
		}
	})
}

func TestTypingShownOnlyWhileTheResponderTakesLong(t *testing.T) {
	t.Parallel()

	storetest.Each(t, func(t *testing.T, kind store.Dialect) {
		t.Parallel()

		slow := responderFunc(func(_ context.Context, req agent.Request) (agent.Reply, error) {
			if req.Message.Text == "slow" {
				time.Sleep(300 * time.Millisecond)
			}

			return agent.Reply{Text: req.Message.Text}, nil
		})

		h := newHarness(t, kind, withOptions(func(o *pipeline.Options) {
			o.Responder = slow
			o.TypingDelay = 50 * time.Millisecond
		}))

		h.deliver(direct(owner, 1, "fast"))
		h.waitSent(1)

		if n := h.a.Typing(); n != 0 {
			t.Fatalf("a quick answer showed typing %d times", n)
		}

		h.deliver(direct(owner, 2, "slow"))
		h.waitSent(2)

		if n := h.a.Typing(); n != 1 {
			t.Fatalf("a 300 ms answer showed typing %d times, want once", n)
		}
	})
}

// TestMaxParallelChangesWhileRunning raises the bound while sessions wait
// and lowers it again, without a restart.
func TestMaxParallelChangesWhileRunning(t *testing.T) {
	t.Parallel()

	var (
		mu      sync.Mutex
		running int
		peak    int
		release = make(chan struct{})
	)

	now := func() int {
		mu.Lock()
		defer mu.Unlock()

		return running
	}

	blocking := responderFunc(func(ctx context.Context, req agent.Request) (agent.Reply, error) {
		mu.Lock()
		running++
		peak = max(peak, running)
		mu.Unlock()

		select {
		case <-release:
		case <-ctx.Done():
		}

		mu.Lock()
		running--
		mu.Unlock()

		return agent.Reply{Text: req.Message.Text}, nil
	})

	h := newHarness(t, store.SQLite, withOptions(func(o *pipeline.Options) {
		o.Responder = blocking
		o.MaxParallel = 2
	}))

	for i := range 6 {
		msg := direct(owner, i, fmt.Sprintf("chat %d", i))
		msg.ChatID = core.ChatID(fmt.Sprintf("chat-%d", i))
		h.deliver(msg)
	}

	waitFor := func(n int) {
		t.Helper()

		deadline := time.Now().Add(10 * time.Second)
		for now() != n {
			if time.Now().After(deadline) {
				t.Fatalf("%d sessions run at once, want %d", now(), n)
			}

			time.Sleep(5 * time.Millisecond)
		}
	}

	waitFor(2)
	h.p.SetMaxParallel(5)
	waitFor(5)

	time.Sleep(100 * time.Millisecond)

	if got := now(); got != 5 {
		t.Fatalf("%d sessions run at once after raising the bound to 5", got)
	}

	h.p.SetMaxParallel(1)
	close(release)
	h.waitSent(6)

	mu.Lock()
	peak = 0
	mu.Unlock()

	release = make(chan struct{})

	for i := range 3 {
		msg := direct(owner, 10+i, fmt.Sprintf("later %d", i))
		msg.ChatID = core.ChatID(fmt.Sprintf("later-%d", i))
		h.deliver(msg)
	}

	waitFor(1)
	time.Sleep(100 * time.Millisecond)
	close(release)
	h.waitSent(9)

	if peak != 1 {
		t.Fatalf("peak after lowering the bound to 1 = %d", peak)
	}
}

// TestCommandPrepareRunsOutsideTheTransaction prepares a command before
// its transaction, for allowed senders only, and hands the result over.
func TestCommandPrepareRunsOutsideTheTransaction(t *testing.T) {
	t.Parallel()

	h := newHarness(t, store.SQLite)

	var prepared atomic.Int64

	err := h.p.Commands().Register(command.Command{
		Name: "slow", Description: "Prepared slowly",
		Prepare: func(_ context.Context, call command.Call) (string, error) {
			prepared.Add(1)

			return "prepared " + call.Args, nil
		},
		Handle: func(_ context.Context, call command.Call) (string, error) {
			return "handled with " + call.Prepared, nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}

	h.deliver(direct(owner, 1, "/slow thing"))
	h.deliver(direct("stranger", 2, "/slow thing"))

	got := h.waitSent(2)
	if got[0].Text != "handled with prepared thing" || !strings.Contains(got[1].Text, "pair") {
		t.Fatalf("answers %q, %q", got[0].Text, got[1].Text)
	}

	if n := prepared.Load(); n != 1 {
		t.Fatalf("prepared %d times, want once: not for the stranger", n)
	}
}

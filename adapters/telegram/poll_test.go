package telegram_test

import (
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/adapters/telegram"
	"github.com/switchboardhq/switchboard/adapters/telegram/telegramtest"
	"github.com/switchboardhq/switchboard/core"
)

func TestPollingReceivesPrivateMessage(t *testing.T) {
	t.Parallel()

	s := telegramtest.NewServer(t)
	a := newAdapter(t, s)
	sk := newSink()
	run(t, a, sk)

	u := s.Private(42, "Ada", "hello there")
	id := s.Push(u)

	got := sk.wait(t, 1)[0]
	want := core.Inbound{
		Channel:   core.ChannelTelegram,
		ChatID:    "42",
		UserID:    "42",
		MessageID: core.MessageID(fmt.Sprintf("42:%d", u.Message.MessageID)),
		UserName:  "Ada",
		Text:      "hello there",
		Direct:    true,
		SentAt:    time.Unix(u.Message.Date, 0).UTC(),
	}

	if !reflect.DeepEqual(got, want) {
		t.Fatalf("received\n%+v\nwant\n%+v", got, want)
	}

	// The next poll confirms the update; Telegram then forgets it.
	eventually(t, "the update is confirmed", func() bool {
		return lastOffset(s) == id+1 && len(s.Pending()) == 0
	})

	h := a.Health()
	if !h.Connected || h.LastError != "" || h.LastMessageAt.IsZero() {
		t.Fatalf("health %+v, want connected without error, with the message's time", h)
	}

	if calls := s.Calls("deleteWebhook"); len(calls) != 1 ||
		calls[0].Get("drop_pending_updates") == "true" {
		t.Fatalf("deleteWebhook calls %v, want one that keeps pending updates", calls)
	}
}

// lastOffset returns the offset of the latest getUpdates.
func lastOffset(s *telegramtest.Server) int64 {
	calls := s.Calls("getUpdates")
	if len(calls) == 0 {
		return 0
	}

	n, _ := strconv.ParseInt(calls[len(calls)-1].Get("offset"), 10, 64)

	return n
}

func TestPollingRedeliversWhatWasNotStored(t *testing.T) {
	t.Parallel()

	s := telegramtest.NewServer(t)
	a := newAdapter(t, s)
	sk := newSink()
	sk.failNext(errors.New("database is down"))
	run(t, a, sk)

	first, second := s.Private(42, "Ada", "first"), s.Private(42, "Ada", "second")
	s.Push(first)
	s.Push(second)

	got := sk.wait(t, 2)
	if got[0].Text != "first" || got[1].Text != "second" {
		t.Fatalf("received %q then %q, want first then second", got[0].Text, got[1].Text)
	}

	// The failed update came again from Telegram: it was not confirmed.
	firstID := core.MessageID(fmt.Sprintf("42:%d", first.Message.MessageID))
	if n := sk.receives(firstID); n != 2 {
		t.Fatalf("first message given to Receive %d times, want 2 (failed, then stored)", n)
	}

	eventually(t, "health recovers", func() bool {
		h := a.Health()
		return h.Connected && h.LastError == ""
	})
}

func TestPollingSkipsRefusedAndEditedMessages(t *testing.T) {
	t.Parallel()

	s := telegramtest.NewServer(t)
	a := newAdapter(t, s)
	sk := newSink()
	sk.failNext(&core.InputError{Field: "text", Rule: "must be valid UTF-8"})
	run(t, a, sk)

	refused := s.Private(42, "Ada", "refused by the core")
	s.Push(refused)

	kept := s.Private(42, "Ada", "kept")
	s.Push(kept)
	s.Push(s.Edited(kept, "kept, edited"))
	s.Push(s.Private(42, "Ada", "last"))

	got := sk.wait(t, 2)
	if got[0].Text != "kept" || got[1].Text != "last" {
		t.Fatalf("received %+v, want kept and last only", got)
	}

	refusedID := core.MessageID(fmt.Sprintf("42:%d", refused.Message.MessageID))
	if n := sk.receives(refusedID); n != 1 {
		t.Fatalf("refused message given to Receive %d times, want once", n)
	}

	eventually(t, "every update is confirmed", func() bool { return len(s.Pending()) == 0 })

	if got := sk.received(); len(got) != 2 {
		t.Fatalf("received %+v, want the edit ignored", got)
	}
}

func TestPollingMarksMentionsAndReplies(t *testing.T) {
	t.Parallel()

	s := telegramtest.NewServer(t)
	a := newAdapter(t, s)
	sk := newSink()
	run(t, a, sk)
	connected(t, a)

	const group, basic = -1001234567890, -4567
	bot := "@" + s.BotUsername()

	withTextMention := s.Group(group, 7, "Bea", "Testbot, text mention")
	botUser := s.Bot()
	withTextMention.Message.Entities = append(withTextMention.Message.Entities,
		telegramtest.MessageEntity{Type: "text_mention", Offset: 0, Length: 7, User: &botUser})

	cases := []struct {
		update    telegramtest.Update
		mentioned bool
		reply     bool
	}{
		{update: s.Group(group, 7, "Bea", "hello all")},
		{update: s.Group(group, 7, "Bea", bot+" hello"), mentioned: true},
		{update: s.Group(basic, 7, "Bea", "hi "+strings.ToUpper(bot)), mentioned: true},
		{update: s.Group(group, 7, "Bea", "/help"+bot), mentioned: true},
		{update: s.Group(group, 7, "Bea", "/help")},
		{update: s.Group(group, 7, "Bea", "@someone_else hi")},
		{update: s.Group(group, 7, "Bea", "/help@someone_else")},
		{update: withTextMention, mentioned: true},
		{update: s.ReplyToBot(group, 7, "a reply", 900), reply: true},
	}

	for _, c := range cases {
		s.Push(c.update)
	}

	got := sk.wait(t, len(cases))

	for i, c := range cases {
		in := got[i]
		if in.Text != c.update.Message.Text {
			t.Fatalf("message %d is %q, want %q", i, in.Text, c.update.Message.Text)
		}

		if in.Mentioned != c.mentioned || in.ReplyToAgent != c.reply || in.Direct {
			t.Errorf("%q: mentioned %v reply %v direct %v, want %v %v false", in.Text,
				in.Mentioned, in.ReplyToAgent, in.Direct, c.mentioned, c.reply)
		}
	}
}

func TestPollingDownloadsPhotos(t *testing.T) {
	t.Parallel()

	s := telegramtest.NewServer(t)
	a := newAdapter(t, s)
	sk := newSink()
	run(t, a, sk)

	small, large := telegramtest.PNG(4, 3), telegramtest.PNG(64, 48)
	s.Push(s.Photo(42, 42, "look at this", small, large))
	s.Push(s.Photo(-100555, 42, "@"+s.BotUsername()+" and this", small))

	got := sk.wait(t, 2)

	direct := got[0]
	if direct.Text != "look at this" || len(direct.Images) != 1 ||
		direct.Images[0].MIMEType != "image/png" ||
		string(direct.Images[0].Data) != string(large) {
		t.Fatalf("received %q with %d images, want the caption and the largest size as PNG",
			direct.Text, len(direct.Images))
	}

	if group := got[1]; !group.Mentioned || len(group.Images) != 1 {
		t.Fatalf("group photo: mentioned %v with %d images, want a mention in the caption",
			group.Mentioned, len(group.Images))
	}
}

func TestPollingKeepsForumTopicsApart(t *testing.T) {
	t.Parallel()

	s := telegramtest.NewServer(t)
	a := newAdapter(t, s)
	sk := newSink()
	run(t, a, sk)

	const forum = -1009876543210

	s.Push(s.Topic(forum, 11, 42, "in topic eleven"))
	s.Push(s.Topic(forum, 12, 42, "in topic twelve"))
	s.Push(s.Group(forum, 42, "Ada", "in general"))

	got := sk.wait(t, 3)
	for i, want := range []core.ThreadID{"11", "12", ""} {
		if got[i].ThreadID != want || got[i].ReplyToAgent {
			t.Fatalf("%q: thread %q reply-to-agent %v, want thread %q and no reply",
				got[i].Text, got[i].ThreadID, got[i].ReplyToAgent, want)
		}
	}

	sent, err := a.Send(t.Context(), core.Outgoing{
		To: got[0].Conversation(), Text: "answer", ReplyTo: got[0].MessageID, Part: 1, Parts: 1,
	})
	if err != nil {
		t.Fatalf("send into the topic: %v", err)
	}

	out := s.WaitSent(t, 1, 5*time.Second)[0]
	if out.ThreadID != 11 || out.ChatID != forum || out.ReplyTo == 0 ||
		sent.MessageID != core.MessageID(fmt.Sprintf("%d:%d", forum, out.MessageID)) {
		t.Fatalf("sent %s as %q, want it in topic 11, replying", out, sent.MessageID)
	}
}

func TestPollingBacksOffOnConflict(t *testing.T) {
	t.Parallel()

	s := telegramtest.NewServer(t)
	conflict := telegramtest.Fault{Status: 409}
	s.FailNext("getUpdates", conflict, conflict, conflict, conflict, conflict, conflict)

	logs := &logBuffer{}
	a := newAdapter(t, s, func(c *telegram.Config) {
		c.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	run(t, a, newSink())

	eventually(t, "the conflict shows in health", func() bool {
		return strings.Contains(a.Health().LastError, "Conflict")
	})

	time.Sleep(3500 * time.Millisecond)

	// 1 s, then 2 s: three or four polls in 3.5 s, not a tight loop.
	if n := len(s.Calls("getUpdates")); n < 2 || n > 4 {
		t.Fatalf("%d polls in 3.5 s of conflict, want 2 to 4", n)
	}

	if h := a.Health(); h.Connected {
		t.Fatalf("health %+v, want not connected during the conflict", h)
	}

	if warn := logs.lines("level=WARN", "409"); len(warn) != 1 {
		t.Fatalf("%d warnings about the conflict, want one per streak:\n%s", len(warn),
			strings.Join(warn, ""))
	}
}

func TestPollingHonoursRetryAfter(t *testing.T) {
	t.Parallel()

	s := telegramtest.NewServer(t)
	s.FailNext("getUpdates", telegramtest.Fault{Status: 429, RetryAfter: 2})

	a := newAdapter(t, s)
	run(t, a, newSink())

	start := time.Now()

	eventually(t, "the adapter polls again", func() bool {
		return len(s.Calls("getUpdates")) >= 2
	})

	if waited := time.Since(start); waited < 2*time.Second {
		t.Fatalf("polled again after %s, want the 2 s Telegram asked for", waited)
	}
}

func TestStopEndsTheLongPollAtOnce(t *testing.T) {
	t.Parallel()

	s := telegramtest.NewServer(t)
	a := newAdapter(t, s)
	stop := run(t, a, newSink())
	connected(t, a)

	time.Sleep(100 * time.Millisecond) // the long poll waits at the fake

	start := time.Now()
	stop()

	if d := time.Since(start); d > 500*time.Millisecond {
		t.Fatalf("stop took %s with a 50 s long poll open, want it cancelled", d)
	}

	if a.Health().Connected {
		t.Fatalf("health says connected after the stop")
	}
}

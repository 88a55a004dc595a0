package telegram_test

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/adapters/telegram/telegramtest"
	"github.com/switchboardhq/switchboard/core"
	"github.com/switchboardhq/switchboard/core/outbox"
)

// to42 is the private chat of user 42.
var to42 = core.Conversation{Channel: core.ChannelTelegram, ChatID: "42"}

func TestSendMapsTelegramErrors(t *testing.T) {
	t.Parallel()

	cases := []struct {
		name       string
		fault      telegramtest.Fault
		retryAfter time.Duration
		permanent  bool
	}{
		{name: "rate limited", fault: telegramtest.Fault{Status: 429, RetryAfter: 7},
			retryAfter: 7 * time.Second},
		{name: "chat not found", fault: telegramtest.Fault{Status: 400}, permanent: true},
		{name: "bot blocked", fault: telegramtest.Fault{Status: 403}, permanent: true},
		{name: "server error", fault: telegramtest.Fault{Status: 500}},
		{name: "bad gateway", fault: telegramtest.Fault{Status: 502}},
	}

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()

			s := telegramtest.NewServer(t)
			s.FailNext("sendMessage", tc.fault)
			a := newAdapter(t, s)

			_, err := a.Send(t.Context(), core.Outgoing{To: to42, Text: "hi", Part: 1, Parts: 1})
			if err == nil {
				t.Fatalf("Send succeeded, want the %d", tc.fault.Status)
			}

			se := core.SendErrorOf(err)
			if se.RetryAfter != tc.retryAfter || se.Permanent != tc.permanent {
				t.Fatalf("send error %+v, want retry_after %s permanent %v", se,
					tc.retryAfter, tc.permanent)
			}

			if h := a.Health(); !strings.Contains(h.LastError, "send") {
				t.Fatalf("health %+v, want the failed send", h)
			}

			if _, err := a.Send(t.Context(), core.Outgoing{To: to42, Text: "again"}); err != nil {
				t.Fatalf("second send: %v", err)
			}

			if h := a.Health(); h.LastError != "" {
				t.Fatalf("health %+v, want the error gone after a send went out", h)
			}
		})
	}
}

func TestSendToUnreachableServerIsRetryable(t *testing.T) {
	t.Parallel()

	s := telegramtest.NewServer(t)
	a := newAdapter(t, s)
	s.Close()

	_, err := a.Send(t.Context(), core.Outgoing{To: to42, Text: "hi"})
	if err == nil || core.SendErrorOf(err).Permanent || core.SendErrorOf(err).RetryAfter != 0 {
		t.Fatalf("Send to a closed server = %v, want a plain retryable error", err)
	}

	if strings.Contains(err.Error(), s.Token()) || strings.Contains(a.Health().LastError, s.Token()) {
		t.Fatalf("the bot token leaked into %q", err)
	}
}

func TestSendPlainTextUpToTheLimit(t *testing.T) {
	t.Parallel()

	s := telegramtest.NewServer(t)
	a := newAdapter(t, s)

	// 2048 emoji are 4096 UTF-16 units: one message, though 8192 bytes.
	text := strings.Repeat("😀", 2048)
	if n := a.CountText(text); n != a.TextLimit() || n != 4096 {
		t.Fatalf("CountText = %d, limit %d, want both 4096", n, a.TextLimit())
	}

	if parts := outbox.Split(text, a.TextLimit(), a.CountText); len(parts) != 1 {
		t.Fatalf("split into %d parts, want 1", len(parts))
	}

	if _, err := a.Send(t.Context(), core.Outgoing{To: to42, Text: text}); err != nil {
		t.Fatalf("send 4096 units: %v", err)
	}

	// One more emoji: two parts, each accepted.
	for _, part := range outbox.Split(text+" 😀", a.TextLimit(), a.CountText) {
		if _, err := a.Send(t.Context(), core.Outgoing{To: to42, Text: part}); err != nil {
			t.Fatalf("send a part: %v", err)
		}
	}

	sent := s.WaitSent(t, 3, 10*time.Second)
	if sent[0].Text != text || sent[0].ParseMode != "" {
		t.Fatalf("first message %d bytes with parse mode %q, want the text as plain text",
			len(sent[0].Text), sent[0].ParseMode)
	}
}

func TestSendRepliesWithTheFirstPartOnly(t *testing.T) {
	t.Parallel()

	s := telegramtest.NewServer(t)
	a := newAdapter(t, s)

	q := s.Private(42, "Ada", "a question")
	s.Push(q)

	replyTo := core.MessageID("42:" + itoa(q.Message.MessageID))
	for part := 1; part <= 2; part++ {
		_, err := a.Send(t.Context(), core.Outgoing{To: to42, Text: "part *" + itoa(int64(part)),
			ReplyTo: replyTo, Part: part, Parts: 2})
		if err != nil {
			t.Fatalf("send part %d: %v", part, err)
		}
	}

	// A question that is gone does not keep the answer from going out.
	_, err := a.Send(t.Context(), core.Outgoing{To: to42, Text: "late", ReplyTo: "42:999999",
		Part: 1, Parts: 1})
	if err != nil {
		t.Fatalf("send replying to a deleted message: %v", err)
	}

	sent := s.WaitSent(t, 3, 10*time.Second)
	if sent[0].ReplyTo != q.Message.MessageID || sent[1].ReplyTo != 0 {
		t.Fatalf("replies to %d and %d, want %d then none", sent[0].ReplyTo, sent[1].ReplyTo,
			q.Message.MessageID)
	}

	if sent[0].Text != "part *1" {
		t.Fatalf("text %q, want the markdown-like text unchanged", sent[0].Text)
	}
}

func TestSendPacesEachChat(t *testing.T) {
	t.Parallel()

	s := telegramtest.NewServer(t, telegramtest.WithRateLimits())
	a := newAdapter(t, s)

	start := time.Now()

	for i := range 5 {
		if _, err := a.Send(t.Context(), core.Outgoing{To: to42, Text: "n" + itoa(int64(i))}); err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
	}

	if d := time.Since(start); d < 4*time.Second {
		t.Fatalf("5 sends to one chat took %s, want at least 4 s", d)
	}

	sent := s.SentTo(42)
	for i := 1; i < len(sent); i++ {
		if gap := sent[i].At.Sub(sent[i-1].At); gap < time.Second {
			t.Fatalf("sends %d and %d arrived %s apart, want at least 1 s", i-1, i, gap)
		}
	}

	// Other chats do not wait for this one.
	start = time.Now()

	var wg sync.WaitGroup

	for chat := range 5 {
		wg.Go(func() {
			to := core.Conversation{Channel: core.ChannelTelegram, ChatID: core.ChatID(itoa(int64(100 + chat)))}
			if _, err := a.Send(t.Context(), core.Outgoing{To: to, Text: "hi"}); err != nil {
				t.Errorf("send to chat %d: %v", 100+chat, err)
			}
		})
	}

	wg.Wait()

	if d := time.Since(start); d > time.Second {
		t.Fatalf("5 sends to 5 chats took %s, want no wait", d)
	}

	if v := s.Violations(); v != 0 {
		t.Fatalf("%d sends broke Telegram's rate limits", v)
	}
}

func TestSendGivesUpItsTurnAtTheDeadline(t *testing.T) {
	t.Parallel()

	s := telegramtest.NewServer(t, telegramtest.WithRateLimits())
	a := newAdapter(t, s)

	if _, err := a.Send(t.Context(), core.Outgoing{To: to42, Text: "first"}); err != nil {
		t.Fatalf("first send: %v", err)
	}

	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()

	start := time.Now()

	_, err := a.Send(ctx, core.Outgoing{To: to42, Text: "second"})
	if se := core.SendErrorOf(err); err == nil || se.RetryAfter <= 0 || se.Permanent {
		t.Fatalf("Send = %v, want a send error that asks to come back", err)
	}

	if d := time.Since(start); d > 100*time.Millisecond {
		t.Fatalf("Send took %s, want an answer at once when the turn is past the deadline", d)
	}
}

func TestShowTypingInTheTopic(t *testing.T) {
	t.Parallel()

	s := telegramtest.NewServer(t)
	a := newAdapter(t, s)

	to := core.Conversation{Channel: core.ChannelTelegram, ChatID: "-100777", ThreadID: "5"}
	if err := a.ShowTyping(t.Context(), to); err != nil {
		t.Fatalf("ShowTyping: %v", err)
	}

	calls := s.Calls("sendChatAction")
	if len(calls) != 1 || calls[0].Get("action") != "typing" ||
		calls[0].Get("chat_id") != "-100777" || calls[0].Get("message_thread_id") != "5" {
		t.Fatalf("sendChatAction calls %v, want typing in topic 5", calls)
	}
}

func TestRegisterCommands(t *testing.T) {
	t.Parallel()

	s := telegramtest.NewServer(t)
	a := newAdapter(t, s)

	err := a.RegisterCommands(t.Context(), []core.CommandInfo{
		{Name: "help", Description: "Show what I can do"},
		{Name: "Not-A-Command", Description: "Telegram refuses this name"},
		{Name: "status"},
	})
	if err != nil {
		t.Fatalf("RegisterCommands: %v", err)
	}

	got := s.Commands()
	want := []telegramtest.BotCommand{
		{Command: "help", Description: "Show what I can do"},
		{Command: "status", Description: "status"},
	}

	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("commands %+v, want %+v", got, want)
	}

	if err := a.RegisterCommands(t.Context(), nil); err != nil {
		t.Fatalf("RegisterCommands with none: %v", err)
	}

	if calls := s.Calls("setMyCommands"); calls[len(calls)-1].Get("commands") != "[]" {
		t.Fatalf("no commands sent as %q, want []", calls[len(calls)-1].Get("commands"))
	}
}

func TestSendImageWithLongCaption(t *testing.T) {
	t.Parallel()

	s := telegramtest.NewServer(t)
	a := newAdapter(t, s)

	img := core.Image{MIMEType: "image/png", Data: telegramtest.PNG(8, 6)}
	caption := strings.Repeat("word ", 300) // 1500 units: more than a caption holds

	sent, err := a.SendImage(t.Context(), to42, img, caption)
	if err != nil {
		t.Fatalf("SendImage: %v", err)
	}

	out := s.WaitSent(t, 2, 10*time.Second)
	if out[0].Method != "sendPhoto" || string(out[0].Photo) != string(img.Data) ||
		sent.MessageID != core.MessageID("42:"+itoa(out[0].MessageID)) {
		t.Fatalf("sent %s as %q, want the photo first", out[0], sent.MessageID)
	}

	if out[1].Method != "sendMessage" ||
		strings.Join(strings.Fields(out[0].Text+" "+out[1].Text), " ") !=
			strings.TrimSpace(caption) {
		t.Fatalf("caption %d and text %d bytes, want the whole caption across both",
			len(out[0].Text), len(out[1].Text))
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/adapters/telegram/telegramtest"
)

// tgToken passes the configuration's check of a bot token.
const tgToken = "123456789:AAE-switchboard-test-token"

// tgOwner is the owner's Telegram user id, and their private chat's id.
const tgOwner = 4242

// startTelegram runs "bot serve" with the Telegram adapter against a fake
// Bot API server that enforces Telegram's rate limits.
func startTelegram(t *testing.T, env ...string) (*process, *telegramtest.Server, string) {
	t.Helper()

	tg := telegramtest.NewServer(t, telegramtest.WithToken(tgToken),
		telegramtest.WithRateLimits())
	dir := t.TempDir()

	p := startServe(t, dir, append([]string{
		"BOT_TELEGRAM_TOKEN=" + tgToken,
		"BOT_TELEGRAM_API_ENDPOINT=" + tg.URL(),
		fmt.Sprintf("BOT_ACCESS_OWNERS=telegram:%d", tgOwner),
	}, env...)...)

	return p, tg, dir
}

// texts lists the texts of sent messages.
func texts(sent []telegramtest.Sent) []string {
	out := make([]string, len(sent))
	for i, s := range sent {
		out[i] = s.Text
	}

	return out
}

// TestServeTelegram drives a real gateway through the fake Bot API: an
// owner's private message, a redelivered update, a stranger, a group with
// and without a mention, a photo, a long answer and a 429.
func TestServeTelegram(t *testing.T) {
	t.Parallel()

	p, tg, _ := startTelegram(t)

	hello := tg.Private(tgOwner, "Anna", "hello there")
	tg.Push(hello)

	if got := tg.WaitSent(t, 1, 15*time.Second); got[0].Text != "hello there" ||
		got[0].ChatID != tgOwner {
		t.Fatalf("answer = %+v", got[0])
	}

	// The same message again, as Telegram redelivers an update whose
	// confirmation was lost.
	tg.Push(hello)

	tg.Push(tg.Private(777, "Stranger", "hi"))

	sent := tg.WaitSent(t, 2, 10*time.Second)
	if !strings.Contains(sent[1].Text, "bot pair approve") || sent[1].ChatID != 777 {
		t.Fatalf("the stranger got %+v, want a pairing code", sent[1])
	}

	const group = -1001234567890

	tg.Push(tg.Group(group, tgOwner, "Anna", "talking among ourselves"))
	tg.Push(tg.Group(group, tgOwner, "Anna", "@"+tg.BotUsername()+" are you there?"))

	sent = tg.WaitSent(t, 3, 10*time.Second)
	if sent[2].ChatID != group || !strings.Contains(sent[2].Text, "are you there?") {
		t.Fatalf("the group got %+v, want the answer to the mention only", sent[2])
	}

	tg.Push(tg.Photo(tgOwner, tgOwner, "what is this", telegramtest.PNG(8, 8),
		telegramtest.PNG(64, 64)))

	if got := tg.WaitSent(t, 4, 10*time.Second)[3]; got.Text != "[1 image] what is this" {
		t.Fatalf("the photo's answer = %q", got.Text)
	}

	// A 5,000-character answer comes as two messages, in order.
	long := strings.Repeat("word ", 1000)
	tg.Push(tg.Private(tgOwner, "Anna", long))

	sent = tg.WaitSent(t, 6, 15*time.Second)

	// The split falls between words; the space there is not part of
	// either message.
	joined := strings.Join(texts(sent[4:6]), " ")
	if len(sent[4].Text) > 4096 || len(sent[5].Text) > 4096 ||
		strings.Join(strings.Fields(joined), " ") != strings.TrimSpace(long) {
		t.Fatalf("the long answer came as %d and %d characters", len(sent[4].Text),
			len(sent[5].Text))
	}

	// A 429 delays the next answer but does not lose it.
	tg.FailNext("sendMessage", telegramtest.Fault{Status: 429, RetryAfter: 2})

	pushed := time.Now()
	tg.Push(tg.Private(tgOwner, "Anna", "after the limit"))

	sent = tg.WaitSent(t, 7, 20*time.Second)
	if sent[6].Text != "after the limit" || sent[6].At.Sub(pushed) < 2*time.Second {
		t.Fatalf("after a 429: %+v, %s after the push", sent[6], sent[6].At.Sub(pushed))
	}

	// Nothing more: the redelivered update got no second answer, the
	// group message without a mention none at all.
	time.Sleep(time.Second)

	if n := len(tg.Sent()); n != 7 || tg.Violations() != 0 {
		t.Fatalf("%d messages sent (%q), %d rate-limit violations", n, texts(tg.Sent()),
			tg.Violations())
	}

	var names []string
	for _, c := range tg.Commands() {
		names = append(names, c.Command)
	}

	if !strings.Contains(strings.Join(names, ","), "remind") {
		t.Fatalf("setMyCommands got %q", names)
	}

	if strings.Contains(p.logs(), tgToken) {
		t.Fatal("the bot token appears in the logs")
	}
}

// TestServeTelegramWebhook runs the adapter in webhook mode: a request
// without the secret, or with a wrong one, is refused and stores nothing;
// the right one is answered.
func TestServeTelegramWebhook(t *testing.T) {
	t.Parallel()

	const secret = "tg-webhook-secret-0123456789"

	p, tg, dir := startTelegram(t, "BOT_TELEGRAM_MODE=webhook",
		"BOT_TELEGRAM_WEBHOOK_URL=https://bot.example.com/telegram/webhook",
		"BOT_TELEGRAM_WEBHOOK_SECRET="+secret)

	deadline := time.Now().Add(10 * time.Second)
	for url, _ := tg.Webhook(); url == ""; url, _ = tg.Webhook() {
		if time.Now().After(deadline) {
			t.Fatal("the webhook was not registered")
		}

		time.Sleep(20 * time.Millisecond)
	}

	if url, got := tg.Webhook(); url != "https://bot.example.com/telegram/webhook" ||
		got != secret {
		t.Fatalf("registered %q with secret %q", url, got)
	}

	post := func(u telegramtest.Update, header string) int {
		t.Helper()

		body, err := json.Marshal(u)
		if err != nil {
			t.Fatal(err)
		}

		req, err := http.NewRequest("POST", "http://"+p.addr+"/telegram/webhook",
			bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}

		req.Header.Set("Content-Type", "application/json")
		if header != "" {
			req.Header.Set("X-Telegram-Bot-Api-Secret-Token", header)
		}

		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()

		return res.StatusCode
	}

	if code := post(tg.Private(tgOwner, "Anna", "forged"), ""); code != 401 {
		t.Fatalf("no secret: %d", code)
	}

	if code := post(tg.Private(tgOwner, "Anna", "forged"), "wrong-secret"); code != 401 {
		t.Fatalf("wrong secret: %d", code)
	}

	if n := countRow(openData(t, dir), "SELECT count(*) FROM inbound_messages"); n != 0 {
		t.Fatalf("refused requests stored %d messages", n)
	}

	if code := post(tg.Private(tgOwner, "Anna", "genuine"), secret); code != 200 {
		t.Fatalf("right secret: %d", code)
	}

	if got := tg.WaitSent(t, 1, 10*time.Second); got[0].Text != "genuine" {
		t.Fatalf("answer = %+v", got[0])
	}
}

// TestTelegramPacing sends 100 answers to one chat: the fake sees at most
// one a second and no 429 is provoked.
func TestTelegramPacing(t *testing.T) {
	t.Parallel()

	_, tg, _ := startTelegram(t)

	const n = 100

	for i := range n {
		tg.Push(tg.Private(tgOwner, "Anna", fmt.Sprintf("message %d", i)))
	}

	sent := tg.WaitSent(t, n, 150*time.Second)

	for i := 1; i < n; i++ {
		if gap := sent[i].At.Sub(sent[i-1].At); gap < 990*time.Millisecond {
			t.Fatalf("answers %d and %d came %s apart", i-1, i, gap)
		}

		if sent[i].Text != fmt.Sprintf("message %d", i) {
			t.Fatalf("answer %d = %q: out of order", i, sent[i].Text)
		}
	}

	if v := tg.Violations(); v != 0 {
		t.Fatalf("%d rate-limit violations", v)
	}
}

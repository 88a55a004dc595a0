package telegramtest_test

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/switchboardhq/switchboard/adapters/telegram/telegramtest"
)

// newBot starts the library against s, which calls getMe.
func newBot(t *testing.T, s *telegramtest.Server) *tgbotapi.BotAPI {
	t.Helper()

	bot, err := tgbotapi.NewBotAPIWithAPIEndpoint(s.Token(), s.Endpoint())
	if err != nil {
		t.Fatalf("new bot: %v", err)
	}

	return bot
}

// apiError returns err as the library's *tgbotapi.Error, failing the test
// when it is not one.
func apiError(t *testing.T, err error) *tgbotapi.Error {
	t.Helper()

	var e *tgbotapi.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not a *tgbotapi.Error", err, err)
	}

	return e
}

// get fetches url and returns the status and body.
func get(t *testing.T, url string) (int, []byte) {
	t.Helper()

	res, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer func() { _ = res.Body.Close() }()

	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("read %s: %v", url, err)
	}

	return res.StatusCode, body
}

func TestGetMe(t *testing.T) {
	t.Parallel()

	s := telegramtest.NewServer(t)
	bot := newBot(t, s)

	if bot.Self.ID != telegramtest.BotID || !bot.Self.IsBot {
		t.Errorf("self = %+v, want bot %d", bot.Self, telegramtest.BotID)
	}
	if bot.Self.UserName != telegramtest.DefaultBotUsername {
		t.Errorf("username = %q, want %q", bot.Self.UserName, telegramtest.DefaultBotUsername)
	}
	if got := len(s.Calls("getme")); got != 1 {
		t.Errorf("getMe calls = %d, want 1 (method names ignore case)", got)
	}
}

func TestOptionsAndRefusals(t *testing.T) {
	t.Parallel()

	s := telegramtest.NewServer(t, telegramtest.WithToken("42:other"),
		telegramtest.WithBotUsername("other_bot"))
	if s.Token() != "42:other" || s.BotUsername() != "other_bot" {
		t.Fatalf("token %q, username %q", s.Token(), s.BotUsername())
	}
	bot := newBot(t, s)
	if bot.Self.UserName != "other_bot" {
		t.Errorf("username = %q, want other_bot", bot.Self.UserName)
	}

	_, err := tgbotapi.NewBotAPIWithAPIEndpoint(telegramtest.DefaultToken, s.Endpoint())
	if e := apiError(t, err); e.Code != 401 || e.Message != "Unauthorized" {
		t.Errorf("wrong token: %d %q, want 401 Unauthorized", e.Code, e.Message)
	}

	_, err = bot.MakeRequest("sendTelepathy", nil)
	if e := apiError(t, err); e.Code != 404 || e.Message != "Not Found" {
		t.Errorf("unknown method: %d %q, want 404 Not Found", e.Code, e.Message)
	}

	status, body := get(t, s.URL()+"/bot42:wrong/getMe")
	want := `{"ok":false,"error_code":401,"description":"Unauthorized"}`
	if status != 401 || strings.TrimSpace(string(body)) != want {
		t.Errorf("wrong token raw answer: %d %s, want 401 %s", status, body, want)
	}
}

func TestGetUpdatesConfirmsByOffset(t *testing.T) {
	t.Parallel()

	s := telegramtest.NewServer(t)
	bot := newBot(t, s)

	first := s.Push(s.Private(100, "Ann", "hello"))
	s.Push(s.Group(-200, 100, "Ann", "hi all"))
	s.Push(s.Private(101, "Bob", "third"))

	got, err := bot.GetUpdates(tgbotapi.UpdateConfig{Limit: 2})
	if err != nil {
		t.Fatalf("get updates: %v", err)
	}
	if len(got) != 2 || int64(got[0].UpdateID) != first || got[1].UpdateID != got[0].UpdateID+1 {
		t.Fatalf("updates = %+v, want two from %d", got, first)
	}
	m := got[0].Message
	if m.Text != "hello" || m.Chat.Type != "private" || m.From.FirstName != "Ann" {
		t.Errorf("private message = %+v", m)
	}
	if m := got[1].Message; m.Chat.Type != "group" || m.Chat.ID != -200 || m.Chat.Title == "" {
		t.Errorf("group message chat = %+v", m.Chat)
	}

	again, err := bot.GetUpdates(tgbotapi.UpdateConfig{})
	if err != nil || len(again) != 3 {
		t.Fatalf("without offset: %d updates, %v; want all 3 again", len(again), err)
	}

	rest, err := bot.GetUpdates(tgbotapi.UpdateConfig{Offset: got[1].UpdateID + 1})
	if err != nil || len(rest) != 1 || rest[0].Message.Text != "third" {
		t.Fatalf("after offset: %+v, %v; want the third only", rest, err)
	}
	if n := len(s.Pending()); n != 1 {
		t.Errorf("pending = %d, want 1: the offset confirms the first two", n)
	}

	none, err := bot.GetUpdates(tgbotapi.UpdateConfig{Offset: rest[0].UpdateID + 1})
	if err != nil || len(none) != 0 {
		t.Fatalf("all confirmed: %+v, %v; want none", none, err)
	}
}

func TestGetUpdatesHoldsAndWakes(t *testing.T) {
	t.Parallel()

	s := telegramtest.NewServer(t)
	bot := newBot(t, s)

	start := time.Now()
	got, err := bot.GetUpdates(tgbotapi.UpdateConfig{Timeout: 1})
	if err != nil || len(got) != 0 {
		t.Fatalf("empty poll: %+v, %v", got, err)
	}
	if held := time.Since(start); held < 900*time.Millisecond || held > 3*time.Second {
		t.Errorf("empty poll held %v, want about the 1 s timeout", held)
	}

	go func() {
		time.Sleep(150 * time.Millisecond)
		s.Push(s.Private(7, "Cy", "wake up"))
	}()

	start = time.Now()
	got, err = bot.GetUpdates(tgbotapi.UpdateConfig{Timeout: 30})
	if err != nil || len(got) != 1 || got[0].Message.Text != "wake up" {
		t.Fatalf("woken poll: %+v, %v", got, err)
	}
	if held := time.Since(start); held > 5*time.Second {
		t.Errorf("woken poll held %v, want an answer as the update arrives", held)
	}
}

func TestConcurrentPollingConflict(t *testing.T) {
	t.Parallel()

	s := telegramtest.NewServer(t)
	first, second := newBot(t, s), newBot(t, s)

	done := make(chan error, 1)
	go func() {
		_, err := first.GetUpdates(tgbotapi.UpdateConfig{Timeout: 30})
		done <- err
	}()
	waitCalls(t, s, "getUpdates", 1)
	time.Sleep(50 * time.Millisecond)

	go func() {
		time.Sleep(300 * time.Millisecond)
		s.Push(s.Private(5, "Di", "for the newer poller"))
	}()

	got, err := second.GetUpdates(tgbotapi.UpdateConfig{Timeout: 30})
	if err != nil || len(got) != 1 {
		t.Fatalf("newer poller: %+v, %v; want the update", got, err)
	}

	select {
	case err := <-done:
		e := apiError(t, err)
		if e.Code != 409 || !strings.Contains(e.Message, "terminated by other getUpdates request") {
			t.Errorf("older poller: %d %q, want 409 terminated", e.Code, e.Message)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the older poller was not ended")
	}
}

// waitCalls waits until the server has seen n calls of a method.
func waitCalls(t *testing.T, s *telegramtest.Server, method string, n int) {
	t.Helper()

	deadline := time.Now().Add(5 * time.Second)
	for len(s.Calls(method)) < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d %s calls after 5 s, want %d", len(s.Calls(method)), method, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestSendsAreRecorded(t *testing.T) {
	t.Parallel()

	s := telegramtest.NewServer(t)
	bot := newBot(t, s)

	in := s.Private(100, "Ann", "hello")
	s.Push(in)

	reply := tgbotapi.NewMessage(100, "<b>hi</b> Ann")
	reply.ParseMode = tgbotapi.ModeHTML
	reply.ReplyToMessageID = int(in.Message.MessageID)
	m, err := bot.Send(reply)
	if err != nil {
		t.Fatalf("send message: %v", err)
	}
	if m.Text != "hi Ann" || len(m.Entities) != 1 || !m.Entities[0].IsBold() ||
		m.ReplyToMessage == nil || m.From.ID != telegramtest.BotID {
		t.Errorf("answered message = %+v", m)
	}

	photo := telegramtest.PNG(16, 9)
	p, err := bot.Send(tgbotapi.NewPhoto(100, tgbotapi.FileBytes{Name: "a.png", Bytes: photo}))
	if err != nil {
		t.Fatalf("send photo: %v", err)
	}
	if len(p.Photo) != 1 || p.Photo[0].Width != 16 || p.Photo[0].Height != 9 {
		t.Errorf("photo sizes = %+v, want one of 16x9", p.Photo)
	}

	if _, err := bot.Request(tgbotapi.NewChatAction(100, tgbotapi.ChatTyping)); err != nil {
		t.Fatalf("chat action: %v", err)
	}

	sent := s.WaitSent(t, 2, time.Second)
	want := []telegramtest.Sent{
		{Method: "sendMessage", ChatID: 100, Text: "<b>hi</b> Ann", ParseMode: "HTML",
			ReplyTo: in.Message.MessageID, MessageID: int64(m.MessageID)},
		{Method: "sendPhoto", ChatID: 100, MessageID: int64(p.MessageID)},
	}
	for i, w := range want {
		got := sent[i]
		if got.Method != w.Method || got.ChatID != w.ChatID || got.Text != w.Text ||
			got.ParseMode != w.ParseMode || got.ReplyTo != w.ReplyTo ||
			got.MessageID != w.MessageID {
			t.Errorf("sent[%d] = %v, want %v", i, got, w)
		}
		if got.At.IsZero() {
			t.Errorf("sent[%d] has no arrival time", i)
		}
	}
	if string(sent[1].Photo) != string(photo) {
		t.Errorf("recorded photo is %d bytes, want the %d uploaded", len(sent[1].Photo), len(photo))
	}
	if m.MessageID <= int(in.Message.MessageID) || p.MessageID <= m.MessageID {
		t.Errorf("message ids %d, %d after %d: want increasing in the chat",
			m.MessageID, p.MessageID, in.Message.MessageID)
	}

	actions := s.Calls("sendChatAction")
	if len(actions) != 1 || actions[0].Get("action") != "typing" ||
		actions[0].Get("chat_id") != "100" {
		t.Errorf("chat actions = %v", actions)
	}
	if len(s.SentTo(100)) != 2 || len(s.SentTo(101)) != 0 {
		t.Errorf("SentTo(100) = %v", s.SentTo(100))
	}
}

func TestSendRefusals(t *testing.T) {
	t.Parallel()

	s := telegramtest.NewServer(t)
	bot := newBot(t, s)

	long := tgbotapi.NewMessage(1, strings.Repeat("ж", 4097))
	badReply := tgbotapi.NewMessage(1, "hi")
	badReply.ReplyToMessageID = 999
	badHTML := tgbotapi.NewMessage(1, "1 < 2")
	badHTML.ParseMode = tgbotapi.ModeHTML
	badMD := tgbotapi.NewMessage(1, "Done.")
	badMD.ParseMode = tgbotapi.ModeMarkdownV2

	cases := []struct {
		name string
		c    tgbotapi.Chattable
		says string
	}{
		{"empty", tgbotapi.NewMessage(1, ""), "Bad Request: message text is empty"},
		{"too long", long, "Bad Request: message is too long"},
		{"reply to nothing", badReply, "Bad Request: message to be replied not found"},
		{"bare <", badHTML, `can't parse entities: Unsupported start tag ""`},
		{"unescaped .", badMD, "Character '.' is reserved"},
		{"not an image", tgbotapi.NewPhoto(1, tgbotapi.FileBytes{Name: "x", Bytes: []byte("x")}),
			"IMAGE_PROCESS_FAILED"},
		{"bad action", tgbotapi.NewChatAction(1, "dancing"), "wrong parameter action"},
		{"edit of nothing", tgbotapi.NewEditMessageText(1, 5, "x"), "message to edit not found"},
	}
	for _, tc := range cases {
		_, err := bot.Request(tc.c)
		if err == nil || !strings.Contains(err.Error(), tc.says) {
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.says)
		}
	}

	if n := len(s.Sent()); n != 0 {
		t.Errorf("%d refused messages recorded as sent", n)
	}
}

func TestEditMessageText(t *testing.T) {
	t.Parallel()

	s := telegramtest.NewServer(t)
	bot := newBot(t, s)

	m, err := bot.Send(tgbotapi.NewMessage(-300, "draft"))
	if err != nil {
		t.Fatalf("send: %v", err)
	}

	edited, err := bot.Send(tgbotapi.NewEditMessageText(-300, m.MessageID, "final"))
	if err != nil || edited.Text != "final" || edited.EditDate == 0 {
		t.Fatalf("edit: %+v, %v", edited, err)
	}

	_, err = bot.Send(tgbotapi.NewEditMessageText(-300, m.MessageID, "final"))
	e := apiError(t, err)
	if e.Code != 400 || !strings.Contains(e.Message, "message is not modified") {
		t.Errorf("same text again: %d %q, want 400 not modified", e.Code, e.Message)
	}

	sent := s.Sent()
	if len(sent) != 2 || sent[1].Method != "editMessageText" ||
		sent[1].MessageID != int64(m.MessageID) || sent[1].Text != "final" {
		t.Errorf("sent = %v", sent)
	}
}

func TestFaults(t *testing.T) {
	t.Parallel()

	s := telegramtest.NewServer(t)
	bot := newBot(t, s)

	s.FailNext("sendMessage",
		telegramtest.Fault{Status: 429, RetryAfter: 7},
		telegramtest.Fault{Status: 403},
		telegramtest.Fault{Delay: 200 * time.Millisecond},
	)

	_, err := bot.Send(tgbotapi.NewMessage(1, "one"))
	e := apiError(t, err)
	if e.Code != 429 || e.RetryAfter != 7 || e.Message != "Too Many Requests: retry after 7" {
		t.Errorf("429: %+v", e)
	}

	_, err = bot.Send(tgbotapi.NewMessage(1, "two"))
	if e := apiError(t, err); e.Code != 403 || !strings.HasPrefix(e.Message, "Forbidden: ") {
		t.Errorf("403: %+v", e)
	}

	start := time.Now()
	if _, err := bot.Send(tgbotapi.NewMessage(1, "three")); err != nil {
		t.Fatalf("delayed send: %v", err)
	}
	if took := time.Since(start); took < 200*time.Millisecond {
		t.Errorf("delayed send took %v, want at least 200ms", took)
	}

	if _, err := bot.Send(tgbotapi.NewMessage(1, "four")); err != nil {
		t.Fatalf("send after the faults: %v", err)
	}
	if n := len(s.Calls("sendMessage")); n != 4 {
		t.Errorf("calls = %d, want 4 with the failed ones", n)
	}
	if n := len(s.Sent()); n != 2 {
		t.Errorf("sent = %d, want 2", n)
	}
}

func TestWebhook(t *testing.T) {
	t.Parallel()

	s := telegramtest.NewServer(t)
	bot := newBot(t, s)

	got := make(chan tgbotapi.Update, 1)
	hook := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get(telegramtest.SecretHeader) != "s3cret" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var u tgbotapi.Update
		if err := json.NewDecoder(r.Body).Decode(&u); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		got <- u
	})
	hookURL := startHook(t, hook)

	res, err := bot.MakeRequest("setWebhook",
		tgbotapi.Params{"url": hookURL, "secret_token": "s3cret"})
	if err != nil || res.Description != "Webhook was set" {
		t.Fatalf("set webhook: %+v, %v", res, err)
	}
	if u, secret := s.Webhook(); u != hookURL || secret != "s3cret" {
		t.Errorf("webhook = %q %q", u, secret)
	}

	_, err = bot.GetUpdates(tgbotapi.UpdateConfig{})
	if e := apiError(t, err); e.Code != 409 ||
		!strings.Contains(e.Message, "can't use getUpdates method while webhook is active") {
		t.Errorf("polling with a webhook: %d %q", e.Code, e.Message)
	}

	status, err := s.Deliver(s.Private(9, "Eve", "via hook"))
	if err != nil || status != http.StatusOK {
		t.Fatalf("deliver: %d, %v", status, err)
	}
	if u := <-got; u.Message == nil || u.Message.Text != "via hook" || u.UpdateID == 0 {
		t.Errorf("delivered update = %+v", u)
	}

	if _, err := bot.Request(tgbotapi.DeleteWebhookConfig{}); err != nil {
		t.Fatalf("delete webhook: %v", err)
	}
	if u, _ := s.Webhook(); u != "" {
		t.Errorf("webhook after delete = %q", u)
	}
	if _, err := bot.GetUpdates(tgbotapi.UpdateConfig{}); err != nil {
		t.Errorf("polling after delete: %v", err)
	}
	if _, err := s.Deliver(s.Private(9, "Eve", "no hook")); err == nil {
		t.Error("deliver without a webhook succeeded")
	}
}

// startHook serves h and returns its URL.
func startHook(t *testing.T, h http.Handler) string {
	t.Helper()

	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)

	return srv.URL + "/hook"
}

func TestGetFileAndDownload(t *testing.T) {
	t.Parallel()

	s := telegramtest.NewServer(t)
	bot := newBot(t, s)

	small, large := telegramtest.PNG(3, 2), telegramtest.PNG(30, 20)
	s.Push(s.Photo(100, 100, "look", large, small))

	updates, err := bot.GetUpdates(tgbotapi.UpdateConfig{})
	if err != nil || len(updates) != 1 {
		t.Fatalf("get updates: %d, %v", len(updates), err)
	}
	m := updates[0].Message
	if len(m.Photo) != 2 || m.Photo[0].Width != 3 || m.Photo[1].Width != 30 || m.Caption != "look" {
		t.Fatalf("photo message = %+v, want two sizes, smallest first", m)
	}
	if m.Photo[1].FileSize != len(large) {
		t.Errorf("file_size = %d, want %d", m.Photo[1].FileSize, len(large))
	}

	f, err := bot.GetFile(tgbotapi.FileConfig{FileID: m.Photo[1].FileID})
	if err != nil || f.FilePath == "" {
		t.Fatalf("get file: %+v, %v", f, err)
	}

	status, body := get(t, s.URL()+"/file/bot"+s.Token()+"/"+f.FilePath)
	if status != 200 || string(body) != string(large) {
		t.Errorf("download: %d, %d bytes; want 200 and the %d bytes", status, len(body), len(large))
	}
	if s.FileURL(f.FilePath) != s.URL()+"/file/bot"+s.Token()+"/"+f.FilePath {
		t.Errorf("FileURL = %q", s.FileURL(f.FilePath))
	}

	_, err = bot.GetFile(tgbotapi.FileConfig{FileID: "nope"})
	if e := apiError(t, err); e.Code != 400 || e.Message != "Bad Request: invalid file_id" {
		t.Errorf("unknown file: %+v", e)
	}
	if status, _ := get(t, s.URL()+"/file/bot"+s.Token()+"/photos/none.jpg"); status != 404 {
		t.Errorf("unknown path: %d, want 404", status)
	}
}

func TestRateLimits(t *testing.T) {
	t.Parallel()

	s := telegramtest.NewServer(t, telegramtest.WithRateLimits())
	bot := newBot(t, s)

	if _, err := bot.Send(tgbotapi.NewMessage(1, "one")); err != nil {
		t.Fatalf("first send: %v", err)
	}
	_, err := bot.Send(tgbotapi.NewMessage(1, "two"))
	if e := apiError(t, err); e.Code != 429 || e.RetryAfter != 1 {
		t.Errorf("second send in a second: %+v, want 429 retry after 1", e)
	}

	// The other chats fill the overall limit of 30 a second.
	refused := 0
	for chat := int64(2); chat <= 31; chat++ {
		if _, err := bot.Send(tgbotapi.NewMessage(chat, "hi")); err != nil {
			refused++
		}
	}
	if refused != 1 {
		t.Errorf("%d of 30 more chats refused, want the 31st message of the second", refused)
	}
	if v := s.Violations(); v != 2 {
		t.Errorf("violations = %d, want 2", v)
	}

	time.Sleep(1100 * time.Millisecond)
	if _, err := bot.Send(tgbotapi.NewMessage(1, "later")); err != nil {
		t.Errorf("send after waiting: %v", err)
	}
}

func TestSetMyCommands(t *testing.T) {
	t.Parallel()

	s := telegramtest.NewServer(t)
	bot := newBot(t, s)

	cmds := tgbotapi.NewSetMyCommands(
		tgbotapi.BotCommand{Command: "remind", Description: "Set a reminder"},
		tgbotapi.BotCommand{Command: "status", Description: "Show the status"},
	)
	if _, err := bot.Request(cmds); err != nil {
		t.Fatalf("set commands: %v", err)
	}

	got := s.Commands()
	if len(got) != 2 || got[0].Command != "remind" || got[1].Description != "Show the status" {
		t.Errorf("commands = %+v", got)
	}

	bad := tgbotapi.NewSetMyCommands(tgbotapi.BotCommand{Command: "Remind", Description: "x"})
	_, err := bot.Request(bad)
	if err == nil || !strings.Contains(err.Error(), "BOT_COMMAND_INVALID") {
		t.Errorf("upper-case command: %v", err)
	}
}

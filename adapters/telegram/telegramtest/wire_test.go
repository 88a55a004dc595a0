package telegramtest_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/switchboardhq/switchboard/adapters/telegram/telegramtest"
)

// post sends body with a content type to a method and returns the status
// and the answer.
func post(t *testing.T, s *telegramtest.Server, method, contentType, body string) (int, string) {
	t.Helper()

	url := s.URL() + "/bot" + s.Token() + "/" + method
	res, err := http.Post(url, contentType, strings.NewReader(body))
	if err != nil {
		t.Fatalf("POST %s: %v", method, err)
	}
	defer func() { _ = res.Body.Close() }()

	answer, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("read answer: %v", err)
	}

	return res.StatusCode, strings.TrimSpace(string(answer))
}

func TestWireForms(t *testing.T) {
	t.Parallel()

	s := telegramtest.NewServer(t)

	status, answer := post(t, s, "sendMessage", "application/json",
		`{"chat_id":5,"text":"as JSON","reply_parameters":{"message_id":77,`+
			`"allow_sending_without_reply":true}}`)
	if status != 200 || !strings.Contains(answer, `"text":"as JSON"`) {
		t.Errorf("JSON body: %d %s", status, answer)
	}
	if got := s.Sent()[0]; got.ChatID != 5 || got.ReplyTo != 77 {
		t.Errorf("JSON send recorded as %v", got)
	}

	status, body := get(t, s.URL()+"/bot"+s.Token()+"/GETME")
	if status != 200 || !strings.Contains(string(body), `"username":"switchboard_test_bot"`) {
		t.Errorf("GET with another case: %d %s", status, body)
	}

	s.FailNext("sendMessage", telegramtest.Fault{Status: 429, RetryAfter: 7})
	status, answer = post(t, s, "sendMessage", "application/x-www-form-urlencoded",
		"chat_id=5&text=x")
	want := `{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 7",` +
		`"parameters":{"retry_after":7}}`
	if status != 429 || answer != want {
		t.Errorf("429 answer: %d %s, want %s", status, answer, want)
	}
}

func TestSetWebhookEndsThePoll(t *testing.T) {
	t.Parallel()

	s := telegramtest.NewServer(t)
	poller, setter := newBot(t, s), newBot(t, s)

	done := make(chan error, 1)
	go func() {
		_, err := poller.GetUpdates(tgbotapi.UpdateConfig{Timeout: 30})
		done <- err
	}()
	waitCalls(t, s, "getUpdates", 1)
	time.Sleep(50 * time.Millisecond)

	if _, err := setter.MakeRequest("setWebhook",
		tgbotapi.Params{"url": "https://example.invalid/hook"}); err != nil {
		t.Fatalf("set webhook: %v", err)
	}

	select {
	case err := <-done:
		e := apiError(t, err)
		if e.Code != 409 || e.Message != "Conflict: terminated by setWebhook request" {
			t.Errorf("poll: %d %q", e.Code, e.Message)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("setWebhook did not end the poll")
	}
}

func TestCloseEndsWaitingRequests(t *testing.T) {
	t.Parallel()

	s := telegramtest.NewServer(t)
	bot := newBot(t, s)
	s.FailNext("sendMessage", telegramtest.Fault{Delay: time.Minute})

	done := make(chan struct{}, 2)
	go func() {
		_, _ = bot.GetUpdates(tgbotapi.UpdateConfig{Timeout: 50})
		done <- struct{}{}
	}()
	go func() {
		_, _ = bot.Send(tgbotapi.NewMessage(1, "slow"))
		done <- struct{}{}
	}()
	waitCalls(t, s, "getUpdates", 1)
	waitCalls(t, s, "sendMessage", 1)

	start := time.Now()
	s.Close()
	for range 2 {
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("a request still waits after Close")
		}
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("Close took %v", took)
	}
}

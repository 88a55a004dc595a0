package telegram_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/adapters/telegram"
	"github.com/switchboardhq/switchboard/adapters/telegram/telegramtest"
)

const webhookSecret = "webhook-secret_0123456789"

// webhookAdapter returns an adapter in webhook mode whose handler is
// served, and the URL it is served at.
func webhookAdapter(t *testing.T, s *telegramtest.Server) (*telegram.Adapter, string) {
	t.Helper()

	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	a := newAdapter(t, s, func(c *telegram.Config) {
		c.Mode = telegram.ModeWebhook
		c.WebhookURL = srv.URL + telegram.WebhookPath
		c.WebhookSecret = webhookSecret
	})

	pattern, h := a.HTTPHandler()
	if pattern != "POST /telegram/webhook" {
		t.Fatalf("pattern %q, want POST /telegram/webhook", pattern)
	}

	mux.Handle(pattern, h)

	return a, srv.URL + telegram.WebhookPath
}

// post sends body to the webhook with a secret header, if not empty.
func post(t *testing.T, url, secret, body string) int {
	t.Helper()

	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, url,
		strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}

	if secret != "" {
		req.Header.Set(telegramtest.SecretHeader, secret)
	}

	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("post to webhook: %v", err)
	}

	_ = resp.Body.Close()

	return resp.StatusCode
}

func TestWebhookReceivesWithTheRightSecretOnly(t *testing.T) {
	t.Parallel()

	s := telegramtest.NewServer(t)
	a, url := webhookAdapter(t, s)
	sk := newSink()

	update := `{"update_id":1,"message":{"message_id":1000,"date":1,` +
		`"chat":{"id":42,"type":"private"},"from":{"id":42,"first_name":"Eve"},"text":"hi"}}`

	// An update that comes while the gateway starts is held until Run has
	// started, then stored.
	held := make(chan int, 1)

	go func() {
		req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(update))
		req.Header.Set(telegramtest.SecretHeader, webhookSecret)

		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			held <- 0
			return
		}

		_ = resp.Body.Close()
		held <- resp.StatusCode
	}()

	time.Sleep(100 * time.Millisecond)
	run(t, a, sk)
	connected(t, a)

	if code := <-held; code != http.StatusOK || len(sk.received()) != 1 {
		t.Fatalf("update posted while Run started: status %d, %d stored; want it held and "+
			"stored", code, len(sk.received()))
	}

	if hookURL, secret := s.Webhook(); hookURL != url || secret != webhookSecret {
		t.Fatalf("webhook set to %q with secret %q, want %q with the secret", hookURL, secret, url)
	}

	if calls := s.Calls("setWebhook"); !strings.Contains(calls[0].Get("allowed_updates"),
		`"message"`) {
		t.Fatalf("setWebhook %v, want allowed_updates", calls[0])
	}

	for _, secret := range []string{"", "wrong-secret_0123456789", webhookSecret + "x"} {
		if code := post(t, url, secret, update); code != http.StatusUnauthorized {
			t.Fatalf("secret %q: status %d, want 401", secret, code)
		}
	}

	if code := post(t, url, webhookSecret, `{"update_id":`); code != http.StatusBadRequest {
		t.Fatalf("bad JSON: status %d, want 400", code)
	}

	if got := sk.received(); len(got) != 1 {
		t.Fatalf("received %+v, want nothing from refused requests", got)
	}

	u := s.Private(42, "Ada", "through the webhook")

	code, err := s.Deliver(u)
	if err != nil || code != http.StatusOK {
		t.Fatalf("Deliver = %d, %v; want 200", code, err)
	}

	if got := sk.received(); len(got) != 2 || got[1].Text != "through the webhook" {
		t.Fatalf("received %+v, want the delivered message once it was answered", got)
	}

	if code, _ := s.Deliver(s.Edited(u, "edited")); code != http.StatusOK {
		t.Fatalf("edited message: status %d, want 200 (ignored, not retried)", code)
	}

	if got := sk.received(); len(got) != 2 {
		t.Fatalf("received %+v, want the edit ignored", got)
	}
}

func TestWebhookAsksForRetryWhenStoringFails(t *testing.T) {
	t.Parallel()

	s := telegramtest.NewServer(t)
	a, _ := webhookAdapter(t, s)
	sk := newSink()
	sk.failNext(errors.New("database is down"))
	run(t, a, sk)
	connected(t, a)

	u := s.Private(42, "Ada", "retry me")

	if code, _ := s.Deliver(u); code != http.StatusInternalServerError {
		t.Fatalf("status %d, want 500 so that Telegram delivers again", code)
	}

	if code, _ := s.Deliver(u); code != http.StatusOK {
		t.Fatalf("second delivery: status %d, want 200", code)
	}

	if got := sk.received(); len(got) != 1 || got[0].Text != "retry me" {
		t.Fatalf("received %+v, want the message once", got)
	}
}

func TestWebhookRouteIsClosedInPollingMode(t *testing.T) {
	t.Parallel()

	s := telegramtest.NewServer(t)
	a := newAdapter(t, s)
	run(t, a, newSink())

	_, h := a.HTTPHandler()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, telegram.WebhookPath,
		strings.NewReader(`{}`)))

	if rec.Code != http.StatusNotFound {
		t.Fatalf("status %d, want 404: an empty secret must not open the route", rec.Code)
	}
}

package webhook_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/adapters/webhook"
	"github.com/switchboardhq/switchboard/core"
)

const secret = "0123456789abcdef-secret"

func TestSendMapsReceiverAnswers(t *testing.T) {
	t.Parallel()

	cases := []struct {
		name       string
		status     int
		header     map[string]string
		body       string
		wantID     core.MessageID
		retryAfter time.Duration
		permanent  bool
		fails      bool
	}{
		{name: "ok with id", status: 200, body: `{"message_id":"p-7"}`, wantID: "p-7"},
		{name: "accepted without body", status: 202},
		{name: "rate limited", status: 429, header: map[string]string{"Retry-After": "3"},
			retryAfter: 3 * time.Second, fails: true},
		{name: "rate limited, no header", status: 429, retryAfter: time.Second, fails: true},
		{name: "server error", status: 503, fails: true},
		{name: "time-out", status: 408, fails: true},
		{name: "chat gone", status: 404, permanent: true, fails: true},
		{name: "forbidden", status: 403, permanent: true, fails: true},
	}

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()

			var gotKey, gotAuth string

			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter,
				r *http.Request,
			) {
				gotKey = r.Header.Get("Idempotency-Key")
				gotAuth = r.Header.Get("Authorization")

				for k, v := range tc.header {
					w.Header().Set(k, v)
				}

				w.WriteHeader(tc.status)
				_, _ = w.Write([]byte(tc.body))
			}))
			defer srv.Close()

			a := webhook.New(webhook.Config{DeliverURL: srv.URL, Secret: secret})
			sent, err := a.Send(context.Background(), core.Outgoing{
				ID: 5, IdempotencyKey: "default-5", Text: "hi",
				To: core.Conversation{Channel: core.ChannelWebhook, ChatID: "c"},
			})

			if gotKey != "default-5" || gotAuth != "Bearer "+secret {
				t.Fatalf("headers: key %q auth %q", gotKey, gotAuth)
			}

			if !tc.fails {
				if err != nil || sent.MessageID != tc.wantID {
					t.Fatalf("Send = %+v, %v; want id %q", sent, err, tc.wantID)
				}

				return
			}

			if err == nil {
				t.Fatalf("Send succeeded, want a failure")
			}

			se := core.SendErrorOf(err)
			if se.RetryAfter != tc.retryAfter || se.Permanent != tc.permanent {
				t.Fatalf("send error %+v, want retry_after %s permanent %v", se,
					tc.retryAfter, tc.permanent)
			}

			if h := a.Health(); h.LastError == "" {
				t.Fatalf("health does not show the failure")
			}
		})
	}
}

func TestSendToUnreachableReceiverIsRetryable(t *testing.T) {
	t.Parallel()

	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()

	a := webhook.New(webhook.Config{DeliverURL: url, Secret: secret})

	_, err := a.Send(context.Background(), core.Outgoing{IdempotencyKey: "k", Text: "x"})
	if err == nil || core.SendErrorOf(err).Permanent {
		t.Fatalf("Send to a closed port = %v, want a retryable error", err)
	}
}

func TestReceiveBeforeRunIsUnavailable(t *testing.T) {
	t.Parallel()

	a := webhook.New(webhook.Config{DeliverURL: "http://127.0.0.1:1", Secret: secret})
	_, h := a.HTTPHandler()

	req := httptest.NewRequest(http.MethodPost, webhook.Path, nil)
	req.Header.Set("Authorization", "Bearer "+secret)

	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)

	if rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("status %d, want 503 so that the sender retries", rec.Code)
	}
}

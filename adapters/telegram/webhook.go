package telegram

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"net/http"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/switchboardhq/switchboard/core"
)

// secretHeader carries the webhook secret on every update Telegram posts.
const secretHeader = "X-Telegram-Bot-Api-Secret-Token"

// maxUpdateBytes bounds one posted update; a message is at most 4096
// characters with its entities.
const maxUpdateBytes = 1 << 20

// runWebhook registers the webhook, retrying with backoff until Telegram
// takes it, and then waits for ctx: the updates come to HTTPHandler. The
// webhook stays registered after a stop, so that Telegram keeps the
// updates until a replica answers again.
func (a *Adapter) runWebhook(ctx context.Context) {
	s := newStreak(a.log, "setWebhook")

	for attempt := 1; ; attempt++ {
		err := a.setWebhook(ctx)
		if err == nil {
			break
		}

		if ctx.Err() != nil {
			return
		}

		wait := retryWait(err, attempt)
		a.receiveFailed(err)
		s.fail(err, wait)

		if !sleep(ctx, wait) {
			return
		}
	}

	s.ok()
	a.receiving()
	a.log.Info("webhook registered")

	<-ctx.Done()
}

// setWebhook registers WebhookURL with its secret. The library's
// WebhookConfig has no secret_token, so the call is made by hand.
func (a *Adapter) setWebhook(ctx context.Context) error {
	allowed, err := json.Marshal(allowedUpdates)
	if err != nil {
		return fmt.Errorf("encode allowed updates: %w", err)
	}

	_, err = a.api(ctx).MakeRequest("setWebhook", tgbotapi.Params{
		"url":             a.cfg.WebhookURL,
		"secret_token":    a.cfg.WebhookSecret,
		"allowed_updates": string(allowed),
	})
	if err != nil {
		return fmt.Errorf("set webhook: %w", err)
	}

	return nil
}

// HTTPHandler returns the webhook's route, "POST /telegram/webhook". The
// handler refuses a request without the right secret (401, nothing
// stored), holds an update that comes while Run starts for up to
// core.StartWait and then answers 503, answers 404 in polling mode,
// and otherwise answers 200 once the update is stored or dropped, 400 for
// a body that is no update, and 500 when storing failed, so that Telegram
// delivers it again.
func (a *Adapter) HTTPHandler() (string, http.Handler) {
	return "POST " + WebhookPath, http.HandlerFunc(a.receive)
}

func (a *Adapter) receive(w http.ResponseWriter, r *http.Request) {
	if a.cfg.Mode != ModeWebhook {
		http.Error(w, "telegram webhook mode is off", http.StatusNotFound)
		return
	}

	got := []byte(r.Header.Get(secretHeader))
	if subtle.ConstantTimeCompare(got, []byte(a.cfg.WebhookSecret)) != 1 {
		http.Error(w, "wrong or missing secret token", http.StatusUnauthorized)
		return
	}

	sink := a.sink.Wait(r.Context(), core.StartWait)
	if sink == nil {
		http.Error(w, "not started yet", http.StatusServiceUnavailable)
		return
	}

	var u update
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxUpdateBytes)).Decode(&u); err != nil {
		http.Error(w, "body is not a telegram update: "+err.Error(), http.StatusBadRequest)
		return
	}

	if err := a.handle(r.Context(), sink, u); err != nil {
		a.log.Warn("webhook update not stored, telegram will retry", "update_id", u.UpdateID,
			"err", err)
		http.Error(w, "could not store the update", http.StatusInternalServerError)

		return
	}

	w.WriteHeader(http.StatusOK)
}

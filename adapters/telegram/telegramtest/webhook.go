package telegramtest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"time"
)

// SecretHeader is the header that carries a webhook's secret_token.
const SecretHeader = "X-Telegram-Bot-Api-Secret-Token"

// secretToken is what setWebhook accepts as a secret_token.
var secretToken = regexp.MustCompile(`^[A-Za-z0-9_-]{1,256}$`)

// webhook is the webhook the bot set. It is guarded by Server.mu.
type webhook struct {
	url    string
	secret string
}

// Webhook returns the URL and secret_token of the webhook the bot set,
// or empty strings when none is set.
func (s *Server) Webhook() (url, secret string) {
	s.mu.Lock()
	defer s.mu.Unlock()

	return s.hook.url, s.hook.secret
}

// setWebhook keeps the webhook. An empty url removes it, as on Telegram.
// Unlike Telegram, which wants HTTPS, http:// URLs are accepted, as a
// local Bot API server accepts them.
func (s *Server) setWebhook(c *call) (result, *apiError) {
	raw := c.params.Get("url")
	if raw == "" {
		return s.deleteWebhook(c)
	}

	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return result{}, badRequest("bad webhook: %s",
			"Failed to resolve host: Name or service not known")
	}

	secret := c.params.Get("secret_token")
	if secret != "" && !secretToken.MatchString(secret) {
		return result{}, badRequest("secret token contains unallowed characters")
	}

	s.mu.Lock()
	defer s.mu.Unlock()

	if boolParam(c.params, "drop_pending_updates") {
		s.updates.pending = nil
	}
	s.updates.abortPoll(conflictSetWebhook)

	if s.hook == (webhook{url: raw, secret: secret}) {
		return result{value: true, description: "Webhook is already set"}, nil
	}
	s.hook = webhook{url: raw, secret: secret}

	return result{value: true, description: "Webhook was set"}, nil
}

// deleteWebhook removes the webhook, so that getUpdates works again.
func (s *Server) deleteWebhook(c *call) (result, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()

	if boolParam(c.params, "drop_pending_updates") {
		s.updates.pending = nil
	}

	if s.hook.url == "" {
		return result{value: true, description: "Webhook is already deleted"}, nil
	}
	s.hook = webhook{}

	return result{value: true, description: "Webhook was deleted"}, nil
}

// getWebhookInfo answers the webhook's URL and how many updates wait.
func (s *Server) getWebhookInfo(*call) (result, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()

	return result{value: map[string]any{
		"url":                    s.hook.url,
		"has_custom_certificate": false,
		"pending_update_count":   len(s.updates.pending),
	}}, nil
}

// Deliver posts an update to the webhook as Telegram does: a JSON body,
// with the secret_token in the X-Telegram-Bot-Api-Secret-Token header when
// one was set. It assigns the update_id when u has none, from the same
// sequence as Push, and returns the webhook's HTTP status. Telegram
// counts any status but 2xx as a failed delivery and tries again later;
// a test does that by calling Deliver again.
func (s *Server) Deliver(u Update) (int, error) {
	s.mu.Lock()
	hook := s.hook
	u.UpdateID = s.updates.assign(u.UpdateID)
	if m := u.message(); m != nil {
		s.chats.remember(*m)
	}
	s.mu.Unlock()

	if hook.url == "" {
		return 0, errors.New("deliver update: no webhook is set")
	}

	body, err := json.Marshal(u)
	if err != nil {
		return 0, fmt.Errorf("encode update: %w", err)
	}

	req, err := http.NewRequest(http.MethodPost, hook.url, bytes.NewReader(body))
	if err != nil {
		return 0, fmt.Errorf("build webhook request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	if hook.secret != "" {
		req.Header.Set(SecretHeader, hook.secret)
	}

	client := &http.Client{Timeout: 60 * time.Second}
	res, err := client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("post update to webhook: %w", err)
	}
	defer func() { _ = res.Body.Close() }()

	_, _ = io.Copy(io.Discard, res.Body)

	return res.StatusCode, nil
}

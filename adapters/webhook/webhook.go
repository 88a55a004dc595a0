// Package webhook is the generic HTTP channel: a script, a custom front end
// or another service posts messages to the gateway and receives the
// answers as posts of its own. It is the simplest complete adapter and shows
// the contract every messenger adapter keeps: acknowledge only what is
// stored, report health, and turn the platform's answers into send errors
// that steer the outbox.
//
// Inbound: POST /webhook/messages with "Authorization: Bearer SECRET" and a
// JSON message (see Message). 202 means stored (or already stored: a retry
// is safe), 400 names the field at fault, 401 is a wrong secret, 503 means
// try again.
//
// Outbound: POST to the configured URL with the same bearer secret, an
// Idempotency-Key header that stays the same on every try of one message,
// and a JSON Delivery. The receiver answers 2xx, optionally with
// {"message_id": "..."}; 429 with Retry-After makes the gateway wait; other
// 4xx answers drop the message as undeliverable; anything else is retried.
// A receiver that remembers idempotency keys sees every answer exactly once,
// even when the gateway dies between sending and recording.
package webhook

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/switchboardhq/switchboard/core"
)

// Path is where the adapter receives messages.
const Path = "/webhook/messages"

// maxBody bounds one inbound request: the text limit plus room for images.
const maxBody = 16 << 20

// Message is the JSON of one inbound message.
type Message struct {
	MessageID    string  `json:"message_id"`
	ChatID       string  `json:"chat_id"`
	ThreadID     string  `json:"thread_id,omitempty"`
	UserID       string  `json:"user_id"`
	UserName     string  `json:"user_name,omitempty"`
	Text         string  `json:"text"`
	Images       []Image `json:"images,omitempty"`
	Group        bool    `json:"group,omitempty"`
	Mentioned    bool    `json:"mentioned,omitempty"`
	ReplyToAgent bool    `json:"reply_to_agent,omitempty"`
}

// Image is an attached picture; Data is base64 in JSON.
type Image struct {
	MIMEType string `json:"mime_type"`
	Data     []byte `json:"data"`
}

// Delivery is the JSON of one outgoing message.
type Delivery struct {
	ID             int64  `json:"id"`
	IdempotencyKey string `json:"idempotency_key"`
	ChatID         string `json:"chat_id"`
	ThreadID       string `json:"thread_id,omitempty"`
	ReplyTo        string `json:"reply_to,omitempty"`
	Text           string `json:"text"`
	Part           int    `json:"part"`
	Parts          int    `json:"parts"`
}

// Config configures the adapter.
type Config struct {
	// DeliverURL receives the answers.
	DeliverURL string
	// Secret is the bearer token of both directions.
	Secret string
	// Client sends the answers; nil means a client with a 30 s time-out.
	Client *http.Client
}

// Adapter is the webhook channel. It is safe for concurrent use.
type Adapter struct {
	cfg  Config
	sink core.SinkHolder

	mu     sync.Mutex
	health core.Health
}

// New returns the adapter.
func New(cfg Config) *Adapter {
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: 30 * time.Second}
	}

	return &Adapter{cfg: cfg}
}

// Channel returns core.ChannelWebhook.
func (a *Adapter) Channel() core.Channel { return core.ChannelWebhook }

// Run makes the HTTP handler accept messages until ctx ends.
func (a *Adapter) Run(ctx context.Context, sink core.Sink) error {
	a.sink.Set(sink)
	a.setHealth(func(h *core.Health) { h.Connected = true })

	<-ctx.Done()
	a.sink.Clear()
	a.setHealth(func(h *core.Health) { h.Connected = false })

	return nil
}

// HTTPHandler returns the inbound handler and its path.
func (a *Adapter) HTTPHandler() (string, http.Handler) {
	return "POST " + Path, http.HandlerFunc(a.receive)
}

func (a *Adapter) receive(w http.ResponseWriter, r *http.Request) {
	if !a.authorized(r) {
		writeError(w, http.StatusUnauthorized, "unauthorized", "wrong or missing bearer token", "")
		return
	}

	sink := a.sink.Wait(r.Context(), core.StartWait)
	if sink == nil {
		writeError(w, http.StatusServiceUnavailable, "unavailable", "not started yet", "")
		return
	}

	var m Message

	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	dec.DisallowUnknownFields()

	if err := dec.Decode(&m); err != nil {
		writeError(w, http.StatusBadRequest, "invalid_json", err.Error(), "")
		return
	}

	err := sink.Receive(r.Context(), m.inbound())

	var ie *core.InputError

	switch {
	case errors.As(err, &ie):
		writeError(w, http.StatusBadRequest, "invalid", ie.Error(), ie.Field)
	case err != nil:
		writeError(w, http.StatusServiceUnavailable, "unavailable", "could not store the message", "")
	default:
		a.setHealth(func(h *core.Health) { h.LastMessageAt = time.Now().UTC() })
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusAccepted)
		_, _ = io.WriteString(w, `{"status":"accepted"}`+"\n")
	}
}

func (m Message) inbound() core.Inbound {
	in := core.Inbound{
		Channel:      core.ChannelWebhook,
		ChatID:       core.ChatID(m.ChatID),
		ThreadID:     core.ThreadID(m.ThreadID),
		UserID:       core.UserID(m.UserID),
		MessageID:    core.MessageID(m.MessageID),
		UserName:     m.UserName,
		Text:         m.Text,
		Direct:       !m.Group,
		Mentioned:    m.Mentioned,
		ReplyToAgent: m.ReplyToAgent,
	}

	for _, img := range m.Images {
		in.Images = append(in.Images, core.Image{MIMEType: img.MIMEType, Data: img.Data})
	}

	return in
}

func (a *Adapter) authorized(r *http.Request) bool {
	want := "Bearer " + a.cfg.Secret
	got := r.Header.Get("Authorization")

	return subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// Send posts one message to the receiver.
func (a *Adapter) Send(ctx context.Context, msg core.Outgoing) (core.Sent, error) {
	body, err := json.Marshal(Delivery{
		ID:             msg.ID,
		IdempotencyKey: msg.IdempotencyKey,
		ChatID:         string(msg.To.ChatID),
		ThreadID:       string(msg.To.ThreadID),
		ReplyTo:        string(msg.ReplyTo),
		Text:           msg.Text,
		Part:           msg.Part,
		Parts:          msg.Parts,
	})
	if err != nil {
		return core.Sent{}, core.Undeliverable(fmt.Errorf("encode delivery: %w", err))
	}

	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.cfg.DeliverURL,
		bytes.NewReader(body))
	if err != nil {
		return core.Sent{}, core.Undeliverable(fmt.Errorf("build delivery request: %w", err))
	}

	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+a.cfg.Secret)
	req.Header.Set("Idempotency-Key", msg.IdempotencyKey)

	resp, err := a.cfg.Client.Do(req)
	if err != nil {
		a.failed(err)
		return core.Sent{}, fmt.Errorf("post delivery: %w", err)
	}
	defer resp.Body.Close()

	sent, err := a.result(resp)
	if err != nil {
		a.failed(err)
		return core.Sent{}, err
	}

	a.setHealth(func(h *core.Health) { h.Connected, h.LastError = true, "" })

	return sent, nil
}

// result turns the receiver's answer into a sent message or a send error.
func (a *Adapter) result(resp *http.Response) (core.Sent, error) {
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	status := fmt.Errorf("receiver answered %s", resp.Status)

	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		return core.Sent{}, core.RetryAfter(retryAfter(resp.Header.Get("Retry-After")), status)
	case resp.StatusCode == http.StatusRequestTimeout || resp.StatusCode >= 500:
		return core.Sent{}, status
	case resp.StatusCode >= 400:
		return core.Sent{}, core.Undeliverable(status)
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		return core.Sent{}, status
	}

	var ack struct {
		MessageID string `json:"message_id"`
	}

	_ = json.Unmarshal(data, &ack)

	return core.Sent{MessageID: core.MessageID(ack.MessageID)}, nil
}

// retryAfter reads a Retry-After header in seconds; an unreadable one
// means one second.
func retryAfter(v string) time.Duration {
	secs, err := strconv.Atoi(v)
	if err != nil || secs < 1 {
		return time.Second
	}

	return time.Duration(secs) * time.Second
}

// Health reports whether the receiver took the last message.
func (a *Adapter) Health() core.Health {
	a.mu.Lock()
	defer a.mu.Unlock()

	return a.health
}

// TextLimit is 4096 characters.
func (a *Adapter) TextLimit() int { return 4096 }

// CountText counts characters.
func (a *Adapter) CountText(s string) int { return len([]rune(s)) }

func (a *Adapter) failed(err error) {
	a.setHealth(func(h *core.Health) { h.LastError = err.Error() })
}

func (a *Adapter) setHealth(fn func(*core.Health)) {
	a.mu.Lock()
	defer a.mu.Unlock()

	fn(&a.health)
}

func writeError(w http.ResponseWriter, status int, code, msg, field string) {
	type apiError struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Field   string `json:"field,omitempty"`
	}

	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]apiError{
		"error": {Code: code, Message: msg, Field: field},
	})
}

package httpapi

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/switchboardhq/switchboard/core"
	"github.com/switchboardhq/switchboard/core/session"
	"github.com/switchboardhq/switchboard/httpapi/wire"
)

// MaxImages bounds the images of one chat message.
const MaxImages = 8

// imageTypes are the image types a chat message may carry.
var imageTypes = []string{"image/png", "image/jpeg", "image/gif", "image/webp"}

// pollEvery is how often a waiting chat request looks for its answer in
// the database, for an answer recorded by another replica; on this
// replica the outbox wakes it at once.
const pollEvery = 200 * time.Millisecond

// chatRequest is the body of POST /api/agent/chat.
type chatRequest struct {
	Message   string   `json:"message"`
	SessionID *int64   `json:"session_id"`
	Images    []string `json:"images"`
}

// chatResponse is the answer to a chat message.
type chatResponse struct {
	Answer      string   `json:"answer"`
	SessionID   int64    `json:"session_id"`
	MessageID   string   `json:"message_id"`
	Model       string   `json:"model"`
	ToolsCalled []string `json:"tools_called"`
	Usage       usage    `json:"usage"`
}

// usage is the token count of an answer.
type usage struct {
	InputTokens  int64 `json:"input_tokens"`
	OutputTokens int64 `json:"output_tokens"`
	TotalTokens  int64 `json:"total_tokens"`
}

// handleChat stores a message from the caller in a session of theirs and
// answers with the agent's answer, streamed as server-sent events when the
// request accepts text/event-stream. An Idempotency-Key header makes a
// retry return the first answer instead of asking again.
func (a *API) handleChat(w http.ResponseWriter, r *http.Request) {
	user := caller(r)

	var req chatRequest
	if rerr := wire.Decode(r, wire.MaxBodyWithImages, &req); rerr != nil {
		reject(w, rerr)
		return
	}

	msg, err := a.chatMessage(r, user, req)
	if err != nil {
		wire.Fail(w, err)
		return
	}

	ref := a.sink.Wait(r.Context(), core.StartWait)
	if ref == nil {
		unavailable(w, "the gateway is starting or stopping; try again in a moment")
		return
	}

	sess, err := a.chatSession(r.Context(), user, req)
	if err != nil {
		a.fail(w, "chat session", err)
		return
	}

	msg.ThreadID = sess.ThreadID
	stream := acceptsEvents(r)

	waiter, done := a.wait(waitKey{thread: msg.ThreadID, message: msg.MessageID}, stream)
	defer done()

	if err := ref.Receive(r.Context(), msg); err != nil {
		var ie *core.InputError
		if errors.As(err, &ie) && ie.Field == "text" {
			ie.Field = "message"
		}

		a.fail(w, "store chat message", err)

		return
	}

	a.lastSeen.Store(a.cfg.Clock.Now().UnixNano())

	if stream {
		a.streamAnswer(w, r, user, msg.MessageID, sess.ID, waiter)
		return
	}

	a.awaitAnswer(w, r, user, msg.MessageID, sess.ID, waiter)
}

// chatMessage validates a chat request and makes the message to store.
func (a *API) chatMessage(r *http.Request, user core.UserID, req chatRequest,
) (core.Inbound, error) {
	images, err := decodeImages(req.Images)
	if err != nil {
		return core.Inbound{}, err
	}

	if strings.TrimSpace(req.Message) == "" && len(images) == 0 {
		return core.Inbound{}, &core.InputError{Field: "message", Rule: "is required"}
	}

	if len(req.Message) > core.MaxTextBytes {
		return core.Inbound{}, &core.InputError{Field: "message", Rule: fmt.Sprintf(
			"must be at most %d bytes (got %d)", core.MaxTextBytes, len(req.Message))}
	}

	id, err := messageID(r.Header.Get("Idempotency-Key"))
	if err != nil {
		return core.Inbound{}, err
	}

	return core.Inbound{
		Channel:   WebChannel,
		ChatID:    core.ChatID(user),
		UserID:    user,
		UserName:  string(user),
		MessageID: id,
		Text:      req.Message,
		Images:    images,
		Direct:    true,
		SentAt:    a.cfg.Clock.Now(),
	}, nil
}

// messageID is the Idempotency-Key, or a random id without one.
func messageID(key string) (core.MessageID, error) {
	if key == "" {
		b := make([]byte, 12)
		_, _ = rand.Read(b)

		return core.MessageID("api-" + hex.EncodeToString(b)), nil
	}

	if len(key) > 128 || strings.ContainsFunc(key, func(r rune) bool {
		return r > unicode.MaxASCII || !unicode.IsPrint(r)
	}) {
		return "", &core.InputError{Field: "Idempotency-Key",
			Rule: "must be at most 128 printable ASCII characters"}
	}

	return core.MessageID("key-" + key), nil
}

// decodeImages reads base64 images, bare or as data: URLs, and checks
// that each is a picture of a known type.
func decodeImages(in []string) ([]core.Image, error) {
	if len(in) > MaxImages {
		return nil, &core.InputError{Field: "images", Rule: fmt.Sprintf(
			"must hold at most %d images (got %d)", MaxImages, len(in))}
	}

	out := make([]core.Image, 0, len(in))

	for i, s := range in {
		field := fmt.Sprintf("images[%d]", i)

		if _, data, ok := strings.Cut(s, ";base64,"); ok && strings.HasPrefix(s, "data:") {
			s = data
		}

		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return nil, &core.InputError{Field: field, Rule: "must be base64 (standard " +
				"alphabet, padded) or a data: URL"}
		}

		mime := http.DetectContentType(b)
		if !slices.Contains(imageTypes, mime) {
			return nil, &core.InputError{Field: field, Rule: fmt.Sprintf(
				"must be a PNG, JPEG, GIF or WebP picture (got %s)", mime)}
		}

		out = append(out, core.Image{MIMEType: mime, Data: b})
	}

	return out, nil
}

// chatSession returns the caller's session of the request, or a new one
// titled after the message when the request names none.
func (a *API) chatSession(ctx context.Context, user core.UserID, req chatRequest,
) (*session.Session, error) {
	if req.SessionID != nil {
		s, err := session.Get(ctx, a.cfg.DB, a.cfg.AgentID, WebChannel, core.ChatID(user),
			*req.SessionID)
		if errors.Is(err, session.ErrNotFound) {
			return nil, &wire.RequestError{Status: http.StatusNotFound, Body: wire.Error{
				Code: wire.CodeNotFound, Field: "session_id",
				Message: fmt.Sprintf("session_id: you have no session %d", *req.SessionID)}}
		}

		return s, err
	}

	title := session.TitleFrom(req.Message)

	return session.Create(ctx, a.cfg.DB, a.cfg.AgentID, a.newConversation(user),
		session.Fields{Title: &title}, a.cfg.Clock.Now())
}

// newConversation is a fresh thread of the caller's chat: each API session
// is its own conversation, answered in order.
func (a *API) newConversation(user core.UserID) core.Conversation {
	b := make([]byte, 8)
	_, _ = rand.Read(b)

	return core.Conversation{Channel: WebChannel, ChatID: core.ChatID(user),
		ThreadID: core.ThreadID("s-" + hex.EncodeToString(b))}
}

// awaitAnswer waits for the answer and writes it as JSON.
func (a *API) awaitAnswer(w http.ResponseWriter, r *http.Request, user core.UserID,
	id core.MessageID, sessionID int64, waiter *waiter,
) {
	resp, err := a.nextAnswer(r.Context(), user, id, waiter, nil)

	switch {
	case err == nil:
		if resp.SessionID == 0 {
			resp.SessionID = sessionID
		}

		wire.WriteJSON(w, http.StatusOK, resp)
	case errors.Is(err, errNoAnswerYet):
		wire.WriteError(w, http.StatusGatewayTimeout, wire.Error{Code: wire.CodeTimeout,
			Message: fmt.Sprintf("no answer within %s; it will be in session %d's transcript",
				a.cfg.ChatTimeout, sessionID)})
	case r.Context().Err() != nil:
		// The caller left; the answer stays in the transcript.
	default:
		a.fail(w, "read chat answer", err)
	}
}

// streamAnswer writes the answer as server-sent events: "session" first,
// "delta" with each piece of text as the agent writes it, and "done" with
// the whole answer as the JSON route returns it, or "error".
func (a *API) streamAnswer(w http.ResponseWriter, r *http.Request, user core.UserID,
	id core.MessageID, sessionID int64, waiter *waiter,
) {
	flusher, _ := w.(http.Flusher)

	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)

	event := func(name string, v any) {
		b, _ := json.Marshal(v)
		fmt.Fprintf(w, "event: %s\ndata: %s\n\n", name, b)

		if flusher != nil {
			flusher.Flush()
		}
	}

	event("session", map[string]any{"session_id": sessionID, "message_id": id})

	streamed := false
	resp, err := a.nextAnswer(r.Context(), user, id, waiter, func(delta string) {
		streamed = true
		event("delta", map[string]string{"text": delta})
	})

	switch {
	case err == nil:
		if resp.SessionID == 0 {
			resp.SessionID = sessionID
		}

		if !streamed {
			event("delta", map[string]string{"text": resp.Answer})
		}

		event("done", resp)
	case errors.Is(err, errNoAnswerYet):
		event("error", map[string]wire.Error{"error": {Code: wire.CodeTimeout,
			Message: fmt.Sprintf("no answer within %s; it will be in session %d's transcript",
				a.cfg.ChatTimeout, sessionID)}})
	case r.Context().Err() == nil:
		a.log.Error("read chat answer", "err", err)
		event("error", map[string]wire.Error{"error": {Code: wire.CodeInternal,
			Message: "internal error; it has been logged"}})
	}
}

// errNoAnswerYet is a chat that timed out before its answer was stored.
var errNoAnswerYet = errors.New("no answer yet")

// nextAnswer waits until the answer to message id is stored, handing the
// text streamed meanwhile to onDelta when it is not nil.
func (a *API) nextAnswer(ctx context.Context, user core.UserID, id core.MessageID,
	waiter *waiter, onDelta func(string),
) (chatResponse, error) {
	deadline := time.NewTimer(a.cfg.ChatTimeout)
	defer deadline.Stop()

	tick := time.NewTicker(pollEvery)
	defer tick.Stop()

	look := true

	for {
		if onDelta != nil {
			if d := waiter.take(); d != "" {
				onDelta(d)
			}
		}

		if look {
			resp, err := a.storedAnswer(ctx, user, id)
			if !errors.Is(err, errNoAnswerYet) {
				return resp, err
			}
		}

		// New text alone means the answer is still being written: it is
		// passed on without asking the database.
		look = true

		select {
		case <-ctx.Done():
			return chatResponse{}, ctx.Err()
		case <-deadline.C:
			return chatResponse{}, errNoAnswerYet
		case <-waiter.text:
			look = false
		case <-waiter.sent:
		case <-tick.C:
		}
	}
}

// storedAnswer reads the answer to the caller's message id from the
// outbox and its transcript; errNoAnswerYet while there is none.
func (a *API) storedAnswer(ctx context.Context, user core.UserID, id core.MessageID,
) (chatResponse, error) {
	var inboundID int64

	err := a.cfg.DB.NewRaw(`SELECT id FROM inbound_messages WHERE agent_id = ? AND
		channel = ? AND chat_id = ? AND platform_message_id = ?`,
		a.cfg.AgentID, WebChannel, user, id).Scan(ctx, &inboundID)
	if errors.Is(err, sql.ErrNoRows) {
		return chatResponse{}, errNoAnswerYet
	}

	if err != nil {
		return chatResponse{}, fmt.Errorf("find message %s: %w", id, err)
	}

	var parts []string

	err = a.cfg.DB.NewRaw(`SELECT text FROM outbox WHERE inbound_id = ? ORDER BY part, id`,
		inboundID).Scan(ctx, &parts)
	if err != nil {
		return chatResponse{}, fmt.Errorf("read answer to message %s: %w", id, err)
	}

	if len(parts) == 0 {
		return chatResponse{}, errNoAnswerYet
	}

	resp := chatResponse{Answer: strings.Join(parts, ""), MessageID: string(id),
		ToolsCalled: []string{}}

	var turn session.Turn

	err = a.cfg.DB.NewSelect().Model(&turn).
		Where("inbound_id = ?", inboundID).
		Where("role = ?", session.RoleAssistant).
		Limit(1).Scan(ctx)

	switch {
	case errors.Is(err, sql.ErrNoRows):
		return resp, nil // a command's answer has no turn
	case err != nil:
		return chatResponse{}, fmt.Errorf("read turn of message %s: %w", id, err)
	}

	resp.SessionID, resp.Model = turn.SessionID, turn.Model
	if turn.Tools != "" {
		resp.ToolsCalled = strings.Split(turn.Tools, ",")
	}

	resp.Usage = usage{InputTokens: turn.InputTokens, OutputTokens: turn.OutputTokens,
		TotalTokens: turn.InputTokens + turn.OutputTokens}

	return resp, nil
}

// acceptsEvents reports whether the request asks for server-sent events.
func acceptsEvents(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "text/event-stream")
}

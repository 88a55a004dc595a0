package telegram

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/switchboardhq/switchboard/core"
)

// maxImageBytes bounds one downloaded photo.
const maxImageBytes = 10 << 20

// allowedUpdates are the update kinds the adapter asks for; Telegram sends
// no others, in polling or webhook mode.
var allowedUpdates = []string{"message", "edited_message"}

// update is one Telegram update as the adapter reads it.
type update struct {
	UpdateID      int      `json:"update_id"`
	Message       *message `json:"message,omitempty"`
	EditedMessage *message `json:"edited_message,omitempty"`
}

// message is the library's message with the forum fields it predates.
type message struct {
	tgbotapi.Message
	// MessageThreadID is the forum topic; in other groups it is the
	// thread of a reply, which is no topic.
	MessageThreadID int `json:"message_thread_id,omitempty"`
	// IsTopicMessage is true for a message in a forum topic.
	IsTopicMessage bool `json:"is_topic_message,omitempty"`
}

// handle gives one update to sink. It returns nil when the update may be
// confirmed: stored, refused by the core (logged), or of a kind the
// adapter ignores. An error means the update must come again.
func (a *Adapter) handle(ctx context.Context, sink core.Sink, u update) error {
	switch {
	case u.Message != nil:
		// Handled below.
	case u.EditedMessage != nil:
		// The answer to the original stands; see the package doc.
		a.log.Debug("edited message ignored", "update_id", u.UpdateID)
		return nil
	default:
		a.log.Debug("update kind ignored", "update_id", u.UpdateID)
		return nil
	}

	a.setHealth(func(h *health) { h.lastMsgAt = a.cfg.Clock.Now() })

	in, ok, err := a.inbound(ctx, u.Message)
	if err != nil {
		return err
	}

	if !ok {
		a.log.Debug("message without text or photo ignored", "update_id", u.UpdateID)
		return nil
	}

	err = sink.Receive(ctx, in)

	var ie *core.InputError
	if errors.As(err, &ie) {
		a.log.Warn("message refused by the core, skipped", "update_id", u.UpdateID,
			"chat_id", string(in.ChatID), "field", ie.Field, "rule", ie.Rule)

		return nil
	}

	if err != nil {
		return fmt.Errorf("store update %d: %w", u.UpdateID, err)
	}

	a.log.Debug("message received", "update_id", u.UpdateID, "chat_id", string(in.ChatID),
		"message_id", string(in.MessageID))

	return nil
}

// inbound maps a message to the core's. ok is false for messages the core
// has no use for: service messages, stickers, anything without text or a
// photo, and messages without a sender.
func (a *Adapter) inbound(ctx context.Context, m *message) (core.Inbound, bool, error) {
	if m.From == nil || m.Chat == nil {
		return core.Inbound{}, false, nil
	}

	self := a.self.Load()

	text, entities := m.Text, m.Entities
	if len(m.Photo) > 0 {
		text, entities = m.Caption, m.CaptionEntities
	}

	in := core.Inbound{
		Channel:      core.ChannelTelegram,
		ChatID:       core.ChatID(strconv.FormatInt(m.Chat.ID, 10)),
		UserID:       core.UserID(strconv.FormatInt(m.From.ID, 10)),
		MessageID:    messageID(m.Chat.ID, m.MessageID),
		UserName:     userName(m.From),
		Text:         text,
		Direct:       m.Chat.IsPrivate(),
		Mentioned:    mentions(text, entities, self),
		ReplyToAgent: repliesTo(m, self),
		SentAt:       time.Unix(int64(m.Date), 0).UTC(),
	}

	if m.IsTopicMessage && m.MessageThreadID != 0 {
		in.ThreadID = core.ThreadID(strconv.Itoa(m.MessageThreadID))
	}

	if len(m.Photo) > 0 {
		img, err := a.photo(ctx, m.Photo)
		if err != nil {
			return core.Inbound{}, false, err
		}

		if img != nil {
			in.Images = []core.Image{*img}
		}
	}

	return in, strings.TrimSpace(in.Text) != "" || len(in.Images) > 0, nil
}

// userName is the sender's first and last name, or the first name and
// @username when there is no last name.
func userName(u *tgbotapi.User) string {
	switch {
	case u.LastName != "":
		return u.FirstName + " " + u.LastName
	case u.UserName != "":
		return u.FirstName + " (@" + u.UserName + ")"
	default:
		return u.FirstName
	}
}

// mentions reports whether text names the bot: an @mention of its
// username, a mention of its account by a user without a username, or a
// command addressed to it ("/help@bot").
func mentions(text string, entities []tgbotapi.MessageEntity, self *tgbotapi.User) bool {
	if self == nil || len(entities) == 0 {
		return false
	}

	units := utf16.Encode([]rune(text))
	at := "@" + strings.ToLower(self.UserName)

	for _, e := range entities {
		switch e.Type {
		case "text_mention":
			if e.User != nil && e.User.ID == self.ID {
				return true
			}
		case "mention", "bot_command":
			if e.Offset < 0 || e.Length < 0 || e.Offset+e.Length > len(units) ||
				self.UserName == "" {
				continue
			}

			word := strings.ToLower(string(utf16.Decode(units[e.Offset : e.Offset+e.Length])))
			if word == at || (e.Type == "bot_command" && strings.HasSuffix(word, at)) {
				return true
			}
		}
	}

	return false
}

// repliesTo reports whether m answers one of the bot's messages. In a
// forum every message of a topic replies to the topic's first message,
// which is no reply to anyone.
func repliesTo(m *message, self *tgbotapi.User) bool {
	r := m.ReplyToMessage
	if self == nil || r == nil || r.From == nil || r.From.ID != self.ID {
		return false
	}

	return !m.IsTopicMessage || r.MessageID != m.MessageThreadID
}

// photo downloads the largest size of a photo that fits maxImageBytes. It
// returns nil without an error when no size fits or Telegram refuses the
// file, so the caption still arrives; other failures are errors, so that
// the update comes again.
func (a *Adapter) photo(ctx context.Context, sizes []tgbotapi.PhotoSize) (*core.Image, error) {
	var best *tgbotapi.PhotoSize

	for i := range sizes {
		s := &sizes[i]
		if s.FileSize > maxImageBytes {
			continue
		}

		if best == nil || s.Width*s.Height > best.Width*best.Height {
			best = s
		}
	}

	if best == nil {
		a.log.Warn("photo larger than 10 MB in every size, caption only")
		return nil, nil
	}

	file, err := a.api(ctx).GetFile(tgbotapi.FileConfig{FileID: best.FileID})
	if err != nil {
		if code, _, ok := apiError(err); ok && code == http.StatusBadRequest {
			a.log.Warn("photo refused by telegram, caption only", "err", err)
			return nil, nil
		}

		return nil, fmt.Errorf("get photo file: %w", err)
	}

	data, err := a.download(ctx, file.FilePath)
	if errors.Is(err, errNoFile) {
		a.log.Warn("photo not downloadable, caption only", "err", err)
		return nil, nil
	}

	if err != nil {
		return nil, err
	}

	mimeType := http.DetectContentType(data)
	if !strings.HasPrefix(mimeType, "image/") {
		mimeType = "image/jpeg" // Telegram's photos are JPEG
	}

	return &core.Image{MIMEType: mimeType, Data: data}, nil
}

// errNoFile says that a file cannot be downloaded, now or later.
var errNoFile = errors.New("file not downloadable")

// download fetches a file from the Bot API server's file endpoint, which
// the library's constant cannot point at another server.
func (a *Adapter) download(ctx context.Context, path string) ([]byte, error) {
	u := a.cfg.APIEndpoint + "/file/bot" + a.cfg.Token + "/" + path

	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, redact(fmt.Errorf("build photo request: %w", err), a.cfg.Token)
	}

	resp, err := ctxClient{ctx: ctx, client: a.cfg.HTTPClient, token: a.cfg.Token}.Do(req)
	if err != nil {
		return nil, fmt.Errorf("download photo: %w", err)
	}
	defer resp.Body.Close()

	switch {
	case resp.StatusCode >= 400 && resp.StatusCode < 500:
		return nil, fmt.Errorf("%w: telegram answered %s", errNoFile, resp.Status)
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("download photo: telegram answered %s", resp.Status)
	}

	data, err := io.ReadAll(io.LimitReader(resp.Body, maxImageBytes+1))
	if err != nil {
		return nil, fmt.Errorf("download photo: %w", err)
	}

	if len(data) > maxImageBytes {
		return nil, fmt.Errorf("%w: larger than 10 MB", errNoFile)
	}

	return data, nil
}

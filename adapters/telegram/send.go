package telegram

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/switchboardhq/switchboard/core"
	"github.com/switchboardhq/switchboard/core/outbox"
)

// Send delivers one part of an answer as plain text: into the forum topic
// of its conversation, and for the first part as a reply to the question,
// which Telegram sends without the reply when the question is gone. It
// waits for the chat's turn under Telegram's rate limits, up to ctx's
// deadline.
func (a *Adapter) Send(ctx context.Context, msg core.Outgoing) (core.Sent, error) {
	chat, params, err := target(msg.To)
	if err != nil {
		return core.Sent{}, err
	}

	params["text"] = msg.Text

	if msg.Part <= 1 {
		if id, ok := replyTo(msg.ReplyTo); ok {
			params["reply_parameters"] = fmt.Sprintf(
				`{"message_id":%d,"allow_sending_without_reply":true}`, id)
		}
	}

	if err := a.pace.wait(ctx, chat); err != nil {
		return core.Sent{}, err
	}

	resp, err := a.api(ctx).MakeRequest("sendMessage", params)
	if err != nil {
		return core.Sent{}, a.sendFailed(err)
	}

	return a.sent(chat, resp)
}

// SendImage delivers a picture with its caption. A caption longer than
// Telegram's 1024 UTF-16 units is split: the first part goes with the
// picture, the rest follows as text.
func (a *Adapter) SendImage(ctx context.Context, to core.Conversation, img core.Image,
	caption string,
) (core.Sent, error) {
	chat, params, err := target(to)
	if err != nil {
		return core.Sent{}, err
	}

	parts := outbox.Split(caption, captionLimit, outbox.CountUTF16)
	params["caption"] = parts[0]

	if err := a.pace.wait(ctx, chat); err != nil {
		return core.Sent{}, err
	}

	file := tgbotapi.RequestFile{Name: "photo", Data: tgbotapi.FileBytes{
		Name: "image" + extension(img.MIMEType), Bytes: img.Data,
	}}

	resp, err := a.api(ctx).UploadFiles("sendPhoto", params, []tgbotapi.RequestFile{file})
	if err != nil {
		return core.Sent{}, a.sendFailed(err)
	}

	sent, err := a.sent(chat, resp)
	if err != nil {
		return sent, err
	}

	for i, text := range parts[1:] {
		_, err := a.Send(ctx, core.Outgoing{To: to, Text: text, Part: i + 2, Parts: len(parts)})
		if err != nil {
			return sent, err
		}
	}

	return sent, nil
}

// ShowTyping shows "typing…" in the conversation for about five seconds.
// It is not paced: it is no message, and only best effort.
func (a *Adapter) ShowTyping(ctx context.Context, to core.Conversation) error {
	_, params, err := target(to)
	if err != nil {
		return err
	}

	params["action"] = tgbotapi.ChatTyping

	// sendChatAction answers true, not a message, so the library's Send
	// would fail on it; MakeRequest only checks that it is ok.
	if _, err := a.api(ctx).MakeRequest("sendChatAction", params); err != nil {
		return fmt.Errorf("send typing to %s: %w", to, err)
	}

	return nil
}

// commandName is what Telegram accepts as a command in its menu.
var commandName = regexp.MustCompile(`^[a-z0-9_]{1,32}$`)

// RegisterCommands publishes the bot's command menu. Commands whose names
// Telegram refuses are left out of the menu (they still work when typed).
func (a *Adapter) RegisterCommands(ctx context.Context, cmds []core.CommandInfo) error {
	menu := make([]tgbotapi.BotCommand, 0, len(cmds)) // never nil: that would be sent as null

	for _, c := range cmds {
		name := strings.TrimPrefix(c.Name, "/")
		if !commandName.MatchString(name) {
			a.log.Warn("command left out of the menu: telegram wants 1 to 32 of a-z, 0-9 "+
				"and _", "command", c.Name)

			continue
		}

		desc := strings.TrimSpace(c.Description)
		if desc == "" {
			desc = name
		}

		menu = append(menu, tgbotapi.BotCommand{Command: name, Description: truncate(desc, 256)})
	}

	if _, err := a.api(ctx).Request(tgbotapi.SetMyCommandsConfig{Commands: menu}); err != nil {
		return fmt.Errorf("set telegram commands: %w", err)
	}

	return nil
}

// target returns the chat of a conversation and the parameters that
// address it: chat_id, and message_thread_id for a forum topic.
func target(to core.Conversation) (int64, tgbotapi.Params, error) {
	chat, err := strconv.ParseInt(string(to.ChatID), 10, 64)
	if err != nil {
		return 0, nil, core.Undeliverable(fmt.Errorf("telegram chat id %q is not a number",
			to.ChatID))
	}

	params := tgbotapi.Params{"chat_id": string(to.ChatID)}

	if to.ThreadID != "" {
		if _, err := strconv.Atoi(string(to.ThreadID)); err != nil {
			return 0, nil, core.Undeliverable(fmt.Errorf("telegram thread id %q is not a "+
				"number", to.ThreadID))
		}

		params["message_thread_id"] = string(to.ThreadID)
	}

	return chat, params, nil
}

// replyTo returns Telegram's message id from the core's "chat:message".
func replyTo(id core.MessageID) (int, bool) {
	s := string(id)
	if i := strings.LastIndexByte(s, ':'); i >= 0 {
		s = s[i+1:]
	}

	n, err := strconv.Atoi(s)

	return n, err == nil && n > 0
}

// messageID is the core's id of a Telegram message: unique per chat, and
// with the chat in it so that a reply can be addressed from it alone.
func messageID(chat int64, id int) core.MessageID {
	return core.MessageID(strconv.FormatInt(chat, 10) + ":" + strconv.Itoa(id))
}

// sent reads the message Telegram answered with.
func (a *Adapter) sent(chat int64, resp *tgbotapi.APIResponse) (core.Sent, error) {
	a.setHealth(func(h *health) { h.sendErr = "" })

	var m tgbotapi.Message
	if err := json.Unmarshal(resp.Result, &m); err != nil || m.MessageID == 0 {
		// It was sent: an unreadable answer must not make the outbox send
		// it again.
		a.log.Warn("sent message without a readable id", "chat_id", chat, "err", err)
		return core.Sent{}, nil
	}

	return core.Sent{MessageID: messageID(chat, m.MessageID)}, nil
}

// sendFailed records a failed send in the health and turns it into a send
// error.
func (a *Adapter) sendFailed(err error) error {
	se := sendError(err)
	a.setHealth(func(h *health) { h.sendErr = "send: " + se.Error() })

	return se
}

// extension returns the file name extension for an image type; Telegram
// looks at the content, but a name helps self-hosted servers.
func extension(mimeType string) string {
	switch mimeType {
	case "image/png":
		return ".png"
	case "image/gif":
		return ".gif"
	case "image/webp":
		return ".webp"
	default:
		return ".jpg"
	}
}

// truncate cuts s to at most n runes.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}

	return string([]rune(s)[:n])
}

// Compile-time checks of the capabilities the core discovers.
var (
	_ core.Adapter          = (*Adapter)(nil)
	_ core.TextLimiter      = (*Adapter)(nil)
	_ core.Typer            = (*Adapter)(nil)
	_ core.ImageSender      = (*Adapter)(nil)
	_ core.ThreadReplier    = (*Adapter)(nil)
	_ core.CommandRegistrar = (*Adapter)(nil)
	_ core.HTTPReceiver     = (*Adapter)(nil)
)

package telegramtest

import (
	"bytes"
	"encoding/json"
	"image"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Telegram's limits on texts, in UTF-16 code units after the markup is
// parsed.
const (
	maxTextLen    = 4096
	maxCaptionLen = 1024
)

// notModified is Telegram's answer to an edit that changes nothing.
const notModified = "message is not modified: specified new message content and reply " +
	"markup are exactly the same as a current content and reply markup of the message"

// chatActions are the actions sendChatAction accepts.
var chatActions = []string{
	"typing", "upload_photo", "record_video", "upload_video", "record_voice", "upload_voice",
	"upload_document", "choose_sticker", "find_location", "record_video_note",
	"upload_video_note",
}

// commandName is what setMyCommands accepts as a command.
var commandName = regexp.MustCompile(`^[a-z0-9_]{1,32}$`)

// outgoing is what a send method asks for, before the server checks it
// against what it knows.
type outgoing struct {
	chatID   int64
	threadID int64
	replyTo  int64
	allow    bool
}

// readOutgoing reads the chat, thread and reply of a send method.
func readOutgoing(c *call) (outgoing, *apiError) {
	chatID, e := chatIDParam(c.params)
	if e != nil {
		return outgoing{}, e
	}

	replyTo, allow, e := replyParams(c.params)
	if e != nil {
		return outgoing{}, e
	}

	return outgoing{
		chatID: chatID, threadID: intParam(c.params, "message_thread_id"),
		replyTo: replyTo, allow: allow,
	}, nil
}

// botMessage builds the bot's new message in a chat, checking the reply
// and the rate limits. The caller holds s.mu and remembers the message.
func (s *Server) botMessage(c *call, out outgoing) (Message, *apiError) {
	chat := s.chats.chat(out.chatID)

	var reply *Message
	if out.replyTo != 0 {
		r, ok := s.chats.message(out.chatID, out.replyTo)
		switch {
		case ok:
			reply = &r
		case !out.allow:
			return Message{}, badRequest("message to be replied not found")
		}
	}

	if e := s.admitMessage(out.chatID, time.Now()); e != nil {
		return Message{}, e
	}

	bot := s.Bot()
	thread := out.threadID
	if thread == 0 && reply != nil {
		thread = reply.MessageThreadID
	}

	m := Message{From: &bot, Date: c.at.Unix(), Chat: chat, ReplyToMessage: reply}
	if thread != 0 && chat.IsForum {
		m.MessageThreadID, m.IsTopicMessage = thread, true
		if reply == nil {
			start := s.chats.topicStart(chat, thread, bot, m.Date)
			m.ReplyToMessage = &start
		}
	}
	m.MessageID = s.chats.nextID(out.chatID)

	return m, nil
}

// sendMessage answers the bot's new text message.
func (s *Server) sendMessage(c *call) (result, *apiError) {
	out, e := readOutgoing(c)
	if e != nil {
		return result{}, e
	}

	text, mode := c.params.Get("text"), c.params.Get("parse_mode")
	plain, entities, e := parseText(text, mode)
	if e != nil {
		return result{}, e
	}
	if e := checkText(plain); e != nil {
		return result{}, e
	}

	s.mu.Lock()
	defer s.mu.Unlock()

	m, e := s.botMessage(c, out)
	if e != nil {
		return result{}, e
	}
	m.Text, m.Entities = plain, entities
	s.chats.remember(m)

	s.record.addSent(Sent{
		Method: "sendMessage", ChatID: out.chatID, ThreadID: out.threadID, Text: text,
		ReplyTo: out.replyTo, ParseMode: mode, MessageID: m.MessageID, At: c.at,
	})

	return result{value: m}, nil
}

// sendPhoto answers the bot's new photo message.
func (s *Server) sendPhoto(c *call) (result, *apiError) {
	out, e := readOutgoing(c)
	if e != nil {
		return result{}, e
	}

	caption, mode := c.params.Get("caption"), c.params.Get("parse_mode")
	plain, entities, e := parseText(caption, mode)
	if e != nil {
		return result{}, e
	}
	if utf16Len([]rune(plain)) > maxCaptionLen {
		return result{}, badRequest("message caption is too long")
	}

	s.mu.Lock()
	defer s.mu.Unlock()

	f, e := s.photoParam(c)
	if e != nil {
		return result{}, e
	}

	m, e := s.botMessage(c, out)
	if e != nil {
		return result{}, e
	}
	m.Photo = []PhotoSize{photoSize(f)}
	m.Caption, m.CaptionEntities = plain, entities
	s.chats.remember(m)

	s.record.addSent(Sent{
		Method: "sendPhoto", ChatID: out.chatID, ThreadID: out.threadID, Text: caption,
		ReplyTo: out.replyTo, ParseMode: mode, MessageID: m.MessageID, Photo: f.data, At: c.at,
	})

	return result{value: m}, nil
}

// photoParam returns the photo of a sendPhoto: an upload, an attach://
// reference to one, a known file_id, or an HTTP URL, which the fake
// cannot fetch and stores as no bytes. The caller holds s.mu.
func (s *Server) photoParam(c *call) (storedFile, *apiError) {
	up, ok := c.files["photo"]
	ref := c.params.Get("photo")
	if name, found := strings.CutPrefix(ref, "attach://"); !ok && found {
		up, ok = c.files[name]
	}

	switch {
	case ok:
		if e := checkImage(up.data); e != nil {
			return storedFile{}, e
		}
		return s.files.add(up.data, "photos"), nil
	case ref == "":
		return storedFile{}, badRequest("there is no photo in the request")
	case strings.HasPrefix(ref, "http://") || strings.HasPrefix(ref, "https://"):
		return s.files.add(nil, "photos"), nil
	}

	if f, known := s.files.byID[ref]; known {
		return f, nil
	}

	return storedFile{}, badRequest("wrong file identifier/HTTP URL specified")
}

// checkImage refuses an upload that is empty or not an image.
func checkImage(data []byte) *apiError {
	if len(data) == 0 {
		return badRequest("file must be non-empty")
	}

	if _, _, err := image.DecodeConfig(bytes.NewReader(data)); err == nil {
		return nil
	}

	switch http.DetectContentType(data) {
	case "image/webp", "image/bmp":
		return nil
	default:
		return badRequest("IMAGE_PROCESS_FAILED")
	}
}

// checkText refuses a message text that is empty or too long.
func checkText(plain string) *apiError {
	switch {
	case strings.TrimSpace(plain) == "":
		return badRequest("message text is empty")
	case utf16Len([]rune(plain)) > maxTextLen:
		return badRequest("message is too long")
	default:
		return nil
	}
}

// editMessageText answers the bot's message with its new text.
func (s *Server) editMessageText(c *call) (result, *apiError) {
	text, mode := c.params.Get("text"), c.params.Get("parse_mode")
	plain, entities, e := parseText(text, mode)
	if e != nil {
		return result{}, e
	}
	if e := checkText(plain); e != nil {
		return result{}, e
	}

	if c.params.Get("inline_message_id") != "" {
		return result{value: true}, nil
	}

	chatID, e := chatIDParam(c.params)
	if e != nil {
		return result{}, e
	}
	id := intParam(c.params, "message_id")
	if id == 0 {
		return result{}, badRequest("message identifier is not specified")
	}

	s.mu.Lock()
	defer s.mu.Unlock()

	m, e := s.editable(chatID, id, plain, entities)
	if e != nil {
		return result{}, e
	}
	m.Text, m.Entities, m.EditDate = plain, entities, c.at.Unix()
	s.chats.remember(m)

	s.record.addSent(Sent{
		Method: "editMessageText", ChatID: chatID, ThreadID: m.MessageThreadID, Text: text,
		ParseMode: mode, MessageID: id, At: c.at,
	})

	return result{value: m}, nil
}

// editable returns the bot's text message that an edit to plain with
// entities may change. The caller holds s.mu.
func (s *Server) editable(chatID, id int64, plain string, entities []MessageEntity) (
	Message, *apiError,
) {
	m, ok := s.chats.message(chatID, id)

	switch {
	case !ok:
		return Message{}, badRequest("message to edit not found")
	case m.From == nil || m.From.ID != BotID:
		return Message{}, badRequest("message can't be edited")
	case len(m.Photo) > 0:
		return Message{}, badRequest("there is no text in the message to edit")
	case m.Text == plain && slices.Equal(m.Entities, entities):
		return Message{}, badRequest("%s", notModified)
	default:
		return m, nil
	}
}

// sendChatAction answers true for a known action.
func (s *Server) sendChatAction(c *call) (result, *apiError) {
	if _, e := chatIDParam(c.params); e != nil {
		return result{}, e
	}

	if !slices.Contains(chatActions, c.params.Get("action")) {
		return result{}, badRequest("wrong parameter action in request")
	}

	return result{value: true}, nil
}

// setMyCommands keeps the bot's command list.
func (s *Server) setMyCommands(c *call) (result, *apiError) {
	var commands []BotCommand
	if err := json.Unmarshal([]byte(c.params.Get("commands")), &commands); err != nil {
		return result{}, badRequest("can't parse commands JSON object")
	}

	if len(commands) > 100 {
		return result{}, badRequest("too many commands specified")
	}
	for _, cmd := range commands {
		switch {
		case !commandName.MatchString(cmd.Command):
			return result{}, badRequest("BOT_COMMAND_INVALID")
		case strings.TrimSpace(cmd.Description) == "":
			return result{}, badRequest("command description is empty")
		case utf16Len([]rune(cmd.Description)) > 256:
			return result{}, badRequest("BOT_COMMAND_DESCRIPTION_INVALID")
		}
	}

	s.mu.Lock()
	defer s.mu.Unlock()

	s.record.commands = commands

	return result{value: true}, nil
}

// getMyCommands answers the command list.
func (s *Server) getMyCommands(*call) (result, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()

	return result{value: append([]BotCommand{}, s.record.commands...)}, nil
}

// deleteMyCommands forgets the command list.
func (s *Server) deleteMyCommands(*call) (result, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()

	s.record.commands = nil

	return result{value: true}, nil
}

package telegramtest

import (
	"time"
	"unicode/utf16"
)

// The builders make realistic updates without queueing them: pass the
// result to Push or Deliver. Each message gets a message_id unique in its
// chat, the date of now, a sender and a chat; its text gets the entities
// Telegram would mark: mentions (@name) and bot commands (/cmd or
// /cmd@botname). The server remembers each message, so the bot may reply
// to it.

// Private returns a text message a user sends the bot in their private
// chat, whose id is the user's id.
func (s *Server) Private(userID int64, firstName, text string) Update {
	s.mu.Lock()
	defer s.mu.Unlock()

	user := s.chats.user(userID, firstName)
	chat := Chat{ID: userID, Type: "private", FirstName: user.FirstName}
	m := s.newMessage(chat, user, text)

	return Update{Message: &m}
}

// Group returns a text message a user sends in a group: a supergroup when
// chatID is below -1000000000000, else a basic group.
func (s *Server) Group(chatID, userID int64, firstName, text string) Update {
	s.mu.Lock()
	defer s.mu.Unlock()

	user := s.chats.user(userID, firstName)
	m := s.newMessage(s.chats.chat(chatID), user, text)

	return Update{Message: &m}
}

// Topic returns a text message in a forum topic of a supergroup: it has
// message_thread_id threadID and is_topic_message, and, as in Telegram, it
// replies to the service message that opened the topic, whose message_id is
// threadID. The chat becomes a forum.
func (s *Server) Topic(chatID, threadID, userID int64, text string) Update {
	s.mu.Lock()
	defer s.mu.Unlock()

	chat := s.chats.chat(chatID)
	chat.IsForum = true
	if chat.Type == "group" {
		chat.Type = "supergroup"
	}
	s.chats.chats[chatID] = chat
	s.chats.lastID[chatID] = max(s.chats.lastID[chatID], threadID)

	user := s.chats.user(userID, "")
	start := s.chats.topicStart(chat, threadID, user, time.Now().Unix())

	m := s.build(chat, user, text)
	m.MessageThreadID = threadID
	m.IsTopicMessage = true
	m.ReplyToMessage = &start
	s.chats.remember(m)

	return Update{Message: &m}
}

// Photo returns a photo message with a caption. Each of sizes is the image
// at one size, smallest first; each becomes a file the bot can fetch with
// getFile, and its width and height are read from the image when it is a
// PNG, JPEG or GIF. Without sizes, two small PNGs stand in. A positive
// chatID is the user's private chat.
func (s *Server) Photo(chatID, userID int64, caption string, sizes ...[]byte) Update {
	if len(sizes) == 0 {
		sizes = [][]byte{PNG(4, 3), PNG(8, 6)}
	}

	s.mu.Lock()
	defer s.mu.Unlock()

	user := s.chats.user(userID, "")
	m := s.build(s.chats.chat(chatID), user, "")
	m.Photo = s.files.addPhoto(sizes)
	m.Caption = caption
	m.CaptionEntities = detectEntities(caption)
	s.chats.remember(m)

	return Update{Message: &m}
}

// ReplyToBot returns a text message that replies to the bot's message
// botMessageID. The replied message is the one the bot sent when the
// server has it, in its topic if it was in one.
func (s *Server) ReplyToBot(chatID, userID int64, text string, botMessageID int64) Update {
	s.mu.Lock()
	defer s.mu.Unlock()

	chat := s.chats.chat(chatID)
	bot, ok := s.chats.message(chatID, botMessageID)
	if !ok {
		from := s.Bot()
		bot = Message{MessageID: botMessageID, From: &from, Date: time.Now().Unix(), Chat: chat}
	}

	m := s.build(chat, s.chats.user(userID, ""), text)
	m.MessageThreadID = bot.MessageThreadID
	m.IsTopicMessage = bot.IsTopicMessage
	m.ReplyToMessage = &bot
	s.chats.remember(m)

	return Update{Message: &m}
}

// Edited returns the edited_message update of the message u carries, with
// its text, or its caption for a photo, replaced by newText and edit_date
// set. It panics when u carries no message.
func (s *Server) Edited(u Update, newText string) Update {
	src := u.message()
	if src == nil {
		panic("telegramtest: Edited of an update without a message")
	}

	s.mu.Lock()
	defer s.mu.Unlock()

	m := *src
	m.EditDate = max(time.Now().Unix(), m.Date+1)
	if len(m.Photo) > 0 {
		m.Caption, m.CaptionEntities = newText, detectEntities(newText)
	} else {
		m.Text, m.Entities = newText, detectEntities(newText)
	}
	s.chats.remember(m)

	return Update{EditedMessage: &m}
}

// newMessage builds a text message and remembers it.
func (s *Server) newMessage(chat Chat, from User, text string) Message {
	m := s.build(chat, from, text)
	s.chats.remember(m)

	return m
}

// build returns a text message with a new id, not yet remembered.
func (s *Server) build(chat Chat, from User, text string) Message {
	return Message{
		MessageID: s.chats.nextID(chat.ID),
		From:      &from,
		Date:      time.Now().Unix(),
		Chat:      chat,
		Text:      text,
		Entities:  detectEntities(text),
	}
}

// detectEntities finds the mentions and bot commands in a text, as
// Telegram marks them in incoming messages, with offsets and lengths in
// UTF-16 code units.
func detectEntities(text string) []MessageEntity {
	runes := []rune(text)

	var out []MessageEntity
	for i := 0; i < len(runes); i++ {
		kind, n := entityAt(runes, i)
		if n == 0 {
			continue
		}

		out = append(out, MessageEntity{
			Type:   kind,
			Offset: utf16Len(runes[:i]),
			Length: utf16Len(runes[i : i+n]),
		})
		i += n - 1
	}

	return out
}

// entityAt returns the type and length in runes of the mention or bot
// command that starts at runes[i], or a length of zero.
func entityAt(runes []rune, i int) (string, int) {
	if i > 0 && isNameRune(runes[i-1]) {
		return "", 0
	}

	switch runes[i] {
	case '@':
		n := nameLen(runes[i+1:], 32)
		if n < 4 {
			return "", 0
		}
		return "mention", n + 1
	case '/':
		if i > 0 && runes[i-1] != ' ' && runes[i-1] != '\n' && runes[i-1] != '\t' {
			return "", 0
		}
		n := nameLen(runes[i+1:], 64)
		if n == 0 {
			return "", 0
		}
		if i+1+n < len(runes) && runes[i+1+n] == '@' {
			if u := nameLen(runes[i+2+n:], 32); u >= 4 {
				n += 1 + u
			}
		}
		return "bot_command", n + 1
	default:
		return "", 0
	}
}

// nameLen returns how many runes at the start of runes may be part of a
// username or command, up to limit; longer runs count as none.
func nameLen(runes []rune, limit int) int {
	n := 0
	for n < len(runes) && isNameRune(runes[n]) {
		n++
	}

	if n > limit {
		return 0
	}

	return n
}

// isNameRune reports whether r may be part of a username or command.
func isNameRune(r rune) bool {
	return r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
}

// utf16Len returns the length of runes in UTF-16 code units, the unit of
// Telegram's offsets and limits.
func utf16Len(runes []rune) int {
	n := 0
	for _, r := range runes {
		n += utf16.RuneLen(r)
	}

	return n
}

package telegramtest

import "fmt"

// supergroupBelow is the chat id below which a group is a supergroup:
// supergroup ids are -100 followed by the channel id.
const supergroupBelow = -1000000000000

// chatBook knows the chats, users and messages the server has seen, and
// numbers messages per chat. It is guarded by Server.mu.
type chatBook struct {
	chats    map[int64]Chat
	users    map[int64]User
	messages map[int64]map[int64]Message
	lastID   map[int64]int64
}

// init readies an empty book.
func (b *chatBook) init() {
	b.chats = map[int64]Chat{}
	b.users = map[int64]User{}
	b.messages = map[int64]map[int64]Message{}
	b.lastID = map[int64]int64{}
}

// nextID returns a new message id in a chat.
func (b *chatBook) nextID(chatID int64) int64 {
	b.lastID[chatID]++
	return b.lastID[chatID]
}

// remember stores a message, and its chat and sender, so that later
// messages may reply to it or edit it. Its reply is not kept: Telegram
// nests replies one level deep only.
func (b *chatBook) remember(m Message) {
	m.ReplyToMessage = nil

	b.chats[m.Chat.ID] = m.Chat
	if m.From != nil && !m.From.IsBot {
		b.users[m.From.ID] = *m.From
	}

	if b.messages[m.Chat.ID] == nil {
		b.messages[m.Chat.ID] = map[int64]Message{}
	}
	b.messages[m.Chat.ID][m.MessageID] = m
	b.lastID[m.Chat.ID] = max(b.lastID[m.Chat.ID], m.MessageID)
}

// message returns a known message of a chat.
func (b *chatBook) message(chatID, messageID int64) (Message, bool) {
	m, ok := b.messages[chatID][messageID]
	return m, ok
}

// user returns a user, named firstName when given, else by the name seen
// last, else "User".
func (b *chatBook) user(id int64, firstName string) User {
	u, ok := b.users[id]
	if !ok {
		u = User{ID: id, FirstName: "User", LanguageCode: "en"}
	}
	if firstName != "" {
		u.FirstName = firstName
	}

	b.users[id] = u

	return u
}

// chat returns a known chat, or the one its id implies: a private chat
// with the user of that id, a supergroup below supergroupBelow, else a
// basic group.
func (b *chatBook) chat(id int64) Chat {
	if c, ok := b.chats[id]; ok {
		return c
	}

	switch {
	case id > 0:
		return Chat{ID: id, Type: "private", FirstName: b.user(id, "").FirstName}
	case id < supergroupBelow:
		return Chat{ID: id, Type: "supergroup", Title: fmt.Sprintf("Test supergroup %d", -id)}
	default:
		return Chat{ID: id, Type: "group", Title: fmt.Sprintf("Test group %d", -id)}
	}
}

// topicStart returns the service message that opened a forum topic,
// making it up when the server has not seen it.
func (b *chatBook) topicStart(chat Chat, threadID int64, from User, date int64) Message {
	if m, ok := b.message(chat.ID, threadID); ok && m.ForumTopicCreated != nil {
		return m
	}

	created := ForumTopicCreated{Name: fmt.Sprintf("Topic %d", threadID), IconColor: 7322096}
	m := Message{
		MessageID: threadID, MessageThreadID: threadID, From: &from, Date: date, Chat: chat,
		IsTopicMessage: true, ForumTopicCreated: &created,
	}
	b.remember(m)

	return m
}

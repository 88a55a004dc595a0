package telegramtest

import "encoding/json"

// Update is one incoming update, in the Bot API's JSON. Exactly one of its
// optional fields is set.
type Update struct {
	UpdateID          int64    `json:"update_id"`
	Message           *Message `json:"message,omitempty"`
	EditedMessage     *Message `json:"edited_message,omitempty"`
	ChannelPost       *Message `json:"channel_post,omitempty"`
	EditedChannelPost *Message `json:"edited_channel_post,omitempty"`
}

// kind returns the update type, as allowed_updates names it.
func (u Update) kind() string {
	switch {
	case u.Message != nil:
		return "message"
	case u.EditedMessage != nil:
		return "edited_message"
	case u.ChannelPost != nil:
		return "channel_post"
	case u.EditedChannelPost != nil:
		return "edited_channel_post"
	default:
		return ""
	}
}

// message returns the message the update carries, or nil.
func (u Update) message() *Message {
	for _, m := range []*Message{u.Message, u.EditedMessage, u.ChannelPost, u.EditedChannelPost} {
		if m != nil {
			return m
		}
	}

	return nil
}

// Message is a message, in the Bot API's JSON.
type Message struct {
	MessageID         int64              `json:"message_id"`
	MessageThreadID   int64              `json:"message_thread_id,omitempty"`
	From              *User              `json:"from,omitempty"`
	SenderChat        *Chat              `json:"sender_chat,omitempty"`
	Date              int64              `json:"date"`
	Chat              Chat               `json:"chat"`
	IsTopicMessage    bool               `json:"is_topic_message,omitempty"`
	ReplyToMessage    *Message           `json:"reply_to_message,omitempty"`
	EditDate          int64              `json:"edit_date,omitempty"`
	Text              string             `json:"text,omitempty"`
	Entities          []MessageEntity    `json:"entities,omitempty"`
	Photo             []PhotoSize        `json:"photo,omitempty"`
	Caption           string             `json:"caption,omitempty"`
	CaptionEntities   []MessageEntity    `json:"caption_entities,omitempty"`
	ForumTopicCreated *ForumTopicCreated `json:"forum_topic_created,omitempty"`
}

// Chat is a chat, in the Bot API's JSON. Type is "private", "group",
// "supergroup" or "channel".
type Chat struct {
	ID        int64  `json:"id"`
	Type      string `json:"type"`
	Title     string `json:"title,omitempty"`
	Username  string `json:"username,omitempty"`
	FirstName string `json:"first_name,omitempty"`
	LastName  string `json:"last_name,omitempty"`
	IsForum   bool   `json:"is_forum,omitempty"`
}

// User is a user or bot, in the Bot API's JSON.
type User struct {
	ID           int64  `json:"id"`
	IsBot        bool   `json:"is_bot"`
	FirstName    string `json:"first_name"`
	LastName     string `json:"last_name,omitempty"`
	Username     string `json:"username,omitempty"`
	LanguageCode string `json:"language_code,omitempty"`
}

// botInfo is the answer of getMe: the bot's User and what it may do.
type botInfo struct {
	User
	CanJoinGroups           bool `json:"can_join_groups"`
	CanReadAllGroupMessages bool `json:"can_read_all_group_messages"`
	SupportsInlineQueries   bool `json:"supports_inline_queries"`
}

// MessageEntity marks a special part of a text: "mention", "bot_command",
// "bold", "text_link" and so on. Offset and Length count UTF-16 code units.
type MessageEntity struct {
	Type     string `json:"type"`
	Offset   int    `json:"offset"`
	Length   int    `json:"length"`
	URL      string `json:"url,omitempty"`
	User     *User  `json:"user,omitempty"`
	Language string `json:"language,omitempty"`
}

// PhotoSize is one size of a photo, in the Bot API's JSON.
type PhotoSize struct {
	FileID       string `json:"file_id"`
	FileUniqueID string `json:"file_unique_id"`
	Width        int    `json:"width"`
	Height       int    `json:"height"`
	FileSize     int    `json:"file_size,omitempty"`
}

// File is the answer of getFile. The bytes are at
// {base}/file/bot{token}/{file_path}.
type File struct {
	FileID       string `json:"file_id"`
	FileUniqueID string `json:"file_unique_id"`
	FileSize     int    `json:"file_size,omitempty"`
	FilePath     string `json:"file_path,omitempty"`
}

// ForumTopicCreated is the service message that opens a forum topic. Every
// message of the topic that replies to nothing else has it as its
// reply_to_message, as in Telegram.
type ForumTopicCreated struct {
	Name      string `json:"name"`
	IconColor int    `json:"icon_color"`
}

// BotCommand is one command of setMyCommands.
type BotCommand struct {
	Command     string `json:"command"`
	Description string `json:"description"`
}

// replyParameters is the reply_parameters argument of the send methods.
type replyParameters struct {
	MessageID                int64           `json:"message_id"`
	ChatID                   json.RawMessage `json:"chat_id"`
	AllowSendingWithoutReply bool            `json:"allow_sending_without_reply"`
}

// okAnswer is a successful answer.
type okAnswer struct {
	OK          bool   `json:"ok"`
	Result      any    `json:"result"`
	Description string `json:"description,omitempty"`
}

// errorAnswer is a failed answer.
type errorAnswer struct {
	OK          bool              `json:"ok"`
	ErrorCode   int               `json:"error_code"`
	Description string            `json:"description"`
	Parameters  *answerParameters `json:"parameters,omitempty"`
}

// answerParameters says how a failed request may be repeated.
type answerParameters struct {
	RetryAfter int `json:"retry_after,omitempty"`
}

package core

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Channel names a kind of messenger ("telegram", "discord", ...). A
// deployment has at most one adapter per channel.
type Channel string

// The channels the gateway knows.
const (
	ChannelWeb      Channel = "web"
	ChannelTelegram Channel = "telegram"
	ChannelDiscord  Channel = "discord"
	ChannelSlack    Channel = "slack"
	ChannelWhatsApp Channel = "whatsapp"
	ChannelWebhook  Channel = "webhook"
)

// ChatID is a platform's id of a chat, group or channel. The core stores and
// compares it but never parses it.
type ChatID string

// ThreadID is a platform's id of a thread or forum topic inside a chat; empty
// when the message is not in a thread.
type ThreadID string

// UserID is a platform's id of a person.
type UserID string

// MessageID is a platform's id of one message, unique within its chat.
type MessageID string

// MaxTextBytes is the largest inbound text the pipeline accepts.
const MaxTextBytes = 64 << 10

// Image is a picture attached to a message, already downloaded by the
// adapter.
type Image struct {
	// MIMEType is the image's media type, such as image/jpeg.
	MIMEType string `json:"mime_type"`
	// Data holds the image bytes.
	Data []byte `json:"data"`
}

// Inbound is one message from a person, normalised by an adapter.
type Inbound struct {
	// Channel is the messenger the message came from.
	Channel Channel
	// ChatID, ThreadID, UserID and MessageID are the platform's ids.
	ChatID    ChatID
	ThreadID  ThreadID
	UserID    UserID
	MessageID MessageID
	// UserName is the sender's display name, for logs and pairing requests.
	UserName string
	// Text is the message text, with a leading command kept as typed.
	Text string
	// Images are the pictures attached to the message.
	Images []Image
	// Direct is true in a one-to-one chat with the agent.
	Direct bool
	// Mentioned is true when the message names the agent, including a
	// command addressed to it by name.
	Mentioned bool
	// ReplyToAgent is true when the message replies to one of the agent's.
	ReplyToAgent bool
	// SentAt is when the platform says the message was sent; zero if unknown.
	SentAt time.Time
}

// Conversation is where a message belongs and where its answer goes: a chat,
// or a thread inside one.
type Conversation struct {
	Channel  Channel
	ChatID   ChatID
	ThreadID ThreadID
}

// Conversation returns where m belongs.
func (m Inbound) Conversation() Conversation {
	return Conversation{Channel: m.Channel, ChatID: m.ChatID, ThreadID: m.ThreadID}
}

// String returns a compact form for logs.
func (c Conversation) String() string {
	if c.ThreadID == "" {
		return fmt.Sprintf("%s:%s", c.Channel, c.ChatID)
	}

	return fmt.Sprintf("%s:%s/%s", c.Channel, c.ChatID, c.ThreadID)
}

// Validate checks what every inbound message must have. Its error is an
// *InputError naming the field and the rule.
func (m Inbound) Validate() error {
	switch {
	case m.Channel == "":
		return &InputError{Field: "channel", Rule: "is required"}
	case m.ChatID == "":
		return &InputError{Field: "chat_id", Rule: "is required"}
	case m.MessageID == "":
		return &InputError{Field: "message_id", Rule: "is required"}
	case m.UserID == "":
		return &InputError{Field: "user_id", Rule: "is required"}
	case strings.TrimSpace(m.Text) == "" && len(m.Images) == 0:
		return &InputError{Field: "text", Rule: "must not be empty"}
	case len(m.Text) > MaxTextBytes:
		return &InputError{Field: "text", Rule: fmt.Sprintf(
			"must be at most %d bytes (got %d)", MaxTextBytes, len(m.Text))}
	case !utf8.ValidString(m.Text):
		return &InputError{Field: "text", Rule: "must be valid UTF-8"}
	}

	return nil
}

// InputError says which field of a request broke which rule. Nothing was
// changed when it is returned.
type InputError struct {
	Field string
	Rule  string
}

// Error returns "field: rule".
func (e *InputError) Error() string {
	return e.Field + ": " + e.Rule
}

// Outgoing is one message for an adapter to send: a single part of an
// answer that already fits the adapter's text limit.
type Outgoing struct {
	// ID is the outbox row's id.
	ID int64
	// IdempotencyKey is the same on every attempt to send this part. An
	// adapter whose platform can refuse a repeat (a nonce, a request id)
	// passes it on, so a retry after a crash cannot show twice.
	IdempotencyKey string
	// To is the conversation the message goes to.
	To Conversation
	// Text is the message text, at most the adapter's text limit.
	Text string
	// ReplyTo is the platform id of the message being answered, if any.
	ReplyTo MessageID
	// Part and Parts number this piece of a split answer, from 1.
	Part, Parts int
	// Attempt counts tries of this part, from 1.
	Attempt int
}

// Sent is what the platform says about a delivered message.
type Sent struct {
	// MessageID is the platform's id of the delivered message.
	MessageID MessageID
}

package core

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// Adapter is the part every messenger adapter implements. The core discovers
// optional capabilities (Editor, Typer, ImageSender, CommandRegistrar,
// TextLimiter, ThreadReplier, TextStreamer, SenderAuthenticator,
// HTTPReceiver) with type assertions.
type Adapter interface {
	// Channel names the messenger. The core calls it at registration; it
	// must not block.
	Channel() Channel

	// Run receives messages and hands each to sink.Receive until ctx ends.
	// The core calls it once, in its own goroutine, after the storage is
	// ready; it blocks for the adapter's whole life and returns nil when ctx
	// is cancelled. The adapter acknowledges a platform event only after
	// Receive returned nil, so an event is never lost between the two.
	Run(ctx context.Context, sink Sink) error

	// Send delivers one outgoing message and returns the platform's id for
	// it. The outbox deliverer calls it, never twice at once for one
	// conversation, and may call it for different conversations in parallel.
	// It may block up to ctx's deadline (for example to pace sends); a
	// failure should be a *SendError that says whether and when to retry.
	Send(ctx context.Context, msg Outgoing) (Sent, error)

	// Health reports the adapter's connection state. The core calls it
	// from status and health endpoints; it must not block.
	Health() Health
}

// Sink takes inbound messages from an adapter.
type Sink interface {
	// Receive stores msg durably and returns nil, also for a redelivered
	// message it already has. It returns an *InputError for a message that
	// breaks a rule (nothing is stored; the adapter should not retry) and
	// another error when storage failed (the adapter should not acknowledge
	// the event, so that the platform delivers it again). It blocks only for
	// one database transaction.
	Receive(ctx context.Context, msg Inbound) error
}

// Health is an adapter's report on its connection.
type Health struct {
	// Connected is true while the adapter can receive and send.
	Connected bool `json:"connected"`
	// LastMessageAt is when the adapter last received a message.
	LastMessageAt time.Time `json:"last_message_at,omitzero"`
	// LastError describes the most recent failure, empty if none.
	LastError string `json:"last_error,omitempty"`
}

// TextLimiter is implemented by adapters whose platform limits the length
// of one message. The core splits answers to fit before it stores them in
// the outbox; without it the limit is DefaultTextLimit.
type TextLimiter interface {
	// TextLimit returns the largest text one message may carry, in the
	// platform's unit as counted by CountText. It must not block.
	TextLimit() int
	// CountText measures text in the platform's unit (Telegram counts
	// UTF-16 code units, Discord characters). It must not block.
	CountText(text string) int
}

// DefaultTextLimit is the split size, in characters, for adapters that do
// not implement TextLimiter.
const DefaultTextLimit = 4000

// Editor is implemented by adapters that can change a message they sent.
type Editor interface {
	// EditText replaces the text of a message sent earlier. It may block
	// like Send. Nothing calls it yet: answers are sent whole until the
	// agent streams them, which will edit the first part as it grows.
	EditText(ctx context.Context, to Conversation, id MessageID, text string) error
}

// Typer is implemented by adapters that can show that the agent is writing.
type Typer interface {
	// ShowTyping shows the typing indicator in a conversation. The core
	// calls it when the agent starts on a message and every few seconds
	// while it works. It should return quickly; errors are only logged.
	ShowTyping(ctx context.Context, to Conversation) error
}

// ImageSender is implemented by adapters that can send pictures.
type ImageSender interface {
	// SendImage delivers one picture with an optional caption. It may block
	// like Send. Nothing calls it yet: answers are text until the agent can
	// produce pictures.
	SendImage(ctx context.Context, to Conversation, img Image, caption string) (Sent, error)
}

// ThreadReplier is implemented by adapters whose platform has threads. The
// core keeps a conversation per thread only for such adapters; for others it
// drops the ThreadID of inbound messages.
type ThreadReplier interface {
	// RepliesInThreads reports whether answers go into the thread of the
	// message they answer. It must not block.
	RepliesInThreads() bool
}

// CommandInfo describes one slash command for a platform's command menu.
type CommandInfo struct {
	Name        string
	Description string
}

// CommandRegistrar is implemented by adapters whose platform shows a menu of
// slash commands.
type CommandRegistrar interface {
	// RegisterCommands publishes the command list. The core calls it once
	// at start, before Run; it may block for one request to the platform.
	RegisterCommands(ctx context.Context, cmds []CommandInfo) error
}

// TextStreamer is implemented by adapters that can show an answer while
// the agent writes it, such as the REST API's server-sent events.
type TextStreamer interface {
	// StreamText returns the function that is handed the answer to msg
	// piece by piece, or nil when nobody is watching. The core asks just
	// before the agent starts on msg. The function is called from the
	// agent's goroutine and must not block.
	StreamText(msg Inbound) func(delta string)
}

// SenderAuthenticator is implemented by adapters that authenticate every
// sender themselves, such as the REST API. Their messages skip pairing and
// the owner list, which exist for messengers where anyone can write to
// the bot.
type SenderAuthenticator interface {
	// AuthenticatesSenders reports whether every message comes from a
	// caller the adapter has authenticated. It must not block.
	AuthenticatesSenders() bool
}

// HTTPReceiver is implemented by adapters that receive events as HTTP
// requests (webhooks). The gateway mounts the handler on its listener.
type HTTPReceiver interface {
	// HTTPHandler returns the path prefix and the handler to mount. It is
	// called once at start and must not block.
	HTTPHandler() (pattern string, h http.Handler)
}

// SendError is a failed send that tells the deliverer what to do next.
type SendError struct {
	// Err is the cause.
	Err error
	// RetryAfter, when positive, is how long the platform asked to wait.
	RetryAfter time.Duration
	// Permanent means retrying cannot help (chat gone, bot blocked).
	Permanent bool
}

// Error describes the failure.
func (e *SendError) Error() string {
	switch {
	case e.Permanent:
		return fmt.Sprintf("undeliverable: %v", e.Err)
	case e.RetryAfter > 0:
		return fmt.Sprintf("retry after %s: %v", e.RetryAfter, e.Err)
	default:
		return e.Err.Error()
	}
}

// Unwrap returns the cause.
func (e *SendError) Unwrap() error { return e.Err }

// RetryAfter wraps err as a send error that asks to wait d before retrying.
func RetryAfter(d time.Duration, err error) error {
	return &SendError{Err: err, RetryAfter: d}
}

// Undeliverable wraps err as a send error that must not be retried.
func Undeliverable(err error) error {
	return &SendError{Err: err, Permanent: true}
}

// SendErrorOf returns the *SendError in err's chain, or a retryable one
// wrapping err.
func SendErrorOf(err error) *SendError {
	var se *SendError
	if errors.As(err, &se) {
		return se
	}

	return &SendError{Err: err}
}

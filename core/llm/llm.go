// Package llm is the seam between the agent loop and model providers. A
// provider adapter (adapters/openai, adapters/anthropic) turns a Request
// into one call of its API and returns the text, the tool calls and the
// token usage, or an *Error that tells the loop whether to retry, wait,
// fall back to another model, or give up.
package llm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/switchboardhq/switchboard/core"
)

// Role says who wrote a message of the conversation sent to a model.
type Role string

// The roles. The system prompt travels in Request.System, not as a
// message.
const (
	RoleUser      Role = "user"
	RoleAssistant Role = "assistant"
	RoleTool      Role = "tool"
)

// Message is one entry of the conversation sent to a model.
type Message struct {
	Role Role
	// Text is the message text; for RoleTool, the tool's result.
	Text string
	// Images go with a user message, to models that accept them.
	Images []core.Image
	// ToolCalls are the tools an assistant message asked for.
	ToolCalls []ToolCall
	// ToolCallID names the call a RoleTool message answers.
	ToolCallID string
	// IsError marks a RoleTool result that reports a failure.
	IsError bool
}

// ToolCall is the model's request to run a tool.
type ToolCall struct {
	// ID is the provider's id of the call; the result must carry it.
	ID string
	// Name is the tool's name.
	Name string
	// Arguments is a JSON object matching the tool's parameters.
	Arguments json.RawMessage
}

// Tool describes a tool the model may call.
type Tool struct {
	Name        string
	Description string
	// Parameters is a JSON Schema of an object.
	Parameters json.RawMessage
}

// Request is one call of a model.
type Request struct {
	// Model is the provider's model name.
	Model string
	// System is the system prompt.
	System string
	// Messages is the conversation, oldest first; the last is the one to
	// answer (a user message or tool results).
	Messages []Message
	// Tools the model may call; none when empty.
	Tools []Tool
	// MaxTokens bounds the answer; 0 means the adapter's default.
	MaxTokens int
}

// Usage counts the tokens of one call.
type Usage struct {
	InputTokens  int
	OutputTokens int
}

// Response is a model's answer to one call: text, tool calls, or both.
type Response struct {
	Text      string
	ToolCalls []ToolCall
	Usage     Usage
	// Model is the model that answered, as the provider names it.
	Model string
}

// Provider calls one model API.
type Provider interface {
	// Name identifies the provider in logs and usage records ("openai").
	Name() string
	// Complete makes one call and returns the whole answer. It blocks until
	// the model has answered or ctx ends. A failure should be an *Error.
	Complete(ctx context.Context, req Request) (Response, error)
}

// Streamer is implemented by providers that can hand out the answer's text
// while it is produced.
type Streamer interface {
	// Stream is Complete, calling onText with each piece of text as it
	// arrives, from the calling goroutine. The returned Response holds the
	// whole answer.
	Stream(ctx context.Context, req Request, onText func(string)) (Response, error)
}

// Action is what the loop should do after a failed call.
type Action int

// The actions, from the most to the least hopeful.
const (
	// Retry the same model soon, with backoff: a 5xx or a time-out.
	Retry Action = iota
	// Wait RetryAfter, then retry the same model: a 429 that says when.
	Wait
	// Fallback to the next model: the model is missing, the context is
	// too long for it, or it keeps refusing with 429.
	Fallback
	// GiveUp: retrying cannot help (bad key, bad request).
	GiveUp
)

// String names the action for logs.
func (a Action) String() string {
	switch a {
	case Retry:
		return "retry"
	case Wait:
		return "wait"
	case Fallback:
		return "fallback"
	default:
		return "give_up"
	}
}

// Error is a failed call that steers the loop.
type Error struct {
	Action Action
	// RetryAfter is how long to wait, for Wait.
	RetryAfter time.Duration
	// Status is the HTTP status, when there was one.
	Status int
	// Err is the cause.
	Err error
}

// Error describes the failure and the action.
func (e *Error) Error() string {
	if e.Status != 0 {
		return fmt.Sprintf("model call failed (%s, status %d): %v", e.Action, e.Status, e.Err)
	}

	return fmt.Sprintf("model call failed (%s): %v", e.Action, e.Err)
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// ErrorOf returns the *Error in err's chain. Any other error counts as
// Retry, except a cancelled or expired context, which is GiveUp.
func ErrorOf(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}

	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return &Error{Action: GiveUp, Err: err}
	}

	return &Error{Action: Retry, Err: err}
}

// Classify maps an HTTP status and the provider's error code to an
// action. Providers share it so that they steer the loop alike.
// contextTooLong and modelMissing come from the provider's error body.
func Classify(status int, retryAfter time.Duration, modelMissing, contextTooLong bool) Action {
	switch {
	case modelMissing, contextTooLong:
		return Fallback
	case status == 429 && retryAfter > 0:
		return Wait
	case status == 429:
		return Fallback
	case status == 408 || status >= 500:
		return Retry
	case status == 404:
		return Fallback
	default:
		return GiveUp
	}
}

// ModelChecker is implemented by providers that can tell, without a model
// call, whether a model exists and the key is accepted.
type ModelChecker interface {
	// CheckModel returns nil when the provider serves model to this key,
	// and otherwise an error that says why, fit to show to the owner.
	CheckModel(ctx context.Context, model string) error
}

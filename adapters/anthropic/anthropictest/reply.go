package anthropictest

import (
	"encoding/json"
	"fmt"
	"time"
)

// Reply is one scripted answer: a message with text, tool_use blocks or
// both, or an error response when Error is set.
type Reply struct {
	// Text is the answer's text block; empty means none.
	Text string
	// ToolUses become tool_use blocks after the text, in order.
	ToolUses []ToolUse
	// Usage is the token count the answer reports.
	Usage Usage
	// Model names the model that answered; empty echoes the request's.
	Model string
	// StopReason is the answer's stop_reason; empty means "tool_use" when
	// there are tool uses and "end_turn" otherwise.
	StopReason string
	// Delay holds the answer back, as a slow model would; the wait ends
	// early when the caller gives up or the server stops.
	Delay time.Duration
	// Error, when set, makes the reply an error response instead.
	Error *Error
}

// ToolUse is a tool_use block of a reply.
type ToolUse struct {
	// ID is the block's id; empty means one the server makes up
	// ("toolu_01", "toolu_02", ...).
	ID string
	// Name is the tool's name.
	Name string
	// Input is the tool's input, a JSON object; empty means {}.
	Input string
}

// Usage is the token count of a reply.
type Usage struct {
	InputTokens  int
	OutputTokens int
}

// Error is an error response of a reply.
type Error struct {
	// Status is the HTTP status, such as 429 or 529.
	Status int
	// Type is Anthropic's error type, such as "rate_limit_error".
	Type string
	// Message is the error's message.
	Message string
	// RetryAfter, when set, is sent as the Retry-After header: seconds or
	// an HTTP date.
	RetryAfter string
	// InStream makes a streamed request fail the way the API fails once an
	// answer has begun: status 200, message_start, then an error event.
	// A request that does not stream gets the status as usual.
	InStream bool
}

// TextReply returns a reply that answers with text.
func TextReply(text string) Reply {
	return Reply{Text: text}
}

// ToolReply returns a reply that asks for one or more tool calls.
func ToolReply(uses ...ToolUse) Reply {
	return Reply{ToolUses: uses}
}

// ErrorReply returns a reply that fails with status and Anthropic's error
// JSON of errType and message.
func ErrorReply(status int, errType, message string) Reply {
	return Reply{Error: &Error{Status: status, Type: errType, Message: message}}
}

// wireMessage is the JSON of a message the API returns.
type wireMessage struct {
	ID           string      `json:"id"`
	Type         string      `json:"type"`
	Role         string      `json:"role"`
	Model        string      `json:"model"`
	Content      []wireBlock `json:"content"`
	StopReason   *string     `json:"stop_reason"`
	StopSequence *string     `json:"stop_sequence"`
	Usage        wireUsage   `json:"usage"`
}

// wireBlock is the JSON of a content block the API returns.
type wireBlock struct {
	Type  string          `json:"type"`
	Text  *string         `json:"text,omitempty"`
	ID    string          `json:"id,omitempty"`
	Name  string          `json:"name,omitempty"`
	Input json.RawMessage `json:"input,omitempty"`
}

// wireUsage is the JSON of a message's usage.
type wireUsage struct {
	InputTokens              int `json:"input_tokens"`
	OutputTokens             int `json:"output_tokens"`
	CacheCreationInputTokens int `json:"cache_creation_input_tokens"`
	CacheReadInputTokens     int `json:"cache_read_input_tokens"`
}

// message builds the message that reply makes for req, with fresh ids.
func (s *Server) message(req Request, reply Reply) wireMessage {
	s.mu.Lock()
	defer s.mu.Unlock()

	s.nextID++
	msg := wireMessage{
		ID:    fmt.Sprintf("msg_%02d", s.nextID),
		Type:  "message",
		Role:  "assistant",
		Model: reply.Model,
		Usage: wireUsage{
			InputTokens:  reply.Usage.InputTokens,
			OutputTokens: reply.Usage.OutputTokens,
		},
		Content: []wireBlock{},
	}
	if msg.Model == "" {
		msg.Model = req.Model
	}

	if reply.Text != "" {
		text := reply.Text
		msg.Content = append(msg.Content, wireBlock{Type: "text", Text: &text})
	}

	for _, use := range reply.ToolUses {
		id := use.ID
		if id == "" {
			s.nextToolID++
			id = fmt.Sprintf("toolu_%02d", s.nextToolID)
		}
		input := use.Input
		if input == "" {
			input = "{}"
		}
		msg.Content = append(msg.Content, wireBlock{
			Type:  "tool_use",
			ID:    id,
			Name:  use.Name,
			Input: json.RawMessage(input),
		})
	}

	stop := reply.StopReason
	switch {
	case stop != "":
	case len(reply.ToolUses) > 0:
		stop = "tool_use"
	default:
		stop = "end_turn"
	}
	msg.StopReason = &stop

	return msg
}

package openaitest

import (
	"encoding/json"
	"time"
)

// Reply is one scripted answer of the fake model: text, tool calls, or
// both, or an error when Err is set.
type Reply struct {
	// Text is the assistant's text. A streamed answer hands it out in
	// several deltas.
	Text string
	// ToolCalls are the tools the model asks for, in order. A call without
	// an ID gets one ("call_1", "call_2", ... across the server's life).
	ToolCalls []ToolCall
	// Usage is reported as prompt_tokens and completion_tokens.
	Usage Usage
	// Model names the model in the answer; empty means the requested one.
	Model string
	// FinishReason defaults to "tool_calls" when there are tool calls and
	// to "stop" otherwise.
	FinishReason string
	// Delay holds the answer back, to test time-outs. The wait ends early
	// when the client goes away.
	Delay time.Duration
	// PieceDelay spaces the pieces of a streamed text, so that a client
	// shows them as they come.
	PieceDelay time.Duration
	// Err, when set, makes the server answer with an error instead.
	Err *Error
}

// ToolCall is one call of a function tool. Its JSON is the wire form,
// {"id", "type": "function", "function": {"name", "arguments"}}, both in
// scripted answers and in recorded assistant messages.
type ToolCall struct {
	ID   string
	Name string
	// Arguments is the JSON text of the arguments, as the model wrote it;
	// it need not be valid JSON.
	Arguments string
}

// Usage is the token count of one answer.
type Usage struct {
	PromptTokens     int
	CompletionTokens int
}

// Error is an error answer in OpenAI's form:
// {"error": {"message", "type", "param", "code"}}.
type Error struct {
	// Status is the HTTP status; 0 means 500.
	Status int
	// Code is the error code, such as "model_not_found"; empty sends null.
	Code string
	// Type is the error type, such as "invalid_request_error".
	Type string
	// Message is the human-readable text.
	Message string
	// RetryAfter, when set, is sent as the Retry-After header verbatim:
	// seconds or an HTTP date.
	RetryAfter string
}

// TextReply is an answer with text only.
func TextReply(text string) Reply {
	return Reply{Text: text}
}

// ToolReply is an answer that asks for the given tool calls, in parallel
// when there are several.
func ToolReply(calls ...ToolCall) Reply {
	return Reply{ToolCalls: calls}
}

// ErrorReply is an error answer with the given status, code and message,
// and a type that matches the status.
func ErrorReply(status int, code, message string) Reply {
	return Reply{Err: &Error{Status: status, Code: code, Type: errorType(status), Message: message}}
}

// errorType returns the error type OpenAI uses for a status.
func errorType(status int) string {
	switch {
	case status == 429:
		return "requests"
	case status >= 500:
		return "server_error"
	default:
		return "invalid_request_error"
	}
}

// wireToolCall is the JSON form of a ToolCall.
type wireToolCall struct {
	ID       string       `json:"id"`
	Type     string       `json:"type"`
	Function wireFunction `json:"function"`
}

// wireFunction is the function part of a wireToolCall.
type wireFunction struct {
	Name      string `json:"name"`
	Arguments string `json:"arguments"`
}

// MarshalJSON writes the wire form.
func (c ToolCall) MarshalJSON() ([]byte, error) {
	return json.Marshal(wireToolCall{
		ID:       c.ID,
		Type:     "function",
		Function: wireFunction{Name: c.Name, Arguments: c.Arguments},
	})
}

// UnmarshalJSON reads the wire form.
func (c *ToolCall) UnmarshalJSON(data []byte) error {
	var w wireToolCall
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}

	*c = ToolCall{ID: w.ID, Name: w.Function.Name, Arguments: w.Function.Arguments}

	return nil
}

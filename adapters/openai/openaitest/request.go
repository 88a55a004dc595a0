package openaitest

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// Request is one decoded POST /chat/completions, as the fake received it.
type Request struct {
	Model               string         `json:"model"`
	Messages            []Message      `json:"messages"`
	Tools               []Tool         `json:"tools"`
	MaxTokens           int            `json:"max_tokens"`
	MaxCompletionTokens int            `json:"max_completion_tokens"`
	Stream              bool           `json:"stream"`
	StreamOptions       *StreamOptions `json:"stream_options"`
	// Body is the request body as sent.
	Body json.RawMessage `json:"-"`
	// Header holds the request's headers, Authorization included.
	Header http.Header `json:"-"`
}

// StreamOptions is the stream_options object of a request.
type StreamOptions struct {
	IncludeUsage bool `json:"include_usage"`
}

// Message is one entry of a request's messages.
type Message struct {
	// Role is "system", "developer", "user", "assistant" or "tool".
	Role string
	// Content is the text: the string content, or the text parts joined
	// when the content was an array of parts.
	Content string
	// Parts holds the content parts when the content was an array.
	Parts []Part
	// ToolCalls are an assistant message's calls.
	ToolCalls []ToolCall
	// ToolCallID names the call a tool message answers.
	ToolCallID string
	// Name is the optional participant name.
	Name string
}

// Part is one content part of a message.
type Part struct {
	// Type is "text" or "image_url" (or another type the client sent).
	Type     string    `json:"type"`
	Text     string    `json:"text,omitempty"`
	ImageURL *ImageURL `json:"image_url,omitempty"`
}

// ImageURL is the image of an image_url part: an http(s) URL or a
// data: URL with base64 data.
type ImageURL struct {
	URL    string `json:"url"`
	Detail string `json:"detail,omitempty"`
}

// Tool is one entry of a request's tools.
type Tool struct {
	// Type is "function" for a function tool.
	Type     string   `json:"type"`
	Function Function `json:"function"`
}

// Function describes a function tool.
type Function struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	// Parameters is the JSON Schema of the arguments.
	Parameters json.RawMessage `json:"parameters"`
	Strict     *bool           `json:"strict"`
}

// wireMessage is the JSON form of a Message, whose content is a string,
// an array of parts or null.
type wireMessage struct {
	Role       string          `json:"role"`
	Content    json.RawMessage `json:"content"`
	ToolCalls  []ToolCall      `json:"tool_calls"`
	ToolCallID string          `json:"tool_call_id"`
	Name       string          `json:"name"`
}

// UnmarshalJSON reads a message whatever the form of its content.
func (m *Message) UnmarshalJSON(data []byte) error {
	var w wireMessage
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}

	*m = Message{Role: w.Role, ToolCalls: w.ToolCalls, ToolCallID: w.ToolCallID, Name: w.Name}

	content := strings.TrimSpace(string(w.Content))
	switch {
	case content == "" || content == "null":
		return nil
	case strings.HasPrefix(content, `"`):
		return json.Unmarshal(w.Content, &m.Content)
	}

	if err := json.Unmarshal(w.Content, &m.Parts); err != nil {
		return fmt.Errorf("decode content parts: %w", err)
	}

	var texts []string
	for _, p := range m.Parts {
		if p.Type == "text" {
			texts = append(texts, p.Text)
		}
	}
	m.Content = strings.Join(texts, "\n")

	return nil
}

// MarshalJSON writes the wire form, with parts when there are any.
func (m Message) MarshalJSON() ([]byte, error) {
	var content any = m.Content
	if len(m.Parts) > 0 {
		content = m.Parts
	}

	return json.Marshal(struct {
		Role       string     `json:"role"`
		Content    any        `json:"content"`
		ToolCalls  []ToolCall `json:"tool_calls,omitempty"`
		ToolCallID string     `json:"tool_call_id,omitempty"`
		Name       string     `json:"name,omitempty"`
	}{m.Role, content, m.ToolCalls, m.ToolCallID, m.Name})
}

// validate checks what the real API refuses with 400, so that a client
// that sends a broken conversation fails here as it would there. It
// returns the error message, or "" when the request is fine.
func (r *Request) validate() string {
	if r.Model == "" {
		return "you must provide a model parameter"
	}

	if len(r.Messages) == 0 {
		return "[] is too short - 'messages'"
	}

	for i, t := range r.Tools {
		if msg := validateTool(i, t); msg != "" {
			return msg
		}
	}

	return validateMessages(r.Messages)
}

// validateTool checks one entry of tools.
func validateTool(i int, t Tool) string {
	if t.Type != "function" {
		return fmt.Sprintf("Invalid value: '%s'. Supported values are: 'function'. "+
			"(tools[%d].type)", t.Type, i)
	}

	if t.Function.Name == "" {
		return fmt.Sprintf("Missing required parameter: 'tools[%d].function.name'.", i)
	}

	params := strings.TrimSpace(string(t.Function.Parameters))
	if params != "" && params != "null" && !strings.HasPrefix(params, "{") {
		return fmt.Sprintf("Invalid type for 'tools[%d].function.parameters': "+
			"expected an object.", i)
	}

	return ""
}

// validateMessages checks roles, image parts, and that tool results answer
// the calls of the assistant message right before them, each exactly once.
func validateMessages(msgs []Message) string {
	var pending []string

	for i, m := range msgs {
		if m.Role != "tool" && len(pending) > 0 {
			return unansweredCalls(pending)
		}

		switch m.Role {
		case "system", "developer", "user":
		case "assistant":
			pending = pending[:0]
			for _, c := range m.ToolCalls {
				pending = append(pending, c.ID)
			}
		case "tool":
			at := indexOf(pending, m.ToolCallID)
			if m.ToolCallID == "" || at < 0 {
				return "Invalid parameter: messages with role 'tool' must be a response to a " +
					"preceeding message with 'tool_calls'."
			}

			pending = append(pending[:at], pending[at+1:]...)
		default:
			return fmt.Sprintf("Invalid value: '%s'. Supported values are: 'system', "+
				"'assistant', 'user', 'tool', and 'developer'. (messages[%d].role)", m.Role, i)
		}

		if msg := validateParts(i, m.Parts); msg != "" {
			return msg
		}
	}

	if len(pending) > 0 {
		return unansweredCalls(pending)
	}

	return ""
}

// validateParts checks the image parts of one message.
func validateParts(i int, parts []Part) string {
	for j, p := range parts {
		if p.Type != "image_url" {
			continue
		}

		if p.ImageURL == nil || !validImageURL(p.ImageURL.URL) {
			return fmt.Sprintf("Invalid image URL: 'messages[%d].content[%d].image_url.url'. "+
				"Expected a valid URL or a base64 data URL.", i, j)
		}
	}

	return ""
}

// validImageURL reports whether u is an http(s) URL or a base64 data: URL
// of an image.
func validImageURL(u string) bool {
	if strings.HasPrefix(u, "https://") || strings.HasPrefix(u, "http://") {
		return true
	}

	head, data, ok := strings.Cut(u, ",")
	if !ok || !strings.HasPrefix(head, "data:image/") || !strings.HasSuffix(head, ";base64") {
		return false
	}

	_, err := base64.StdEncoding.DecodeString(data)

	return err == nil
}

// unansweredCalls is the message for tool calls without results.
func unansweredCalls(ids []string) string {
	return "An assistant message with 'tool_calls' must be followed by tool messages " +
		"responding to each 'tool_call_id'. The following tool_call_ids did not have " +
		"response messages: " + strings.Join(ids, ", ")
}

// indexOf returns the position of s in list, or -1.
func indexOf(list []string, s string) int {
	for i, v := range list {
		if v == s {
			return i
		}
	}

	return -1
}

package anthropictest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// Request is one request the server received, decoded. Content given as
// a plain string is turned into one text block, so tests see one shape.
type Request struct {
	// Header holds the request's headers.
	Header http.Header
	// Body is the request body as sent.
	Body json.RawMessage

	Model     string
	MaxTokens int
	Stream    bool
	// System is the system prompt, its text blocks joined.
	System   string
	Messages []Message
	Tools    []Tool
}

// Message is one turn of a request's conversation.
type Message struct {
	// Role is "user" or "assistant".
	Role    string
	Content []Block
}

// Block is a content block of a message. Which fields are set depends on
// Type: "text" has Text; "image" has Source; "tool_use" has ID, Name and
// Input; "tool_result" has ToolUseID, Content and IsError.
type Block struct {
	Type string `json:"type"`
	Text string `json:"text,omitempty"`

	Source *ImageSource `json:"source,omitempty"`

	ID    string          `json:"id,omitempty"`
	Name  string          `json:"name,omitempty"`
	Input json.RawMessage `json:"input,omitempty"`

	ToolUseID string  `json:"tool_use_id,omitempty"`
	Content   []Block `json:"-"`
	IsError   bool    `json:"is_error,omitempty"`
}

// ImageSource is where an image block's picture comes from.
type ImageSource struct {
	// Type is "base64" for inline data.
	Type      string `json:"type"`
	MediaType string `json:"media_type"`
	// Data is the picture, base64-encoded.
	Data string `json:"data"`
}

// Tool is a tool a request offers the model.
type Tool struct {
	Name        string          `json:"name"`
	Description string          `json:"description"`
	InputSchema json.RawMessage `json:"input_schema"`
}

// Text returns the text of a message's text blocks, joined.
func (m Message) Text() string {
	return joinText(m.Content)
}

// ContentText returns the text of a tool_result block's content.
func (b Block) ContentText() string {
	return joinText(b.Content)
}

// UnmarshalJSON decodes a block, with a tool_result's content given either
// as a string or as blocks.
func (b *Block) UnmarshalJSON(data []byte) error {
	type plain Block
	var wire struct {
		plain
		Content json.RawMessage `json:"content"`
	}
	if err := json.Unmarshal(data, &wire); err != nil {
		return err
	}

	*b = Block(wire.plain)
	content, err := decodeContent(wire.Content)
	if err != nil {
		return fmt.Errorf("decode tool_result content: %w", err)
	}
	b.Content = content

	return nil
}

// wireRequest is the JSON of a request body.
type wireRequest struct {
	Model     string          `json:"model"`
	MaxTokens int             `json:"max_tokens"`
	Stream    bool            `json:"stream"`
	System    json.RawMessage `json:"system"`
	Messages  []struct {
		Role    string          `json:"role"`
		Content json.RawMessage `json:"content"`
	} `json:"messages"`
	Tools []Tool `json:"tools"`
}

// decodeRequest decodes a request body. Its error reads like the API's.
func decodeRequest(body []byte, header http.Header) (Request, error) {
	var wire wireRequest
	if err := json.Unmarshal(body, &wire); err != nil {
		return Request{}, fmt.Errorf("decode request body: %w", err)
	}

	system, err := decodeContent(wire.System)
	if err != nil {
		return Request{}, fmt.Errorf("system: %w", err)
	}

	req := Request{
		Header:    header.Clone(),
		Body:      append(json.RawMessage(nil), body...),
		Model:     wire.Model,
		MaxTokens: wire.MaxTokens,
		Stream:    wire.Stream,
		System:    joinText(system),
		Tools:     wire.Tools,
	}

	for i, m := range wire.Messages {
		content, err := decodeContent(m.Content)
		if err != nil {
			return Request{}, fmt.Errorf("messages.%d.content: %w", i, err)
		}
		req.Messages = append(req.Messages, Message{Role: m.Role, Content: content})
	}

	return req, nil
}

// decodeContent decodes content given as a string or as blocks.
func decodeContent(raw json.RawMessage) ([]Block, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}

	if raw[0] == '"' {
		var text string
		if err := json.Unmarshal(raw, &text); err != nil {
			return nil, err
		}
		return []Block{{Type: "text", Text: text}}, nil
	}

	var blocks []Block
	if err := json.Unmarshal(raw, &blocks); err != nil {
		return nil, err
	}

	return blocks, nil
}

// joinText joins the text of the text blocks.
func joinText(blocks []Block) string {
	var sb strings.Builder
	for _, b := range blocks {
		if b.Type == "text" {
			sb.WriteString(b.Text)
		}
	}

	return sb.String()
}

// validate checks what the API checks before it answers, and returns the
// API's kind of message for the first problem, or "" when there is none:
// the required fields, roles that alternate starting with the user,
// non-empty content, and tool results that answer exactly the tool uses
// of the turn before.
func (r Request) validate() string {
	switch {
	case r.Model == "":
		return "model: Field required"
	case r.MaxTokens <= 0:
		return "max_tokens: Field required"
	case len(r.Messages) == 0:
		return "messages: at least one message is required"
	}

	for i, m := range r.Messages {
		if problem := checkTurn(r.Messages, i); problem != "" {
			return problem
		}
		if problem := checkBlocks(i, m); problem != "" {
			return problem
		}
	}

	for i, t := range r.Tools {
		if t.Name == "" {
			return fmt.Sprintf("tools.%d.name: Field required", i)
		}
		if len(t.InputSchema) == 0 {
			return fmt.Sprintf("tools.%d.input_schema: Field required", i)
		}
	}

	return ""
}

// checkTurn checks the role of turn i and that its tool results match the
// tool uses of the turn before, and the other way round.
func checkTurn(msgs []Message, i int) string {
	m := msgs[i]
	want := "user"
	if i%2 == 1 {
		want = "assistant"
	}
	if m.Role != want {
		return fmt.Sprintf("messages.%d.role: roles must alternate between "+
			"\"user\" and \"assistant\", starting with \"user\"; got %q", i, m.Role)
	}

	var uses []string
	if i > 0 {
		uses = blockIDs(msgs[i-1].Content, "tool_use")
	}
	results := blockIDs(m.Content, "tool_result")

	for _, id := range results {
		if !slices.Contains(uses, id) {
			return fmt.Sprintf("messages.%d: unexpected `tool_use_id` found in "+
				"`tool_result` blocks: %s. Each `tool_result` block must have a "+
				"corresponding `tool_use` block in the previous message.", i, id)
		}
	}

	if m.Role != "assistant" {
		return ""
	}

	uses = blockIDs(m.Content, "tool_use")
	var next []string
	if i+1 < len(msgs) {
		next = blockIDs(msgs[i+1].Content, "tool_result")
	}
	for _, id := range uses {
		if i+1 < len(msgs) && !slices.Contains(next, id) {
			return fmt.Sprintf("messages.%d: `tool_use` ids were found without "+
				"`tool_result` blocks immediately after: %s. Each `tool_use` block "+
				"must have a corresponding `tool_result` block in the next message.", i+1, id)
		}
	}

	return ""
}

// checkBlocks checks the blocks of turn i one by one.
func checkBlocks(i int, m Message) string {
	if len(m.Content) == 0 {
		return fmt.Sprintf("messages.%d: all messages must have non-empty content", i)
	}

	for j, b := range m.Content {
		at := fmt.Sprintf("messages.%d.content.%d", i, j)
		switch b.Type {
		case "text":
			if b.Text == "" {
				return at + ": text content blocks must be non-empty"
			}
		case "image":
			if b.Source == nil || b.Source.Type != "base64" ||
				b.Source.MediaType == "" || b.Source.Data == "" {
				return at + ".source: a base64 source with media_type and data is required"
			}
		case "tool_use":
			if b.ID == "" || b.Name == "" || !json.Valid(b.Input) {
				return at + ": tool_use blocks need id, name and a JSON input"
			}
		case "tool_result":
			if b.ToolUseID == "" {
				return at + ".tool_use_id: Field required"
			}
		default:
			return fmt.Sprintf("%s.type: unknown block type %q", at, b.Type)
		}
	}

	return ""
}

// blockIDs returns the ids of blocks of one type: a tool_use's id or a
// tool_result's tool_use_id.
func blockIDs(blocks []Block, blockType string) []string {
	var ids []string
	for _, b := range blocks {
		switch {
		case b.Type != blockType:
		case blockType == "tool_result":
			ids = append(ids, b.ToolUseID)
		default:
			ids = append(ids, b.ID)
		}
	}

	return ids
}

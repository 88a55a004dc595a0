package anthropic

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"

	sdk "github.com/anthropics/anthropic-sdk-go/v2"

	"github.com/switchboardhq/switchboard/core/llm"
)

// params turns a request into the Messages API's parameters. Its error is
// an *llm.Error that gives up: a request that cannot be encoded will not
// improve with retries.
func (p *Provider) params(req llm.Request) (sdk.MessageNewParams, error) {
	messages, err := messages(req.Messages)
	if err != nil {
		return sdk.MessageNewParams{}, err
	}

	tools, err := tools(req.Tools)
	if err != nil {
		return sdk.MessageNewParams{}, err
	}

	maxTokens := req.MaxTokens
	if maxTokens <= 0 {
		maxTokens = p.maxTokens
	}

	params := sdk.MessageNewParams{
		Model:     req.Model,
		MaxTokens: int64(maxTokens),
		Messages:  messages,
		Tools:     tools,
	}
	if req.System != "" {
		params.System = []sdk.TextBlockParam{{Text: req.System}}
	}

	return params, nil
}

// messages maps the conversation onto the API's turns. Tool results become
// tool_result blocks of a user turn, and consecutive messages of one role
// share a turn, because the API wants user and assistant to alternate.
func messages(in []llm.Message) ([]sdk.MessageParam, error) {
	var out []sdk.MessageParam
	for i, m := range in {
		blocks, err := blocks(m)
		if err != nil {
			return nil, failure("encode message %d: %w", i, err)
		}
		if len(blocks) == 0 {
			continue
		}

		assistant := m.Role == llm.RoleAssistant
		if n := len(out); n > 0 && (out[n-1].OfAssistant != nil) == assistant {
			appendBlocks(&out[n-1], blocks)
			continue
		}

		if assistant {
			out = append(out, sdk.NewAssistantMessage(blocks...))
		} else {
			out = append(out, sdk.NewUserMessage(blocks...))
		}
	}

	return out, nil
}

// appendBlocks adds blocks to the end of a turn.
func appendBlocks(turn *sdk.MessageParam, blocks []sdk.ContentBlockParamUnion) {
	if turn.OfAssistant != nil {
		turn.OfAssistant.Content = append(turn.OfAssistant.Content, blocks...)
		return
	}

	turn.OfUser.Content = append(turn.OfUser.Content, blocks...)
}

// blocks returns the content blocks of one message. Empty text is left out:
// the API refuses empty text blocks.
func blocks(m llm.Message) ([]sdk.ContentBlockParamUnion, error) {
	switch m.Role {
	case llm.RoleUser:
		var out []sdk.ContentBlockParamUnion
		for _, img := range m.Images {
			data := base64.StdEncoding.EncodeToString(img.Data)
			out = append(out, sdk.NewImageBlockBase64(img.MIMEType, data))
		}
		if m.Text != "" {
			out = append(out, sdk.NewTextBlock(m.Text))
		}
		return out, nil

	case llm.RoleAssistant:
		var out []sdk.ContentBlockParamUnion
		if m.Text != "" {
			out = append(out, sdk.NewTextBlock(m.Text))
		}
		for _, call := range m.ToolCalls {
			input, err := arguments(call.Arguments)
			if err != nil {
				return nil, err
			}
			out = append(out, sdk.NewToolUseBlock(call.ID, input, call.Name))
		}
		return out, nil

	case llm.RoleTool:
		return []sdk.ContentBlockParamUnion{toolResult(m)}, nil

	default:
		return nil, fmt.Errorf("map message: unknown role %q", m.Role)
	}
}

// toolResult returns the tool_result block that answers one tool call.
func toolResult(m llm.Message) sdk.ContentBlockParamUnion {
	result := sdk.ToolResultBlockParam{ToolUseID: m.ToolCallID}
	if m.Text != "" {
		result.Content = []sdk.ToolResultBlockParamContentUnion{
			{OfText: &sdk.TextBlockParam{Text: m.Text}},
		}
	}
	if m.IsError {
		result.IsError = sdk.Bool(true)
	}

	return sdk.ContentBlockParamUnion{OfToolResult: &result}
}

// arguments checks a tool call's arguments and returns them as the
// tool_use block's input; no arguments are an empty object.
func arguments(raw json.RawMessage) (json.RawMessage, error) {
	if len(strings.TrimSpace(string(raw))) == 0 {
		return json.RawMessage("{}"), nil
	}

	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		return nil, fmt.Errorf("decode tool arguments: %w", err)
	}

	return raw, nil
}

// tools maps the tool descriptions, with each JSON Schema as the tool's
// input_schema.
func tools(in []llm.Tool) ([]sdk.ToolUnionParam, error) {
	out := make([]sdk.ToolUnionParam, 0, len(in))
	for _, t := range in {
		schema, err := inputSchema(t.Parameters)
		if err != nil {
			return nil, failure("encode tool %q: %w", t.Name, err)
		}

		tool := sdk.ToolParam{Name: t.Name, InputSchema: schema}
		if t.Description != "" {
			tool.Description = sdk.String(t.Description)
		}
		out = append(out, sdk.ToolUnionParam{OfTool: &tool})
	}

	return out, nil
}

// inputSchema splits a JSON Schema of an object into the client's fields:
// properties, required, and every other keyword as it is. A tool without
// parameters gets an object schema with no properties, since the API
// requires a schema.
func inputSchema(raw json.RawMessage) (sdk.ToolInputSchemaParam, error) {
	schema := sdk.ToolInputSchemaParam{Properties: map[string]any{}}
	if len(strings.TrimSpace(string(raw))) == 0 {
		return schema, nil
	}

	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return schema, err
	}

	if props, ok := fields["properties"]; ok {
		schema.Properties = props
	}
	if req, ok := fields["required"]; ok {
		if err := json.Unmarshal(req, &schema.Required); err != nil {
			return schema, err
		}
	}

	for key, value := range fields {
		if key == "type" || key == "properties" || key == "required" {
			continue
		}
		if schema.ExtraFields == nil {
			schema.ExtraFields = make(map[string]any)
		}
		schema.ExtraFields[key] = value
	}

	return schema, nil
}

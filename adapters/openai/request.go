package openai

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	sdk "github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/shared"

	"github.com/switchboardhq/switchboard/core"
	"github.com/switchboardhq/switchboard/core/llm"
)

// toolErrorPrefix marks a tool result that reports a failure, since chat
// messages have no field for it.
const toolErrorPrefix = "error: "

// newParams maps a request to the body of one chat completion: the system
// prompt first, then the conversation, the tools, and max_tokens when set.
func newParams(req llm.Request) (sdk.ChatCompletionNewParams, error) {
	if req.Model == "" {
		return sdk.ChatCompletionNewParams{}, errors.New("map request: model is empty")
	}

	msgs := make([]sdk.ChatCompletionMessageParamUnion, 0, len(req.Messages)+1)
	if req.System != "" {
		msgs = append(msgs, sdk.SystemMessage(req.System))
	}

	for i, m := range req.Messages {
		msg, err := newMessage(m)
		if err != nil {
			return sdk.ChatCompletionNewParams{}, fmt.Errorf("map message %d: %w", i, err)
		}
		msgs = append(msgs, msg)
	}

	params := sdk.ChatCompletionNewParams{Model: req.Model, Messages: msgs}
	if req.MaxTokens > 0 {
		params.MaxTokens = sdk.Int(int64(req.MaxTokens))
	}

	for _, t := range req.Tools {
		tool, err := newTool(t)
		if err != nil {
			return sdk.ChatCompletionNewParams{}, fmt.Errorf("map tool %q: %w", t.Name, err)
		}
		params.Tools = append(params.Tools, tool)
	}

	return params, nil
}

// newMessage maps one message of the conversation.
func newMessage(m llm.Message) (sdk.ChatCompletionMessageParamUnion, error) {
	switch m.Role {
	case llm.RoleUser:
		if len(m.Images) == 0 {
			return sdk.UserMessage(m.Text), nil
		}

		return sdk.UserMessage(userParts(m)), nil
	case llm.RoleAssistant:
		return assistantMessage(m), nil
	case llm.RoleTool:
		if m.ToolCallID == "" {
			return sdk.ChatCompletionMessageParamUnion{}, errors.New("tool result has no call id")
		}

		text := m.Text
		if m.IsError {
			text = toolErrorPrefix + text
		}

		return sdk.ToolMessage(text, m.ToolCallID), nil
	default:
		return sdk.ChatCompletionMessageParamUnion{}, fmt.Errorf("unknown role %q", m.Role)
	}
}

// userParts returns a user message's text part, when it has text, and an
// image_url part with a data: URL for each image.
func userParts(m llm.Message) []sdk.ChatCompletionContentPartUnionParam {
	parts := make([]sdk.ChatCompletionContentPartUnionParam, 0, len(m.Images)+1)
	if m.Text != "" {
		parts = append(parts, sdk.TextContentPart(m.Text))
	}

	for _, img := range m.Images {
		parts = append(parts, sdk.ImageContentPart(
			sdk.ChatCompletionContentPartImageImageURLParam{URL: dataURL(img)}))
	}

	return parts
}

// dataURL returns the image as a base64 data: URL. An image without a
// media type gets the one its bytes suggest.
func dataURL(img core.Image) string {
	mime := img.MIMEType
	if mime == "" {
		mime = http.DetectContentType(img.Data)
	}

	return "data:" + mime + ";base64," + base64.StdEncoding.EncodeToString(img.Data)
}

// assistantMessage maps an earlier answer of the model, with its tool
// calls; the content is left out when there is no text.
func assistantMessage(m llm.Message) sdk.ChatCompletionMessageParamUnion {
	var msg sdk.ChatCompletionAssistantMessageParam
	if m.Text != "" || len(m.ToolCalls) == 0 {
		msg.Content.OfString = sdk.String(m.Text)
	}

	for _, c := range m.ToolCalls {
		args := string(c.Arguments)
		if args == "" {
			args = "{}"
		}

		msg.ToolCalls = append(msg.ToolCalls, sdk.ChatCompletionMessageToolCallUnionParam{
			OfFunction: &sdk.ChatCompletionMessageFunctionToolCallParam{
				ID: c.ID,
				Function: sdk.ChatCompletionMessageFunctionToolCallFunctionParam{
					Name:      c.Name,
					Arguments: args,
				},
			},
		})
	}

	return sdk.ChatCompletionMessageParamUnion{OfAssistant: &msg}
}

// newTool maps a tool to a function tool whose parameters are its schema.
// A tool without a schema takes no arguments.
func newTool(t llm.Tool) (sdk.ChatCompletionToolUnionParam, error) {
	params := shared.FunctionParameters{"type": "object", "properties": map[string]any{}}
	if len(t.Parameters) > 0 {
		params = nil
		if err := json.Unmarshal(t.Parameters, &params); err != nil {
			return sdk.ChatCompletionToolUnionParam{}, fmt.Errorf("decode parameters: %w", err)
		}
	}

	def := shared.FunctionDefinitionParam{Name: t.Name, Parameters: params}
	if t.Description != "" {
		def.Description = sdk.String(t.Description)
	}

	return sdk.ChatCompletionFunctionTool(def), nil
}

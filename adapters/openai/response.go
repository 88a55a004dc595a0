package openai

import (
	"encoding/json"
	"errors"
	"strings"

	sdk "github.com/openai/openai-go/v3"

	"github.com/switchboardhq/switchboard/core/llm"
)

// fromCompletion maps a whole answer: the first choice's text (or its
// refusal, when it has no text) and function calls, the usage and the
// model.
func fromCompletion(c *sdk.ChatCompletion) (llm.Response, error) {
	if c == nil || len(c.Choices) == 0 {
		return llm.Response{}, errors.New("read chat completion: the answer has no choices")
	}

	msg := c.Choices[0].Message
	resp := llm.Response{
		Text:  msg.Content,
		Model: c.Model,
		Usage: llm.Usage{
			InputTokens:  int(c.Usage.PromptTokens),
			OutputTokens: int(c.Usage.CompletionTokens),
		},
	}
	if resp.Text == "" {
		resp.Text = msg.Refusal
	}

	for _, tc := range msg.ToolCalls {
		if tc.Type != "" && tc.Type != "function" {
			continue
		}

		resp.ToolCalls = append(resp.ToolCalls, llm.ToolCall{
			ID:        tc.ID,
			Name:      tc.Function.Name,
			Arguments: arguments(tc.Function.Arguments),
		})
	}

	return resp, nil
}

// arguments returns a call's arguments as JSON: as they are when they are
// valid JSON, "{}" when empty, and otherwise the text as a JSON string, so
// that the tool sees what the model wrote and can refuse it.
func arguments(s string) json.RawMessage {
	trimmed := strings.TrimSpace(s)
	switch {
	case trimmed == "":
		return json.RawMessage("{}")
	case json.Valid([]byte(trimmed)):
		return json.RawMessage(trimmed)
	}

	quoted, _ := json.Marshal(s)

	return quoted
}

// accumulator assembles a streamed answer from its chunks.
type accumulator struct {
	text  strings.Builder
	model string
	usage llm.Usage
	// calls are the tool calls in order of first appearance; byIndex maps
	// a delta's index to its place in calls.
	calls   []streamCall
	byIndex map[int64]int
}

// streamCall is a tool call whose arguments are still arriving.
type streamCall struct {
	id   string
	name string
	args []byte
}

// add takes one chunk and returns its text, if any. Only the first choice
// counts; a chunk with usage (the last, when asked for) sets the usage.
func (a *accumulator) add(chunk sdk.ChatCompletionChunk) string {
	if chunk.Model != "" {
		a.model = chunk.Model
	}

	if chunk.JSON.Usage.Valid() {
		a.usage = llm.Usage{
			InputTokens:  int(chunk.Usage.PromptTokens),
			OutputTokens: int(chunk.Usage.CompletionTokens),
		}
	}

	var text string
	for _, choice := range chunk.Choices {
		if choice.Index != 0 {
			continue
		}

		text = choice.Delta.Content
		if text == "" {
			text = choice.Delta.Refusal
		}
		a.text.WriteString(text)

		for _, d := range choice.Delta.ToolCalls {
			a.addCall(d)
		}
	}

	return text
}

// addCall merges one tool call delta. The first delta of a call carries
// its id and name; later ones with the same index add to the arguments. A
// delta with a new id at a used index starts another call, for servers
// that send every call at index 0.
func (a *accumulator) addCall(d sdk.ChatCompletionChunkChoiceDeltaToolCall) {
	if a.byIndex == nil {
		a.byIndex = make(map[int64]int)
	}

	at, ok := a.byIndex[d.Index]
	if !ok || (d.ID != "" && a.calls[at].id != "" && d.ID != a.calls[at].id) {
		a.calls = append(a.calls, streamCall{})
		at = len(a.calls) - 1
		a.byIndex[d.Index] = at
	}

	c := &a.calls[at]
	if d.ID != "" {
		c.id = d.ID
	}
	if d.Function.Name != "" {
		c.name = d.Function.Name
	}
	c.args = append(c.args, d.Function.Arguments...)
}

// response returns the assembled answer.
func (a *accumulator) response() llm.Response {
	resp := llm.Response{Text: a.text.String(), Model: a.model, Usage: a.usage}
	for _, c := range a.calls {
		resp.ToolCalls = append(resp.ToolCalls, llm.ToolCall{
			ID:        c.id,
			Name:      c.name,
			Arguments: arguments(string(c.args)),
		})
	}

	return resp
}

package agent

import (
	"encoding/json"
	"fmt"

	"github.com/switchboardhq/switchboard/core/llm"
	"github.com/switchboardhq/switchboard/core/session"
)

// dialogue is what the model is shown: the history, the current message,
// and the tool calls and results of this message so far.
type dialogue struct {
	history []llm.Message
	current llm.Message
	turns   []llm.Message
}

// imageLeftOut tells a model without vision that the person sent a
// picture it cannot see.
const imageLeftOut = "[The person attached %d image(s) here; this model cannot see images, " +
	"so they were left out. Say so if it matters.]"

func fmtLeftOut(n int) string {
	return fmt.Sprintf(imageLeftOut, n)
}

func conversation(history []session.Turn, req Request) dialogue {
	d := dialogue{current: llm.Message{
		Role: llm.RoleUser, Text: req.Message.Text, Images: req.Message.Images,
	}}

	for _, t := range history {
		role := llm.RoleUser
		if t.Role == session.RoleAssistant {
			role = llm.RoleAssistant
		}

		d.history = append(d.history, llm.Message{Role: role, Text: t.Text})
	}

	return d
}

// defaultContextWindow is assumed for a model that does not say.
const defaultContextWindow = 128_000

// replyReserve keeps room in the context window for the answer.
const replyReserve = 4_096

// fit returns the messages for model m: the newest history that fits its
// context window with the system prompt, the tools, the current message
// and this message's tool turns, which are never dropped. The current
// message's images go only to a model with vision.
func (d dialogue) fit(m Model, system string, tools []llm.Tool) []llm.Message {
	window := m.ContextWindow
	if window <= 0 {
		window = defaultContextWindow
	}

	current := d.current
	if len(current.Images) > 0 && !m.Vision {
		current.Text = fmtLeftOut(len(current.Images)) + "\n" + current.Text
		current.Images = nil
	}

	budget := window - replyReserve - tokens(system) - toolTokens(tools) - msgTokens(current)
	for _, t := range d.turns {
		budget -= msgTokens(t)
	}

	keep := len(d.history)
	for i := len(d.history) - 1; i >= 0; i-- {
		budget -= msgTokens(d.history[i])
		if budget < 0 {
			break
		}

		keep = i
	}

	out := make([]llm.Message, 0, len(d.history)-keep+1+len(d.turns))
	out = append(out, d.history[keep:]...)
	out = append(out, current)

	return append(out, d.turns...)
}

// tokens estimates the tokens of a text: about four characters each, the
// usual rule for English with the common tokenizers; generous for code.
func tokens(s string) int {
	return len(s)/4 + 1
}

func msgTokens(m llm.Message) int {
	n := tokens(m.Text) + 4
	for _, c := range m.ToolCalls {
		n += tokens(c.Name) + tokens(string(c.Arguments))
	}

	return n + 1_000*len(m.Images)
}

func toolTokens(tools []llm.Tool) int {
	n := 0
	for _, t := range tools {
		b, _ := json.Marshal(t.Parameters)
		n += tokens(t.Name) + tokens(t.Description) + tokens(string(b))
	}

	return n
}

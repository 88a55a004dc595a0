// Package agent is the seam between the pipeline and whatever answers free
// text. The pipeline calls a Responder with the message and the session's
// recent transcript and stores what it returns. Until model providers are
// wired in, the Echo responder answers.
package agent

import (
	"context"
	"strconv"

	"github.com/switchboardhq/switchboard/core"
	"github.com/switchboardhq/switchboard/core/llm"
	"github.com/switchboardhq/switchboard/core/session"
)

// Request is what a responder gets for one message.
type Request struct {
	// Message is the person's message.
	Message core.Inbound
	// InboundID is the stored message's id, 0 when it was not stored.
	InboundID int64
	// Session is the conversation it belongs to.
	Session *session.Session
	// History reads the session's recent transcript, oldest first, without
	// Message. It queries the database on each call, so a responder that
	// needs no history costs none.
	History func(ctx context.Context) ([]session.Turn, error)
	// Model, when set, asks for this model instead of the routed one; the
	// budget still applies.
	Model string
	// Instructions, when set, follow the system prompt, such as a
	// caller's own system message.
	Instructions string
	// OnText, when not nil, is handed the answer's text piece by piece
	// while the model writes it, from the responder's goroutine. Text a
	// model writes before it asks for tools is handed over too.
	OnText func(delta string)
}

// Reply is a responder's answer.
type Reply struct {
	// Text is the answer; the pipeline splits it for the messenger.
	Text string
	// Model is the model that wrote the answer; empty when none did.
	Model string
	// Tools names the tools the model ran, in the order it asked for them.
	Tools []string
	// Usage sums the tokens of the model calls for this answer.
	Usage llm.Usage
}

// Responder answers free-text messages. The pipeline calls Respond once per
// message, from the session's worker, never twice at once for one session;
// it may block for as long as ctx allows (model calls, tools). An error is
// logged and answered with an apology; the message is not retried.
type Responder interface {
	// Name identifies the responder in status replies and logs.
	Name() string
	// Respond answers one message.
	Respond(ctx context.Context, req Request) (Reply, error)
}

// Echo answers every message with its own text. It stands in for the
// agent until a model provider is configured.
type Echo struct{}

// Name returns "echo".
func (Echo) Name() string { return "echo" }

// Respond returns the message text, and says how many images came with it.
func (Echo) Respond(_ context.Context, req Request) (Reply, error) {
	text := req.Message.Text
	if n := len(req.Message.Images); n > 0 {
		text = fmtImages(n) + text
	}

	return Reply{Text: text}, nil
}

func fmtImages(n int) string {
	if n == 1 {
		return "[1 image] "
	}

	return "[" + strconv.Itoa(n) + " images] "
}

// Unconfigured answers free text while no model provider is set, with how
// to set one. Commands keep working.
type Unconfigured struct{}

// Name returns "unconfigured".
func (Unconfigured) Name() string { return "unconfigured" }

// UnconfiguredReply tells the person how to give the agent a model.
const UnconfiguredReply = "I have no model to answer with yet. My owner can set one in " +
	"the configuration: ai.provider (openai or anthropic), ai.model, and ai.api_key, or " +
	"ai.base_url for a local server such as Ollama. Commands like /help work meanwhile."

// Respond returns UnconfiguredReply.
func (Unconfigured) Respond(context.Context, Request) (Reply, error) {
	return Reply{Text: UnconfiguredReply}, nil
}

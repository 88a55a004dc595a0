package httpapi

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"

	"github.com/switchboardhq/switchboard/core"
	"github.com/switchboardhq/switchboard/core/agent"
	"github.com/switchboardhq/switchboard/core/live"
	"github.com/switchboardhq/switchboard/core/routing"
	"github.com/switchboardhq/switchboard/core/session"
	"github.com/switchboardhq/switchboard/httpapi/wire"
)

// The gateway is an OpenAI Chat Completions compatible endpoint over the
// agent: a client made for OpenAI points its base URL at
// /api/gateway/v1 and gets the agent's answers, with its tools, its
// routing and its budget. Its errors have OpenAI's form so that such a
// client raises its usual errors.

// autoModel is the model name that lets the router pick the model.
const autoModel = "auto"

// The headers of a chat completion that say how it was answered.
const (
	headerModel = "X-Switchboard-Model"
	headerTier  = "X-Switchboard-Tier"
	headerCost  = "X-Switchboard-Cost-USD"
)

// noModelMessage answers the gateway while no model is configured.
const noModelMessage = "no model is configured: set ai.provider and ai.model (and " +
	"ai.api_key or ai.base_url) in the configuration"

// gatewayRoutes registers the OpenAI-compatible routes under
// /api/gateway/v1.
func (a *API) gatewayRoutes(authed func(pattern string, h http.HandlerFunc)) {
	authed("GET /api/gateway/v1/models", a.handleGatewayModels)
	authed("POST /api/gateway/v1/chat/completions", a.handleChatCompletions)
	authed("/api/gateway/v1/", a.handleGatewayUnknown)
}

// gatewayModel is one entry of GET /api/gateway/v1/models.
type gatewayModel struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Created int64  `json:"created"`
	OwnedBy string `json:"owned_by"`
}

// handleGatewayModels lists "auto" and the configured models.
func (a *API) handleGatewayModels(w http.ResponseWriter, _ *http.Request) {
	created := a.cfg.Clock.Now().Unix()

	data := make([]gatewayModel, 0, len(a.parts().Models)+1)
	for _, id := range append([]string{autoModel}, a.parts().Models...) {
		data = append(data, gatewayModel{ID: id, Object: "model", Created: created,
			OwnedBy: "switchboard"})
	}

	wire.WriteJSON(w, http.StatusOK, map[string]any{"object": "list", "data": data})
}

// handleGatewayUnknown answers the routes of the gateway that do not
// exist, as OpenAI does.
func (a *API) handleGatewayUnknown(w http.ResponseWriter, r *http.Request) {
	gatewayError(w, http.StatusNotFound, wire.CodeNotFound, "",
		fmt.Sprintf("Invalid URL (%s %s)", r.Method, r.URL.Path))
}

// completionRequest is the body of POST /chat/completions. The sampling
// fields are accepted so that common clients work, and ignored: the agent
// is configured by its owner, not per request.
type completionRequest struct {
	Model         string            `json:"model"`
	Messages      []json.RawMessage `json:"messages"`
	Stream        bool              `json:"stream"`
	StreamOptions *streamOptions    `json:"stream_options"`
	N             *int              `json:"n"`

	Temperature         json.RawMessage `json:"temperature"`
	TopP                json.RawMessage `json:"top_p"`
	MaxTokens           json.RawMessage `json:"max_tokens"`
	MaxCompletionTokens json.RawMessage `json:"max_completion_tokens"`
	Stop                json.RawMessage `json:"stop"`
	User                json.RawMessage `json:"user"`
	PresencePenalty     json.RawMessage `json:"presence_penalty"`
	FrequencyPenalty    json.RawMessage `json:"frequency_penalty"`
	Seed                json.RawMessage `json:"seed"`
}

// streamOptions are the options of a streamed completion.
type streamOptions struct {
	IncludeUsage bool `json:"include_usage"`
	// IncludeObfuscation is accepted and ignored: the gateway pads
	// nothing.
	IncludeObfuscation json.RawMessage `json:"include_obfuscation"`
}

// completionMessage is one message of a request. Name is accepted and
// ignored; Refusal stands in for the text of an assistant message
// without content; ToolCalls is refused, because the agent runs its own
// tools.
type completionMessage struct {
	Role      string          `json:"role"`
	Content   json.RawMessage `json:"content"`
	Name      json.RawMessage `json:"name"`
	Refusal   *string         `json:"refusal"`
	ToolCalls json.RawMessage `json:"tool_calls"`
}

// contentPart is one part of a message's content given as an array.
type contentPart struct {
	Type     string    `json:"type"`
	Text     *string   `json:"text"`
	ImageURL *imageURL `json:"image_url"`
}

// imageURL is the image of an image_url part; Detail is ignored.
type imageURL struct {
	URL    string          `json:"url"`
	Detail json.RawMessage `json:"detail"`
}

// completionCall is a chat completion request checked and ready for the
// agent.
type completionCall struct {
	// id names the completion, created is when it started.
	id      string
	created int64
	// asked is the model of the request; model is the one expected to
	// answer, "" when unknown before the answer, and tier its tier.
	asked string
	model string
	tier  routing.Tier
	// stream and includeUsage are the request's stream settings.
	stream       bool
	includeUsage bool
	req          agent.Request
	// parts answer the call: those in place when it came.
	parts live.Parts
}

// handleChatCompletions answers an OpenAI chat completion request with
// the agent's answer, as JSON or streamed as OpenAI's chunks.
func (a *API) handleChatCompletions(w http.ResponseWriter, r *http.Request) {
	parts := a.parts()
	if parts.Router == nil {
		gatewayError(w, http.StatusServiceUnavailable, wire.CodeUnavailable, "", noModelMessage)
		return
	}

	var body completionRequest
	if rerr := wire.Decode(r, wire.MaxBodyWithImages, &body); rerr != nil {
		gatewayError(w, rerr.Status, rerr.Body.Code, rerr.Body.Field, rerr.Body.Message)
		return
	}

	call, err := a.completionCall(r, body, parts)
	if err != nil {
		a.gatewayFail(w, "prepare chat completion", err)
		return
	}

	ctx, cancel := context.WithTimeout(r.Context(), a.cfg.ChatTimeout)
	defer cancel()

	a.lastSeen.Store(a.cfg.Clock.Now().UnixNano())

	if call.stream {
		a.streamCompletion(ctx, w, call)
		return
	}

	reply, err := call.parts.Responder.Respond(ctx, call.req)
	if err != nil {
		a.completionFailed(ctx, w, r, err)
		return
	}

	model := answeredBy(call, reply)
	setAnswerHeaders(w.Header(), call, model)
	w.Header().Set(headerCost, a.costUSD(reply))

	wire.WriteJSON(w, http.StatusOK, completion{
		ID: call.id, Object: "chat.completion", Created: call.created, Model: model,
		Choices: []completionChoice{{
			Message:      completionMessageOut{Role: "assistant", Content: reply.Text},
			FinishReason: "stop",
		}},
		Usage: usageOf(reply),
	})
}

// completionFailed answers a completion whose responder failed: nothing
// when the caller left, 504 when the time ran out, 500 otherwise.
func (a *API) completionFailed(ctx context.Context, w http.ResponseWriter, r *http.Request,
	err error,
) {
	switch {
	case r.Context().Err() != nil:
		// The caller left; there is no one to answer.
	case ctx.Err() != nil:
		gatewayError(w, http.StatusGatewayTimeout, wire.CodeTimeout, "",
			fmt.Sprintf("no answer within %s", a.cfg.ChatTimeout))
	default:
		a.gatewayFail(w, "answer chat completion", err)
	}
}

// completionCall checks a request and makes the agent's request of it,
// with the model and tier it is expected to get.
func (a *API) completionCall(r *http.Request, body completionRequest, parts live.Parts,
) (completionCall, error) {
	if body.Model == "" {
		return completionCall{}, &core.InputError{Field: "model", Rule: "is required"}
	}

	if body.N != nil && *body.N != 1 {
		return completionCall{}, &core.InputError{Field: "n",
			Rule: fmt.Sprintf("must be 1: the gateway returns one choice (got %d)", *body.N)}
	}

	conv, err := parseMessages(body.Messages)
	if err != nil {
		return completionCall{}, err
	}

	user := caller(r)
	call := completionCall{
		id: randomID("chatcmpl-"), created: a.cfg.Clock.Now().Unix(), asked: body.Model,
		stream: body.Stream, includeUsage: body.StreamOptions != nil &&
			body.StreamOptions.IncludeUsage, parts: parts,
	}

	call.req = agent.Request{
		Message: core.Inbound{
			Channel: WebChannel, ChatID: core.ChatID(user), UserID: user,
			UserName: string(user), MessageID: core.MessageID(randomID("gw-")),
			Text: conv.text, Images: conv.images, Direct: true, SentAt: a.cfg.Clock.Now(),
		},
		// A request that is not stored is counted as a message of the
		// budget under a negative id of its own.
		InboundID:    -randomInt63(),
		History:      func(context.Context) ([]session.Turn, error) { return conv.history, nil },
		Instructions: conv.instructions,
	}

	if err := a.routeCompletion(r.Context(), &call); err != nil {
		return completionCall{}, err
	}

	return call, nil
}

// routeCompletion sets the model the call asks the agent for and the
// model and tier it is expected to get: the router's recommendation for
// "auto", else the configured model named. Another name is a 404.
func (a *API) routeCompletion(ctx context.Context, call *completionCall) error {
	if call.asked != autoModel {
		if !slices.Contains(call.parts.Models, call.asked) {
			return &wire.RequestError{Status: http.StatusNotFound, Body: wire.Error{
				Code: "model_not_found", Field: "model", Message: fmt.Sprintf(
					"The model `%s` does not exist or you do not have access to it.",
					call.asked)}}
		}

		call.req.Model, call.model = call.asked, call.asked
		call.tier = call.parts.Router.TierOf(call.asked)

		return nil
	}

	rec, err := call.parts.Router.Recommend(ctx, routing.Input{Text: call.req.Message.Text,
		Images: len(call.req.Message.Images)})
	if err != nil {
		return fmt.Errorf("recommend a model: %w", err)
	}

	// A refusal names no model: the budget is used up, and the agent will
	// answer with the refusal.
	call.model, call.tier = rec.Model, rec.Tier

	return nil
}

// answeredBy is the model that wrote the reply, or the one asked for when
// none did, as when the budget refused the message.
func answeredBy(call completionCall, reply agent.Reply) string {
	if reply.Model != "" {
		return reply.Model
	}

	return call.asked
}

// setAnswerHeaders sets the model and tier headers of an answer.
func setAnswerHeaders(h http.Header, call completionCall, model string) {
	h.Set(headerModel, model)
	h.Set(headerTier, string(call.tier))
}

// costUSD prices the reply's tokens at the configured prices, in dollars
// with six decimals, such as "0.000450".
func (a *API) costUSD(reply agent.Reply) string {
	micros := a.cfg.Prices.CostMicros(reply.Model, int64(reply.Usage.InputTokens),
		int64(reply.Usage.OutputTokens))

	return fmt.Sprintf("%d.%06d", micros/1_000_000, micros%1_000_000)
}

// conversationParts is what a request's messages hold for the agent.
type conversationParts struct {
	// text and images are the last message's, the one to answer.
	text   string
	images []core.Image
	// history holds the earlier user and assistant messages, oldest first.
	history []session.Turn
	// instructions joins the system and developer messages.
	instructions string
}

// parseMessages checks the messages of a request and splits them into the
// message to answer, its history and the caller's instructions.
func parseMessages(raw []json.RawMessage) (conversationParts, error) {
	if len(raw) == 0 {
		return conversationParts{}, &core.InputError{Field: "messages",
			Rule: "must hold at least one message"}
	}

	var (
		out          conversationParts
		instructions []string
	)

	for i, m := range raw {
		field := fmt.Sprintf("messages[%d]", i)

		msg, err := parseMessage(m, field)
		if err != nil {
			return conversationParts{}, err
		}

		switch {
		case i == len(raw)-1 && msg.role != "user":
			return conversationParts{}, &core.InputError{Field: "messages",
				Rule: fmt.Sprintf("the last message must be from the user (got role %s)",
					msg.role)}
		case i == len(raw)-1 && strings.TrimSpace(msg.text) == "" && len(msg.images) == 0:
			return conversationParts{}, &core.InputError{Field: field + ".content",
				Rule: "must not be empty in the last message"}
		case i == len(raw)-1:
			out.text, out.images = msg.text, msg.images
		case msg.role == "system" || msg.role == "developer":
			instructions = append(instructions, msg.text)
		default:
			out.history = append(out.history, historyTurn(msg))
		}
	}

	out.instructions = strings.Join(instructions, "\n\n")

	return out, nil
}

// historyTurn makes a turn of an earlier user or assistant message. Its
// images are not kept; the text says they were there.
func historyTurn(msg parsedMessage) session.Turn {
	turn := session.Turn{Role: session.RoleUser, Text: msg.text}
	if msg.role == "assistant" {
		turn.Role = session.RoleAssistant
	}

	if n := len(msg.images); n > 0 {
		turn.Text = fmt.Sprintf("[%d image(s) sent here are no longer shown]\n%s", n, msg.text)
	}

	return turn
}

// parsedMessage is one message of a request, checked.
type parsedMessage struct {
	role   string
	text   string
	images []core.Image
}

// parseMessage checks one message and returns its role, text and images.
// The role is checked first, so that a tool message is refused for its
// role rather than for its tool fields.
func parseMessage(raw json.RawMessage, field string) (parsedMessage, error) {
	var head struct {
		Role string `json:"role"`
	}

	if err := json.Unmarshal(raw, &head); err != nil {
		return parsedMessage{}, decodeStrict(raw, field, &completionMessage{})
	}

	switch head.Role {
	case "system", "developer", "user", "assistant":
	case "":
		return parsedMessage{}, &core.InputError{Field: field + ".role", Rule: "is required"}
	default:
		return parsedMessage{}, &core.InputError{Field: field + ".role", Rule: fmt.Sprintf(
			"must be system, developer, user or assistant (got %q): the gateway runs the "+
				"agent's own tools", head.Role)}
	}

	var msg completionMessage
	if err := decodeStrict(raw, field, &msg); err != nil {
		return parsedMessage{}, err
	}

	if len(msg.ToolCalls) > 0 && !slices.Contains([]string{"null", "[]"},
		string(bytes.TrimSpace(msg.ToolCalls))) {
		return parsedMessage{}, &core.InputError{Field: field + ".tool_calls",
			Rule: "is not supported: the gateway runs the agent's own tools"}
	}

	text, images, err := parseContent(msg.Content, field+".content", msg.Role == "user")
	if err != nil {
		return parsedMessage{}, err
	}

	if text == "" && msg.Refusal != nil && msg.Role == "assistant" {
		text = *msg.Refusal
	}

	if len(text) > core.MaxTextBytes {
		return parsedMessage{}, &core.InputError{Field: field + ".content",
			Rule: fmt.Sprintf("must be at most %d bytes of text (got %d)", core.MaxTextBytes,
				len(text))}
	}

	return parsedMessage{role: msg.Role, text: text, images: images}, nil
}

// parseContent reads a message's content: a string, null, or an array of
// text parts and, when images is true, image_url parts.
func parseContent(raw json.RawMessage, field string, images bool,
) (string, []core.Image, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil, nil
	}

	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", nil, &core.InputError{Field: field, Rule: "is not a valid string"}
		}

		return s, nil, nil
	}

	var parts []json.RawMessage
	if err := json.Unmarshal(raw, &parts); err != nil {
		return "", nil, &core.InputError{Field: field,
			Rule: "must be a string or an array of content parts"}
	}

	var (
		texts []string
		imgs  []core.Image
	)

	for i, p := range parts {
		pf := fmt.Sprintf("%s[%d]", field, i)

		text, img, err := parsePart(p, pf, images)
		if err != nil {
			return "", nil, err
		}

		if img != nil {
			imgs = append(imgs, *img)
		} else {
			texts = append(texts, text)
		}
	}

	if len(imgs) > MaxImages {
		return "", nil, &core.InputError{Field: field, Rule: fmt.Sprintf(
			"must hold at most %d images (got %d)", MaxImages, len(imgs))}
	}

	return strings.Join(texts, "\n"), imgs, nil
}

// parsePart reads one content part: its text, or its image.
func parsePart(raw json.RawMessage, field string, images bool,
) (string, *core.Image, error) {
	var part contentPart
	if err := decodeStrict(raw, field, &part); err != nil {
		return "", nil, err
	}

	switch {
	case part.Type == "text" && part.Text != nil && part.ImageURL == nil:
		return *part.Text, nil, nil
	case part.Type == "text":
		return "", nil, &core.InputError{Field: field,
			Rule: "a text part must have text and nothing else"}
	case part.Type == "image_url" && !images:
		return "", nil, &core.InputError{Field: field + ".type",
			Rule: "only a user message may carry images"}
	case part.Type == "image_url" && part.ImageURL != nil && part.Text == nil:
		img, err := decodeDataURL(part.ImageURL.URL, field+".image_url.url")
		return "", img, err
	case part.Type == "image_url":
		return "", nil, &core.InputError{Field: field,
			Rule: "an image_url part must have image_url and nothing else"}
	}

	allowed := "text or image_url"
	if !images {
		allowed = "text"
	}

	return "", nil, &core.InputError{Field: field + ".type",
		Rule: fmt.Sprintf("must be %s (got %q)", allowed, part.Type)}
}

// decodeDataURL reads an image given as a base64 data: URL. The gateway
// does not fetch images from the web.
func decodeDataURL(url, field string) (*core.Image, error) {
	if !strings.HasPrefix(url, "data:") || !strings.Contains(url, ";base64,") {
		return nil, &core.InputError{Field: field, Rule: "must be a data: URL with a " +
			"base64 PNG, JPEG, GIF or WebP picture; the gateway does not fetch URLs"}
	}

	imgs, err := decodeImages([]string{url})
	if err != nil {
		var ie *core.InputError
		if errors.As(err, &ie) {
			return nil, &core.InputError{Field: field, Rule: ie.Rule}
		}

		return nil, err
	}

	return &imgs[0], nil
}

// decodeStrict decodes one JSON object of a request into v, refusing the
// fields v does not have, with an error that names field.
func decodeStrict(raw []byte, field string, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()

	err := dec.Decode(v)

	var typeErr *json.UnmarshalTypeError

	switch {
	case err == nil:
		return nil
	case errors.As(err, &typeErr) && typeErr.Field != "":
		return &core.InputError{Field: field + "." + typeErr.Field,
			Rule: fmt.Sprintf("must be a JSON %s, got %s", typeErr.Type, typeErr.Value)}
	case errors.As(err, &typeErr):
		return &core.InputError{Field: field, Rule: "must be a JSON object, got " +
			typeErr.Value}
	case errors.Is(err, io.EOF):
		return &core.InputError{Field: field, Rule: "must be a JSON object"}
	}

	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return &core.InputError{Field: field + "." + strings.Trim(name, `"`),
			Rule: "unknown field"}
	}

	return &core.InputError{Field: field, Rule: "is not valid: " + err.Error()}
}

// completion is the answer to a chat completion request.
type completion struct {
	ID      string             `json:"id"`
	Object  string             `json:"object"`
	Created int64              `json:"created"`
	Model   string             `json:"model"`
	Choices []completionChoice `json:"choices"`
	Usage   completionUsage    `json:"usage"`
}

// completionChoice is the one choice of a completion.
type completionChoice struct {
	Index        int                  `json:"index"`
	Message      completionMessageOut `json:"message"`
	Logprobs     *struct{}            `json:"logprobs"`
	FinishReason string               `json:"finish_reason"`
}

// completionMessageOut is the assistant's message in a completion.
type completionMessageOut struct {
	Role    string  `json:"role"`
	Content string  `json:"content"`
	Refusal *string `json:"refusal"`
}

// completionUsage counts the tokens of an answer, all model calls of the
// agent's loop together.
type completionUsage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

// usageOf returns the usage of a reply.
func usageOf(reply agent.Reply) completionUsage {
	return completionUsage{
		PromptTokens:     reply.Usage.InputTokens,
		CompletionTokens: reply.Usage.OutputTokens,
		TotalTokens:      reply.Usage.InputTokens + reply.Usage.OutputTokens,
	}
}

// completionChunk is one server-sent event of a streamed completion.
type completionChunk struct {
	ID      string        `json:"id"`
	Object  string        `json:"object"`
	Created int64         `json:"created"`
	Model   string        `json:"model"`
	Choices []chunkChoice `json:"choices"`
	// Usage is null on every chunk but the last when the request asks
	// for usage, and absent otherwise.
	Usage any `json:"usage,omitempty"`
}

// chunkChoice is the one choice of a chunk.
type chunkChoice struct {
	Index        int        `json:"index"`
	Delta        chunkDelta `json:"delta"`
	Logprobs     *struct{}  `json:"logprobs"`
	FinishReason *string    `json:"finish_reason"`
}

// chunkDelta is what a chunk adds to the message.
type chunkDelta struct {
	Role    string  `json:"role,omitempty"`
	Content *string `json:"content,omitempty"`
}

// chunkWriter writes the chunks of one streamed completion. Its methods
// may be called from the responder's goroutine while the handler waits;
// once closed it writes nothing more.
type chunkWriter struct {
	w       http.ResponseWriter
	flusher http.Flusher
	call    completionCall
	model   string

	mu       sync.Mutex
	closed   bool
	streamed bool
}

// send writes one chunk with the given delta and finish reason.
func (c *chunkWriter) send(delta chunkDelta, finish *string) {
	chunk := completionChunk{ID: c.call.id, Object: "chat.completion.chunk",
		Created: c.call.created, Model: c.model,
		Choices: []chunkChoice{{Delta: delta, FinishReason: finish}}}
	if c.call.includeUsage {
		chunk.Usage = json.RawMessage("null")
	}

	c.event(chunk)
}

// text writes a piece of the answer; it is the request's OnText.
func (c *chunkWriter) text(delta string) {
	if delta == "" {
		return
	}

	c.mu.Lock()
	defer c.mu.Unlock()

	if c.closed {
		return
	}

	c.streamed = true
	c.send(chunkDelta{Content: &delta}, nil)
}

// event writes v as one data: line; the caller holds c.mu.
func (c *chunkWriter) event(v any) {
	b, _ := json.Marshal(v)
	c.data(b)
}

// data writes one data: line and flushes it; the caller holds c.mu.
func (c *chunkWriter) data(b []byte) {
	fmt.Fprintf(c.w, "data: %s\n\n", b)

	if c.flusher != nil {
		c.flusher.Flush()
	}
}

// streamCompletion answers as OpenAI's server-sent chunks: the role, the
// text as the agent writes it, the finish reason, the usage when asked
// for, and [DONE]. The headers go first, so they carry the model expected
// to answer; the cost follows as a trailer.
func (a *API) streamCompletion(ctx context.Context, w http.ResponseWriter,
	call completionCall,
) {
	model := call.model
	if model == "" {
		model = call.asked
	}

	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	h.Set("Trailer", headerCost)
	setAnswerHeaders(h, call, model)
	w.WriteHeader(http.StatusOK)

	flusher, _ := w.(http.Flusher)
	cw := &chunkWriter{w: w, flusher: flusher, call: call, model: model}

	cw.mu.Lock()
	empty := ""
	cw.send(chunkDelta{Role: "assistant", Content: &empty}, nil)
	cw.mu.Unlock()

	call.req.OnText = cw.text
	reply, err := call.parts.Responder.Respond(ctx, call.req)

	cw.mu.Lock()
	defer cw.mu.Unlock()

	cw.closed = true

	if err != nil {
		a.streamFailed(ctx, cw, err)
		return
	}

	a.finishStream(w, cw, reply)
}

// finishStream writes the end of a streamed answer: the text if none was
// streamed (a refusal), the finish reason, the usage, the cost trailer
// and [DONE]. The caller holds cw.mu.
func (a *API) finishStream(w http.ResponseWriter, cw *chunkWriter, reply agent.Reply) {
	if !cw.streamed && reply.Text != "" {
		cw.send(chunkDelta{Content: &reply.Text}, nil)
	}

	cw.model = answeredBy(cw.call, reply)
	stop := "stop"
	cw.send(chunkDelta{}, &stop)

	if cw.call.includeUsage {
		cw.event(completionChunk{ID: cw.call.id, Object: "chat.completion.chunk",
			Created: cw.call.created, Model: cw.model, Choices: []chunkChoice{},
			Usage: usageOf(reply)})
	}

	w.Header().Set(headerCost, a.costUSD(reply))
	cw.data([]byte("[DONE]"))
}

// streamFailed ends a stream whose responder failed with an error event,
// as OpenAI does; nothing when the caller left. The caller holds cw.mu.
func (a *API) streamFailed(ctx context.Context, cw *chunkWriter, err error) {
	if ctx.Err() != nil && !errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return
	}

	e := openAIError{Message: "internal error; it has been logged", Type: "server_error",
		Code: wire.CodeInternal}
	if ctx.Err() != nil {
		e.Message, e.Code = fmt.Sprintf("no answer within %s", a.cfg.ChatTimeout),
			wire.CodeTimeout
	} else {
		a.log.Error("answer streamed chat completion", "completion_id", cw.call.id, "err", err)
	}

	cw.event(map[string]openAIError{"error": e})
}

// openAIError is an error in OpenAI's form; empty Param and Code are
// written as null.
type openAIError struct {
	Message string `json:"message"`
	Type    string `json:"type"`
	Param   string `json:"param"`
	Code    string `json:"code"`
}

// MarshalJSON writes the error with null for an empty param or code.
func (e openAIError) MarshalJSON() ([]byte, error) {
	orNull := func(s string) *string {
		if s == "" {
			return nil
		}

		return &s
	}

	return json.Marshal(struct {
		Message string  `json:"message"`
		Type    string  `json:"type"`
		Param   *string `json:"param"`
		Code    *string `json:"code"`
	}{e.Message, e.Type, orNull(e.Param), orNull(e.Code)})
}

// gatewayError writes an error answer in OpenAI's form.
func gatewayError(w http.ResponseWriter, status int, code, param, message string) {
	typ := "invalid_request_error"

	switch {
	case status == http.StatusUnauthorized:
		typ = "authentication_error"
	case status == http.StatusForbidden:
		typ = "permission_error"
	case status == http.StatusTooManyRequests:
		typ = "rate_limit_error"
	case status >= 500:
		typ = "server_error"
	}

	wire.WriteJSON(w, status, map[string]openAIError{"error": {Message: message, Type: typ,
		Param: param, Code: code}})
}

// gatewayFail writes the answer for err in OpenAI's form: a
// *core.InputError or a *wire.RequestError is the caller's fault and says
// so, anything else is a 500 that is logged.
func (a *API) gatewayFail(w http.ResponseWriter, what string, err error) {
	var (
		ie *core.InputError
		re *wire.RequestError
	)

	switch {
	case errors.As(err, &ie):
		gatewayError(w, http.StatusBadRequest, wire.CodeInvalid, ie.Field,
			ie.Field+": "+ie.Rule)
	case errors.As(err, &re):
		gatewayError(w, re.Status, re.Body.Code, re.Body.Field, re.Body.Message)
	default:
		a.log.Error(what, "err", err)
		gatewayError(w, http.StatusInternalServerError, wire.CodeInternal, "",
			"internal error; it has been logged")
	}
}

// randomID returns prefix followed by 24 random hex digits.
func randomID(prefix string) string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)

	return prefix + hex.EncodeToString(b)
}

// randomInt63 is a random positive int64.
func randomInt63() int64 {
	b := make([]byte, 8)
	_, _ = rand.Read(b)

	return int64(binary.BigEndian.Uint64(b)>>1) | 1
}

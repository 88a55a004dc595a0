// Package anthropic is the model provider for Anthropic's Messages API,
// built on the official Go client. It turns an llm.Request into one call of
// POST /v1/messages, plain or streamed, and every failure into an
// *llm.Error that tells the agent loop whether to retry, wait, fall back or
// give up. The client's own retries are off: the loop decides.
//
// A Provider is safe for concurrent use by several goroutines.
package anthropic

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	sdk "github.com/anthropics/anthropic-sdk-go/v2"
	"github.com/anthropics/anthropic-sdk-go/v2/option"

	"github.com/switchboardhq/switchboard/core/llm"
)

// DefaultMaxTokens bounds an answer when neither the request nor the
// configuration says how long it may be. The API requires a bound.
const DefaultMaxTokens = 4096

// DefaultTimeout bounds one call when Config.Timeout is zero.
const DefaultTimeout = 10 * time.Minute

// Config configures a Provider.
type Config struct {
	// BaseURL is the API's address; empty means Anthropic's own. A proxy or
	// a test server goes here.
	BaseURL string
	// APIKey authenticates the calls. It never appears in an error.
	APIKey string
	// HTTPClient makes the calls; nil means the client's default.
	HTTPClient *http.Client
	// Timeout bounds one call, a streamed answer included; zero means
	// DefaultTimeout.
	Timeout time.Duration
	// MaxTokens bounds an answer when the request does not; zero means
	// DefaultMaxTokens.
	MaxTokens int
}

// Provider calls Anthropic's Messages API. It implements llm.Provider and
// llm.Streamer.
type Provider struct {
	client    sdk.Client
	apiKey    string
	maxTokens int
}

// New returns a Provider for cfg. It makes no call.
func New(cfg Config) *Provider {
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}

	opts := []option.RequestOption{
		option.WithoutEnvironmentDefaults(),
		option.WithMaxRetries(0),
		option.WithRequestTimeout(timeout),
	}
	if cfg.BaseURL != "" {
		opts = append(opts, option.WithBaseURL(cfg.BaseURL))
	}
	if cfg.APIKey != "" {
		opts = append(opts, option.WithAPIKey(cfg.APIKey))
	}
	if cfg.HTTPClient != nil {
		opts = append(opts, option.WithHTTPClient(cfg.HTTPClient))
	}

	maxTokens := cfg.MaxTokens
	if maxTokens <= 0 {
		maxTokens = DefaultMaxTokens
	}

	return &Provider{
		client:    sdk.NewClient(opts...),
		apiKey:    cfg.APIKey,
		maxTokens: maxTokens,
	}
}

// Name returns "anthropic".
func (p *Provider) Name() string { return "anthropic" }

// Complete makes one call and returns the whole answer. It blocks until the
// model has answered or ctx ends. A failure is an *llm.Error.
func (p *Provider) Complete(ctx context.Context, req llm.Request) (llm.Response, error) {
	params, err := p.params(req)
	if err != nil {
		return llm.Response{}, err
	}

	msg, err := p.client.Messages.New(ctx, params)
	if err != nil {
		return llm.Response{}, p.classify(ctx, "create message", err)
	}

	return response(msg), nil
}

// Stream is Complete, calling onText with each piece of text as it arrives,
// from the calling goroutine. The returned Response holds the whole answer:
// all the text, the tool calls with their input put together from the
// pieces, and the usage.
func (p *Provider) Stream(
	ctx context.Context, req llm.Request, onText func(string),
) (llm.Response, error) {
	params, err := p.params(req)
	if err != nil {
		return llm.Response{}, err
	}

	stream := p.client.Messages.NewStreaming(ctx, params)
	defer stream.Close()

	var msg sdk.Message
	stopped := false
	for stream.Next() {
		event := stream.Current()
		if err := msg.Accumulate(event); err != nil {
			return llm.Response{}, p.classify(ctx, "read message stream", err)
		}

		switch event.Type {
		case "content_block_delta":
			if event.Delta.Type == "text_delta" && event.Delta.Text != "" && onText != nil {
				onText(event.Delta.Text)
			}
		case "message_stop":
			stopped = true
		}
	}

	if err := stream.Err(); err != nil {
		return llm.Response{}, p.classify(ctx, "stream message", err)
	}
	if !stopped {
		err := errors.New("stream ended before message_stop")
		return llm.Response{}, p.classify(ctx, "stream message", err)
	}

	return response(&msg), nil
}

// response turns the API's message into the answer the loop sees: the text
// blocks joined, the tool_use blocks as tool calls, and the usage.
func response(msg *sdk.Message) llm.Response {
	var text strings.Builder
	var calls []llm.ToolCall
	for _, block := range msg.Content {
		switch block.Type {
		case "text":
			text.WriteString(block.Text)
		case "tool_use":
			calls = append(calls, llm.ToolCall{
				ID:        block.ID,
				Name:      block.Name,
				Arguments: toolInput(block.Input),
			})
		}
	}

	// Cached prompt tokens are counted apart by the API; the loop's budget
	// counts every prompt token alike.
	u := msg.Usage
	input := u.InputTokens + u.CacheCreationInputTokens + u.CacheReadInputTokens

	return llm.Response{
		Text:      text.String(),
		ToolCalls: calls,
		Usage: llm.Usage{
			InputTokens:  int(input),
			OutputTokens: int(u.OutputTokens),
		},
		Model: msg.Model,
	}
}

// toolInput returns a tool_use block's input as the call's arguments, an
// empty object when the model sent none.
func toolInput(input []byte) []byte {
	if len(strings.TrimSpace(string(input))) == 0 {
		return []byte("{}")
	}

	return append([]byte(nil), input...)
}

// failure wraps a mistake in the request itself, found before any call:
// sending it again cannot help.
func failure(format string, args ...any) error {
	return &llm.Error{Action: llm.GiveUp, Err: fmt.Errorf(format, args...)}
}

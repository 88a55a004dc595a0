// Package openai is the model provider for the Chat Completions API, which
// OpenAI and every OpenAI-compatible server speak (OpenRouter, Ollama,
// vLLM, LM Studio). It calls the API through the official client at a
// configurable base URL, maps the conversation of an llm.Request to chat
// messages, and turns every failure into an *llm.Error that tells the
// agent loop whether to retry, wait, fall back to another model or give
// up. The client's own retries are off: the loop decides.
//
// Chat messages have no place for some of what an llm.Request says: the
// system prompt becomes the first message, images travel as base64 data:
// URLs, and a tool result that reports a failure starts with "error: ".
// Tool call arguments that are not valid JSON reach the caller as a JSON
// string holding what the model wrote.
//
// A Provider is safe for use by several goroutines.
package openai

import (
	"context"
	"net/http"
	"time"

	sdk "github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/switchboardhq/switchboard/core/llm"
)

// DefaultBaseURL is OpenAI's API, used when Config.BaseURL is empty.
const DefaultBaseURL = "https://api.openai.com/v1"

// DefaultTimeout bounds one call when Config.Timeout is zero. It is long,
// since a local model on a CPU may take minutes to answer.
const DefaultTimeout = 10 * time.Minute

// Config configures a Provider. Only what it says is used: the SDK's
// OPENAI_BASE_URL and OPENAI_API_KEY variables are overridden.
type Config struct {
	// BaseURL is the API's base, such as https://openrouter.ai/api/v1 or
	// http://localhost:11434/v1; empty means DefaultBaseURL.
	BaseURL string
	// APIKey is sent as a bearer token; empty sends none, for servers
	// such as Ollama that need no key.
	APIKey string
	// HTTPClient makes the requests; nil means the SDK's default client.
	HTTPClient *http.Client
	// Timeout bounds one call, from sending the request to the end of the
	// answer, streamed or not; zero means DefaultTimeout.
	Timeout time.Duration
}

// Provider calls a Chat Completions API. It implements llm.Provider and
// llm.Streamer.
type Provider struct {
	client  sdk.Client
	key     string
	timeout time.Duration
}

var (
	_ llm.Provider = (*Provider)(nil)
	_ llm.Streamer = (*Provider)(nil)
)

// New returns a provider for the API that cfg describes. It makes no
// request: a wrong URL or key shows in the first call's error.
func New(cfg Config) *Provider {
	base := cfg.BaseURL
	if base == "" {
		base = DefaultBaseURL
	}

	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}

	opts := []option.RequestOption{
		option.WithBaseURL(base),
		option.WithAPIKey(cfg.APIKey),
		option.WithMaxRetries(0),
	}
	if cfg.HTTPClient != nil {
		opts = append(opts, option.WithHTTPClient(cfg.HTTPClient))
	}

	return &Provider{client: sdk.NewClient(opts...), key: cfg.APIKey, timeout: timeout}
}

// Name returns "openai".
func (p *Provider) Name() string { return "openai" }

// Complete makes one call and returns the whole answer. It blocks until
// the model has answered, the call's time-out passes, or ctx ends. A
// failure is an *llm.Error.
func (p *Provider) Complete(ctx context.Context, req llm.Request) (llm.Response, error) {
	params, err := newParams(req)
	if err != nil {
		return llm.Response{}, p.requestError(err)
	}

	callCtx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()

	var raw *http.Response
	completion, err := p.client.Chat.Completions.New(callCtx, params,
		option.WithResponseInto(&raw))
	if err != nil {
		return llm.Response{}, p.callError(ctx, raw, err)
	}

	resp, err := fromCompletion(completion)
	if err != nil {
		return llm.Response{}, p.callError(ctx, nil, err)
	}

	return resp, nil
}

// Stream is Complete, calling onText with each piece of the answer's text
// as it arrives, from the calling goroutine. The returned Response holds
// the whole answer, with the usage the server reports at the end.
func (p *Provider) Stream(
	ctx context.Context, req llm.Request, onText func(string),
) (llm.Response, error) {
	params, err := newParams(req)
	if err != nil {
		return llm.Response{}, p.requestError(err)
	}

	params.StreamOptions = sdk.ChatCompletionStreamOptionsParam{IncludeUsage: sdk.Bool(true)}

	callCtx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()

	var raw *http.Response
	stream := p.client.Chat.Completions.NewStreaming(callCtx, params,
		option.WithResponseInto(&raw))
	defer func() { _ = stream.Close() }()

	var acc accumulator
	for stream.Next() {
		if text := acc.add(stream.Current()); text != "" && onText != nil {
			onText(text)
		}
	}

	if err := stream.Err(); err != nil {
		return llm.Response{}, p.callError(ctx, raw, err)
	}

	return acc.response(), nil
}

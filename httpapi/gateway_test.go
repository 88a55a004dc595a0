package httpapi_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"image"
	"image/png"
	"io"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/switchboardhq/switchboard/adapters/openai/openaitest"
	"github.com/switchboardhq/switchboard/core/budget"
	"github.com/switchboardhq/switchboard/core/routing"
	"github.com/switchboardhq/switchboard/core/store"
	"github.com/switchboardhq/switchboard/core/store/storetest"
)

// gatewayPrices price the fake models so that every answer costs
// something: dollars per million tokens.
var gatewayPrices = budget.Prices{
	"small":  {Input: 0.5, Output: 1},
	"medium": {Input: 2, Output: 8},
	"large":  {Input: 10, Output: 30},
}

// gatewayComplex is a message the router sends to the premium tier: code,
// a request for analysis and four questions.
const gatewayComplex = "Compare these two versions step by step: why is the second " +
	"slower? Is it the allocation? Or the copy? What would you keep?\n" +
	"```go\nfor i := range n { s = append(s, i) }\n```"

// gatewayClient returns the official OpenAI client pointed at the
// gateway, with key as its API key and no retries.
func gatewayClient(ta *testAPI, key string) openai.Client {
	return openai.NewClient(
		option.WithBaseURL(ta.URL+"/api/gateway/v1"),
		option.WithAPIKey(key),
		option.WithMaxRetries(0),
	)
}

// wantAPIError checks that err is the client's *openai.Error with status
// and, when param is not empty, that it names param.
func wantAPIError(t *testing.T, err error, status int, param string) *openai.Error {
	t.Helper()

	var apiErr *openai.Error
	if !errors.As(err, &apiErr) {
		t.Fatalf("got error %v, want an *openai.Error with status %d", err, status)
	}

	if apiErr.StatusCode != status || apiErr.Message == "" ||
		(param != "" && apiErr.Param != param) {
		t.Fatalf("got %d %s, want %d naming param %q", apiErr.StatusCode, apiErr.RawJSON(),
			status, param)
	}

	return apiErr
}

// pngDataURL returns a data: URL of a tiny PNG picture.
func pngDataURL(t *testing.T) string {
	t.Helper()

	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewRGBA(image.Rect(0, 0, 2, 2))); err != nil {
		t.Fatal(err)
	}

	return "data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes())
}

// TestGatewayChatCompletion asks for a named model with a system prompt
// and a history, and gets the agent's answer with its usage, cost and
// tier; the model is sent the caller's instructions and the history.
func TestGatewayChatCompletion(t *testing.T) {
	t.Parallel()

	storetest.Each(t, func(t *testing.T, kind store.Dialect) {
		t.Parallel()

		ta := newTestAPI(t, kind, withModel(), withPrices(gatewayPrices))
		ta.Model.Push(openaitest.Reply{Text: "Paris.",
			Usage: openaitest.Usage{PromptTokens: 1000, CompletionTokens: 200}})

		var res *http.Response

		client := gatewayClient(ta, ta.token("anna"))
		got, err := client.Chat.Completions.New(context.Background(),
			openai.ChatCompletionNewParams{
				Model: "medium",
				Messages: []openai.ChatCompletionMessageParamUnion{
					openai.SystemMessage("Answer briefly."),
					openai.DeveloperMessage("Use French names."),
					openai.UserMessage("Hello"),
					openai.AssistantMessage("Hi! How can I help?"),
					openai.UserMessage("Capital of France?"),
				},
				Temperature: openai.Float(0.2),
				Seed:        openai.Int(7),
			}, option.WithResponseInto(&res))
		if err != nil {
			t.Fatal(err)
		}

		if !strings.HasPrefix(got.ID, "chatcmpl-") || got.Model != "medium" ||
			len(got.Choices) != 1 || got.Choices[0].Message.Content != "Paris." ||
			got.Choices[0].FinishReason != "stop" || got.Choices[0].Message.Role != "assistant" {
			t.Errorf("completion %s", got.RawJSON())
		}

		if u := got.Usage; u.PromptTokens != 1000 || u.CompletionTokens != 200 ||
			u.TotalTokens != 1200 {
			t.Errorf("usage %+v, want 1000 + 200", u)
		}

		// 1000 tokens at $2 and 200 at $8 per million: $0.0036.
		wantHeaders(t, res.Header, "medium", "standard", "0.003600")

		reqs := ta.Model.Requests()
		if len(reqs) != 1 || reqs[0].Model != "medium" || len(reqs[0].Tools) == 0 {
			t.Fatalf("model got %d requests: %+v", len(reqs), reqs)
		}

		msgs := reqs[0].Messages
		if len(msgs) != 4 || msgs[0].Role != "system" ||
			!strings.Contains(msgs[0].Content, "Answer briefly.\n\nUse French names.") {
			t.Fatalf("model got messages %+v", msgs)
		}

		var turns []string
		for _, m := range msgs[1:] {
			turns = append(turns, m.Role+": "+m.Content)
		}

		want := []string{"user: Hello", "assistant: Hi! How can I help?",
			"user: Capital of France?"}
		if !slices.Equal(turns, want) {
			t.Errorf("model got turns %q, want %q", turns, want)
		}

		// The request counts as a message of the budget.
		var b struct {
			MessagesUsed int64 `json:"messages_used"`
		}
		ta.doJSON("GET", "/api/agent/token-budget", "anna", nil, &b)

		if b.MessagesUsed != 1 {
			t.Errorf("messages used after one completion = %d, want 1", b.MessagesUsed)
		}
	})
}

// wantHeaders checks the headers that say how a completion was answered.
func wantHeaders(t *testing.T, h http.Header, model, tier, cost string) {
	t.Helper()

	got := []string{h.Get("X-Switchboard-Model"), h.Get("X-Switchboard-Tier"),
		h.Get("X-Switchboard-Cost-USD")}
	if want := []string{model, tier, cost}; !slices.Equal(got, want) {
		t.Errorf("model, tier and cost headers %q, want %q", got, want)
	}
}

// TestGatewayRunsTools answers with the agent's loop: the model's
// calculator call is run and its result handed back before the answer,
// and the usage sums both calls.
func TestGatewayRunsTools(t *testing.T) {
	t.Parallel()

	storetest.Each(t, func(t *testing.T, kind store.Dialect) {
		t.Parallel()

		ta := newTestAPI(t, kind, withModel())
		ta.Model.Push(
			openaitest.Reply{ToolCalls: []openaitest.ToolCall{{Name: "calculator",
				Arguments: `{"expression":"6*7"}`}},
				Usage: openaitest.Usage{PromptTokens: 100, CompletionTokens: 10}},
			openaitest.Reply{Text: "It is 42.",
				Usage: openaitest.Usage{PromptTokens: 120, CompletionTokens: 5}},
		)

		client := gatewayClient(ta, ta.token("bob"))
		got, err := client.Chat.Completions.New(context.Background(),
			openai.ChatCompletionNewParams{Model: "medium",
				Messages: []openai.ChatCompletionMessageParamUnion{
					openai.UserMessage("What is six times seven?")}})
		if err != nil {
			t.Fatal(err)
		}

		if got.Choices[0].Message.Content != "It is 42." || got.Usage.PromptTokens != 220 ||
			got.Usage.CompletionTokens != 15 {
			t.Errorf("completion %s", got.RawJSON())
		}

		reqs := ta.Model.Requests()
		if len(reqs) != 2 {
			t.Fatalf("model got %d requests, want 2", len(reqs))
		}

		last := reqs[1].Messages[len(reqs[1].Messages)-1]
		if last.Role != "tool" || last.Content != "42" {
			t.Errorf("the tool result sent to the model is %+v, want 42", last)
		}
	})
}

// TestGatewayStreamedChatCompletion streams an answer in OpenAI's chunks:
// the client's accumulator rebuilds the text and the usage, the text came
// in several pieces, and the headers came first.
func TestGatewayStreamedChatCompletion(t *testing.T) {
	t.Parallel()

	storetest.Each(t, func(t *testing.T, kind store.Dialect) {
		t.Parallel()

		ta := newTestAPI(t, kind, withModel(), withPrices(gatewayPrices))

		const text = "The capital of France is Paris, on the Seine."
		ta.Model.Push(openaitest.Reply{Text: text,
			Usage: openaitest.Usage{PromptTokens: 50, CompletionTokens: 12}})

		var res *http.Response

		client := gatewayClient(ta, ta.token("anna"))
		stream := client.Chat.Completions.NewStreaming(context.Background(),
			openai.ChatCompletionNewParams{
				Model: "medium",
				Messages: []openai.ChatCompletionMessageParamUnion{
					openai.UserMessage("Capital of France?")},
				StreamOptions: openai.ChatCompletionStreamOptionsParam{
					IncludeUsage: openai.Bool(true)},
			}, option.WithResponseInto(&res))

		acc, pieces := accumulate(t, stream)

		if len(acc.Choices) != 1 || acc.Choices[0].Message.Content != text ||
			acc.Choices[0].FinishReason != "stop" || !strings.HasPrefix(acc.ID, "chatcmpl-") {
			t.Errorf("accumulated %+v", acc.ChatCompletion)
		}

		if acc.Usage.PromptTokens != 50 || acc.Usage.CompletionTokens != 12 ||
			acc.Usage.TotalTokens != 62 {
			t.Errorf("usage %+v, want 50 + 12", acc.Usage)
		}

		if pieces < 2 {
			t.Errorf("the text came in %d pieces, want it streamed in several", pieces)
		}

		if ct := res.Header.Get("Content-Type"); ct != "text/event-stream" {
			t.Errorf("content type %q", ct)
		}

		wantHeaders(t, res.Header, "medium", "standard", "")
	})
}

// TestGatewayStreamWire checks the streamed answer byte by byte where
// clients depend on it: every event is one data: line of a chunk with
// "usage": null when usage is asked for, the first has the role, the
// usage chunk has no choices, [DONE] ends the stream, and the cost comes
// as a trailer.
func TestGatewayStreamWire(t *testing.T) {
	t.Parallel()

	storetest.Each(t, func(t *testing.T, kind store.Dialect) {
		t.Parallel()

		ta := newTestAPI(t, kind, withModel(), withPrices(gatewayPrices))
		ta.Model.Push(openaitest.Reply{Text: "Hello there, friend.",
			Usage: openaitest.Usage{PromptTokens: 5, CompletionTokens: 3}})

		res := ta.request(http.MethodPost, "/api/gateway/v1/chat/completions", "anna",
			map[string]any{"model": "medium", "stream": true,
				"stream_options": map[string]any{"include_usage": true},
				"messages":       []any{map[string]any{"role": "user", "content": "hi"}}}, nil)
		defer res.Body.Close()

		body, err := io.ReadAll(res.Body)
		if err != nil {
			t.Fatal(err)
		}

		events := strings.Split(strings.TrimSuffix(string(body), "\n\n"), "\n\n")
		if len(events) < 5 || events[len(events)-1] != "data: [DONE]" {
			t.Fatalf("stream %q", body)
		}

		var chunks []map[string]any

		for _, e := range events[:len(events)-1] {
			var chunk map[string]any
			if err := json.Unmarshal([]byte(strings.TrimPrefix(e, "data: ")), &chunk); err != nil ||
				!strings.HasPrefix(e, "data: ") || chunk["object"] != "chat.completion.chunk" {
				t.Fatalf("event %q: %v", e, err)
			}

			chunks = append(chunks, chunk)
		}

		first, last := chunks[0], chunks[len(chunks)-1]
		if delta := first["choices"].([]any)[0].(map[string]any)["delta"]; !reflect.DeepEqual(
			delta, map[string]any{"role": "assistant", "content": ""}) {
			t.Errorf("first delta %v", delta)
		}

		if u, ok := first["usage"]; !ok || u != nil {
			t.Errorf("first chunk's usage %v, want null", u)
		}

		wantUsage := map[string]any{"prompt_tokens": 5.0, "completion_tokens": 3.0,
			"total_tokens": 8.0}
		if len(last["choices"].([]any)) != 0 || !reflect.DeepEqual(last["usage"], wantUsage) {
			t.Errorf("usage chunk %v", last)
		}

		// 5 tokens at $2 and 3 at $8 per million: $0.000034.
		if cost := res.Trailer.Get("X-Switchboard-Cost-USD"); cost != "0.000034" {
			t.Errorf("cost trailer %q, want 0.000034", cost)
		}
	})
}

// accumulate reads a stream to its end with the client's accumulator and
// returns it with the number of chunks that carried text. The first chunk
// must carry the assistant's role.
func accumulate(t *testing.T, stream interface {
	Next() bool
	Current() openai.ChatCompletionChunk
	Err() error
}) (openai.ChatCompletionAccumulator, int) {
	t.Helper()

	var (
		acc    openai.ChatCompletionAccumulator
		pieces int
		first  = true
	)

	for stream.Next() {
		chunk := stream.Current()
		if !acc.AddChunk(chunk) {
			t.Fatalf("the accumulator refused chunk %s", chunk.RawJSON())
		}

		if first && (len(chunk.Choices) != 1 || chunk.Choices[0].Delta.Role != "assistant") {
			t.Errorf("first chunk %s, want the assistant's role", chunk.RawJSON())
		}

		if len(chunk.Choices) > 0 && chunk.Choices[0].Delta.Content != "" {
			pieces++
		}

		first = false
	}

	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}

	return acc, pieces
}

// TestGatewayAutoRoutes lets the router pick the model for "auto": a
// greeting goes to the cheap model and a complex question to the premium
// one, and the headers say which, streamed or not.
func TestGatewayAutoRoutes(t *testing.T) {
	t.Parallel()

	storetest.Each(t, func(t *testing.T, kind store.Dialect) {
		t.Parallel()

		if score, _ := routing.Score(routing.Input{Text: gatewayComplex}); score < 60 {
			t.Fatalf("the complex message scores %d, below the premium tier", score)
		}

		ta := newTestAPI(t, kind, withModel(), withPrices(gatewayPrices))
		client := gatewayClient(ta, ta.token("owner"))

		for _, tc := range []struct {
			text, model, tier, cost string
		}{
			// 10 tokens at $0.50 and 4 at $1 per million: $0.000009.
			{"hi there", "small", "cheap", "0.000009"},
			// 10 tokens at $10 and 4 at $30 per million: $0.00022.
			{gatewayComplex, "large", "premium", "0.000220"},
		} {
			ta.Model.Push(openaitest.Reply{Text: "ok",
				Usage: openaitest.Usage{PromptTokens: 10, CompletionTokens: 4}})

			var res *http.Response

			got, err := client.Chat.Completions.New(context.Background(),
				openai.ChatCompletionNewParams{Model: "auto",
					Messages: []openai.ChatCompletionMessageParamUnion{
						openai.UserMessage(tc.text)}}, option.WithResponseInto(&res))
			if err != nil {
				t.Fatal(err)
			}

			if got.Model != tc.model {
				t.Errorf("%q: answered by %q, want %q", tc.text, got.Model, tc.model)
			}

			wantHeaders(t, res.Header, tc.model, tc.tier, tc.cost)

			reqs := ta.Model.Requests()
			if m := reqs[len(reqs)-1].Model; m != tc.model {
				t.Errorf("%q: the model server was asked for %q, want %q", tc.text, m, tc.model)
			}
		}

		ta.Model.Push(openaitest.TextReply("ok"))

		var res *http.Response

		stream := client.Chat.Completions.NewStreaming(context.Background(),
			openai.ChatCompletionNewParams{Model: "auto",
				Messages: []openai.ChatCompletionMessageParamUnion{
					openai.UserMessage(gatewayComplex)}}, option.WithResponseInto(&res))

		acc, _ := accumulate(t, stream)
		if acc.Model != "large" || acc.Choices[0].Message.Content != "ok" {
			t.Errorf("streamed %+v", acc.ChatCompletion)
		}

		wantHeaders(t, res.Header, "large", "premium", "")
	})
}

// TestGatewayModels lists "auto" first, then the configured models, in
// OpenAI's form; without a model only "auto" is listed.
func TestGatewayModels(t *testing.T) {
	t.Parallel()

	storetest.Each(t, func(t *testing.T, kind store.Dialect) {
		t.Parallel()

		for _, tc := range []struct {
			opts []apiOption
			want []string
		}{
			{[]apiOption{withModel()}, []string{"auto", "medium", "small", "large"}},
			{nil, []string{"auto"}},
		} {
			ta := newTestAPI(t, kind, tc.opts...)
			client := gatewayClient(ta, ta.token("bob"))

			page, err := client.Models.List(context.Background())
			if err != nil {
				t.Fatal(err)
			}

			var ids []string

			for _, m := range page.Data {
				ids = append(ids, m.ID)

				if m.Object != "model" || m.OwnedBy != "switchboard" || m.Created == 0 {
					t.Errorf("model %s", m.RawJSON())
				}
			}

			if !slices.Equal(ids, tc.want) {
				t.Errorf("models %q, want %q", ids, tc.want)
			}
		}
	})
}

// TestGatewayUnknownModel refuses a model that is not configured with
// OpenAI's 404, and calls no model.
func TestGatewayUnknownModel(t *testing.T) {
	t.Parallel()

	storetest.Each(t, func(t *testing.T, kind store.Dialect) {
		t.Parallel()

		ta := newTestAPI(t, kind, withModel())
		client := gatewayClient(ta, ta.token("anna"))

		_, err := client.Chat.Completions.New(context.Background(),
			openai.ChatCompletionNewParams{Model: "gpt-9",
				Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi")}})

		apiErr := wantAPIError(t, err, http.StatusNotFound, "model")
		if apiErr.Code != "model_not_found" || apiErr.Type != "invalid_request_error" ||
			!strings.Contains(apiErr.Message, "gpt-9") {
			t.Errorf("error %s", apiErr.RawJSON())
		}

		if n := len(ta.Model.Requests()); n != 0 {
			t.Errorf("the model got %d requests, want none", n)
		}
	})
}

// TestGatewayRefusesBadRequests answers what the gateway cannot serve
// with a 400 in OpenAI's form that names the parameter, and calls no
// model.
func TestGatewayRefusesBadRequests(t *testing.T) {
	t.Parallel()

	storetest.Each(t, func(t *testing.T, kind store.Dialect) {
		t.Parallel()

		ta := newTestAPI(t, kind, withModel())
		client := gatewayClient(ta, ta.token("anna"))
		user := []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi")}

		image := func(url string) []openai.ChatCompletionMessageParamUnion {
			return []openai.ChatCompletionMessageParamUnion{openai.UserMessage(
				[]openai.ChatCompletionContentPartUnionParam{
					openai.TextContentPart("What is this?"),
					openai.ImageContentPart(
						openai.ChatCompletionContentPartImageImageURLParam{URL: url}),
				})}
		}

		for _, tc := range []struct {
			name   string
			params openai.ChatCompletionNewParams
			opts   []option.RequestOption
			param  string
		}{
			{"no messages", openai.ChatCompletionNewParams{Model: "medium",
				Messages: []openai.ChatCompletionMessageParamUnion{}}, nil, "messages"},
			{"no model", openai.ChatCompletionNewParams{Messages: user}, nil, "model"},
			{"empty question", openai.ChatCompletionNewParams{Model: "medium",
				Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage(" ")}},
				nil, "messages[0].content"},
			{"two choices", openai.ChatCompletionNewParams{Model: "medium", Messages: user,
				N: openai.Int(2)}, nil, "n"},
			{"http image", openai.ChatCompletionNewParams{Model: "medium",
				Messages: image("https://example.com/cat.png")}, nil,
				"messages[0].content[1].image_url.url"},
			{"not a picture", openai.ChatCompletionNewParams{Model: "medium",
				Messages: image("data:image/png;base64," +
					base64.StdEncoding.EncodeToString([]byte("plain text")))}, nil,
				"messages[0].content[1].image_url.url"},
			{"unknown field", openai.ChatCompletionNewParams{Model: "medium", Messages: user},
				[]option.RequestOption{option.WithJSONSet("frobnicate", true)}, "frobnicate"},
			{"tools", openai.ChatCompletionNewParams{Model: "medium", Messages: user},
				[]option.RequestOption{option.WithJSONSet("tools", []any{})}, "tools"},
			{"last from the assistant", openai.ChatCompletionNewParams{Model: "medium",
				Messages: append(user, openai.AssistantMessage("hello"))}, nil, "messages"},
			{"tool message", openai.ChatCompletionNewParams{Model: "medium",
				Messages: append(user, openai.ToolMessage("42", "call_1"))}, nil,
				"messages[1].role"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				_, err := client.Chat.Completions.New(context.Background(), tc.params,
					tc.opts...)

				apiErr := wantAPIError(t, err, http.StatusBadRequest, tc.param)
				if apiErr.Type != "invalid_request_error" {
					t.Errorf("error %s", apiErr.RawJSON())
				}
			})
		}

		if n := len(ta.Model.Requests()); n != 0 {
			t.Errorf("the model got %d requests, want none", n)
		}
	})
}

// TestGatewayImages hands the pictures of the last message to the agent,
// and notes those of earlier messages in the history.
func TestGatewayImages(t *testing.T) {
	t.Parallel()

	storetest.Each(t, func(t *testing.T, kind store.Dialect) {
		t.Parallel()

		ta := newTestAPI(t, kind, withModel())
		ta.Model.Push(openaitest.TextReply("A black square."))

		picture := func(text string) openai.ChatCompletionMessageParamUnion {
			return openai.UserMessage([]openai.ChatCompletionContentPartUnionParam{
				openai.TextContentPart(text),
				openai.ImageContentPart(openai.ChatCompletionContentPartImageImageURLParam{
					URL: pngDataURL(t)}),
			})
		}

		client := gatewayClient(ta, ta.token("anna"))
		got, err := client.Chat.Completions.New(context.Background(),
			openai.ChatCompletionNewParams{Model: "medium",
				Messages: []openai.ChatCompletionMessageParamUnion{
					picture("First one."), openai.AssistantMessage("Seen."),
					picture("What is this?")}})
		if err != nil {
			t.Fatal(err)
		}

		if got.Choices[0].Message.Content != "A black square." {
			t.Errorf("completion %s", got.RawJSON())
		}

		// The fake's models have no vision, so the agent tells the model
		// that a picture was left out.
		msgs := ta.Model.Requests()[0].Messages
		last := msgs[len(msgs)-1]
		if !strings.Contains(last.Content, "attached 1 image") ||
			!strings.Contains(last.Content, "What is this?") {
			t.Errorf("the model got %q", last.Content)
		}

		if first := msgs[len(msgs)-3]; !strings.Contains(first.Content, "1 image") ||
			!strings.Contains(first.Content, "First one.") {
			t.Errorf("the history holds %q", first.Content)
		}
	})
}

// TestGatewayBudgetRefusal answers with the budget's refusal once it is
// used up, as a normal completion, without calling the model.
func TestGatewayBudgetRefusal(t *testing.T) {
	t.Parallel()

	storetest.Each(t, func(t *testing.T, kind store.Dialect) {
		t.Parallel()

		ta := newTestAPI(t, kind, withModel(), withPrices(gatewayPrices),
			withLimits(budget.Limits{CostMicros: 1_000}))
		ta.Model.Push(openaitest.Reply{Text: "Paris.",
			Usage: openaitest.Usage{PromptTokens: 1000, CompletionTokens: 200}})

		client := gatewayClient(ta, ta.token("anna"))
		params := openai.ChatCompletionNewParams{Model: "medium",
			Messages: []openai.ChatCompletionMessageParamUnion{
				openai.UserMessage("Capital of France?")}}

		if _, err := client.Chat.Completions.New(context.Background(), params); err != nil {
			t.Fatal(err)
		}

		var res *http.Response

		got, err := client.Chat.Completions.New(context.Background(), params,
			option.WithResponseInto(&res))
		if err != nil {
			t.Fatal(err)
		}

		if c := got.Choices[0]; !strings.Contains(c.Message.Content, "budget") ||
			c.FinishReason != "stop" || got.Model != "medium" {
			t.Errorf("refusal %s", got.RawJSON())
		}

		wantHeaders(t, res.Header, "medium", "standard", "0.000000")

		stream := client.Chat.Completions.NewStreaming(context.Background(),
			openai.ChatCompletionNewParams{Model: "auto", Messages: params.Messages})

		acc, _ := accumulate(t, stream)
		if !strings.Contains(acc.Choices[0].Message.Content, "budget") {
			t.Errorf("streamed refusal %+v", acc.ChatCompletion)
		}

		if n := len(ta.Model.Requests()); n != 1 {
			t.Errorf("the model got %d requests, want 1", n)
		}
	})
}

// TestGatewayModelFailure reports a model that fails for good as a 500,
// or as an error event once a stream has begun, and the client raises it.
func TestGatewayModelFailure(t *testing.T) {
	t.Parallel()

	storetest.Each(t, func(t *testing.T, kind store.Dialect) {
		t.Parallel()

		ta := newTestAPI(t, kind, withModel())
		ta.Model.Push(
			openaitest.ErrorReply(http.StatusBadRequest, "context_length_exceeded", "too long"),
			openaitest.ErrorReply(http.StatusBadRequest, "context_length_exceeded", "too long"),
		)

		client := gatewayClient(ta, ta.token("anna"))
		params := openai.ChatCompletionNewParams{Model: "medium",
			Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi")}}

		_, err := client.Chat.Completions.New(context.Background(), params)
		if apiErr := wantAPIError(t, err, http.StatusInternalServerError, ""); apiErr.Type !=
			"server_error" || strings.Contains(apiErr.Message, "too long") {
			t.Errorf("error %s", apiErr.RawJSON())
		}

		stream := client.Chat.Completions.NewStreaming(context.Background(), params)
		for stream.Next() {
		}

		if err := stream.Err(); err == nil || !strings.Contains(err.Error(), "internal error") {
			t.Errorf("stream error %v, want the internal error event", err)
		}
	})
}

// TestGatewayAuthentication refuses a request without a valid API token
// with a 401 that the client raises.
func TestGatewayAuthentication(t *testing.T) {
	t.Parallel()

	storetest.Each(t, func(t *testing.T, kind store.Dialect) {
		t.Parallel()

		ta := newTestAPI(t, kind, withModel())
		params := openai.ChatCompletionNewParams{Model: "medium",
			Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi")}}

		for _, key := range []string{"", "sb_not-a-token"} {
			client := gatewayClient(ta, key)

			_, err := client.Chat.Completions.New(context.Background(), params)
			wantAPIError(t, err, http.StatusUnauthorized, "")

			_, err = client.Models.List(context.Background())
			wantAPIError(t, err, http.StatusUnauthorized, "")
		}

		code, body := ta.do(http.MethodPost, "/api/gateway/v1/chat/completions", "",
			map[string]any{"model": "medium",
				"messages": []any{map[string]string{"role": "user", "content": "hi"}}})
		if code != http.StatusUnauthorized {
			t.Errorf("without credentials: %d %s, want 401", code, body)
		}

		if n := len(ta.Model.Requests()); n != 0 {
			t.Errorf("the model got %d requests, want none", n)
		}
	})
}

// TestGatewayWithoutModel answers 503 while no model is configured, with
// what to configure.
func TestGatewayWithoutModel(t *testing.T) {
	t.Parallel()

	storetest.Each(t, func(t *testing.T, kind store.Dialect) {
		t.Parallel()

		ta := newTestAPI(t, kind)
		client := gatewayClient(ta, ta.token("owner"))

		_, err := client.Chat.Completions.New(context.Background(),
			openai.ChatCompletionNewParams{Model: "auto",
				Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi")}})

		apiErr := wantAPIError(t, err, http.StatusServiceUnavailable, "")
		if !strings.Contains(apiErr.Message, "ai.provider") ||
			!strings.Contains(apiErr.Message, "ai.model") {
			t.Errorf("error %s, want it to name ai.provider and ai.model", apiErr.RawJSON())
		}
	})
}

package openaitest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// answer writes a successful reply, streamed when the request asks for it.
func (s *Server) answer(w http.ResponseWriter, req Request, reply Reply, id string) {
	if req.Stream {
		stream(w, req, reply, id)
		return
	}

	msg := map[string]any{
		"role": "assistant", "content": nil, "refusal": nil, "annotations": []any{},
	}
	if reply.Text != "" {
		msg["content"] = reply.Text
	}
	if len(reply.ToolCalls) > 0 {
		msg["tool_calls"] = reply.ToolCalls
	}

	writeJSON(w, http.StatusOK, map[string]any{
		"id":      id,
		"object":  "chat.completion",
		"created": time.Now().Unix(),
		"model":   reply.Model,
		"choices": []any{map[string]any{
			"index":         0,
			"message":       msg,
			"logprobs":      nil,
			"finish_reason": finishReason(reply),
		}},
		"usage": usageJSON(reply.Usage),
	})
}

// stream writes a reply as server-sent events: a first chunk with the
// role, the text in several deltas, each tool call's name and then its
// arguments in two deltas, a chunk with the finish reason, the usage chunk
// when the request asked for it, and [DONE].
func stream(w http.ResponseWriter, req Request, reply Reply, id string) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)

	includeUsage := req.StreamOptions != nil && req.StreamOptions.IncludeUsage
	created := time.Now().Unix()

	send := func(delta map[string]any, finish any) {
		chunk := map[string]any{
			"id": id, "object": "chat.completion.chunk", "created": created, "model": reply.Model,
			"choices": []any{map[string]any{
				"index": 0, "delta": delta, "logprobs": nil, "finish_reason": finish,
			}},
		}
		if includeUsage {
			chunk["usage"] = nil
		}
		writeEvent(w, chunk)
	}

	send(map[string]any{"role": "assistant", "content": ""}, nil)

	for i, piece := range splitText(reply.Text) {
		if i > 0 && reply.PieceDelay > 0 {
			time.Sleep(reply.PieceDelay)
		}

		send(map[string]any{"content": piece}, nil)
	}

	for i, c := range reply.ToolCalls {
		send(map[string]any{"tool_calls": []any{map[string]any{
			"index": i, "id": c.ID, "type": "function",
			"function": map[string]any{"name": c.Name, "arguments": ""},
		}}}, nil)

		args := []rune(c.Arguments)
		half := len(args) / 2
		for _, part := range []string{string(args[:half]), string(args[half:])} {
			send(map[string]any{"tool_calls": []any{map[string]any{
				"index": i, "function": map[string]any{"arguments": part},
			}}}, nil)
		}
	}

	send(map[string]any{}, finishReason(reply))

	if includeUsage {
		writeEvent(w, map[string]any{
			"id": id, "object": "chat.completion.chunk", "created": created, "model": reply.Model,
			"choices": []any{}, "usage": usageJSON(reply.Usage),
		})
	}

	_, _ = fmt.Fprint(w, "data: [DONE]\n\n")
	flush(w)
}

// writeEvent writes one "data:" event and flushes it to the client.
func writeEvent(w http.ResponseWriter, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("openaitest: encode chunk: %v", err))
	}

	_, _ = fmt.Fprintf(w, "data: %s\n\n", data)
	flush(w)
}

// flush sends what is buffered, when the writer can.
func flush(w http.ResponseWriter) {
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
}

// finishReason returns the reply's finish reason or its default.
func finishReason(r Reply) string {
	switch {
	case r.FinishReason != "":
		return r.FinishReason
	case len(r.ToolCalls) > 0:
		return "tool_calls"
	default:
		return "stop"
	}
}

// usageJSON is the usage object of an answer.
func usageJSON(u Usage) map[string]any {
	return map[string]any{
		"prompt_tokens":     u.PromptTokens,
		"completion_tokens": u.CompletionTokens,
		"total_tokens":      u.PromptTokens + u.CompletionTokens,
	}
}

// splitText cuts text into the deltas of a stream: a piece per word, each
// but the first with its leading space, or two halves of a single word.
// Joined, the pieces are the text again.
func splitText(text string) []string {
	if text == "" {
		return nil
	}

	var pieces []string
	rest := text
	for {
		next := strings.IndexByte(strings.TrimLeft(rest, " "), ' ')
		if next < 0 {
			pieces = append(pieces, rest)
			break
		}

		cut := len(rest) - len(strings.TrimLeft(rest, " ")) + next
		pieces = append(pieces, rest[:cut])
		rest = rest[cut:]
	}

	if len(pieces) == 1 {
		runes := []rune(text)
		if len(runes) > 1 {
			half := len(runes) / 2
			pieces = []string{string(runes[:half]), string(runes[half:])}
		}
	}

	return pieces
}

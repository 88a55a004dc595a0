package anthropictest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"
)

// jsonPiece is the most bytes of tool input one input_json_delta carries,
// small so that every input arrives in several pieces.
const jsonPiece = 8

// writeStream writes msg as the API's server-sent events: message_start, a
// ping, then for each block content_block_start, its deltas and
// content_block_stop, then message_delta with the stop reason and the
// output tokens, and message_stop. Text arrives a word at a time and tool
// input in pieces of a few bytes.
func writeStream(w http.ResponseWriter, msg wireMessage) {
	startStream(w)

	start := msg
	start.Content = []wireBlock{}
	start.StopReason = nil
	start.Usage.OutputTokens = min(1, msg.Usage.OutputTokens)
	send(w, "message_start", map[string]any{"type": "message_start", "message": start})
	send(w, "ping", map[string]any{"type": "ping"})

	for i, block := range msg.Content {
		writeBlock(w, i, block)
	}

	send(w, "message_delta", map[string]any{
		"type":  "message_delta",
		"delta": map[string]any{"stop_reason": msg.StopReason, "stop_sequence": nil},
		"usage": map[string]any{"output_tokens": msg.Usage.OutputTokens},
	})
	send(w, "message_stop", map[string]any{"type": "message_stop"})
}

// writeStreamError writes the start of a stream for msg and then an error
// event, as the API does when it fails after the answer has begun.
func writeStreamError(w http.ResponseWriter, msg wireMessage, e Error) {
	startStream(w)

	msg.StopReason = nil
	send(w, "message_start", map[string]any{"type": "message_start", "message": msg})
	send(w, "error", newWireError(e.Type, e.Message))
}

// writeBlock writes the events of content block i.
func writeBlock(w http.ResponseWriter, i int, block wireBlock) {
	var deltas []map[string]any
	switch block.Type {
	case "text":
		for _, piece := range words(*block.Text) {
			deltas = append(deltas, map[string]any{"type": "text_delta", "text": piece})
		}
		empty := ""
		block.Text = &empty
	case "tool_use":
		for _, piece := range chunks(string(block.Input), jsonPiece) {
			deltas = append(deltas, map[string]any{
				"type": "input_json_delta", "partial_json": piece,
			})
		}
		block.Input = json.RawMessage("{}")
	}

	send(w, "content_block_start", map[string]any{
		"type": "content_block_start", "index": i, "content_block": block,
	})
	for _, delta := range deltas {
		send(w, "content_block_delta", map[string]any{
			"type": "content_block_delta", "index": i, "delta": delta,
		})
	}
	send(w, "content_block_stop", map[string]any{"type": "content_block_stop", "index": i})
}

// startStream writes the headers of an event stream.
func startStream(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
}

// send writes one event and flushes it to the client.
func send(w http.ResponseWriter, event string, data any) {
	body, err := json.Marshal(data)
	if err != nil {
		panic(fmt.Sprintf("anthropictest: encode %s event: %v", event, err))
	}

	fmt.Fprintf(w, "event: %s\ndata: %s\n\n", event, body)
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
}

// words splits text after each space, so that the pieces joined give the
// text back.
func words(text string) []string {
	var out []string
	for text != "" {
		i := strings.IndexByte(text, ' ')
		if i < 0 {
			out = append(out, text)
			break
		}
		out = append(out, text[:i+1])
		text = text[i+1:]
	}

	return out
}

// chunks splits s into pieces of at most n bytes, never inside a
// character.
func chunks(s string, n int) []string {
	var out []string
	for s != "" {
		end := min(n, len(s))
		for end < len(s) && !utf8.RuneStart(s[end]) {
			end++
		}
		out = append(out, s[:end])
		s = s[end:]
	}

	return out
}

package routing_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/switchboardhq/switchboard/core/routing"
)

func TestScore(t *testing.T) {
	t.Parallel()

	code := "Why does this fail?\n```go\nfunc main() {\n\tfmt.Println(x)\n}\n```"
	prose := strings.Repeat("The quick brown fox jumps over the lazy dog. ", 4)

	tests := []struct {
		name     string
		in       routing.Input
		min, max int
		reason   string
	}{
		{"greeting", routing.Input{Text: "hi!"}, 0, 0, "short and simple"},
		{"one question", routing.Input{Text: "What time is it in Tokyo?"}, 0, 0, ""},
		{"paragraph", routing.Input{Text: prose}, 10, 10, "a paragraph"},
		{"fenced code", routing.Input{Text: code}, 25, 25, "contains code"},
		{
			"unfenced code",
			routing.Input{Text: "x := 1;\nif (x > 0) {\n  y = 2;\n}"}, 25, 25, "contains code",
		},
		{"two questions", routing.Input{Text: "Is it late? Should I go?"}, 10, 10, "asks 2"},
		{"many questions", routing.Input{Text: "a? b? c? d?"}, 20, 20, "asks 4"},
		{
			"analysis", routing.Input{Text: "Compare Go and Rust for a CLI"}, 20, 20,
			`asks for analysis ("compare")`,
		},
		{"image", routing.Input{Text: "what is this", Images: 1}, 15, 15, "1 image"},
		{"three images", routing.Input{Images: 3}, 30, 30, "3 image"},
		{"tool use", routing.Input{Text: "and now?", UsedTools: true}, 15, 15, "tools"},
		{"deep conversation", routing.Input{Text: "ok", Turns: 40}, 10, 10, "40 turns"},
		{
			"everything", routing.Input{
				Text:   strings.Repeat(code+" Explain why, step by step? ", 40),
				Images: 2, Turns: 50, UsedTools: true,
			},
			100, 100, "very long",
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			score, reasons := routing.Score(tt.in)
			if score < tt.min || score > tt.max {
				t.Errorf("score = %d, want %d..%d (reasons %q)", score, tt.min, tt.max, reasons)
			}

			if tt.reason != "" && !slices.ContainsFunc(reasons, func(r string) bool {
				return strings.Contains(r, tt.reason)
			}) {
				t.Errorf("reasons = %q, want one containing %q", reasons, tt.reason)
			}
		})
	}
}

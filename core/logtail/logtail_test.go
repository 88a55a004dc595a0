package logtail_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/switchboardhq/switchboard/core/logtail"
)

func TestKeepsTheLastLines(t *testing.T) {
	t.Parallel()

	var out bytes.Buffer

	w := logtail.New(&out, 3)
	log := slog.New(slog.NewTextHandler(w, nil))

	for i := range 5 {
		log.Info("event", "n", i)
	}

	lines := w.Lines(0)
	if len(lines) != 3 {
		t.Fatalf("kept %d lines, want 3: %q", len(lines), lines)
	}

	for i, line := range lines {
		if !strings.Contains(line, fmt.Sprintf("n=%d", i+2)) || strings.HasSuffix(line, "\n") {
			t.Errorf("line %d = %q, want event n=%d without a newline", i, line, i+2)
		}
	}

	if last := w.Lines(1); !slices.Equal(last, lines[2:]) {
		t.Errorf("Lines(1) = %q, want the newest", last)
	}

	if strings.Count(out.String(), "\n") != 5 {
		t.Errorf("the next writer got %q, want all 5 lines", out.String())
	}
}

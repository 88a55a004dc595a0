// Package logtail keeps the last lines of the gateway's log in memory, for
// the status route of the API.
package logtail

import (
	"io"
	"strings"
	"sync"
)

// Writer passes every write on to the next writer and keeps the last lines
// written. slog's handlers write one whole record per call, so each write
// is one line.
type Writer struct {
	next io.Writer

	mu    sync.Mutex
	lines []string
	start int // index of the oldest line once the ring is full
	size  int
}

// New returns a Writer in front of next that keeps the last size lines.
func New(next io.Writer, size int) *Writer {
	return &Writer{next: next, size: max(size, 1)}
}

// Write writes p to the next writer and keeps it as a line.
func (w *Writer) Write(p []byte) (int, error) {
	line := strings.TrimRight(string(p), "\n")

	w.mu.Lock()
	if len(w.lines) < w.size {
		w.lines = append(w.lines, line)
	} else {
		w.lines[w.start] = line
		w.start = (w.start + 1) % w.size
	}
	w.mu.Unlock()

	return w.next.Write(p)
}

// Lines returns the last n lines kept, oldest first; all of them when n
// is 0 or more than are kept.
func (w *Writer) Lines(n int) []string {
	w.mu.Lock()
	defer w.mu.Unlock()

	all := make([]string, 0, len(w.lines))
	all = append(all, w.lines[w.start:]...)
	all = append(all, w.lines[:w.start]...)

	if n > 0 && n < len(all) {
		all = all[len(all)-n:]
	}

	return all
}

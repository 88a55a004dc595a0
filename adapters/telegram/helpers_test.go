package telegram_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/adapters/telegram"
	"github.com/switchboardhq/switchboard/adapters/telegram/telegramtest"
	"github.com/switchboardhq/switchboard/core"
	"github.com/switchboardhq/switchboard/core/store"
	"github.com/switchboardhq/switchboard/core/store/storetest"
)

// newAdapter returns a polling adapter pointed at the fake, on a fresh
// SQLite database unless edit sets another.
func newAdapter(t testing.TB, s *telegramtest.Server, edit ...func(*telegram.Config),
) *telegram.Adapter {
	t.Helper()

	cfg := telegram.Config{
		Token:       s.Token(),
		APIEndpoint: s.URL(),
		AgentID:     "default",
		Logger:      discard(),
	}

	for _, e := range edit {
		e(&cfg)
	}

	if cfg.DB == nil && cfg.Mode != telegram.ModeWebhook {
		cfg.DB = storetest.Open(t, store.SQLite)
	}

	a, err := telegram.New(cfg)
	if err != nil {
		t.Fatalf("new adapter: %v", err)
	}

	return a
}

// run starts a.Run and returns the function that stops it, which the
// test's cleanup also calls. A stop must end Run promptly, long poll or
// not.
func run(t *testing.T, a *telegram.Adapter, sink core.Sink) (stop func()) {
	t.Helper()

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)

	go func() { done <- a.Run(ctx, sink) }()

	var once sync.Once

	stop = func() {
		once.Do(func() {
			cancel()

			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run = %v, want nil at stop", err)
				}
			case <-time.After(2 * time.Second):
				t.Errorf("Run did not return within 2 s of the stop")
			}
		})
	}

	t.Cleanup(stop)

	return stop
}

// sink is the core's side of the adapter for tests: it stores each
// message once, by chat and message id, as the pipeline does, and can be
// told to fail.
type sink struct {
	mu      sync.Mutex
	got     []core.Inbound
	seen    map[string]bool
	calls   map[core.MessageID]int
	fail    []error
	changed chan struct{}
}

func newSink() *sink {
	return &sink{
		seen:    map[string]bool{},
		calls:   map[core.MessageID]int{},
		changed: make(chan struct{}),
	}
}

// Receive refuses what the core refuses, returns the scripted failures
// in order, and stores the rest.
func (s *sink) Receive(_ context.Context, msg core.Inbound) error {
	s.mu.Lock()
	defer s.mu.Unlock()

	s.calls[msg.MessageID]++

	if len(s.fail) > 0 {
		err := s.fail[0]
		s.fail = s.fail[1:]

		return err
	}

	if err := msg.Validate(); err != nil {
		return err
	}

	key := string(msg.ChatID) + "/" + string(msg.MessageID)
	if !s.seen[key] {
		s.seen[key] = true
		s.got = append(s.got, msg)

		close(s.changed)
		s.changed = make(chan struct{})
	}

	return nil
}

// failNext makes the next calls of Receive return errs, in order.
func (s *sink) failNext(errs ...error) {
	s.mu.Lock()
	defer s.mu.Unlock()

	s.fail = append(s.fail, errs...)
}

// received returns the stored messages.
func (s *sink) received() []core.Inbound {
	s.mu.Lock()
	defer s.mu.Unlock()

	return slices.Clone(s.got)
}

// receives returns how often Receive was called with a message id.
func (s *sink) receives(id core.MessageID) int {
	s.mu.Lock()
	defer s.mu.Unlock()

	return s.calls[id]
}

// wait returns the stored messages once there are n, or fails the test
// after 10 s.
func (s *sink) wait(t *testing.T, n int) []core.Inbound {
	t.Helper()

	deadline := time.After(10 * time.Second)

	for {
		s.mu.Lock()
		got, changed := slices.Clone(s.got), s.changed
		s.mu.Unlock()

		if len(got) >= n {
			return got
		}

		select {
		case <-changed:
		case <-deadline:
			t.Fatalf("received %d messages after 10 s, want %d: %+v", len(got), n, got)
		}
	}
}

// eventually waits up to 10 s for cond.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()

	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for: %s", what)
		}

		time.Sleep(10 * time.Millisecond)
	}
}

// connected waits until a polls or has its webhook set.
func connected(t *testing.T, a *telegram.Adapter) {
	t.Helper()

	eventually(t, "the adapter connects", func() bool { return a.Health().Connected })
}

func discard() *slog.Logger {
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// logBuffer collects log lines; it is safe for concurrent use.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()

	return b.buf.Write(p)
}

// lines returns the logged lines that contain all of words.
func (b *logBuffer) lines(words ...string) []string {
	b.mu.Lock()
	defer b.mu.Unlock()

	var out []string

	for line := range strings.Lines(b.buf.String()) {
		if allIn(line, words) {
			out = append(out, line)
		}
	}

	return out
}

func allIn(s string, words []string) bool {
	for _, w := range words {
		if !strings.Contains(s, w) {
			return false
		}
	}

	return true
}

// countingTransport counts the long polls one adapter makes.
type countingTransport struct {
	polls atomic.Int64
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if strings.HasSuffix(r.URL.Path, "/getUpdates") {
		c.polls.Add(1)
	}

	return http.DefaultTransport.RoundTrip(r)
}

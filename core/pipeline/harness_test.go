package pipeline_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/core"
	"github.com/switchboardhq/switchboard/core/access"
	"github.com/switchboardhq/switchboard/core/coretest"
	"github.com/switchboardhq/switchboard/core/metrics"
	"github.com/switchboardhq/switchboard/core/outbox"
	"github.com/switchboardhq/switchboard/core/pipeline"
	"github.com/switchboardhq/switchboard/core/store"
	"github.com/switchboardhq/switchboard/core/store/storetest"
)

const (
	owner   = core.UserID("owner-1")
	channel = core.ChannelTelegram
)

// harness is a running pipeline on a fresh database with one in-memory
// adapter.
type harness struct {
	t       *testing.T
	db      *store.DB
	p       *pipeline.Pipeline
	a       *coretest.Adapter
	metrics *metrics.Metrics
	stop    func()
}

type option func(*pipeline.Options, *harnessConfig)

type harnessConfig struct {
	limit int
}

func withLimit(n int) option {
	return func(_ *pipeline.Options, c *harnessConfig) { c.limit = n }
}

func withOptions(fn func(*pipeline.Options)) option {
	return func(o *pipeline.Options, _ *harnessConfig) { fn(o) }
}

func newHarness(t *testing.T, kind store.Dialect, opts ...option) *harness {
	t.Helper()

	db := storetest.Open(t, kind)

	return startHarness(t, db, opts...)
}

func startHarness(t *testing.T, db *store.DB, opts ...option) *harness {
	t.Helper()

	ctx, cancel := context.WithCancel(context.Background())

	presence, err := db.Announce(ctx, store.NewReplicaID())
	if err != nil {
		t.Fatalf("announce: %v", err)
	}

	m := metrics.New()
	o := pipeline.Options{
		AgentID:     "default",
		AgentName:   "Testbot",
		MaxParallel: 4,
		Owners:      []access.Owner{{Channel: channel, UserID: owner}},
		Outbox: outbox.DelivererConfig{
			MaxAttempts:  3,
			MaxBackoff:   50 * time.Millisecond,
			PollInterval: 50 * time.Millisecond,
		},
		Logger:  slog.New(slog.NewTextHandler(io.Discard, nil)),
		Metrics: m,
	}

	var hc harnessConfig
	for _, opt := range opts {
		opt(&o, &hc)
	}

	p, err := pipeline.New(db, presence, o)
	if err != nil {
		t.Fatalf("new pipeline: %v", err)
	}

	a := coretest.NewAdapter(channel, hc.limit)
	if err := p.Register(a); err != nil {
		t.Fatalf("register: %v", err)
	}

	done := make(chan error, 1)

	go func() { done <- p.Run(ctx) }()

	h := &harness{t: t, db: db, p: p, a: a, metrics: m}
	h.stop = func() {
		cancel()

		select {
		case err := <-done:
			if err != nil {
				t.Errorf("pipeline run: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("pipeline did not stop within 10 s")
		}

		_ = presence.Close()
	}

	t.Cleanup(func() {
		if h.stop != nil {
			h.stop()
		}
	})

	return h
}

// shutdown stops the pipeline now instead of at cleanup.
func (h *harness) shutdown() {
	h.stop()
	h.stop = nil
}

// direct returns a direct message from user with a unique id.
func direct(user core.UserID, id int, text string) core.Inbound {
	return core.Inbound{
		ChatID:    core.ChatID("dm-" + string(user)),
		UserID:    user,
		MessageID: core.MessageID(fmt.Sprintf("%d", id)),
		Text:      text,
		Direct:    true,
	}
}

func (h *harness) deliver(msg core.Inbound) {
	h.t.Helper()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	if err := h.a.Deliver(ctx, msg); err != nil {
		h.t.Fatalf("deliver %s: %v", msg.MessageID, err)
	}
}

// waitSent waits for n sent messages and fails the test if they do not
// come.
func (h *harness) waitSent(n int) []coretest.Sent {
	h.t.Helper()

	got := h.a.WaitSent(n, 10*time.Second)
	if len(got) < n {
		h.t.Fatalf("sent %d messages, want %d: %v", len(got), n, texts(got))
	}

	return got
}

// quiet checks that nothing more than n messages is sent within d.
func (h *harness) quiet(n int, d time.Duration) {
	h.t.Helper()

	time.Sleep(d)

	if got := h.a.Sent(); len(got) != n {
		h.t.Fatalf("sent %d messages, want exactly %d: %v", len(got), n, texts(got))
	}
}

func (h *harness) count(query string, args ...any) int {
	h.t.Helper()

	var n int
	if err := h.db.NewRaw(query, args...).Scan(context.Background(), &n); err != nil {
		h.t.Fatalf("%s: %v", query, err)
	}

	return n
}

func texts(sent []coretest.Sent) []string {
	out := make([]string, len(sent))
	for i, s := range sent {
		out[i] = s.Text
	}

	return out
}

// eventually waits up to 10 s for cond.
func (h *harness) eventually(what string, cond func() bool) {
	h.t.Helper()

	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			h.t.Fatalf("timed out waiting for: %s", what)
		}

		time.Sleep(10 * time.Millisecond)
	}
}

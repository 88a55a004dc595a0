// Package coretest provides an in-memory messenger adapter for tests of
// the pipeline: a test injects inbound messages as a platform would and
// reads what the pipeline sent, and can make sends fail in the ways real
// platforms do.
package coretest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/switchboardhq/switchboard/core"
)

// Sent is one message the adapter delivered.
type Sent struct {
	core.Outgoing
	// At is when Send accepted it.
	At time.Time
	// PlatformID is the id the adapter returned.
	PlatformID core.MessageID
}

// Adapter is an in-memory core.Adapter. Its zero value is not usable; use
// NewAdapter. It is safe for concurrent use.
type Adapter struct {
	channel core.Channel
	limit   int

	sink    chan core.Sink
	sinkSet sync.Once

	mu       sync.Mutex
	sent     []Sent
	failures []error
	typing   int
	nextID   int
	notify   chan struct{}
	onSend   func(core.Outgoing)
}

// NewAdapter returns an adapter for channel whose messages hold at most
// limit characters (0: the core's default).
func NewAdapter(channel core.Channel, limit int) *Adapter {
	return &Adapter{
		channel: channel,
		limit:   limit,
		sink:    make(chan core.Sink, 1),
		notify:  make(chan struct{}, 1),
	}
}

// Channel returns the adapter's channel.
func (a *Adapter) Channel() core.Channel { return a.channel }

// Run hands the sink to Deliver and waits for ctx to end.
func (a *Adapter) Run(ctx context.Context, sink core.Sink) error {
	a.sinkSet.Do(func() { a.sink <- sink })
	<-ctx.Done()

	return nil
}

// Deliver passes msg to the pipeline as the platform would, waiting until
// the pipeline has started the adapter.
func (a *Adapter) Deliver(ctx context.Context, msg core.Inbound) error {
	var sink core.Sink

	select {
	case sink = <-a.sink:
		a.sink <- sink
	case <-ctx.Done():
		return ctx.Err()
	}

	if msg.Channel == "" {
		msg.Channel = a.channel
	}

	return sink.Receive(ctx, msg)
}

// FailNext makes the next sends fail with the given errors, one each.
func (a *Adapter) FailNext(errs ...error) {
	a.mu.Lock()
	defer a.mu.Unlock()

	a.failures = append(a.failures, errs...)
}

// OnSend sets a function called with every message before it is sent.
func (a *Adapter) OnSend(fn func(core.Outgoing)) {
	a.mu.Lock()
	defer a.mu.Unlock()

	a.onSend = fn
}

// Send records msg or fails with the next injected error.
func (a *Adapter) Send(ctx context.Context, msg core.Outgoing) (core.Sent, error) {
	if err := ctx.Err(); err != nil {
		return core.Sent{}, err
	}

	a.mu.Lock()
	onSend := a.onSend
	a.mu.Unlock()

	if onSend != nil {
		onSend(msg)

		// Like a real client, a send whose context ended meanwhile fails.
		if err := ctx.Err(); err != nil {
			return core.Sent{}, err
		}
	}

	a.mu.Lock()
	defer a.mu.Unlock()

	if len(a.failures) > 0 {
		err := a.failures[0]
		a.failures = a.failures[1:]

		return core.Sent{}, err
	}

	if a.limit > 0 && len([]rune(msg.Text)) > a.limit {
		return core.Sent{}, core.Undeliverable(errors.New("message too long"))
	}

	a.nextID++
	id := core.MessageID(fmt.Sprintf("m%d", a.nextID))
	a.sent = append(a.sent, Sent{Outgoing: msg, At: time.Now(), PlatformID: id})

	select {
	case a.notify <- struct{}{}:
	default:
	}

	return core.Sent{MessageID: id}, nil
}

// Health reports a connected adapter.
func (a *Adapter) Health() core.Health { return core.Health{Connected: true} }

// TextLimit returns the limit given to NewAdapter.
func (a *Adapter) TextLimit() int {
	if a.limit <= 0 {
		return core.DefaultTextLimit
	}

	return a.limit
}

// CountText counts code points.
func (a *Adapter) CountText(text string) int { return len([]rune(text)) }

// ShowTyping counts typing indicators.
func (a *Adapter) ShowTyping(context.Context, core.Conversation) error {
	a.mu.Lock()
	defer a.mu.Unlock()

	a.typing++

	return nil
}

// Typing returns how often the typing indicator was shown.
func (a *Adapter) Typing() int {
	a.mu.Lock()
	defer a.mu.Unlock()

	return a.typing
}

// Sent returns a copy of everything sent so far, in order.
func (a *Adapter) Sent() []Sent {
	a.mu.Lock()
	defer a.mu.Unlock()

	return append([]Sent(nil), a.sent...)
}

// WaitSent waits until at least n messages were sent or the timeout
// passes, and returns what was sent.
func (a *Adapter) WaitSent(n int, timeout time.Duration) []Sent {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()

	for {
		if s := a.Sent(); len(s) >= n {
			return s
		}

		select {
		case <-a.notify:
		case <-deadline.C:
			return a.Sent()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

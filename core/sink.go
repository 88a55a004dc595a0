package core

import (
	"context"
	"sync"
	"time"
)

// SinkHolder keeps the sink an adapter gets in Run for its HTTP handlers,
// which the listener may call before Run has begun (the gateway serves
// HTTP from its first moment) or after it returned. Its zero value is
// ready to use.
type SinkHolder struct {
	mu    sync.Mutex
	sink  Sink
	ready chan struct{} // closed while sink is set
}

// readyLocked returns the channel that is closed while a sink is set.
func (h *SinkHolder) readyLocked() chan struct{} {
	if h.ready == nil {
		h.ready = make(chan struct{})
	}

	return h.ready
}

// Set gives the holder the sink; Run calls it first.
func (h *SinkHolder) Set(s Sink) {
	h.mu.Lock()
	defer h.mu.Unlock()

	h.sink = s
	close(h.readyLocked())
}

// Clear takes the sink away; Run calls it when it returns.
func (h *SinkHolder) Clear() {
	h.mu.Lock()
	defer h.mu.Unlock()

	if h.sink != nil {
		h.sink, h.ready = nil, make(chan struct{})
	}
}

// Wait returns the sink, waiting up to d for Run to give it; nil when
// none came in time or ctx ended.
func (h *SinkHolder) Wait(ctx context.Context, d time.Duration) Sink {
	h.mu.Lock()
	s, ready := h.sink, h.readyLocked()
	h.mu.Unlock()

	if s != nil {
		return s
	}

	t := time.NewTimer(d)
	defer t.Stop()

	select {
	case <-ready:
	case <-t.C:
		return nil
	case <-ctx.Done():
		return nil
	}

	h.mu.Lock()
	defer h.mu.Unlock()

	return h.sink
}

// StartWait is how long an HTTP handler waits for its adapter's Run
// before it answers that the gateway is not ready.
const StartWait = 5 * time.Second

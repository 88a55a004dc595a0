package httpapi

import (
	"strconv"
	"strings"
	"sync"

	"github.com/switchboardhq/switchboard/core"
)

// waitKey names the message a chat request waits for the answer to.
type waitKey struct {
	thread  core.ThreadID
	message core.MessageID
}

// waiter is a chat request waiting for its answer: the pipeline hands it
// the text as the agent writes it, and the outbox wakes it when the answer
// is stored and sent.
type waiter struct {
	// stream is true when the caller wants the text as it is written.
	stream bool
	// text signals new pieces of text, sent an answer in the outbox.
	text, sent chan struct{}

	mu     sync.Mutex
	deltas []string
}

// add queues a piece of the answer; it never blocks.
func (w *waiter) add(delta string) {
	w.mu.Lock()
	w.deltas = append(w.deltas, delta)
	w.mu.Unlock()

	signal(w.text)
}

// wake tells the request that its answer is in the outbox.
func (w *waiter) wake() {
	signal(w.sent)
}

// signal sets a one-slot flag without blocking.
func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// take returns the pieces queued since the last call.
func (w *waiter) take() string {
	w.mu.Lock()
	defer w.mu.Unlock()

	s := strings.Join(w.deltas, "")
	w.deltas = w.deltas[:0]

	return s
}

// wait registers a waiter for the answer to a message; the returned
// function removes it.
func (a *API) wait(k waitKey, stream bool) (*waiter, func()) {
	w := &waiter{stream: stream, text: make(chan struct{}, 1), sent: make(chan struct{}, 1)}

	a.mu.Lock()
	a.waiters[k] = w
	a.mu.Unlock()

	return w, func() {
		a.mu.Lock()
		if a.waiters[k] == w {
			delete(a.waiters, k)
		}
		a.mu.Unlock()
	}
}

// waiter returns the waiter for k, or nil.
func (a *API) waiter(k waitKey) *waiter {
	a.mu.Lock()
	defer a.mu.Unlock()

	return a.waiters[k]
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

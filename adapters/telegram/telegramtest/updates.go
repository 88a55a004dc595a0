package telegramtest

import (
	"encoding/json"
	"time"
)

// maxPollTimeout caps a getUpdates timeout, in seconds, as Telegram does.
const maxPollTimeout = 50

// firstUpdateID is one below the first update_id the server assigns.
// Telegram's ids are large numbers, not counts from one.
const firstUpdateID = 700000000

// batchWait is how long a waiting getUpdates lingers after a wake-up, so
// that updates pushed together are answered together, as on Telegram.
const batchWait = 2 * time.Millisecond

const (
	conflictPolling = "Conflict: terminated by other getUpdates request; " +
		"make sure that only one bot instance is running"
	conflictWebhook = "Conflict: can't use getUpdates method while webhook is active; " +
		"use deleteWebhook to delete the webhook first"
	conflictSetWebhook = "Conflict: terminated by setWebhook request"
)

// updateQueue holds the updates not yet confirmed and the getUpdates that
// waits for them. It is guarded by Server.mu.
type updateQueue struct {
	pending []Update
	lastID  int64
	allowed map[string]bool
	changed chan struct{}
	poll    *longPoll
}

// longPoll is a waiting getUpdates. Its abort channel receives the
// description of the 409 that ends it early.
type longPoll struct {
	abort chan string
}

// init readies an empty queue.
func (q *updateQueue) init() {
	q.lastID = firstUpdateID
	q.changed = make(chan struct{})
}

// add queues u, giving it the next update_id when it has none, and wakes
// the waiting getUpdates.
func (q *updateQueue) add(u Update) Update {
	u.UpdateID = q.assign(u.UpdateID)
	q.pending = append(q.pending, u)

	close(q.changed)
	q.changed = make(chan struct{})

	return u
}

// assign returns id, or the next update_id when id is zero.
func (q *updateQueue) assign(id int64) int64 {
	if id == 0 {
		q.lastID++
		return q.lastID
	}

	q.lastID = max(q.lastID, id)

	return id
}

// confirm drops the updates an offset confirms: those below a positive
// offset, or all but the last -offset for a negative one.
func (q *updateQueue) confirm(offset int64) {
	switch {
	case offset > 0:
		kept := q.pending[:0]
		for _, u := range q.pending {
			if u.UpdateID >= offset {
				kept = append(kept, u)
			}
		}
		q.pending = kept
	case offset < 0 && int64(len(q.pending)) > -offset:
		q.pending = q.pending[int64(len(q.pending))+offset:]
	}
}

// take returns up to limit pending updates, dropping those whose type the
// bot did not ask for, as Telegram never queues them.
func (q *updateQueue) take(limit int) []Update {
	kept := q.pending[:0]
	for _, u := range q.pending {
		if q.allowed == nil || q.allowed[u.kind()] {
			kept = append(kept, u)
		}
	}
	q.pending = kept

	out := make([]Update, min(limit, len(q.pending)))
	copy(out, q.pending)

	return out
}

// setAllowed applies an allowed_updates parameter: absent or null keeps
// the last setting, an empty list means every type.
func (q *updateQueue) setAllowed(raw string) {
	if raw == "" || raw == "null" {
		return
	}

	var kinds []string
	if err := json.Unmarshal([]byte(raw), &kinds); err != nil {
		return
	}

	q.allowed = nil
	if len(kinds) > 0 {
		q.allowed = map[string]bool{}
		for _, k := range kinds {
			q.allowed[k] = true
		}
	}
}

// startPoll registers a new waiting getUpdates, ending the one already
// waiting with a 409 as Telegram does.
func (q *updateQueue) startPoll() *longPoll {
	q.abortPoll(conflictPolling)

	q.poll = &longPoll{abort: make(chan string, 1)}

	return q.poll
}

// abortPoll ends the waiting getUpdates, if any, with a 409 saying why.
func (q *updateQueue) abortPoll(why string) {
	if q.poll != nil {
		q.poll.abort <- why
		q.poll = nil
	}
}

// endPoll forgets p when it is still the waiting getUpdates.
func (q *updateQueue) endPoll(p *longPoll) {
	if q.poll == p {
		q.poll = nil
	}
}

// Push queues an update for getUpdates and returns its update_id, assigned
// in increasing order when u has none. The message it carries becomes known
// to the server, so the bot may reply to it. Push queues even while a
// webhook is set; use Deliver to send an update to the webhook.
func (s *Server) Push(u Update) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()

	if m := u.message(); m != nil {
		s.chats.remember(*m)
	}

	return s.updates.add(u).UpdateID
}

// Pending returns the updates queued and not yet confirmed by an offset.
func (s *Server) Pending() []Update {
	s.mu.Lock()
	defer s.mu.Unlock()

	out := make([]Update, len(s.updates.pending))
	copy(out, s.updates.pending)

	return out
}

// getUpdates answers the pending updates at once, or waits up to the
// request's timeout for one to arrive.
func (s *Server) getUpdates(c *call) (result, *apiError) {
	offset := intParam(c.params, "offset")
	limit := int(intParam(c.params, "limit"))
	if limit <= 0 || limit > 100 {
		limit = 100
	}
	timeout := min(max(intParam(c.params, "timeout"), 0), maxPollTimeout)

	s.mu.Lock()
	if s.hook.url != "" {
		s.mu.Unlock()
		return result{}, &apiError{code: 409, description: conflictWebhook}
	}

	s.updates.setAllowed(c.params.Get("allowed_updates"))
	s.updates.confirm(offset)

	got := s.updates.take(limit)
	if len(got) > 0 || timeout == 0 {
		s.mu.Unlock()
		return result{value: got}, nil
	}

	poll := s.updates.startPoll()
	s.mu.Unlock()

	return s.waitUpdates(c, poll, limit, time.Duration(timeout)*time.Second)
}

// waitUpdates holds a getUpdates until an update arrives, the timeout
// passes, another request ends it, or the client goes away.
func (s *Server) waitUpdates(c *call, poll *longPoll, limit int, timeout time.Duration) (
	result, *apiError,
) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()

	for {
		s.mu.Lock()
		got := s.updates.take(limit)
		if len(got) > 0 {
			s.updates.endPoll(poll)
			s.mu.Unlock()
			return result{value: got}, nil
		}
		changed := s.updates.changed
		s.mu.Unlock()

		select {
		case <-changed:
			s.wait(c.ctx, batchWait)
		case why := <-poll.abort:
			return result{}, &apiError{code: 409, description: why}
		case <-deadline.C:
			s.finishPoll(poll)
			return result{value: []Update{}}, nil
		case <-c.ctx.Done():
			s.finishPoll(poll)
			return result{value: []Update{}}, nil
		case <-s.done:
			s.finishPoll(poll)
			return result{value: []Update{}}, nil
		}
	}
}

// finishPoll forgets a getUpdates that stops waiting.
func (s *Server) finishPoll(poll *longPoll) {
	s.mu.Lock()
	defer s.mu.Unlock()

	s.updates.endPoll(poll)
}

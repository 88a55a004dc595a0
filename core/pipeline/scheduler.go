package pipeline

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/switchboardhq/switchboard/core"
)

// scheduler runs the stored messages of each conversation one at a time,
// in order, and different conversations in parallel up to a bound.
//
// The database is the queue: a message is handed to the scheduler only
// after it is stored, and a worker that is told to look (after a start, or
// when it read a full batch) reads the conversation's pending messages from
// the database. Messages this process stored are handed over in memory as
// well, in the order they were stored, which spares that read; nothing is
// lost if the process dies with them in memory, since they are still
// pending in the database.
type scheduler struct {
	log    *slog.Logger
	load   func(ctx context.Context, conv core.Conversation) ([]*inboundRow, error)
	handle func(ctx context.Context, row *inboundRow) error
	// sem has a slot per session worked on at once. It is made with
	// maxSlots slots and all but the configured number are held in
	// reserve, so that the bound can change while the pipeline runs.
	sem chan struct{}

	resize   sync.Mutex // one resize at a time
	reserved int        // slots held back, guarded by resize

	mu    sync.Mutex
	ctx   context.Context
	lanes map[core.Conversation]*lane
	wg    sync.WaitGroup
}

// lane is one conversation's work. queue and fromDB are guarded by the
// scheduler's mutex; last belongs to the lane's worker.
type lane struct {
	queue  []*inboundRow // stored messages handed over, oldest first
	fromDB bool          // messages may be pending that queue does not hold
	last   int64         // the newest message handled
}

func newScheduler(maxParallel int, log *slog.Logger,
	load func(context.Context, core.Conversation) ([]*inboundRow, error),
	handle func(context.Context, *inboundRow) error,
) *scheduler {
	s := &scheduler{
		log:      log,
		load:     load,
		handle:   handle,
		sem:      make(chan struct{}, maxSlots),
		lanes:    make(map[core.Conversation]*lane),
		reserved: maxSlots - maxParallel,
	}

	for range s.reserved {
		s.sem <- struct{}{}
	}

	return s
}

// maxSlots is the most sessions that can ever be worked on at once.
const maxSlots = 1024

// setParallel changes how many sessions are worked on at once, to n
// (1 to maxSlots). A smaller bound takes effect as sessions being worked
// on finish; it blocks until then.
func (s *scheduler) setParallel(n int) {
	s.resize.Lock()
	defer s.resize.Unlock()

	want := maxSlots - min(max(n, 1), maxSlots)

	for ; s.reserved > want; s.reserved-- {
		<-s.sem
	}

	for ; s.reserved < want; s.reserved++ {
		s.sem <- struct{}{}
	}
}

// start lets notify launch workers under ctx.
func (s *scheduler) start(ctx context.Context) {
	s.mu.Lock()
	defer s.mu.Unlock()

	s.ctx = ctx
}

// notify says that conv has a pending message: row, when the caller holds
// it (rows must come in the order they were stored), or nil to make the
// worker read the database. It never blocks. Before start it does
// nothing: start is followed by a recovery pass that finds every pending
// message.
func (s *scheduler) notify(conv core.Conversation, row *inboundRow) {
	s.mu.Lock()
	defer s.mu.Unlock()

	if s.ctx == nil || s.ctx.Err() != nil {
		return
	}

	ln, running := s.lanes[conv]
	if !running {
		ln = &lane{}
		s.lanes[conv] = ln
		s.wg.Add(1)

		go s.drain(s.ctx, conv, ln)
	}

	if row == nil {
		ln.fromDB = true
	} else {
		ln.queue = append(ln.queue, row)
	}
}

// next takes the lane's next work: messages handed over, or a note to read
// the database. ok is false when there is none; the lane is then gone.
func (s *scheduler) next(conv core.Conversation, ln *lane) (rows []*inboundRow, read, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()

	switch {
	case ln.fromDB:
		// The read sees every message handed over so far: each was
		// committed before it was handed over.
		ln.fromDB, ln.queue = false, nil
		return nil, true, true
	case len(ln.queue) > 0:
		rows, ln.queue = ln.queue, nil
		return rows, false, true
	default:
		delete(s.lanes, conv)
		return nil, false, false
	}
}

// drain works on conv until it has nothing pending.
func (s *scheduler) drain(ctx context.Context, conv core.Conversation, ln *lane) {
	defer s.wg.Done()

	for ctx.Err() == nil {
		rows, read, ok := s.next(conv, ln)
		if !ok {
			return
		}

		if read {
			var err error

			if rows, err = s.load(ctx, conv); err != nil {
				s.retry(ctx, conv, ln, err)
				continue
			}

			if len(rows) == workBatch {
				s.lookAgain(ln)
			}
		}

		if err := s.run(ctx, ln, rows, read); err != nil {
			s.retry(ctx, conv, ln, err)
		}
	}

	s.mu.Lock()
	delete(s.lanes, conv)
	s.mu.Unlock()
}

// run handles rows in order. Rows handed over that a database read already
// covered are skipped; rows read from the database are all pending.
func (s *scheduler) run(ctx context.Context, ln *lane, rows []*inboundRow, read bool) error {
	for _, row := range rows {
		if !read && row.ID <= ln.last {
			continue
		}

		if !s.acquire(ctx) {
			return ctx.Err()
		}

		err := s.handle(ctx, row)
		s.release()

		if err != nil && !errors.Is(err, errNotMine) {
			return err
		}

		ln.last = max(ln.last, row.ID)
	}

	return nil
}

// retry logs a failure, waits a moment, and makes the worker read the
// database again, where the message that failed is still pending.
func (s *scheduler) retry(ctx context.Context, conv core.Conversation, ln *lane, err error) {
	if ctx.Err() != nil {
		return
	}

	s.log.Error("work on conversation", "conversation", conv.String(), "err", err)
	s.lookAgain(ln)
	sleep(ctx, time.Second)
}

func (s *scheduler) lookAgain(ln *lane) {
	s.mu.Lock()
	defer s.mu.Unlock()

	ln.fromDB = true
}

// acquire takes one of the parallel slots, or fails when ctx ends.
func (s *scheduler) acquire(ctx context.Context) bool {
	select {
	case s.sem <- struct{}{}:
		return true
	case <-ctx.Done():
		return false
	}
}

func (s *scheduler) release() { <-s.sem }

// wait blocks until every worker has returned.
func (s *scheduler) wait() { s.wg.Wait() }

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()

	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

package pipeline

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/switchboardhq/switchboard/core"
)

// scheduler runs the stored messages of each conversation one at a time,
// in order, and different conversations in parallel up to a bound. It
// keeps no messages itself: a worker reads the conversation's next pending
// rows from the database, so nothing queued can be lost and a message that
// arrives while its conversation is busy simply waits its turn.
type scheduler struct {
	log  *slog.Logger
	work func(ctx context.Context, conv core.Conversation) (more bool, err error)
	sem  chan struct{}

	mu     sync.Mutex
	ctx    context.Context
	active map[core.Conversation]bool // true: notified while running
	wg     sync.WaitGroup
}

func newScheduler(maxParallel int, log *slog.Logger,
	work func(context.Context, core.Conversation) (bool, error),
) *scheduler {
	return &scheduler{
		log:    log,
		work:   work,
		sem:    make(chan struct{}, maxParallel),
		active: make(map[core.Conversation]bool),
	}
}

// start lets notify launch workers under ctx.
func (s *scheduler) start(ctx context.Context) {
	s.mu.Lock()
	defer s.mu.Unlock()

	s.ctx = ctx
}

// notify says that conv has a new pending message. It never blocks.
// Before start it does nothing: start is followed by a recovery pass that
// finds every pending message.
func (s *scheduler) notify(conv core.Conversation) {
	s.mu.Lock()
	defer s.mu.Unlock()

	if s.ctx == nil || s.ctx.Err() != nil {
		return
	}

	if _, running := s.active[conv]; running {
		s.active[conv] = true
		return
	}

	s.active[conv] = false
	s.wg.Add(1)

	go s.drain(s.ctx, conv)
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

// drain works on conv until it has nothing pending: until work reports no
// more and no notify came since that call of work began.
func (s *scheduler) drain(ctx context.Context, conv core.Conversation) {
	defer s.wg.Done()

	for ctx.Err() == nil {
		more, err := s.work(ctx, conv)
		if err != nil {
			if ctx.Err() != nil {
				break
			}

			s.log.Error("work on conversation", "conversation", conv.String(), "err", err)
			sleep(ctx, time.Second)

			continue
		}

		if more {
			continue
		}

		s.mu.Lock()
		if !s.active[conv] {
			delete(s.active, conv)
			s.mu.Unlock()

			return
		}

		s.active[conv] = false
		s.mu.Unlock()
	}

	s.mu.Lock()
	delete(s.active, conv)
	s.mu.Unlock()
}

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

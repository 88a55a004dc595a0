package store

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/uptrace/bun"
)

// Batcher commits small writes from many goroutines together: while one
// transaction runs, the writes that arrive queue up, and the next
// transaction takes them all. Under load the cost of a commit and of
// compiling each statement is shared by the whole batch; a lone write runs
// at once, without waiting for company. It is safe for concurrent use.
//
// There is no goroutine to start or stop: the first caller that finds no
// transaction running commits its batch and every batch queued meanwhile.
type Batcher[T any] struct {
	db    *DB
	max   int
	run   func(ctx context.Context, tx bun.Tx, items []T) error
	after func(items []T)

	mu      sync.Mutex
	queue   []*batchItem[T]
	running bool
}

type batchItem[T any] struct {
	item T
	done chan error
}

// batchTimeout bounds one batch's transaction; it runs detached from the
// callers' contexts, since it commits the writes of several of them.
const batchTimeout = 30 * time.Second

// NewBatcher returns a batcher that commits up to max items at a time with
// run. run must write every item or fail; when a batch of several fails,
// each of its items is tried again alone, so that one bad item only fails
// itself. after, when not nil, is called with the items of each committed
// transaction, in order, before their callers return; batches follow each
// other, so after sees items in commit order.
func NewBatcher[T any](db *DB, max int, run func(context.Context, bun.Tx, []T) error,
	after func([]T),
) *Batcher[T] {
	return &Batcher[T]{db: db, max: max, run: run, after: after}
}

// Do commits item, possibly together with others, and returns run's
// error for it. It returns only once the item's transaction has ended, so
// that the caller knows whether it was written.
func (b *Batcher[T]) Do(item T) error {
	it := &batchItem[T]{item: item, done: make(chan error, 1)}

	b.mu.Lock()
	b.queue = append(b.queue, it)

	if b.running {
		b.mu.Unlock()
		return <-it.done
	}

	b.running = true

	for len(b.queue) > 0 {
		n := min(len(b.queue), b.max)
		batch := b.queue[:n:n]
		b.queue = b.queue[n:]
		b.mu.Unlock()

		b.commit(batch)

		b.mu.Lock()
	}

	b.running = false
	b.mu.Unlock()

	return <-it.done
}

// commit writes a batch and reports to each item.
func (b *Batcher[T]) commit(batch []*batchItem[T]) {
	err := b.tx(batch)
	if err == nil || len(batch) == 1 {
		for _, it := range batch {
			it.done <- err
		}

		return
	}

	for _, it := range batch {
		it.done <- b.tx(batch[:0:0], it)
	}
}

func (b *Batcher[T]) tx(batch []*batchItem[T], extra ...*batchItem[T]) error {
	items := make([]T, 0, len(batch)+len(extra))
	for _, it := range append(batch, extra...) {
		items = append(items, it.item)
	}

	ctx, cancel := context.WithTimeout(context.Background(), batchTimeout)
	defer cancel()

	err := b.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		return b.run(ctx, tx, items)
	})
	if err != nil {
		return fmt.Errorf("commit batch of %d: %w", len(items), err)
	}

	if b.after != nil {
		b.after(items)
	}

	return nil
}

package outbox

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/uptrace/bun"

	"github.com/switchboardhq/switchboard/core"
	"github.com/switchboardhq/switchboard/core/clock"
	"github.com/switchboardhq/switchboard/core/metrics"
	"github.com/switchboardhq/switchboard/core/store"
)

// stopGrace is how long a send under way may go on once a stop began.
const stopGrace = 5 * time.Second

// DelivererConfig tunes a Deliverer.
type DelivererConfig struct {
	// AgentID selects the agent's rows.
	AgentID string
	// Replica is this process's presence; claims carry its id.
	Replica *store.Presence
	// MaxAttempts bounds the tries of one row that fail; waits a platform
	// asked for with retry-after do not count.
	MaxAttempts int
	// MaxBackoff caps the wait between two failed tries.
	MaxBackoff time.Duration
	// MaxAge gives up on a row still unsent this long after it was written.
	MaxAge time.Duration
	// SendTimeout bounds one call of an adapter's Send.
	SendTimeout time.Duration
	// PollInterval is how often the outbox is read when nothing pokes it.
	PollInterval time.Duration
}

// Deliverer sends outbox rows through the adapters. Rows of one
// conversation go out one at a time in id order; conversations are served
// in parallel. Each round reads the oldest pending row of every
// conversation, claims the due ones for a lease in one statement, and
// sends them; outcomes are recorded in batches. Several replicas may run a
// Deliverer on one database: the claim makes each row theirs alone.
type Deliverer struct {
	db       *store.DB
	cfg      DelivererConfig
	adapters map[core.Channel]core.Adapter
	channels []core.Channel
	clock    clock.Clock
	log      *slog.Logger
	metrics  *metrics.Metrics
	outcomes *store.Batcher[*outcome]

	wake chan struct{}

	mu       sync.Mutex
	inflight map[core.Conversation]bool // true: look again after this send
	finished map[int64]bool             // rows whose outcome was recorded this round
	retryAt  time.Time
	retry    *time.Timer
	wg       sync.WaitGroup
}

// outcome is the result of one send, waiting to be recorded.
type outcome struct {
	msg  *Message
	sent core.Sent
	err  *core.SendError
	at   time.Time

	// Set when recorded.
	attempts int
	next     time.Time
	giveUp   bool
}

// NewDeliverer returns a deliverer for the given adapters.
func NewDeliverer(db *store.DB, cfg DelivererConfig, adapters map[core.Channel]core.Adapter,
	clk clock.Clock, log *slog.Logger, m *metrics.Metrics,
) *Deliverer {
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 8
	}

	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = 5 * time.Minute
	}

	if cfg.MaxAge <= 0 {
		cfg.MaxAge = 24 * time.Hour
	}

	if cfg.SendTimeout <= 0 {
		cfg.SendTimeout = time.Minute
	}

	if cfg.PollInterval <= 0 {
		cfg.PollInterval = time.Second
	}

	d := &Deliverer{
		db:       db,
		cfg:      cfg,
		adapters: adapters,
		clock:    clk,
		log:      log.With("component", "outbox"),
		metrics:  m,
		wake:     make(chan struct{}, 1),
		inflight: make(map[core.Conversation]bool),
		finished: make(map[int64]bool),
	}

	for ch := range adapters {
		d.channels = append(d.channels, ch)
	}

	d.outcomes = store.NewBatcher(db, 256, d.recordOutcomes, nil)

	return d
}

// Poke tells the deliverer that new rows may be waiting. It never blocks.
func (d *Deliverer) Poke() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// Run delivers until ctx ends, then waits for sends in flight to return.
func (d *Deliverer) Run(ctx context.Context) error {
	d.log.Info("outbox deliverer started")

	tick := time.NewTicker(d.cfg.PollInterval)
	defer tick.Stop()

	for {
		if err := d.round(ctx); err != nil && ctx.Err() == nil {
			d.log.Error("read outbox", "err", err)
		}

		select {
		case <-ctx.Done():
			d.wg.Wait()
			d.stopRetryTimer()
			d.log.Info("outbox deliverer stopped")

			return nil
		case <-d.wake:
		case <-tick.C:
		}
	}
}

// round claims the oldest pending row of every idle conversation that is
// due and starts its send.
func (d *Deliverer) round(ctx context.Context) error {
	if len(d.channels) == 0 {
		return nil
	}

	// A send that ends while the heads are read may show its row as
	// still pending; finished remembers those rows until the next round.
	d.mu.Lock()
	clear(d.finished)
	d.mu.Unlock()

	heads, err := d.heads(ctx)
	if err != nil {
		return err
	}

	now := d.clock.Now()
	due := make([]int64, 0, len(heads))
	byID := make(map[int64]head, len(heads))

	again := false

	d.mu.Lock()
	for _, h := range heads {
		m := h.msg
		conv := m.Conversation()

		switch _, busy := d.inflight[conv]; {
		case d.finished[m.ID]:
			again = true // read before its outcome was written
		case busy:
			d.inflight[conv] = true // look again when the send under way ends
		case m.NextAttemptAt.After(now):
			d.retryLocked(m.NextAttemptAt, now)
		case !m.ClaimedUntil.IsZero() && m.ClaimedUntil.After(now):
			d.retryLocked(m.ClaimedUntil.Time, now) // another replica's lease
		default:
			due = append(due, m.ID)
			byID[m.ID] = h
		}
	}
	d.mu.Unlock()

	if again {
		d.Poke()
	}

	if len(due) == 0 {
		return nil
	}

	claimed, err := d.claim(ctx, due, now)
	if err != nil {
		return err
	}

	for _, id := range claimed {
		h := byID[id]
		h.msg.ClaimedBy = d.cfg.Replica.ID
		h.msg.Attempts++

		d.mu.Lock()
		d.inflight[h.msg.Conversation()] = h.more
		d.mu.Unlock()

		d.wg.Go(func() { d.send(ctx, h.msg) })
	}

	return nil
}

// head is the oldest pending row of a conversation; more tells whether
// others wait behind it.
type head struct {
	msg  *Message
	more bool
}

// heads reads the oldest pending row of each conversation.
func (d *Deliverer) heads(ctx context.Context) ([]head, error) {
	var oldest []struct {
		ID int64 `bun:"id"`
		N  int   `bun:"n"`
	}

	err := d.db.NewSelect().Model((*Message)(nil)).
		ColumnExpr("min(id) AS id, count(*) AS n").
		Where("agent_id = ?", d.cfg.AgentID).
		Where("status = ?", StatusPending).
		Where("channel IN (?)", bun.List(d.channels)).
		Group("channel", "chat_id", "thread_id").
		Limit(1000).
		Scan(ctx, &oldest)
	if err != nil {
		return nil, fmt.Errorf("list conversations with pending answers: %w", err)
	}

	if len(oldest) == 0 {
		return nil, nil
	}

	ids := make([]int64, len(oldest))
	more := make(map[int64]bool, len(oldest))

	for i, o := range oldest {
		ids[i] = o.ID
		more[o.ID] = o.N > 1
	}

	var msgs []*Message

	err = d.db.NewSelect().Model(&msgs).Where("id IN (?)", bun.List(ids)).OrderExpr("id").
		Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("read oldest pending answers: %w", err)
	}

	heads := make([]head, len(msgs))
	for i, m := range msgs {
		heads[i] = head{msg: m, more: more[m.ID]}
	}

	return heads, nil
}

// claim takes the rows for a lease and returns the ids it got: a row that
// another replica claimed or sent meanwhile is left out. A process alone on
// its database (SQLite) needs no lease: it only counts the attempt, in
// memory, and writes it with the outcome.
func (d *Deliverer) claim(ctx context.Context, ids []int64, now time.Time) ([]int64, error) {
	if d.db.Exclusive() {
		return ids, nil // no other process delivers; inflight keeps rows apart
	}

	var got []int64

	err := d.db.NewUpdate().Model((*Message)(nil)).
		Set("claimed_by = ?", d.cfg.Replica.ID).
		Set("claimed_until = ?", now.Add(d.cfg.SendTimeout+stopGrace+30*time.Second)).
		Set("attempts = attempts + 1").
		Where("id IN (?)", bun.List(ids)).
		Where("status = ?", StatusPending).
		Where("next_attempt_at <= ?", now).
		Where("(claimed_until IS NULL OR claimed_until < ?)", now).
		Returning("id").
		Scan(ctx, &got)
	if err != nil {
		return nil, fmt.Errorf("claim %d answers: %w", len(ids), err)
	}

	return got, nil
}

// retryLocked arranges a round at t, unless one is already arranged for
// no later than t. d.mu is held.
func (d *Deliverer) retryLocked(t, now time.Time) {
	if d.retryAt.After(now) && !d.retryAt.After(t) {
		return
	}

	if d.retry != nil {
		d.retry.Stop()
	}

	d.retryAt = t
	d.retry = time.AfterFunc(t.Sub(now), d.Poke)
}

func (d *Deliverer) stopRetryTimer() {
	d.mu.Lock()
	defer d.mu.Unlock()

	if d.retry != nil {
		d.retry.Stop()
	}
}

// send hands one claimed row to its adapter, records the outcome, and
// frees the conversation for its next row.
func (d *Deliverer) send(ctx context.Context, msg *Message) {
	defer func() {
		d.mu.Lock()
		again := d.inflight[msg.Conversation()]
		delete(d.inflight, msg.Conversation())
		d.finished[msg.ID] = true
		d.mu.Unlock()

		if again {
			d.Poke()
		}
	}()

	out := core.Outgoing{
		ID:             msg.ID,
		IdempotencyKey: fmt.Sprintf("%s-%d", msg.AgentID, msg.ID),
		To:             msg.Conversation(),
		Text:           msg.Text,
		ReplyTo:        msg.ReplyTo,
		Part:           msg.Part,
		Parts:          msg.Parts,
		Attempt:        msg.Attempts,
	}

	// A send under way when a stop begins gets a grace period to finish:
	// cut off, it could not tell whether the platform took the message,
	// and a platform without idempotency would show it twice after the
	// next start.
	sendCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), d.cfg.SendTimeout)
	stopAfter := context.AfterFunc(ctx, func() { time.AfterFunc(stopGrace, cancel) })
	sent, err := d.adapters[msg.Channel].Send(sendCtx, out)

	stopAfter()
	cancel()

	if ctx.Err() != nil && err != nil {
		d.release(msg)
		return
	}

	// The outcome of a send that happened is recorded even when a stop
	// began meanwhile; a row left claimed would go out again after the
	// next start.
	o := &outcome{msg: msg, sent: sent, at: d.clock.Now()}
	if err != nil {
		o.err = core.SendErrorOf(err)
	}

	if err := d.outcomes.Do(o); err != nil {
		// The row will be sent again after its lease; the idempotency key
		// lets platforms that support it drop the repeat.
		d.log.Error("record send outcome", "outbox_id", msg.ID, "err", err)
		return
	}

	d.report(o)
}

// recordOutcomes writes a batch of send outcomes: the sent rows in one
// statement, each failure in its own.
func (d *Deliverer) recordOutcomes(ctx context.Context, tx bun.Tx, outs []*outcome) error {
	var sent []*outcome

	for _, o := range outs {
		if o.err == nil {
			sent = append(sent, o)
			continue
		}

		d.plan(o)

		q := tx.NewUpdate().Model(o.msg).
			Set("claimed_until = NULL").
			Set("attempts = ?", o.attempts).
			Set("last_error = ?", truncate(o.err.Error(), 500)).
			WherePK()

		if o.giveUp {
			q = q.Set("status = ?", StatusFailed)
		} else {
			q = q.Set("next_attempt_at = ?", o.next)
		}

		if _, err := q.Exec(ctx); err != nil {
			return fmt.Errorf("record failed send of outbox row %d: %w", o.msg.ID, err)
		}
	}

	return markSent(ctx, tx, sent)
}

// markSent marks rows sent, each with its platform id, in one statement.
func markSent(ctx context.Context, tx bun.Tx, sent []*outcome) error {
	if len(sent) == 0 {
		return nil
	}

	ids := make([]int64, len(sent))
	var (
		cases strings.Builder
		args  []any
	)

	cases.WriteString("platform_message_id = CASE id")

	for i, o := range sent {
		ids[i] = o.msg.ID
		cases.WriteString(" WHEN ? THEN ?")
		args = append(args, o.msg.ID, o.sent.MessageID)
	}

	cases.WriteString(" END")

	_, err := tx.NewUpdate().Model((*Message)(nil)).
		Set("status = ?", StatusSent).
		Set(cases.String(), args...).
		Set("sent_at = ?", sent[len(sent)-1].at).
		Set("claimed_until = NULL").
		Set("last_error = ''").
		Where("id IN (?)", bun.List(ids)).
		Exec(ctx)
	if err != nil {
		return fmt.Errorf("mark %d outbox rows sent: %w", len(ids), err)
	}

	return nil
}

// plan decides what follows a failed send: when to try again, or to give
// up.
func (d *Deliverer) plan(o *outcome) {
	se, msg := o.err, o.msg
	o.attempts = msg.Attempts
	o.giveUp = se.Permanent

	switch {
	case se.Permanent:
	case se.RetryAfter > 0:
		o.attempts-- // the platform asked us to wait; that is not a failure
		o.next = o.at.Add(se.RetryAfter)
	case o.attempts >= d.cfg.MaxAttempts:
		o.giveUp = true
	default:
		o.next = o.at.Add(Backoff(o.attempts, d.cfg.MaxBackoff))
	}

	if o.at.Sub(msg.CreatedAt) > d.cfg.MaxAge {
		o.giveUp = true
	}
}

// report logs and counts a recorded outcome.
func (d *Deliverer) report(o *outcome) {
	msg, ch := o.msg, string(o.msg.Channel)
	conv := msg.Conversation().String()

	switch {
	case o.err == nil:
		d.metrics.Sent.WithLabelValues(ch).Inc()

		if !msg.OriginAt.IsZero() && msg.Part == msg.Parts {
			d.metrics.Latency.WithLabelValues(ch).Observe(o.at.Sub(msg.OriginAt.Time).Seconds())
		}

		d.log.Debug("sent", "outbox_id", msg.ID, "conversation", conv, "part", msg.Part,
			"parts", msg.Parts, "platform_message_id", o.sent.MessageID)
	case o.giveUp:
		d.metrics.Failed.WithLabelValues(ch).Inc()
		d.log.Error("gave up sending", "outbox_id", msg.ID, "conversation", conv,
			"attempts", o.attempts, "err", o.err)
	default:
		d.log.Warn("send failed, will retry", "outbox_id", msg.ID, "conversation", conv,
			"attempts", o.attempts, "retry_in", o.next.Sub(o.at).String(), "err", o.err)
	}
}

// release gives back the claim of a row whose send was cut short by a
// stop, without counting the attempt.
func (d *Deliverer) release(msg *Message) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	_, err := d.db.NewUpdate().Model(msg).
		Set("claimed_until = NULL").
		Set("attempts = attempts - 1").
		WherePK().
		Where("claimed_by = ?", d.cfg.Replica.ID).
		Exec(ctx)
	if err != nil {
		d.log.Warn("release outbox row", "outbox_id", msg.ID, "err", err)
	}
}

// Backoff returns the wait after the given number of failed tries: one
// second doubled each time, capped at ceiling, with 20% jitter either way.
func Backoff(attempts int, ceiling time.Duration) time.Duration {
	d := time.Second << min(max(attempts-1, 0), 30)
	if d <= 0 || d > ceiling {
		d = ceiling
	}

	jitter := 0.8 + 0.4*rand.Float64()

	return time.Duration(float64(d) * jitter)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}

	return s[:n]
}

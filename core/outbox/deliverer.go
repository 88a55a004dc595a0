package outbox

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
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
// in parallel. Several replicas may run a Deliverer on one database: each
// row is claimed for a lease before it is sent.
type Deliverer struct {
	db       *store.DB
	cfg      DelivererConfig
	adapters map[core.Channel]core.Adapter
	clock    clock.Clock
	log      *slog.Logger
	metrics  *metrics.Metrics

	wake chan struct{}

	mu     sync.Mutex
	active map[core.Conversation]int64 // newest pending row a scan saw meanwhile
	wg     sync.WaitGroup
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

	return &Deliverer{
		db:       db,
		cfg:      cfg,
		adapters: adapters,
		clock:    clk,
		log:      log.With("component", "outbox"),
		metrics:  m,
		wake:     make(chan struct{}, 1),
		active:   make(map[core.Conversation]int64),
	}
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
		if err := d.scan(ctx); err != nil && ctx.Err() == nil {
			d.log.Error("read outbox", "err", err)
		}

		select {
		case <-ctx.Done():
			d.wg.Wait()
			d.log.Info("outbox deliverer stopped")

			return nil
		case <-d.wake:
		case <-tick.C:
		}
	}
}

// scan starts a worker for every conversation that has pending rows and
// none running.
func (d *Deliverer) scan(ctx context.Context) error {
	channels := make([]core.Channel, 0, len(d.adapters))
	for ch := range d.adapters {
		channels = append(channels, ch)
	}

	if len(channels) == 0 {
		return nil
	}

	var convs []struct {
		Channel  core.Channel  `bun:"channel"`
		ChatID   core.ChatID   `bun:"chat_id"`
		ThreadID core.ThreadID `bun:"thread_id"`
		Newest   int64         `bun:"newest"`
	}

	err := d.db.NewSelect().Model((*Message)(nil)).
		Column("channel", "chat_id", "thread_id").
		ColumnExpr("MAX(id) AS newest").
		Where("agent_id = ?", d.cfg.AgentID).
		Where("status = ?", StatusPending).
		Where("channel IN (?)", bun.List(channels)).
		Group("channel", "chat_id", "thread_id").
		Limit(1000).
		Scan(ctx, &convs)
	if err != nil {
		return fmt.Errorf("list conversations with pending answers: %w", err)
	}

	for _, c := range convs {
		conv := core.Conversation{Channel: c.Channel, ChatID: c.ChatID, ThreadID: c.ThreadID}
		d.start(ctx, conv, c.Newest)
	}

	return nil
}

// start runs a worker for conv unless one runs. A running one is told the
// newest pending row the scan saw, and looks again before it stops unless
// it has already claimed that row.
func (d *Deliverer) start(ctx context.Context, conv core.Conversation, newest int64) {
	d.mu.Lock()
	defer d.mu.Unlock()

	if seen, running := d.active[conv]; running {
		d.active[conv] = max(seen, newest)
		return
	}

	d.active[conv] = 0
	d.wg.Add(1)

	go d.work(ctx, conv)
}

// work sends conv's rows in order until none is due.
func (d *Deliverer) work(ctx context.Context, conv core.Conversation) {
	defer d.wg.Done()

	var last int64 // the last row claimed

	for ctx.Err() == nil {
		msg, more, err := d.claim(ctx, conv)
		if err != nil {
			if ctx.Err() == nil {
				d.log.Error("claim outbox row", "conversation", conv.String(), "err", err)
			}

			break
		}

		if msg != nil {
			last = msg.ID
			d.send(ctx, msg)

			// A row written after the claim read the head pokes the
			// deliverer, whose scan tells this worker; a failed send pokes
			// it when the retry is due. So with no row behind this one,
			// only what the scans saw needs checking.
			if more {
				continue
			}
		}

		d.mu.Lock()
		if d.active[conv] <= last {
			delete(d.active, conv)
			d.mu.Unlock()

			return
		}

		d.active[conv] = 0
		d.mu.Unlock()
	}

	d.mu.Lock()
	delete(d.active, conv)
	d.mu.Unlock()
}

// claim takes the oldest pending row of conv for a lease, if it is due and
// nobody else holds it, and reports whether another pending row follows
// it. When the head row is waiting for a retry, it arranges a poke for when
// it is due and returns nil.
//
// It reads the head, then claims it only if the row is still as read and
// free, so that the row it returns is the row it claimed.
func (d *Deliverer) claim(ctx context.Context, conv core.Conversation,
) (msg *Message, more bool, err error) {
	now := d.clock.Now()
	lease := now.Add(d.cfg.SendTimeout + 30*time.Second)

	var head []*Message

	err = d.db.NewSelect().Model(&head).
		Where("agent_id = ?", d.cfg.AgentID).
		Where("channel = ?", conv.Channel).
		Where("chat_id = ?", conv.ChatID).
		Where("thread_id = ?", conv.ThreadID).
		Where("status = ?", StatusPending).
		OrderExpr("id").Limit(2).
		Scan(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("read head of %s: %w", conv, err)
	}

	if len(head) == 0 {
		return nil, false, nil
	}

	msg = head[0]
	if msg.NextAttemptAt.After(now) {
		time.AfterFunc(msg.NextAttemptAt.Sub(now), d.Poke)
		return nil, false, nil
	}

	res, err := d.db.NewUpdate().Model(msg).
		Set("claimed_by = ?", d.cfg.Replica.ID).
		Set("claimed_until = ?", lease).
		Set("attempts = attempts + 1").
		WherePK().
		Where("status = ?", StatusPending).
		Where("attempts = ?", msg.Attempts).
		Where("next_attempt_at <= ?", now).
		Where("(claimed_until IS NULL OR claimed_until < ?)", now).
		Exec(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("claim head of %s: %w", conv, err)
	}

	if n, _ := res.RowsAffected(); n != 1 {
		return nil, false, nil // another replica holds it or changed it meanwhile
	}

	msg.ClaimedBy = d.cfg.Replica.ID
	msg.ClaimedUntil = bun.NullTime{Time: lease}
	msg.Attempts++

	return msg, len(head) > 1, nil
}

// send hands one row to its adapter and records the outcome.
func (d *Deliverer) send(ctx context.Context, msg *Message) {
	adapter := d.adapters[msg.Channel]
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
	sent, err := adapter.Send(sendCtx, out)

	stopAfter()
	cancel()

	if ctx.Err() != nil && err != nil {
		d.release(msg)
		return
	}

	// The outcome of a send that happened is recorded even when a stop
	// began meanwhile; a row left claimed would go out again after the
	// next start.
	recordCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()

	if err == nil {
		d.markSent(recordCtx, msg, sent)
		return
	}

	d.markFailed(recordCtx, msg, core.SendErrorOf(err))
}

func (d *Deliverer) markSent(ctx context.Context, msg *Message, sent core.Sent) {
	now := d.clock.Now()

	_, err := d.db.NewUpdate().Model(msg).
		Set("status = ?", StatusSent).
		Set("platform_message_id = ?", sent.MessageID).
		Set("sent_at = ?", now).
		Set("claimed_until = NULL").
		Set("last_error = ''").
		WherePK().
		Exec(ctx)
	if err != nil {
		// The row will be sent again after its lease; the idempotency key
		// lets platforms that support it drop the repeat.
		d.log.Error("mark outbox row sent", "outbox_id", msg.ID, "err", err)
		return
	}

	ch := string(msg.Channel)
	d.metrics.Sent.WithLabelValues(ch).Inc()

	if !msg.OriginAt.IsZero() && msg.Part == msg.Parts {
		d.metrics.Latency.WithLabelValues(ch).Observe(now.Sub(msg.OriginAt.Time).Seconds())
	}

	d.log.Debug("sent", "outbox_id", msg.ID, "conversation", msg.Conversation().String(),
		"part", msg.Part, "parts", msg.Parts, "platform_message_id", sent.MessageID)
}

// markFailed schedules the next try of a row or gives up on it.
func (d *Deliverer) markFailed(ctx context.Context, msg *Message, se *core.SendError) {
	now := d.clock.Now()
	attempts := msg.Attempts
	giveUp := se.Permanent

	var next time.Time

	switch {
	case se.Permanent:
	case se.RetryAfter > 0:
		attempts-- // the platform asked us to wait; that is not a failure
		next = now.Add(se.RetryAfter)
	case attempts >= d.cfg.MaxAttempts:
		giveUp = true
	default:
		next = now.Add(Backoff(attempts, d.cfg.MaxBackoff))
	}

	if now.Sub(msg.CreatedAt) > d.cfg.MaxAge {
		giveUp = true
	}

	q := d.db.NewUpdate().Model(msg).
		Set("attempts = ?", attempts).
		Set("last_error = ?", truncate(se.Error(), 500)).
		Set("claimed_until = NULL").
		WherePK()

	if giveUp {
		q = q.Set("status = ?", StatusFailed)
	} else {
		q = q.Set("next_attempt_at = ?", next)
	}

	if _, err := q.Exec(ctx); err != nil {
		d.log.Error("record failed send", "outbox_id", msg.ID, "err", err)
		return
	}

	if giveUp {
		d.metrics.Failed.WithLabelValues(string(msg.Channel)).Inc()
		d.log.Error("gave up sending", "outbox_id", msg.ID,
			"conversation", msg.Conversation().String(), "attempts", attempts, "err", se)

		return
	}

	d.log.Warn("send failed, will retry", "outbox_id", msg.ID,
		"conversation", msg.Conversation().String(), "attempts", attempts,
		"retry_in", next.Sub(now).String(), "err", se)
	time.AfterFunc(next.Sub(now), d.Poke)
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

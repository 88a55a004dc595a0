// Package pipeline carries a message from an adapter to the outbox: it
// stores the message under its unique key, applies access control, routes
// slash commands, runs each session's messages in order through the
// responder, and writes the answer to the outbox in the transaction that
// records the turn. It also starts the adapters and the outbox deliverer
// and, at start and while running, adopts the unfinished work of gateway
// processes that died.
package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchboardhq/switchboard/core"
	"github.com/switchboardhq/switchboard/core/access"
	"github.com/switchboardhq/switchboard/core/agent"
	"github.com/switchboardhq/switchboard/core/clock"
	"github.com/switchboardhq/switchboard/core/command"
	"github.com/switchboardhq/switchboard/core/metrics"
	"github.com/switchboardhq/switchboard/core/outbox"
	"github.com/switchboardhq/switchboard/core/store"
)

// Options configure a Pipeline.
type Options struct {
	// AgentID names the agent whose messages this pipeline handles.
	AgentID string
	// AgentName is how the agent calls itself in replies.
	AgentName string
	// MaxParallel bounds how many sessions are worked on at once.
	MaxParallel int
	// Owners are always allowed; GroupReply gates group messages.
	Owners     []access.Owner
	GroupReply access.GroupReply
	// Responder answers free text.
	Responder agent.Responder
	// Outbox tunes delivery.
	Outbox outbox.DelivererConfig
	// AdoptInterval is how often a PostgreSQL replica looks for work of
	// dead replicas. Default 5 s.
	AdoptInterval time.Duration
	// Observe, when not nil, is shown every message after it is handled,
	// answered or not, such as for triggers. It runs in the message's
	// session worker and may see a message again after a restart.
	Observe func(ctx context.Context, msg core.Inbound, inboundID int64)
	// TypingDelay is how long the responder may work before the typing
	// indicator is shown. Default 300 ms.
	TypingDelay time.Duration
	// Clock replaces the system clock in tests.
	Clock clock.Clock
	// Logger receives the pipeline's logs.
	Logger *slog.Logger
	// Metrics receives the pipeline's metrics.
	Metrics *metrics.Metrics
}

// Pipeline is the core of the gateway. Create it with New, register
// adapters and commands, then call Run.
type Pipeline struct {
	db        *store.DB
	agentID   string
	agentName string
	replica   *store.Presence
	policy    *access.Policy
	commands  *command.Registry
	responder agent.Responder
	clock     clock.Clock
	log       *slog.Logger
	metrics   *metrics.Metrics
	opts      Options

	adapters  map[core.Channel]core.Adapter
	deliverer *outbox.Deliverer
	sched     *scheduler
	inbox     *store.Batcher[*arrival]
	answers   *store.Batcher[*answer]
	started   time.Time

	healthMu sync.Mutex
	runErr   map[core.Channel]string
}

// New builds a pipeline over db; replica is this process's presence.
func New(db *store.DB, replica *store.Presence, opts Options) (*Pipeline, error) {
	if opts.AgentID == "" {
		return nil, errors.New("new pipeline: agent id is required")
	}

	if opts.MaxParallel <= 0 {
		opts.MaxParallel = 16
	}

	if opts.Responder == nil {
		opts.Responder = agent.Echo{}
	}

	if opts.Clock == nil {
		opts.Clock = clock.System{}
	}

	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}

	if opts.Metrics == nil {
		opts.Metrics = metrics.New()
	}

	if opts.AdoptInterval <= 0 {
		opts.AdoptInterval = 5 * time.Second
	}

	if opts.TypingDelay <= 0 {
		opts.TypingDelay = 300 * time.Millisecond
	}

	if opts.GroupReply == "" {
		opts.GroupReply = access.GroupReplyMention
	}

	p := &Pipeline{
		db:        db,
		agentID:   opts.AgentID,
		agentName: opts.AgentName,
		replica:   replica,
		policy:    access.NewPolicy(db, opts.AgentID, opts.Owners, opts.GroupReply),
		commands:  command.NewRegistry(),
		responder: opts.Responder,
		clock:     opts.Clock,
		log:       opts.Logger.With("component", "pipeline"),
		metrics:   opts.Metrics,
		opts:      opts,
		adapters:  make(map[core.Channel]core.Adapter),
		runErr:    make(map[core.Channel]string),
	}

	p.sched = newScheduler(opts.MaxParallel, p.log, p.loadPending, p.process)
	p.inbox = store.NewBatcher(db, 256, p.storeArrivals, p.handOver)
	p.answers = store.NewBatcher(db, 256, p.recordAnswers, nil)

	if err := p.registerBuiltins(); err != nil {
		return nil, err
	}

	return p, nil
}

// Register adds a messenger adapter. Call it before Run.
func (p *Pipeline) Register(a core.Adapter) error {
	ch := a.Channel()
	if _, dup := p.adapters[ch]; dup {
		return fmt.Errorf("register adapter: channel %q already has one", ch)
	}

	p.adapters[ch] = a

	if sa, ok := a.(core.SenderAuthenticator); ok && sa.AuthenticatesSenders() {
		p.policy.Trust(ch)
	}

	// Export every counter at zero from the start, so that rates work
	// from the first scrape.
	for _, c := range []*prometheus.CounterVec{p.metrics.Received, p.metrics.Deduplicated,
		p.metrics.Answered, p.metrics.Sent, p.metrics.Failed} {
		c.WithLabelValues(string(ch))
	}

	return nil
}

// Poke tells the outbox deliverer that rows written outside the pipeline
// are waiting. It never blocks.
func (p *Pipeline) Poke() { p.deliverer.Poke() }

// Limit returns how the channel's adapter bounds one message, for callers
// that write to the outbox themselves.
func (p *Pipeline) Limit(ch core.Channel) outbox.Limit {
	return outbox.LimitOf(p.adapters[ch])
}

// SetMaxParallel changes how many sessions are worked on at once while the
// pipeline runs. A smaller bound takes effect as sessions finish; no
// message is dropped or interrupted. It returns at once.
func (p *Pipeline) SetMaxParallel(n int) {
	go p.sched.setParallel(n)
}

// Commands returns the command registry, for registering more commands
// before Run.
func (p *Pipeline) Commands() *command.Registry { return p.commands }

// Adapters returns the registered adapters by channel. The map must not be
// changed.
func (p *Pipeline) Adapters() map[core.Channel]core.Adapter { return p.adapters }

// Run starts the deliverer, adopts unfinished work, starts the adapters,
// and blocks until ctx ends. It then stops the adapters, lets the messages
// being worked on finish or be left for the next start, and returns.
func (p *Pipeline) Run(ctx context.Context) error {
	p.started = p.clock.Now()
	p.deliverer = outbox.NewDeliverer(p.db, p.deliveryConfig(), p.adapters, p.clock,
		p.opts.Logger, p.metrics)

	var wg sync.WaitGroup

	workCtx, stopWork := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWork()

	wg.Go(func() { _ = p.deliverer.Run(workCtx) })

	p.sched.start(workCtx)

	if err := p.adopt(ctx); err != nil {
		stopWork()
		wg.Wait()

		return fmt.Errorf("adopt unfinished work: %w", err)
	}

	p.registerCommandMenus(ctx)

	adapterCtx, stopAdapters := context.WithCancel(ctx)
	defer stopAdapters()

	for ch, a := range p.adapters {
		wg.Go(func() { p.runAdapter(adapterCtx, ch, a) })
	}

	if p.db.Kind == store.Postgres {
		wg.Go(func() { p.adoptLoop(adapterCtx) })
	}

	p.log.Info("pipeline started", "adapters", len(p.adapters),
		"max_parallel", p.opts.MaxParallel, "responder", p.responder.Name())

	<-ctx.Done()
	stopAdapters()
	stopWork()
	p.sched.wait()
	wg.Wait()
	p.log.Info("pipeline stopped")

	return nil
}

func (p *Pipeline) deliveryConfig() outbox.DelivererConfig {
	cfg := p.opts.Outbox
	cfg.AgentID = p.agentID
	cfg.Replica = p.replica

	return cfg
}

// runAdapter runs one adapter and restarts it with backoff when it fails.
func (p *Pipeline) runAdapter(ctx context.Context, ch core.Channel, a core.Adapter) {
	log := p.log.With("channel", string(ch))

	for attempt := 1; ctx.Err() == nil; attempt++ {
		log.Info("adapter starting")

		err := a.Run(ctx, p)
		if ctx.Err() != nil {
			break
		}

		p.healthMu.Lock()
		p.runErr[ch] = fmt.Sprint(err)
		p.healthMu.Unlock()

		wait := outbox.Backoff(attempt, time.Minute)
		log.Error("adapter stopped, restarting", "err", err, "retry_in", wait.String())
		sleep(ctx, wait)
	}

	log.Info("adapter stopped")
}

func (p *Pipeline) registerCommandMenus(ctx context.Context) {
	infos := p.commands.Infos()

	for ch, a := range p.adapters {
		cr, ok := a.(core.CommandRegistrar)
		if !ok {
			continue
		}

		if err := cr.RegisterCommands(ctx, infos); err != nil {
			p.log.Warn("register command menu", "channel", string(ch), "err", err)
		}
	}
}

// Health returns every adapter's health; an adapter whose Run failed
// carries that error when it reports none of its own.
func (p *Pipeline) Health() map[core.Channel]core.Health {
	out := make(map[core.Channel]core.Health, len(p.adapters))

	p.healthMu.Lock()
	defer p.healthMu.Unlock()

	for ch, a := range p.adapters {
		h := a.Health()
		if h.LastError == "" {
			h.LastError = p.runErr[ch]
		}

		out[ch] = h
	}

	return out
}

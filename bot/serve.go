package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/switchboardhq/switchboard/adapters/telegram"
	"github.com/switchboardhq/switchboard/adapters/webhook"
	"github.com/switchboardhq/switchboard/core"
	"github.com/switchboardhq/switchboard/core/access"
	"github.com/switchboardhq/switchboard/core/agent"
	"github.com/switchboardhq/switchboard/core/automation"
	"github.com/switchboardhq/switchboard/core/config"
	"github.com/switchboardhq/switchboard/core/logtail"
	"github.com/switchboardhq/switchboard/core/metrics"
	"github.com/switchboardhq/switchboard/core/outbox"
	"github.com/switchboardhq/switchboard/core/pipeline"
	"github.com/switchboardhq/switchboard/core/store"
	"github.com/switchboardhq/switchboard/httpapi"
)

func cmdServe(ctx context.Context, args []string, stderr io.Writer) error {
	path, rest, err := flags("serve", args, nil)
	if err != nil {
		return err
	}

	if len(rest) > 0 {
		return usageError{fmt.Sprintf("serve: unexpected argument %q", rest[0])}
	}

	cfg, err := config.Load(path, os.Environ())
	if err != nil {
		return err
	}

	tail := logtail.New(stderr, logLines)
	log := newLoggerTo(cfg.Log, stderr, tail)

	return serve(ctx, cfg, log, tail)
}

// logLines is how many log lines the status route can show.
const logLines = 200

// serve runs the gateway until ctx ends; tail holds its recent log lines.
func serve(ctx context.Context, cfg config.Config, log *slog.Logger, tail *logtail.Writer,
) error {
	db, unlock, err := openStore(ctx, cfg, log, lockRequired)
	if err != nil {
		return err
	}
	defer unlock()
	defer db.Close()

	presence, err := db.Announce(ctx, store.NewReplicaID())
	if err != nil {
		return err
	}
	defer presence.Close()

	m := metrics.New()

	// The pipeline is made after the agent, whose settings may change the
	// pipeline's size, so the resize goes through a variable set below.
	var p *pipeline.Pipeline

	parts, err := newAgent(ctx, cfg, db, log, func(n int) {
		if p != nil {
			p.SetMaxParallel(n)
		}
	})
	if err != nil {
		return err
	}

	eff := parts.live.Config()

	// Triggers watch every message; the engine needs the pipeline's
	// outbox, so it is set once both exist.
	var engine *automation.Engine

	observe := func(ctx context.Context, msg core.Inbound, inboundID int64) {
		if engine != nil {
			engine.Observe(ctx, msg, inboundID)
		}
	}

	p, err = newPipeline(db, presence, eff, log, m, parts.live.Responder(), observe)
	if err != nil {
		return err
	}

	if engine, err = newAutomations(eff, db, p, parts, presence.ID, log); err != nil {
		return err
	}

	api, err := newAPI(cfg, db, parts, p, engine, tail, log)
	if err != nil {
		return err
	}

	adapters, err := registerAdapters(p, cfg, api, db, presence.ID, log)
	if err != nil {
		return err
	}

	srv, ln, err := listen(cfg, db, m, adapters, api, log)
	if err != nil {
		return err
	}

	srvErr := make(chan error, 1)

	go func() { srvErr <- srv.Serve(ln) }()

	pipeCtx, stopPipeline := context.WithCancel(context.WithoutCancel(ctx))
	pipeDone := make(chan error, 1)

	go func() { pipeDone <- p.Run(pipeCtx) }()

	engineDone := make(chan error, 1)

	go func() { engineDone <- engine.Run(pipeCtx) }()

	log.Info("gateway started", "http_addr", ln.Addr().String(), "database", string(db.Kind),
		"replica", presence.ID, "agent_id", cfg.Agent.ID)

	select {
	case <-ctx.Done():
		log.Info("stopping")
	case err := <-srvErr:
		log.Error("http server failed", "err", err)
	case err := <-pipeDone:
		stopPipeline()
		return fmt.Errorf("pipeline stopped: %w", err)
	}

	shutCtx, cancel := context.WithTimeout(context.Background(), cfg.HTTP.ShutdownTimeout)
	defer cancel()

	if err := srv.Shutdown(shutCtx); err != nil {
		log.Warn("http shutdown", "err", err)
	}

	stopPipeline()

	if err := <-pipeDone; err != nil {
		log.Error("pipeline", "err", err)
	}

	if err := <-engineDone; err != nil {
		log.Error("automations", "err", err)
	}

	log.Info("gateway stopped")

	return nil
}

// listen opens the HTTP listener with health, readiness, metrics and the
// adapters' webhooks.
func listen(cfg config.Config, db *store.DB, m *metrics.Metrics, adapters []core.Adapter,
	api *httpapi.API, log *slog.Logger,
) (*http.Server, net.Listener, error) {
	migrator, err := store.NewMigrator(db)
	if err != nil {
		return nil, nil, err
	}

	handler := httpapi.New(httpapi.Deps{
		Ready:    readiness{db: db, migrator: migrator},
		Registry: m.Registry,
		Mounts:   mounts(adapters),
		API:      api,
		Logger:   log,
	})

	ln, err := net.Listen("tcp", cfg.HTTP.Addr)
	if err != nil {
		return nil, nil, fmt.Errorf("listen on http.addr %s: %w", cfg.HTTP.Addr, err)
	}

	return &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}, ln, nil
}

func newPipeline(db *store.DB, presence *store.Presence, cfg config.Config, log *slog.Logger,
	m *metrics.Metrics, responder agent.Responder,
	observe func(context.Context, core.Inbound, int64),
) (*pipeline.Pipeline, error) {
	var owners []access.Owner
	for _, o := range cfg.Access.ParsedOwners() {
		owners = append(owners, access.Owner{Channel: core.Channel(o.Channel),
			UserID: core.UserID(o.UserID)})
	}

	return pipeline.New(db, presence, pipeline.Options{
		AgentID:     cfg.Agent.ID,
		AgentName:   cfg.Agent.Name,
		MaxParallel: cfg.Agent.MaxParallel,
		Owners:      owners,
		GroupReply:  access.GroupReply(cfg.Access.GroupReply),
		Responder:   responder,
		Outbox: outbox.DelivererConfig{
			MaxAttempts: cfg.Outbox.MaxAttempts,
			MaxBackoff:  cfg.Outbox.MaxBackoff,
		},
		Observe: observe,
		Logger:  log,
		Metrics: m,
	})
}

// registerAdapters creates the configured messenger adapters; the API's
// web adapter is always there.
func registerAdapters(p *pipeline.Pipeline, cfg config.Config, api *httpapi.API,
	db *store.DB, replica string, log *slog.Logger,
) ([]core.Adapter, error) {
	adapters := []core.Adapter{api}

	if cfg.Webhook.DeliverURL != "" {
		adapters = append(adapters, webhook.New(webhook.Config{
			DeliverURL: cfg.Webhook.DeliverURL,
			Secret:     cfg.Webhook.Secret,
		}))
	}

	if cfg.Telegram.Token != "" {
		tg, err := telegram.New(telegram.Config{
			Token:         cfg.Telegram.Token,
			APIEndpoint:   cfg.Telegram.APIEndpoint,
			Mode:          cfg.Telegram.Mode,
			WebhookURL:    cfg.Telegram.WebhookURL,
			WebhookSecret: cfg.Telegram.WebhookSecret,
			DB:            db,
			AgentID:       cfg.Agent.ID,
			ReplicaID:     replica,
			Logger:        log,
		})
		if err != nil {
			return nil, fmt.Errorf("telegram: %w", err)
		}

		adapters = append(adapters, tg)
	}

	for _, a := range adapters {
		if err := p.Register(a); err != nil {
			return nil, err
		}
	}

	return adapters, nil
}

func mounts(adapters []core.Adapter) []httpapi.Mount {
	var out []httpapi.Mount

	for _, a := range adapters {
		if hr, ok := a.(core.HTTPReceiver); ok {
			pattern, h := hr.HTTPHandler()
			out = append(out, httpapi.Mount{Pattern: pattern, Handler: h})
		}
	}

	return out
}

// readiness checks the database for /readyz.
type readiness struct {
	db       *store.DB
	migrator *store.Migrator
}

func (r readiness) Ping(ctx context.Context) error { return r.db.PingContext(ctx) }

func (r readiness) PendingMigrations(ctx context.Context) (int, error) {
	return r.migrator.Pending(ctx)
}

// lockMode says whether a command must hold the SQLite file lock.
type lockMode int

const (
	// lockRequired fails when another process holds the lock (serve,
	// migrations).
	lockRequired lockMode = iota
	// lockShared migrates only when no gateway runs, and otherwise works
	// beside the running one (pair, token).
	lockShared
)

// openStore opens the configured database and brings its schema up to
// date. On SQLite it takes the file lock first; the returned function
// releases it.
func openStore(ctx context.Context, cfg config.Config, log *slog.Logger, mode lockMode,
) (*store.DB, func(), error) {
	unlock := func() {}
	migrate := true

	if path := cfg.SQLitePath(); path != "" {
		lock, err := store.LockDatabaseFile(path)

		switch {
		case err == nil:
			unlock = func() { _ = lock.Unlock() }
		case errors.Is(err, store.ErrLocked) && mode == lockShared:
			migrate = false // the running gateway has migrated
		default:
			return nil, nil, err
		}
	}

	db, err := store.Open(ctx, store.Options{
		URL:               databaseURL(cfg),
		MaxOpenConns:      cfg.Database.MaxOpenConns,
		SQLiteSynchronous: cfg.Database.SQLiteSynchronous,
	})
	if err != nil {
		unlock()
		return nil, nil, fmt.Errorf("database.url: %w", err)
	}

	if migrate {
		if err := migrateUp(ctx, db, log); err != nil {
			_ = db.Close()
			unlock()

			return nil, nil, err
		}
	}

	return db, unlock, nil
}

func databaseURL(cfg config.Config) string {
	if path := cfg.SQLitePath(); path != "" {
		return "sqlite:" + path
	}

	return cfg.Database.URL
}

func migrateUp(ctx context.Context, db *store.DB, log *slog.Logger) error {
	m, err := store.NewMigrator(db)
	if err != nil {
		return err
	}

	applied, err := m.Up(ctx)
	if err != nil {
		return err
	}

	for _, name := range applied {
		log.Info("migration applied", "migration", name)
	}

	return nil
}

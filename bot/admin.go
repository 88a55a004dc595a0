package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"time"

	"github.com/uptrace/bun"

	"github.com/switchboardhq/switchboard/core"
	"github.com/switchboardhq/switchboard/core/access"
	"github.com/switchboardhq/switchboard/core/config"
	"github.com/switchboardhq/switchboard/core/outbox"
	"github.com/switchboardhq/switchboard/core/store"
	"github.com/switchboardhq/switchboard/core/token"
	"github.com/switchboardhq/switchboard/httpapi/auth"
)

// loadAdmin reads the configuration for a one-shot command.
func loadAdmin(path string, stderr io.Writer) (config.Config, *slog.Logger, error) {
	cfg, err := config.Load(path, os.Environ())
	if err != nil {
		return cfg, nil, err
	}

	return cfg, newLogger(cfg.Log, stderr), nil
}

// openAdmin opens the database for a command that works beside a running
// gateway; the returned function closes it.
func openAdmin(ctx context.Context, path string, stderr io.Writer,
) (config.Config, *store.DB, func(), error) {
	cfg, log, err := loadAdmin(path, stderr)
	if err != nil {
		return cfg, nil, nil, err
	}

	db, unlock, err := openStore(ctx, cfg, log, lockShared)
	if err != nil {
		return cfg, nil, nil, err
	}

	return cfg, db, func() {
		_ = db.Close()
		unlock()
	}, nil
}

func cmdMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	path, rest, err := flags("migrate", args, nil)
	if err != nil {
		return err
	}

	if len(rest) != 1 {
		return usageError{"migrate: want one of up, down, status"}
	}

	cfg, log, err := loadAdmin(path, stderr)
	if err != nil {
		return err
	}

	unlock := func() {}

	if p := cfg.SQLitePath(); p != "" && rest[0] != "status" {
		lock, err := store.LockDatabaseFile(p)
		if err != nil {
			return fmt.Errorf("%w (stop the gateway before migrating)", err)
		}

		unlock = func() { _ = lock.Unlock() }
	}
	defer unlock()

	db, err := store.Open(ctx, store.Options{URL: databaseURL(cfg)})
	if err != nil {
		return fmt.Errorf("database.url: %w", err)
	}
	defer db.Close()

	m, err := store.NewMigrator(db)
	if err != nil {
		return err
	}

	switch rest[0] {
	case "up":
		names, err := m.Up(ctx)
		report(stdout, "applied", names)
		log.Debug("migrate up done", "count", len(names))

		return err
	case "down":
		names, err := m.Down(ctx)
		report(stdout, "rolled back", names)

		return err
	case "status":
		st, err := m.Status(ctx)
		for _, s := range st {
			state := "pending"
			if s.Applied {
				state = "applied"
			}

			fmt.Fprintf(stdout, "%-8s %s\n", state, s.Name)
		}

		return err
	default:
		return usageError{fmt.Sprintf("migrate: unknown action %q", rest[0])}
	}
}

func report(w io.Writer, verb string, names []string) {
	if len(names) == 0 {
		fmt.Fprintf(w, "nothing %s\n", verb)
	}

	for _, n := range names {
		fmt.Fprintf(w, "%s %s\n", verb, n)
	}
}

func cmdPair(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	path, rest, err := flags("pair", args, nil)
	if err != nil {
		return err
	}

	switch {
	case len(rest) == 1 && rest[0] == "list":
	case len(rest) == 2 && rest[0] == "approve":
	default:
		return usageError{"pair: want 'list' or 'approve CODE'"}
	}

	cfg, db, closeDB, err := openAdmin(ctx, path, stderr)
	if err != nil {
		return err
	}
	defer closeDB()

	now := time.Now().UTC()

	if rest[0] == "list" {
		reqs, err := access.Pending(ctx, db, cfg.Agent.ID, now)
		if err != nil {
			return err
		}

		for _, r := range reqs {
			fmt.Fprintf(stdout, "%s  %s:%s  %s  expires in %s\n", r.Code, r.Channel, r.UserID,
				r.UserName, r.ExpiresAt.Sub(now).Round(time.Minute))
		}

		if len(reqs) == 0 {
			fmt.Fprintln(stdout, "no pairing requests are waiting")
		}

		return nil
	}

	return approve(ctx, db, cfg, rest[1], now, stdout)
}

// approve allows the person behind code and tells them, through the
// outbox, so that the running gateway delivers it.
func approve(ctx context.Context, db *store.DB, cfg config.Config, code string, now time.Time,
	stdout io.Writer,
) error {
	var req *access.PairingRequest

	err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		var err error

		req, err = access.Approve(ctx, tx, cfg.Agent.ID, code, now)
		if err != nil {
			return err
		}

		_, err = outbox.Enqueue(ctx, tx, cfg.Agent.ID, outbox.Answer{
			To:   core.Conversation{Channel: req.Channel, ChatID: req.ChatID},
			Text: "You're approved. Go ahead, I'm listening.",
		}, outbox.Limit{Max: core.DefaultTextLimit}, now)

		return err
	})

	switch {
	case errors.Is(err, access.ErrUnknownCode), errors.Is(err, access.ErrExpiredCode):
		return fmt.Errorf("pair approve %s: %w", code, err)
	case err != nil:
		return err
	}

	fmt.Fprintf(stdout, "approved %s:%s %s\n", req.Channel, req.UserID, req.UserName)

	return nil
}

func cmdToken(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && (args[0] == "list" || args[0] == "revoke") {
		return cmdTokenManage(ctx, args, stdout, stderr)
	}

	if len(args) == 0 || args[0] != "create" {
		return usageError{"token: want 'create --name NAME [--user USER]', 'list' or " +
			"'revoke ID'"}
	}

	var name, user string

	path, rest, err := flags("token create", args[1:], func(fs *flag.FlagSet) {
		fs.StringVar(&name, "name", "", "a name for the token")
		fs.StringVar(&user, "user", token.DefaultUser, "the user the token acts as")
	})
	if err != nil {
		return err
	}

	if len(rest) > 0 {
		return usageError{fmt.Sprintf("token create: unexpected argument %q", rest[0])}
	}

	if name == "" {
		return usageError{"token create: --name is required"}
	}

	cfg, db, closeDB, err := openAdmin(ctx, path, stderr)
	if err != nil {
		return err
	}
	defer closeDB()

	secret, err := token.Create(ctx, db, cfg.Agent.ID, user, name, time.Now().UTC())
	if err != nil {
		return fmt.Errorf("token create: %w", err)
	}

	// The token alone goes to stdout, so that a script can capture it.
	fmt.Fprintf(stderr, "token %q for user %s of agent %s; it is shown only once:\n",
		name, user, cfg.Agent.ID)
	fmt.Fprintln(stdout, secret)

	return nil
}

// cmdTokenManage lists the API tokens, or revokes one by its id together
// with the dashboard logins of its user, which may have been made with it.
func cmdTokenManage(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	verb := args[0]

	path, rest, err := flags("token "+verb, args[1:], func(*flag.FlagSet) {})
	if err != nil {
		return err
	}

	var id int64

	switch {
	case verb == "list" && len(rest) != 0:
		return usageError{"token list: takes no argument"}
	case verb == "revoke" && len(rest) != 1:
		return usageError{"token revoke: want the token's ID, as token list shows it"}
	case verb == "revoke":
		id, err = strconv.ParseInt(rest[0], 10, 64)
		if err != nil || id <= 0 {
			return usageError{fmt.Sprintf("token revoke: ID must be a positive number, got %q",
				rest[0])}
		}
	}

	cfg, db, closeDB, err := openAdmin(ctx, path, stderr)
	if err != nil {
		return err
	}
	defer closeDB()

	if verb == "list" {
		return listTokens(ctx, db, cfg.Agent.ID, stdout)
	}

	return revokeToken(ctx, db, cfg.Agent.ID, id, stdout)
}

// listTokens prints the agent's tokens, a line each.
func listTokens(ctx context.Context, db *store.DB, agentID string, stdout io.Writer) error {
	tokens, err := token.List(ctx, db, agentID)
	if err != nil {
		return fmt.Errorf("token list: %w", err)
	}

	if len(tokens) == 0 {
		fmt.Fprintln(stdout, "no API tokens; bot token create --name NAME makes one")
		return nil
	}

	for _, t := range tokens {
		used := "never used"
		if !t.LastUsedAt.IsZero() {
			used = "last used " + t.LastUsedAt.Time.UTC().Format(time.RFC3339)
		}

		fmt.Fprintf(stdout, "%d\t%s\tuser %s\tcreated %s\t%s\n", t.ID, t.Name, t.UserID,
			t.CreatedAt.UTC().Format(time.RFC3339), used)
	}

	return nil
}

// revokeToken deletes a token and ends its user's dashboard logins, in
// one transaction.
func revokeToken(ctx context.Context, db *store.DB, agentID string, id int64,
	stdout io.Writer,
) error {
	var (
		t      *token.Token
		logins int
	)

	err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		var err error
		if t, err = token.Revoke(ctx, tx, agentID, id); err != nil {
			return err
		}

		logins, err = auth.EndLogins(ctx, tx, agentID, t.UserID)

		return err
	})
	if errors.Is(err, token.ErrNotFound) {
		return fmt.Errorf("token revoke: no token %d; token list shows them", id)
	}

	if err != nil {
		return fmt.Errorf("token revoke: %w", err)
	}

	fmt.Fprintf(stdout, "revoked token %d %q of user %s; ended %d dashboard logins of %s\n",
		t.ID, t.Name, t.UserID, logins, t.UserID)

	return nil
}

// Package store opens the gateway's database with bun, on SQLite (the
// embedded default) or PostgreSQL, runs the embedded migrations, and keeps a
// second process off a SQLite file. The SQL that differs between the two
// dialects lives here, behind small helpers, so the concept packages write
// their queries once.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
	"github.com/uptrace/bun/dialect/sqlitedialect"
	"github.com/uptrace/bun/driver/sqliteshim"
)

// Dialect names a supported database.
type Dialect string

// The supported dialects.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// Options says which database to open and how.
type Options struct {
	// URL is "postgres://..." or "postgresql://..." for PostgreSQL; anything
	// else is taken as a SQLite path, with an optional "sqlite:" prefix.
	URL string
	// MaxOpenConns bounds the PostgreSQL pool. SQLite always gets one
	// connection, so that writers queue in Go instead of failing busy.
	MaxOpenConns int
	// SQLiteSynchronous is "normal" or "full"; see the README on durability.
	SQLiteSynchronous string
}

// DB is an open database with its dialect.
type DB struct {
	*bun.DB
	Kind Dialect
}

// IsPostgresURL reports whether url selects PostgreSQL.
func IsPostgresURL(u string) bool {
	return strings.HasPrefix(u, "postgres://") || strings.HasPrefix(u, "postgresql://")
}

// Open connects to the database and checks that it answers. It does not
// migrate.
func Open(ctx context.Context, opts Options) (*DB, error) {
	var db *DB

	if IsPostgresURL(opts.URL) {
		sqldb, err := sql.Open("pgx", opts.URL)
		if err != nil {
			return nil, fmt.Errorf("open postgres: %w", err)
		}

		if opts.MaxOpenConns > 0 {
			sqldb.SetMaxOpenConns(opts.MaxOpenConns)
			sqldb.SetMaxIdleConns(opts.MaxOpenConns)
		}

		db = &DB{DB: bun.NewDB(sqldb, pgdialect.New()), Kind: Postgres}
	} else {
		path := strings.TrimPrefix(opts.URL, "sqlite:")
		if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
			return nil, fmt.Errorf("create database directory: %w", err)
		}

		sqldb, err := sql.Open(sqliteshim.ShimName, sqliteDSN(path, opts.SQLiteSynchronous))
		if err != nil {
			return nil, fmt.Errorf("open sqlite %s: %w", path, err)
		}

		sqldb.SetMaxOpenConns(1)
		sqldb.SetMaxIdleConns(1)
		sqldb.SetConnMaxLifetime(0)
		db = &DB{DB: bun.NewDB(sqldb, sqlitedialect.New()), Kind: SQLite}
	}

	pingCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()

	if err := db.PingContext(pingCtx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("reach %s database at %s: %w", db.Kind, Redact(opts.URL), err)
	}

	return db, nil
}

func sqliteDSN(path, synchronous string) string {
	if synchronous == "" {
		synchronous = "normal"
	}

	q := url.Values{}
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "busy_timeout(5000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous("+strings.ToUpper(synchronous)+")")
	// Checkpoint every 250 pages instead of SQLite's 1000: the commit that
	// crosses the mark copies the log into the database and syncs both,
	// which with 1000 pages held every writer up for 15 ms or more.
	q.Add("_pragma", "wal_autocheckpoint(250)")
	q.Add("_txlock", "immediate")

	return "file:" + path + "?" + q.Encode()
}

// Redact hides the password of a database URL for logs and errors.
func Redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw
	}

	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}

	return u.String()
}

// Exclusive reports whether this process is the only gateway on the
// database: true for SQLite, whose file lock keeps others out, so work
// needs no lease against other replicas.
func (db *DB) Exclusive() bool {
	return db.Kind == SQLite
}

// ErrNotFound is returned by lookups that found no row.
var ErrNotFound = errors.New("not found")

// XactLock serialises transactions that take the same key until tx ends.
// On PostgreSQL it is a transaction-scoped advisory lock; on SQLite every
// write transaction is already serialised, so it does nothing.
func (db *DB) XactLock(ctx context.Context, tx bun.IDB, key string) error {
	if db.Kind != Postgres {
		return nil
	}

	if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(hashtext(?))", key); err != nil {
		return fmt.Errorf("lock %q: %w", key, err)
	}

	return nil
}

package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/switchboardhq/switchboard/migrations"
)

// migrateLockKey is the PostgreSQL advisory lock that serialises migrations
// between replicas starting together.
const migrateLockKey = 7_221_004_001

// MigrationStatus is one migration and whether it is applied.
type MigrationStatus struct {
	Name    string
	Applied bool
}

// migration is one numbered migration: its up and down SQL.
type migration struct {
	name     string // "20261203000001_foundation"
	up, down []string
}

// Migrator runs the embedded migrations of one database. Files are named
// <number>_<name>.tx.up.sql and .tx.down.sql; a line "--bun:split"
// separates statements. Each migration runs in its own transaction, which
// also records it in schema_migrations, so a failing migration leaves
// nothing behind and is not marked applied.
//
// It is written here rather than taken from bun/migrate, which imports
// text/template: a program that can call methods by name at run time
// keeps the linker from dropping unused methods, which with the model
// SDKs' thousands of types tripled the executable and its memory.
type Migrator struct {
	db  *DB
	all []migration
}

// NewMigrator prepares the embedded migrations for db's dialect.
func NewMigrator(db *DB) (*Migrator, error) {
	files := migrations.SQLite()
	if db.Kind == Postgres {
		files = migrations.Postgres()
	}

	return NewMigratorFS(db, files)
}

// NewMigratorFS prepares the migrations in files; tests use it to run
// migrations that fail.
func NewMigratorFS(db *DB, files fs.FS) (*Migrator, error) {
	names, err := fs.Glob(files, "*.sql")
	if err != nil {
		return nil, fmt.Errorf("list migrations: %w", err)
	}

	byName := make(map[string]*migration)

	for _, file := range names {
		base, dir, ok := parseFileName(file)
		if !ok {
			return nil, fmt.Errorf("migration file %s: want NUMBER_NAME.tx.up.sql "+
				"or NUMBER_NAME.tx.down.sql", file)
		}

		data, err := fs.ReadFile(files, file)
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", file, err)
		}

		m := byName[base]
		if m == nil {
			m = &migration{name: base}
			byName[base] = m
		}

		if dir == "up" {
			m.up = splitStatements(string(data))
		} else {
			m.down = splitStatements(string(data))
		}
	}

	all := make([]migration, 0, len(byName))
	for _, m := range byName {
		all = append(all, *m)
	}

	slices.SortFunc(all, func(a, b migration) int { return strings.Compare(a.name, b.name) })

	return &Migrator{db: db, all: all}, nil
}

// parseFileName splits "1_name.tx.up.sql" into "1_name" and "up".
func parseFileName(file string) (base, dir string, ok bool) {
	name := path.Base(file)

	for _, d := range []string{"up", "down"} {
		if b, found := strings.CutSuffix(name, ".tx."+d+".sql"); found {
			num, _, _ := strings.Cut(b, "_")
			return b, d, num != "" && strings.Trim(num, "0123456789") == ""
		}
	}

	return "", "", false
}

// splitStatements splits a migration file at its "--bun:split" lines.
func splitStatements(sql string) []string {
	var out []string

	for part := range strings.SplitSeq(sql, "\n--bun:split\n") {
		if s := strings.TrimSpace(part); s != "" {
			out = append(out, s)
		}
	}

	return out
}

// Up applies every pending migration, each in its own transaction, and
// returns their names. On PostgreSQL it holds an advisory lock, so
// replicas starting together migrate one after the other instead of
// racing.
func (m *Migrator) Up(ctx context.Context) ([]string, error) {
	var names []string

	err := m.locked(ctx, func() error {
		applied, group, err := m.applied(ctx)
		if err != nil {
			return err
		}

		for _, mg := range m.all {
			if _, ok := applied[mg.name]; ok {
				continue
			}

			err := m.inTx(ctx, mg.up, "INSERT INTO schema_migrations (name, group_id, "+
				"applied_at) VALUES ($1, $2, $3)", mg.name, group+1, time.Now().UTC())
			if err != nil {
				return fmt.Errorf("apply migration %s: %w", mg.name, err)
			}

			names = append(names, mg.name)
		}

		return nil
	})

	return names, err
}

// Down rolls back the most recent group of migrations (those one Up
// applied), newest first, and returns their names.
func (m *Migrator) Down(ctx context.Context) ([]string, error) {
	var names []string

	err := m.locked(ctx, func() error {
		applied, group, err := m.applied(ctx)
		if err != nil {
			return err
		}

		for _, mg := range slices.Backward(m.all) {
			if g, ok := applied[mg.name]; !ok || g != group {
				continue
			}

			err := m.inTx(ctx, mg.down, "DELETE FROM schema_migrations WHERE name = $1",
				mg.name)
			if err != nil {
				return fmt.Errorf("roll back migration %s: %w", mg.name, err)
			}

			names = append(names, mg.name)
		}

		return nil
	})

	return names, err
}

// Status lists every known migration in order with whether it is applied.
func (m *Migrator) Status(ctx context.Context) ([]MigrationStatus, error) {
	var out []MigrationStatus

	err := m.locked(ctx, func() error {
		applied, _, err := m.applied(ctx)
		if err != nil {
			return err
		}

		for _, mg := range m.all {
			_, ok := applied[mg.name]
			out = append(out, MigrationStatus{Name: mg.name, Applied: ok})
		}

		return nil
	})

	return out, err
}

// Pending returns how many migrations are not applied yet; all of them on
// a database that was never migrated. Readiness checks call it; it writes
// nothing.
func (m *Migrator) Pending(ctx context.Context) (int, error) {
	applied, _, err := m.applied(ctx)
	if err != nil {
		return 0, err
	}

	n := 0
	for _, mg := range m.all {
		if _, ok := applied[mg.name]; !ok {
			n++
		}
	}

	return n, nil
}

// applied reads the applied migrations with their group and the newest
// group. A database without the table has none.
func (m *Migrator) applied(ctx context.Context) (map[string]int64, int64, error) {
	rows, err := m.db.DB.DB.QueryContext(ctx, "SELECT name, group_id FROM schema_migrations")
	if err != nil {
		if m.tableMissing(ctx) {
			return map[string]int64{}, 0, nil
		}

		return nil, 0, fmt.Errorf("read applied migrations: %w", err)
	}
	defer rows.Close()

	out := make(map[string]int64)

	var last int64

	for rows.Next() {
		var (
			name  string
			group int64
		)

		if err := rows.Scan(&name, &group); err != nil {
			return nil, 0, fmt.Errorf("read applied migrations: %w", err)
		}

		out[name] = group
		last = max(last, group)
	}

	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("read applied migrations: %w", err)
	}

	return out, last, nil
}

func (m *Migrator) tableMissing(ctx context.Context) bool {
	q := "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'"
	if m.db.Kind == Postgres {
		q = "SELECT count(*) FROM pg_tables WHERE tablename = 'schema_migrations' " +
			"AND schemaname = current_schema()"
	}

	var n int

	err := m.db.DB.DB.QueryRowContext(ctx, q).Scan(&n)

	return err == nil && n == 0
}

// inTx runs stmts and then the bookkeeping statement in one transaction.
// record uses $1-style placeholders, which SQLite reads too.
func (m *Migrator) inTx(ctx context.Context, stmts []string, record string, args ...any,
) (err error) {
	tx, err := m.db.DB.DB.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}

	defer func() {
		if err != nil {
			err = errors.Join(err, ignoreDone(tx.Rollback()))
		}
	}()

	for _, s := range stmts {
		if _, err := tx.ExecContext(ctx, s); err != nil {
			return err
		}
	}

	if _, err := tx.ExecContext(ctx, record, args...); err != nil {
		return fmt.Errorf("record: %w", err)
	}

	return tx.Commit()
}

func ignoreDone(err error) error {
	if errors.Is(err, sql.ErrTxDone) {
		return nil
	}

	return err
}

// createTable makes the bookkeeping table if it is missing.
func (m *Migrator) createTable(ctx context.Context) error {
	ddl := `CREATE TABLE IF NOT EXISTS schema_migrations (
		name TEXT PRIMARY KEY,
		group_id BIGINT NOT NULL,
		applied_at TIMESTAMP NOT NULL)`
	if m.db.Kind == Postgres {
		ddl = strings.Replace(ddl, "TIMESTAMP", "TIMESTAMPTZ", 1)
	}

	if _, err := m.db.DB.DB.ExecContext(ctx, ddl); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}

	return nil
}

// locked runs fn after creating the bookkeeping table, under the advisory
// lock on PostgreSQL. SQLite needs no lock: one process holds the file.
func (m *Migrator) locked(ctx context.Context, fn func() error) error {
	if m.db.Kind != Postgres {
		if err := m.createTable(ctx); err != nil {
			return err
		}

		return fn()
	}

	conn, err := m.db.DB.DB.Conn(ctx)
	if err != nil {
		return fmt.Errorf("pin connection for migration lock: %w", err)
	}
	defer conn.Close()

	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", migrateLockKey); err != nil {
		return fmt.Errorf("take migration lock: %w", err)
	}

	defer func() {
		// A fresh context: the lock must go even when ctx was cancelled.
		_, _ = conn.ExecContext(context.Background(),
			"SELECT pg_advisory_unlock($1)", migrateLockKey)
	}()

	if err := m.createTable(ctx); err != nil {
		return err
	}

	return fn()
}

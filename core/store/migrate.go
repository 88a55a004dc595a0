package store

import (
	"context"
	"fmt"
	"io/fs"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/migrate"

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

// Migrator runs the embedded migrations of one database.
type Migrator struct {
	db  *DB
	fs  fs.FS
	mig *migrate.Migrator
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
	ms := migrate.NewMigrations()
	if err := ms.Discover(files); err != nil {
		return nil, fmt.Errorf("discover migrations: %w", err)
	}

	m := &Migrator{db: db, fs: files}
	m.mig = migrate.NewMigrator(db.DB, ms,
		migrate.WithMarkAppliedOnSuccess(true),
		migrate.WithUpsert(true),
		migrate.AfterMigration(markInTx),
	)

	return m, nil
}

// markInTx records an applied or rolled-back migration inside the
// migration's own transaction, so that a crash cannot leave a migration run
// but unrecorded. The migrator marks it again afterwards, which is a no-op.
func markInTx(ctx context.Context, conn bun.IConn, m *migrate.Migration) error {
	if m.ID != 0 {
		_, err := conn.ExecContext(ctx, "DELETE FROM bun_migrations WHERE name = ?", m.Name)
		if err != nil {
			return fmt.Errorf("unmark migration %s: %w", m.Name, err)
		}

		return nil
	}

	_, err := conn.ExecContext(ctx,
		"INSERT INTO bun_migrations (name, group_id, migrated_at) VALUES (?, ?, ?)",
		m.Name, m.GroupID, time.Now().UTC())
	if err != nil {
		return fmt.Errorf("mark migration %s: %w", m.Name, err)
	}

	return nil
}

// Up applies every pending migration and returns their names. On
// PostgreSQL it holds an advisory lock, so replicas starting together
// migrate one after the other instead of racing.
func (m *Migrator) Up(ctx context.Context) ([]string, error) {
	return m.runGroup(ctx, "apply migrations", m.mig.Migrate)
}

// Down rolls back the most recent group of migrations and returns their
// names.
func (m *Migrator) Down(ctx context.Context) ([]string, error) {
	return m.runGroup(ctx, "roll back migrations", m.mig.Rollback)
}

// runGroup runs one of bun's group operations under the lock and returns
// the names of the migrations it touched.
func (m *Migrator) runGroup(ctx context.Context, what string,
	op func(context.Context, ...migrate.MigrationOption) (*migrate.MigrationGroup, error),
) ([]string, error) {
	var names []string

	err := m.locked(ctx, func() error {
		group, err := op(ctx)
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}

		for _, mg := range group.Migrations {
			names = append(names, label(mg))
		}

		return nil
	})

	return names, err
}

// Status lists every known migration in order with whether it is applied.
func (m *Migrator) Status(ctx context.Context) ([]MigrationStatus, error) {
	var out []MigrationStatus

	err := m.locked(ctx, func() error {
		ms, err := m.mig.MigrationsWithStatus(ctx)
		if err != nil {
			return fmt.Errorf("read migration status: %w", err)
		}

		for _, mg := range ms {
			out = append(out, MigrationStatus{Name: label(mg), Applied: mg.IsApplied()})
		}

		return nil
	})

	return out, err
}

// Pending returns how many migrations are not applied yet. Readiness
// checks call it.
func (m *Migrator) Pending(ctx context.Context) (int, error) {
	ms, err := m.mig.MigrationsWithStatus(ctx)
	if err != nil {
		return 0, fmt.Errorf("read migration status: %w", err)
	}

	return len(ms.Unapplied()), nil
}

// locked runs fn after creating the migration tables, under the advisory
// lock on PostgreSQL. SQLite needs no lock: one process holds the file.
func (m *Migrator) locked(ctx context.Context, fn func() error) error {
	if m.db.Kind != Postgres {
		if err := m.mig.Init(ctx); err != nil {
			return fmt.Errorf("create migration tables: %w", err)
		}

		return fn()
	}

	conn, err := m.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("pin connection for migration lock: %w", err)
	}
	defer conn.Close()

	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock(?)", migrateLockKey); err != nil {
		return fmt.Errorf("take migration lock: %w", err)
	}

	defer func() {
		// A fresh context: the lock must go even when ctx was cancelled.
		_, _ = conn.ExecContext(context.Background(),
			"SELECT pg_advisory_unlock(?)", migrateLockKey)
	}()

	if err := m.mig.Init(ctx); err != nil {
		return fmt.Errorf("create migration tables: %w", err)
	}

	return fn()
}

// label names a migration as its files do: number and comment.
func label(mg migrate.Migration) string {
	if mg.Comment == "" {
		return mg.Name
	}

	return mg.Name + "_" + mg.Comment
}

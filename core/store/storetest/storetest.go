// Package storetest gives tests a fresh, migrated database on SQLite and,
// when BOT_TEST_DATABASE_URL names a PostgreSQL server, on PostgreSQL, so
// that one suite runs on both dialects.
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/switchboardhq/switchboard/core/store"
)

// EnvPostgres names the variable that holds the PostgreSQL URL for tests.
const EnvPostgres = "BOT_TEST_DATABASE_URL"

// Dialects returns the dialects to test: SQLite always, PostgreSQL when
// EnvPostgres is set.
func Dialects() []store.Dialect {
	if os.Getenv(EnvPostgres) == "" {
		return []store.Dialect{store.SQLite}
	}

	return []store.Dialect{store.SQLite, store.Postgres}
}

// Each runs fn as a subtest per dialect. Without EnvPostgres the
// PostgreSQL subtest is skipped with a message that says so.
func Each(t *testing.T, fn func(t *testing.T, kind store.Dialect)) {
	t.Helper()

	for _, kind := range []store.Dialect{store.SQLite, store.Postgres} {
		t.Run(string(kind), func(t *testing.T) {
			if kind == store.Postgres && os.Getenv(EnvPostgres) == "" {
				t.Skip("PostgreSQL suite skipped: set " + EnvPostgres +
					" (make test sets it) to run it")
			}

			fn(t, kind)
		})
	}
}

// URL returns a database URL of a fresh, empty database of the given kind
// for this test: a SQLite file in t.TempDir, or a new PostgreSQL schema that
// is dropped when the test ends.
func URL(t testing.TB, kind store.Dialect) string {
	t.Helper()

	if kind == store.SQLite {
		return "sqlite:" + filepath.Join(t.TempDir(), "bot.db")
	}

	base := os.Getenv(EnvPostgres)
	if base == "" {
		t.Skip("PostgreSQL suite skipped: set " + EnvPostgres)
	}

	b := make([]byte, 6)
	_, _ = rand.Read(b)
	schema := "t_" + hex.EncodeToString(b)

	admin, err := store.Open(context.Background(), store.Options{URL: base})
	if err != nil {
		t.Fatalf("open test postgres: %v", err)
	}
	defer admin.Close()

	if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
		t.Fatalf("create schema %s: %v", schema, err)
	}

	t.Cleanup(func() {
		db, err := store.Open(context.Background(), store.Options{URL: base})
		if err != nil {
			return
		}
		defer db.Close()

		_, _ = db.Exec("DROP SCHEMA " + schema + " CASCADE")
	})

	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parse %s: %v", EnvPostgres, err)
	}

	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()

	return u.String()
}

// Open returns a migrated database of the given kind, closed when the test
// ends.
func Open(t testing.TB, kind store.Dialect) *store.DB {
	t.Helper()

	return OpenURL(t, URL(t, kind))
}

// OpenURL opens and migrates the database at url, closed when the test
// ends.
func OpenURL(t testing.TB, u string) *store.DB {
	t.Helper()

	ctx := context.Background()

	db, err := store.Open(ctx, store.Options{URL: u, MaxOpenConns: 8})
	if err != nil {
		t.Fatalf("open %s: %v", u, err)
	}

	t.Cleanup(func() { _ = db.Close() })

	m, err := store.NewMigrator(db)
	if err != nil {
		t.Fatalf("migrator: %v", err)
	}

	if _, err := m.Up(ctx); err != nil {
		t.Fatalf("migrate: %v", err)
	}

	return db
}

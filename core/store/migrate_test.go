package store_test

import (
	"context"
	"io/fs"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/switchboardhq/switchboard/core/store"
	"github.com/switchboardhq/switchboard/core/store/storetest"
	"github.com/switchboardhq/switchboard/migrations"
)

func TestMigrateUpDownUp(t *testing.T) {
	t.Parallel()

	storetest.Each(t, func(t *testing.T, kind store.Dialect) {
		t.Parallel()

		ctx := context.Background()
		db := open(t, storetest.URL(t, kind))
		want := upFiles(t, embedded(kind))

		m, err := store.NewMigrator(db)
		if err != nil {
			t.Fatalf("NewMigrator: %v", err)
		}

		checkStatus(t, m, 0, len(want))

		applied, err := m.Up(ctx)
		if err != nil {
			t.Fatalf("Up: %v", err)
		}

		if !slices.Equal(applied, labels(want)) {
			t.Fatalf("Up applied %v, want %v", applied, labels(want))
		}

		checkStatus(t, m, len(want), 0)

		if n := pending(t, m); n != 0 {
			t.Fatalf("Pending after Up = %d, want 0", n)
		}

		if !tableExists(t, db, "inbound_messages") {
			t.Fatal("inbound_messages missing after Up")
		}

		again, err := m.Up(ctx)
		if err != nil || len(again) != 0 {
			t.Fatalf("second Up = %v, %v; want nothing to do", again, err)
		}

		rolled, err := m.Down(ctx)
		if err != nil {
			t.Fatalf("Down: %v", err)
		}

		newestFirst := labels(want)
		slices.Reverse(newestFirst)

		if !slices.Equal(rolled, newestFirst) {
			t.Fatalf("Down rolled back %v, want %v", rolled, newestFirst)
		}

		for _, table := range []string{"inbound_messages", "sessions", "outbox"} {
			if tableExists(t, db, table) {
				t.Fatalf("%s still exists after Down", table)
			}
		}

		if n := pending(t, m); n != len(want) {
			t.Fatalf("Pending after Down = %d, want %d", n, len(want))
		}

		checkStatus(t, m, 0, len(want))

		if _, err := m.Up(ctx); err != nil {
			t.Fatalf("Up after Down: %v", err)
		}

		checkStatus(t, m, len(want), 0)

		if !tableExists(t, db, "inbound_messages") {
			t.Fatal("inbound_messages missing after Up, Down, Up")
		}
	})
}

func TestMigrateFailureLeavesNothingHalfDone(t *testing.T) {
	t.Parallel()

	storetest.Each(t, func(t *testing.T, kind store.Dialect) {
		t.Parallel()

		ctx := context.Background()
		db := open(t, storetest.URL(t, kind))

		files := fstest.MapFS{
			"1_ok.tx.up.sql": {Data: []byte("CREATE TABLE a (id INTEGER PRIMARY KEY)")},
			"2_bad.tx.up.sql": {Data: []byte("CREATE TABLE b (id INTEGER PRIMARY KEY);\n" +
				"--bun:split\n" +
				"INSERT INTO no_such_table VALUES (1)")},
		}

		m, err := store.NewMigratorFS(db, files)
		if err != nil {
			t.Fatalf("NewMigratorFS: %v", err)
		}

		if _, err := m.Up(ctx); err == nil {
			t.Fatal("Up with a failing migration succeeded")
		}

		if !tableExists(t, db, "a") {
			t.Fatal("table a of the good migration is missing")
		}

		if tableExists(t, db, "b") {
			t.Fatal("table b of the failed migration exists: the migration was half applied")
		}

		st, err := m.Status(ctx)
		if err != nil {
			t.Fatalf("Status: %v", err)
		}

		want := []store.MigrationStatus{
			{Name: "1_ok", Applied: true},
			{Name: "2_bad", Applied: false},
		}
		if !slices.Equal(st, want) {
			t.Fatalf("Status = %+v, want %+v", st, want)
		}

		if n := pending(t, m); n != 1 {
			t.Fatalf("Pending = %d, want 1", n)
		}

		files["2_bad.tx.up.sql"] = &fstest.MapFile{
			Data: []byte("CREATE TABLE b (id INTEGER PRIMARY KEY)"),
		}

		fixed, err := store.NewMigratorFS(db, files)
		if err != nil {
			t.Fatalf("NewMigratorFS after the fix: %v", err)
		}

		applied, err := fixed.Up(ctx)
		if err != nil {
			t.Fatalf("Up after the fix: %v", err)
		}

		if !slices.Equal(applied, []string{"2_bad"}) {
			t.Fatalf("Up after the fix applied %v, want [2_bad]", applied)
		}

		if !tableExists(t, db, "b") {
			t.Fatal("table b missing after the fixed migration")
		}

		checkStatus(t, fixed, 2, 0)
	})
}

func TestMigrateConcurrentReplicas(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	url := storetest.URL(t, store.Postgres)
	want := upFiles(t, migrations.Postgres())

	const replicas = 4

	dbs := make([]*store.DB, replicas)
	for i := range dbs {
		dbs[i] = open(t, url)
	}

	errs := make([]error, replicas)
	start := make(chan struct{})

	var wg sync.WaitGroup

	for i, db := range dbs {
		wg.Go(func() {
			m, err := store.NewMigrator(db)
			if err != nil {
				errs[i] = err
				return
			}

			<-start

			_, errs[i] = m.Up(ctx)
		})
	}

	close(start)
	wg.Wait()

	for i, err := range errs {
		if err != nil {
			t.Fatalf("replica %d: Up: %v", i, err)
		}
	}

	var n int
	if err := dbs[0].QueryRowContext(ctx, "SELECT count(*) FROM schema_migrations").
		Scan(&n); err != nil {
		t.Fatalf("count applied migrations: %v", err)
	}

	if n != len(want) {
		t.Fatalf("schema_migrations holds %d rows, want %d", n, len(want))
	}

	for i, db := range dbs {
		m, err := store.NewMigrator(db)
		if err != nil {
			t.Fatalf("NewMigrator: %v", err)
		}

		if p := pending(t, m); p != 0 {
			t.Fatalf("replica %d sees %d pending migrations, want 0", i, p)
		}
	}
}

func TestMigrationFilesPaired(t *testing.T) {
	t.Parallel()

	lite, pg := migrations.SQLite(), migrations.Postgres()

	liteUp, pgUp := upFiles(t, lite), upFiles(t, pg)
	if len(liteUp) == 0 {
		t.Fatal("no SQLite migrations embedded")
	}

	if !slices.Equal(liteUp, pgUp) {
		t.Fatalf("SQLite migrations %v differ from PostgreSQL migrations %v", liteUp, pgUp)
	}

	for _, name := range liteUp {
		t.Run(name, func(t *testing.T) {
			t.Parallel()

			down := strings.TrimSuffix(name, ".up.sql") + ".down.sql"

			for dialect, files := range map[string]fs.FS{"sqlite": lite, "postgres": pg} {
				for _, file := range []string{name, down} {
					data, err := fs.ReadFile(files, file)
					if err != nil {
						t.Fatalf("%s: %v", dialect, err)
					}

					if strings.TrimSpace(string(data)) == "" {
						t.Fatalf("%s: %s is empty", dialect, file)
					}
				}
			}
		})
	}
}

// open connects to url without migrating, closed when the test ends.
func open(t *testing.T, url string) *store.DB {
	t.Helper()

	db, err := store.Open(context.Background(), store.Options{URL: url, MaxOpenConns: 4})
	if err != nil {
		t.Fatalf("open: %v", err)
	}

	t.Cleanup(func() { _ = db.Close() })

	return db
}

// embedded returns the migrations NewMigrator uses for kind.
func embedded(kind store.Dialect) fs.FS {
	if kind == store.Postgres {
		return migrations.Postgres()
	}

	return migrations.SQLite()
}

// upFiles returns the sorted names of the up migrations in files.
func upFiles(t *testing.T, files fs.FS) []string {
	t.Helper()

	names, err := fs.Glob(files, "*.up.sql")
	if err != nil {
		t.Fatalf("list migrations: %v", err)
	}

	slices.Sort(names)

	return names
}

// labels names migrations as the migrator does: the file name without
// its suffix.
func labels(files []string) []string {
	out := make([]string, len(files))
	for i, f := range files {
		out[i] = strings.TrimSuffix(strings.TrimSuffix(f, ".up.sql"), ".tx")
	}

	return out
}

func pending(t *testing.T, m *store.Migrator) int {
	t.Helper()

	n, err := m.Pending(context.Background())
	if err != nil {
		t.Fatalf("Pending: %v", err)
	}

	return n
}

// checkStatus fails unless Status lists applied migrations applied and
// then unapplied ones not.
func checkStatus(t *testing.T, m *store.Migrator, applied, unapplied int) {
	t.Helper()

	st, err := m.Status(context.Background())
	if err != nil {
		t.Fatalf("Status: %v", err)
	}

	if len(st) != applied+unapplied {
		t.Fatalf("Status lists %d migrations, want %d", len(st), applied+unapplied)
	}

	for i, s := range st {
		if s.Applied != (i < applied) {
			t.Fatalf("Status = %+v, want the first %d applied", st, applied)
		}
	}
}

func tableExists(t *testing.T, db *store.DB, name string) bool {
	t.Helper()

	q := "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?"
	if db.Kind == store.Postgres {
		q = "SELECT count(*) FROM information_schema.tables " +
			"WHERE table_schema = current_schema() AND table_name = ?"
	}

	var n int
	if err := db.QueryRowContext(context.Background(), q, name).Scan(&n); err != nil {
		t.Fatalf("look up table %s: %v", name, err)
	}

	return n > 0
}

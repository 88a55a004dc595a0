package store_test

import (
	"context"
	"database/sql"
	"testing"

	"github.com/uptrace/bun"

	"github.com/switchboardhq/switchboard/core/store"
	"github.com/switchboardhq/switchboard/core/store/storetest"
)

func TestPresenceSQLite(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	db := storetest.Open(t, store.SQLite)
	id := store.NewReplicaID()

	p, err := db.Announce(ctx, id)
	if err != nil {
		t.Fatalf("Announce: %v", err)
	}

	tests := []struct {
		other string
		want  bool
	}{
		{id, true},
		{id + "x", false},
		{store.NewReplicaID(), false},
		{"", false},
	}

	for _, tt := range tests {
		if got := alive(t, db, p, tt.other); got != tt.want {
			t.Fatalf("Alive(%q) = %v, want %v", tt.other, got, tt.want)
		}
	}

	if err := p.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

func TestPresencePostgres(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	url := storetest.URL(t, store.Postgres)

	// Two pools on one database stand for two gateway processes.
	db1, db2 := open(t, url), open(t, url)
	id1, id2 := store.NewReplicaID(), store.NewReplicaID()

	p1, err := db1.Announce(ctx, id1)
	if err != nil {
		t.Fatalf("Announce %s: %v", id1, err)
	}

	p2, err := db2.Announce(ctx, id2)
	if err != nil {
		t.Fatalf("Announce %s: %v", id2, err)
	}
	defer p2.Close()

	if !alive(t, db2, p2, id1) {
		t.Fatal("the first replica is dead in the second's view while it runs")
	}

	if !alive(t, db1, p1, id2) {
		t.Fatal("the second replica is dead in the first's view while it runs")
	}

	if !alive(t, db2, p2, id2) {
		t.Fatal("the second replica is dead in its own view")
	}

	if err := p1.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	if alive(t, db2, p2, id1) {
		t.Fatal("the first replica is alive in the second's view after Close")
	}

	if alive(t, db2, p2, store.NewReplicaID()) {
		t.Fatal("a replica that never announced itself is alive")
	}
}

// TestPresenceOneAdopter checks that while one transaction has found a
// replica dead, another sees it alive, so only one of them adopts its work.
func TestPresenceOneAdopter(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	url := storetest.URL(t, store.Postgres)
	db1, db2 := open(t, url), open(t, url)

	p1, err := db1.Announce(ctx, store.NewReplicaID())
	if err != nil {
		t.Fatalf("Announce: %v", err)
	}
	defer p1.Close()

	p2, err := db2.Announce(ctx, store.NewReplicaID())
	if err != nil {
		t.Fatalf("Announce: %v", err)
	}
	defer p2.Close()

	dead := store.NewReplicaID()

	tx, err := db1.BeginTx(ctx, nil)
	if err != nil {
		t.Fatalf("begin: %v", err)
	}

	got, err := p1.Alive(ctx, tx, dead)
	if err != nil || got {
		_ = tx.Rollback()
		t.Fatalf("Alive in the first transaction = %v, %v; want false", got, err)
	}

	if !alive(t, db2, p2, dead) {
		_ = tx.Rollback()
		t.Fatal("a second transaction also found the replica dead while the first adopts")
	}

	if err := tx.Rollback(); err != nil {
		t.Fatalf("rollback: %v", err)
	}

	if alive(t, db2, p2, dead) {
		t.Fatal("the replica stays alive after the adopting transaction ended")
	}
}

// alive asks p inside a transaction of db whether other runs.
func alive(t *testing.T, db *store.DB, p *store.Presence, other string) bool {
	t.Helper()

	var got bool

	err := db.RunInTx(context.Background(), &sql.TxOptions{},
		func(ctx context.Context, tx bun.Tx) error {
			var err error
			got, err = p.Alive(ctx, tx, other)

			return err
		})
	if err != nil {
		t.Fatalf("Alive(%q): %v", other, err)
	}

	return got
}

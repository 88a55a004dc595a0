package store_test

import (
	"context"
	"database/sql"
	"errors"
	"testing"

	"github.com/uptrace/bun"

	"github.com/switchboardhq/switchboard/core/store"
	"github.com/switchboardhq/switchboard/core/store/storetest"
)

func TestScanOne(t *testing.T) {
	t.Parallel()

	storetest.Each(t, func(t *testing.T, kind store.Dialect) {
		t.Parallel()

		db := storetest.Open(t, kind)
		ctx := context.Background()

		if _, err := db.ExecContext(ctx, `INSERT INTO api_tokens
			(agent_id, name, token_hash, created_at) VALUES
			('a', 'first', 'h1', '2026-01-01 00:00:00+00:00'),
			('a', 'second', 'h2', '2026-01-02 00:00:00+00:00')`); err != nil {
			t.Fatal(err)
		}

		const query = `SELECT name, token_hash FROM api_tokens
			WHERE agent_id = ? AND name <> ? ORDER BY id DESC LIMIT 1`

		var got struct {
			Name string `bun:"name"`
			Hash string `bun:"token_hash"`
		}

		// Twice: the second call runs the cached statement.
		for range 2 {
			if err := store.ScanOne(ctx, db, &got, query, "a", "none"); err != nil {
				t.Fatal(err)
			}

			if got.Name != "second" || got.Hash != "h2" {
				t.Fatalf("got %+v, want the newest token", got)
			}
		}

		err := store.ScanOne(ctx, db, &got, query, "b", "none")
		if !errors.Is(err, sql.ErrNoRows) {
			t.Fatalf("no match: err = %v, want sql.ErrNoRows", err)
		}

		err = db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
			return store.ScanOne(ctx, tx, &got, query, "a", "second")
		})
		if err != nil || got.Name != "first" {
			t.Fatalf("in a transaction: %+v, %v; want the first token", got, err)
		}
	})
}

package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/core/store"
	"github.com/switchboardhq/switchboard/core/store/storetest"
)

// TestLeasePostgres: one holder at a time; the holder renews, another
// waits for the time left, takes over once the lease expired, and at once
// after a release. Leases of other accounts are apart.
func TestLeasePostgres(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	url := storetest.URL(t, store.Postgres)
	const expiry = 500 * time.Millisecond

	one := storetest.OpenURL(t, url).Lease("default", "telegram", "1", "one", expiry)
	two := storetest.OpenURL(t, url).Lease("default", "telegram", "1", "two", expiry)
	other := storetest.OpenURL(t, url).Lease("default", "telegram", "2", "two", expiry)

	acquire := func(l *store.Lease) (bool, time.Duration) {
		t.Helper()

		held, wait, err := l.Acquire(ctx)
		if err != nil {
			t.Fatalf("acquire: %v", err)
		}

		return held, wait
	}

	if held, _ := acquire(one); !held {
		t.Fatal("the first replica did not get a free lease")
	}

	if held, _ := acquire(one); !held {
		t.Fatal("the holder could not renew")
	}

	held, wait := acquire(two)
	if held || wait <= 0 || wait > expiry {
		t.Fatalf("a second replica: held %v, wait %s; want not held, 0 < wait <= %s",
			held, wait, expiry)
	}

	if held, _ := acquire(other); !held {
		t.Fatal("another account's lease is not free")
	}

	time.Sleep(wait + 50*time.Millisecond)

	if held, _ := acquire(two); !held {
		t.Fatal("the expired lease was not taken over")
	}

	if held, _ := acquire(one); held {
		t.Fatal("the old holder took the lease back while it was held")
	}

	if err := two.Release(ctx); err != nil {
		t.Fatalf("release: %v", err)
	}

	if held, _ := acquire(one); !held {
		t.Fatal("a released lease was not free at once")
	}
}

// TestLeaseSQLite: one process owns the file, so the lease is always held.
func TestLeaseSQLite(t *testing.T) {
	t.Parallel()

	db := storetest.Open(t, store.SQLite)
	l := db.Lease("default", "telegram", "1", "one", time.Second)

	if held, wait, err := l.Acquire(context.Background()); !held || wait != 0 || err != nil {
		t.Fatalf("acquire on SQLite: %v %s %v", held, wait, err)
	}

	if err := l.Release(context.Background()); err != nil {
		t.Fatalf("release on SQLite: %v", err)
	}
}

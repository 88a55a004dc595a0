package telegram_test

import (
	"context"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/adapters/telegram"
	"github.com/switchboardhq/switchboard/adapters/telegram/telegramtest"
	"github.com/switchboardhq/switchboard/core/store"
	"github.com/switchboardhq/switchboard/core/store/storetest"
)

// Short lease times, so that a takeover takes a moment, not 30 s.
const (
	testRenew  = 200 * time.Millisecond
	testExpiry = time.Second
)

// replica is one gateway process's adapter on a shared database.
type replica struct {
	a     *telegram.Adapter
	sink  *sink
	polls *countingTransport
	stop  func()
}

func startReplica(t *testing.T, s *telegramtest.Server, db *store.DB, id string) *replica {
	t.Helper()

	r := &replica{sink: newSink(), polls: &countingTransport{}}
	r.a = newAdapter(t, s, func(c *telegram.Config) {
		c.DB, c.ReplicaID = db, id
		c.LeaseRenew, c.LeaseExpiry = testRenew, testExpiry
		c.HTTPClient = &http.Client{Transport: r.polls}
	})
	r.stop = run(t, r.a, r.sink)

	return r
}

func TestOnlyTheLeaseHolderPolls(t *testing.T) {
	t.Parallel()

	url := storetest.URL(t, store.Postgres)
	s := telegramtest.NewServer(t)

	one := startReplica(t, s, storetest.OpenURL(t, url), "replica-one")
	connected(t, one.a)

	two := startReplica(t, s, storetest.OpenURL(t, url), "replica-two")
	eventually(t, "the second replica waits on standby", func() bool {
		return two.a.Health().LastError == "standby: another replica polls"
	})

	s.Push(s.Private(42, "Ada", "to the holder"))
	one.sink.wait(t, 1)

	time.Sleep(3 * testRenew) // a few renewals and tries

	if n := two.polls.polls.Load(); n != 0 {
		t.Fatalf("the standby replica polled %d times, want never", n)
	}

	if h := one.a.Health(); !h.Connected || h.LastError != "" {
		t.Fatalf("holder health %+v, want connected without error (a second poller "+
			"would have caused a 409)", h)
	}

	if h := two.a.Health(); h.Connected {
		t.Fatalf("standby health %+v, want not connected", h)
	}

	// The holder stops and gives the lease up: the other takes over.
	start := time.Now()

	one.stop()
	connected(t, two.a)

	if d := time.Since(start); d > testExpiry {
		t.Fatalf("takeover after a clean stop took %s, want at most one expiry", d)
	}

	s.Push(s.Private(42, "Ada", "to the new holder"))

	if got := two.sink.wait(t, 1); got[0].Text != "to the new holder" {
		t.Fatalf("new holder received %+v", got)
	}
}

func TestLeaseOfADeadReplicaIsTakenWhenItExpires(t *testing.T) {
	t.Parallel()

	db := storetest.Open(t, store.Postgres)
	s := telegramtest.NewServer(t)

	// A replica that died without giving the lease up, 1.5 s ago.
	_, err := db.NewRaw(`INSERT INTO adapter_leases
		(agent_id, channel, account, holder, expires_at)
		VALUES ('default', 'telegram', ?, 'dead-replica', now() + interval '1.5 second')`,
		strconv.FormatInt(telegramtest.BotID, 10)).Exec(context.Background())
	if err != nil {
		t.Fatalf("insert the dead replica's lease: %v", err)
	}

	start := time.Now()
	r := startReplica(t, s, db, "replica-live")

	eventually(t, "standby while the dead lease lasts", func() bool {
		return r.a.Health().LastError == "standby: another replica polls"
	})
	connected(t, r.a)

	// The standby tries again just after the expiry, not a renewal later.
	if d := time.Since(start); d < 1400*time.Millisecond || d > 1500*time.Millisecond+testRenew {
		t.Fatalf("took over after %s, want just after the 1.5 s the lease had left", d)
	}

	var holder string
	if err := db.NewRaw(`SELECT holder FROM adapter_leases`).Scan(t.Context(), &holder); err != nil ||
		holder != "replica-live" {
		t.Fatalf("lease held by %q (%v), want replica-live", holder, err)
	}
}

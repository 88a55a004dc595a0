package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Lease elects the one replica that holds a messenger connection, such as
// Telegram's long poll, a Discord gateway or a Slack socket: a row in
// adapter_leases per agent, channel and account, naming its holder until
// expires_at. The holder renews it well before it expires; another
// replica takes it only once it has expired, so a dead holder is replaced
// within one expiry. Times are the database's, so the replicas' clocks
// need not agree. On SQLite one process owns the database and the lease
// is always held.
type Lease struct {
	db      *DB
	agentID string
	channel string
	account string
	holder  string
	expiry  time.Duration
}

// Lease returns the lease of one connection, held in the name of holder
// (a replica id) for expiry at a time.
func (db *DB) Lease(agentID, channel, account, holder string, expiry time.Duration) *Lease {
	return &Lease{db: db, agentID: agentID, channel: channel, account: account,
		holder: holder, expiry: expiry}
}

// Acquire takes the lease or renews it. When another replica holds it,
// held is false and wait is how long that lease has left.
func (l *Lease) Acquire(ctx context.Context) (held bool, wait time.Duration, err error) {
	if l.db.Exclusive() {
		return true, 0, nil
	}

	var holder string

	err = l.db.NewRaw(`
		INSERT INTO adapter_leases AS l (agent_id, channel, account, holder, expires_at)
		VALUES (?, ?, ?, ?, now() + ? * interval '1 millisecond')
		ON CONFLICT (agent_id, channel, account) DO UPDATE
		SET holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at
		WHERE l.holder = EXCLUDED.holder OR l.expires_at < now()
		RETURNING holder`,
		l.agentID, l.channel, l.account, l.holder, l.expiry.Milliseconds(),
	).Scan(ctx, &holder)

	switch {
	case err == nil:
		return true, 0, nil
	case !errors.Is(err, sql.ErrNoRows):
		return false, 0, fmt.Errorf("acquire %s lease: %w", l.channel, err)
	}

	var left float64

	err = l.db.NewRaw(`
		SELECT EXTRACT(EPOCH FROM expires_at - now()) FROM adapter_leases
		WHERE agent_id = ? AND channel = ? AND account = ?`,
		l.agentID, l.channel, l.account,
	).Scan(ctx, &left)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return false, 0, fmt.Errorf("read %s lease: %w", l.channel, err)
	}

	return false, max(time.Duration(left*float64(time.Second)), 0), nil
}

// Release gives the lease up, so that a standby replica takes over at its
// next try instead of after the expiry.
func (l *Lease) Release(ctx context.Context) error {
	if l.db.Exclusive() {
		return nil
	}

	_, err := l.db.NewRaw(`
		DELETE FROM adapter_leases
		WHERE agent_id = ? AND channel = ? AND account = ? AND holder = ?`,
		l.agentID, l.channel, l.account, l.holder,
	).Exec(ctx)
	if err != nil {
		return fmt.Errorf("release %s lease: %w", l.channel, err)
	}

	return nil
}

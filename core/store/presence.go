package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"os"

	"github.com/uptrace/bun"
)

// Presence says that one gateway process is alive, so that others can
// adopt the work of a process that died. On PostgreSQL it is a session
// advisory lock keyed by the replica id, held on a pinned connection: the
// server drops it the moment the process's connection goes, however the
// process ended. On SQLite the file lock already guarantees a single
// process, so every other replica id is dead by definition.
type Presence struct {
	// ID names this process in the owner and claimed_by columns.
	ID string

	db   *DB
	conn *sql.Conn
}

// NewReplicaID returns a fresh id for this process: host, pid and a random
// suffix, readable in the tables.
func NewReplicaID() string {
	host, _ := os.Hostname()
	b := make([]byte, 4)
	_, _ = rand.Read(b)

	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b))
}

// Announce marks the process with id as alive until Close.
func (db *DB) Announce(ctx context.Context, id string) (*Presence, error) {
	p := &Presence{ID: id, db: db}
	if db.Kind != Postgres {
		return p, nil
	}

	conn, err := db.DB.DB.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("pin connection for presence: %w", err)
	}

	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock(hashtext($1))",
		"replica:"+id); err != nil {
		_ = conn.Close()
		return nil, fmt.Errorf("announce replica %s: %w", id, err)
	}

	p.conn = conn

	return p, nil
}

// Alive reports whether the replica named other still runs. On
// PostgreSQL a dead replica's lock is taken for the rest of tx, so two
// replicas cannot both decide to adopt its work at once.
func (p *Presence) Alive(ctx context.Context, tx bun.IDB, other string) (bool, error) {
	if other == p.ID {
		return true, nil
	}

	if p.db.Kind != Postgres {
		return false, nil
	}

	var got bool

	err := tx.QueryRowContext(ctx, "SELECT pg_try_advisory_xact_lock(hashtext(?))",
		"replica:"+other).Scan(&got)
	if err != nil {
		return false, fmt.Errorf("check replica %s: %w", other, err)
	}

	return !got, nil
}

// Close gives up the presence; other replicas may adopt this one's work.
func (p *Presence) Close() error {
	if p.conn == nil {
		return nil
	}

	// The connection goes back to the pool, so the lock must be given up
	// explicitly; a process that dies loses it with its connection.
	_, unlockErr := p.conn.ExecContext(context.Background(), "SELECT pg_advisory_unlock_all()")

	if err := errors.Join(unlockErr, p.conn.Close()); err != nil {
		return fmt.Errorf("close presence connection: %w", err)
	}

	return nil
}

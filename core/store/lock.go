package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/gofrs/flock"
)

// ErrLocked is returned by LockDir when another process holds the lock.
var ErrLocked = errors.New("locked by another process")

// FileLock keeps a second gateway off the same SQLite file. It is an
// advisory lock on a file beside the database, held by the kernel, so it
// goes away with the process however the process ends: a restart right
// after a kill always works, which a pid file cannot promise.
type FileLock struct {
	fl *flock.Flock
}

// LockDatabaseFile takes the lock for the SQLite file at dbPath (its
// directory is created if missing) without waiting. It returns an error
// wrapping ErrLocked when another process holds it.
func LockDatabaseFile(dbPath string) (*FileLock, error) {
	if err := os.MkdirAll(filepath.Dir(dbPath), 0o750); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}

	path := dbPath + ".lock"
	fl := flock.New(path)

	ok, err := fl.TryLock()
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}

	if !ok {
		return nil, fmt.Errorf("lock %s: %w: another gateway is using this database",
			path, ErrLocked)
	}

	return &FileLock{fl: fl}, nil
}

// Unlock releases the lock.
func (l *FileLock) Unlock() error {
	if err := l.fl.Unlock(); err != nil {
		return fmt.Errorf("unlock database file: %w", err)
	}

	return nil
}

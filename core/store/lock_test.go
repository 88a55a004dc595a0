package store_test

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/switchboardhq/switchboard/core/store"
)

// envLockHolder switches the test binary into the child that holds a lock.
const envLockHolder = "STORE_TEST_LOCK_HOLDER"

func TestLockDatabaseFile(t *testing.T) {
	t.Parallel()

	path := filepath.Join(t.TempDir(), "data", "bot.db")

	first, err := store.LockDatabaseFile(path)
	if err != nil {
		t.Fatalf("first lock: %v", err)
	}

	// flock locks belong to an open file, so a second one conflicts even
	// inside the same process.
	second, err := store.LockDatabaseFile(path)
	if !errors.Is(err, store.ErrLocked) {
		t.Fatalf("second lock = %v, %v; want an error wrapping ErrLocked", second, err)
	}

	if err := first.Unlock(); err != nil {
		t.Fatalf("Unlock: %v", err)
	}

	third, err := store.LockDatabaseFile(path)
	if err != nil {
		t.Fatalf("lock after Unlock: %v", err)
	}

	if err := third.Unlock(); err != nil {
		t.Fatalf("Unlock: %v", err)
	}
}

func TestLockDatabaseFileOtherPathsIndependent(t *testing.T) {
	t.Parallel()

	dir := t.TempDir()

	a, err := store.LockDatabaseFile(filepath.Join(dir, "a.db"))
	if err != nil {
		t.Fatalf("lock a: %v", err)
	}
	defer a.Unlock()

	b, err := store.LockDatabaseFile(filepath.Join(dir, "b.db"))
	if err != nil {
		t.Fatalf("lock b while a is held: %v", err)
	}
	defer b.Unlock()
}

// TestLockReleasedOnKill starts a copy of the test binary that takes the
// lock, kills it with SIGKILL, and takes the lock at once: the kernel drops
// the lock with the process, so a restart right after a kill always works.
func TestLockReleasedOnKill(t *testing.T) {
	t.Parallel()

	path := filepath.Join(t.TempDir(), "bot.db")

	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestLockHolderProcess$")
	cmd.Env = append(os.Environ(), envLockHolder+"="+path)
	cmd.Stderr = os.Stderr

	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatalf("stdin pipe: %v", err)
	}
	defer stdin.Close()

	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatalf("stdout pipe: %v", err)
	}

	if err := cmd.Start(); err != nil {
		t.Fatalf("start lock holder: %v", err)
	}

	lines := bufio.NewScanner(stdout)

	locked := false
	for !locked && lines.Scan() {
		locked = lines.Text() == "locked"
	}

	if !locked {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.Fatalf("lock holder ended without taking the lock: %v", lines.Err())
	}

	if l, err := store.LockDatabaseFile(path); !errors.Is(err, store.ErrLocked) {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.Fatalf("lock while the child holds it = %v, %v; want ErrLocked", l, err)
	}

	if err := cmd.Process.Kill(); err != nil {
		t.Fatalf("kill lock holder: %v", err)
	}

	// The child was the only writer, so its death ends the output.
	_, _ = io.Copy(io.Discard, stdout)
	_ = cmd.Wait()

	l, err := store.LockDatabaseFile(path)
	if err != nil {
		t.Fatalf("lock right after the holder was killed: %v", err)
	}

	if err := l.Unlock(); err != nil {
		t.Fatalf("Unlock: %v", err)
	}
}

// TestLockHolderProcess is the child of TestLockReleasedOnKill: it takes
// the lock, says so, and holds it until its stdin closes or it is killed.
func TestLockHolderProcess(t *testing.T) {
	path := os.Getenv(envLockHolder)
	if path == "" {
		t.Skip("runs only as the child of TestLockReleasedOnKill")
	}

	if _, err := store.LockDatabaseFile(path); err != nil {
		t.Fatalf("lock holder: %v", err)
	}

	fmt.Println("locked")

	_, _ = io.Copy(io.Discard, os.Stdin)
}

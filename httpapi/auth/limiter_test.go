package auth

import (
	"fmt"
	"testing"
	"time"
)

var t0 = time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)

func TestLimiterAllowsABurstThenOnePerInterval(t *testing.T) {
	t.Parallel()

	l := newLimiter()

	for i := range failBurst {
		if w := l.wait("a", t0); w != 0 {
			t.Fatalf("before failure %d: wait %s, want 0", i+1, w)
		}
		l.fail("a", t0)
	}

	if w := l.wait("a", t0); w != failEvery {
		t.Fatalf("after the burst: wait %s, want %s", w, failEvery)
	}
	if w := l.wait("a", t0.Add(2*time.Second)); w != 4*time.Second {
		t.Fatalf("2 s later: wait %s, want 4s", w)
	}
	if w := l.wait("b", t0); w != 0 {
		t.Fatalf("another client: wait %s, want 0", w)
	}

	if w := l.wait("a", t0.Add(failEvery)); w != 0 {
		t.Fatalf("after %s: wait %s, want 0", failEvery, w)
	}
	if exhausted := l.fail("a", t0.Add(failEvery)); !exhausted {
		t.Fatal("fail after the refill did not report the allowance used up")
	}
}

func TestLimiterForgetsIdleClients(t *testing.T) {
	t.Parallel()

	l := newLimiter()
	for _, c := range []string{"a", "b", "c"} {
		l.fail(c, t0)
	}

	l.fail("d", t0.Add(5*time.Minute))
	if n := len(l.clients); n != 4 {
		t.Fatalf("%d clients remembered, want 4", n)
	}

	l.fail("e", t0.Add(failIdle))
	if _, ok := l.clients["d"]; !ok || len(l.clients) != 2 {
		t.Fatalf("clients %v after the sweep, want d and e", keys(l.clients))
	}
}

func TestLimiterOverflowSharesOneBucket(t *testing.T) {
	t.Parallel()

	l := newLimiter()
	for i := range maxClients {
		l.fail(fmt.Sprintf("known-%d", i), t0)
	}

	for i := range failBurst {
		l.fail(fmt.Sprintf("new-%d", i), t0)
	}

	if n := len(l.clients); n != maxClients {
		t.Fatalf("%d clients remembered, want the bound %d", n, maxClients)
	}
	if w := l.wait("yet-another", t0); w == 0 {
		t.Fatal("a new client past the bound is not limited by the shared bucket")
	}
	if w := l.wait("known-1", t0); w != 0 {
		t.Fatalf("a remembered client: wait %s, want 0", w)
	}
}

func TestClientKey(t *testing.T) {
	t.Parallel()

	tests := map[string]string{
		"192.0.2.1:5000":          "192.0.2.1",
		"[2001:db8:1:2:3::9]:443": "2001:db8:1:2::/64",
		"[2001:db8:1:2::7]:1":     "2001:db8:1:2::/64",
		"[::ffff:192.0.2.1]:80":   "192.0.2.1",
		"[fe80::1%eth0]:80":       "fe80::/64",
		"192.0.2.1":               "192.0.2.1",
		"@":                       "@",
	}

	for addr, want := range tests {
		if got := clientKey(addr); got != want {
			t.Errorf("clientKey(%q) = %q, want %q", addr, got, want)
		}
	}
}

// keys returns the names of the remembered clients.
func keys(m map[string]*bucket) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}

	return out
}

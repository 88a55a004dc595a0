package auth

import (
	"net"
	"net/netip"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// The limits on failed authentications per client address.
const (
	// failBurst is how many failures are allowed in a row.
	failBurst = 10
	// failEvery is how often one more failure is allowed after those.
	failEvery = 6 * time.Second
	// An address idle this long is forgotten. Its bucket is full again
	// after failBurst*failEvery (one minute), well before.
	failIdle = 10 * time.Minute
	// sweepEvery is how often idle addresses are looked for at most.
	sweepEvery = time.Minute
	// maxClients bounds the addresses remembered; past it, new addresses
	// share one bucket, so that a flood of addresses costs memory only up
	// to here and cannot guess without limit either.
	maxClients = 100_000
)

// limiter counts failed authentications per client address in token
// buckets. It is safe for concurrent use.
type limiter struct {
	mu        sync.Mutex
	clients   map[string]*bucket
	overflow  *bucket
	lastSweep time.Time
}

// bucket is one client's allowance of failures.
type bucket struct {
	lim  *rate.Limiter
	last time.Time // the last failure
}

// newLimiter returns a limiter that remembers no one.
func newLimiter() *limiter {
	return &limiter{
		clients:  make(map[string]*bucket),
		overflow: newBucket(),
	}
}

// newBucket returns a full bucket.
func newBucket() *bucket {
	return &bucket{lim: rate.NewLimiter(rate.Every(failEvery), failBurst)}
}

// wait returns how long client must wait before its credential is looked
// at again, or 0 when it may try now.
func (l *limiter) wait(client string, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()

	b := l.clients[client]
	if b == nil && len(l.clients) >= maxClients {
		b = l.overflow
	}
	if b == nil {
		return 0
	}

	tokens := b.lim.TokensAt(now)
	if tokens >= 1 {
		return 0
	}

	return time.Duration((1 - tokens) * float64(failEvery))
}

// fail records a failed authentication of client and reports whether it
// used up the client's allowance.
func (l *limiter) fail(client string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()

	l.sweep(now)

	b := l.clients[client]
	switch {
	case b != nil:
	case len(l.clients) >= maxClients:
		b = l.overflow
	default:
		b = newBucket()
		l.clients[client] = b
	}

	b.last = now
	b.lim.AllowN(now, 1)

	return b.lim.TokensAt(now) < 1
}

// sweep forgets the clients idle for failIdle, at most once a sweepEvery.
func (l *limiter) sweep(now time.Time) {
	if now.Sub(l.lastSweep) < sweepEvery {
		return
	}
	l.lastSweep = now

	for client, b := range l.clients {
		if now.Sub(b.last) >= failIdle {
			delete(l.clients, client)
		}
	}
}

// clientKey names the client of a request by the host part of its remote
// address; X-Forwarded-For is not trusted. An IPv6 client is named by its
// /64, which one subscriber usually holds whole.
func clientKey(remoteAddr string) string {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}

	addr, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}

	addr = addr.Unmap()
	if addr.Is6() {
		prefix, _ := addr.WithZone("").Prefix(64)
		return prefix.String()
	}

	return addr.String()
}

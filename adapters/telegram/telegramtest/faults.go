package telegramtest

import (
	"fmt"
	"math"
	"net/http"
	"strings"
	"time"
)

// Fault is a scripted answer to one call of a method: an error, a delay,
// or both.
type Fault struct {
	// Status is the error to answer: 429, 500, 409, 400, 403 or another
	// HTTP status. Zero answers normally, after Delay.
	Status int
	// RetryAfter is sent as parameters.retry_after when positive. A 429
	// without it asks for 1 second.
	RetryAfter int
	// Description replaces the description Telegram gives the status.
	Description string
	// Delay holds the answer back. The wait ends early when the client
	// goes away.
	Delay time.Duration
}

// apiError returns the error answer of a fault.
func (f Fault) apiError() *apiError {
	retry := f.RetryAfter
	if f.Status == http.StatusTooManyRequests && retry <= 0 {
		retry = 1
	}

	desc := f.Description
	if desc == "" {
		desc = defaultDescription(f.Status, retry)
	}

	return &apiError{code: f.Status, description: desc, retryAfter: retry}
}

// defaultDescription returns the description Telegram gives a status.
func defaultDescription(status, retryAfter int) string {
	switch status {
	case 400:
		return "Bad Request: chat not found"
	case 401:
		return "Unauthorized"
	case 403:
		return "Forbidden: bot was blocked by the user"
	case 404:
		return "Not Found"
	case 409:
		return conflictPolling
	case 429:
		return fmt.Sprintf("Too Many Requests: retry after %d", retryAfter)
	case 500:
		return "Internal Server Error"
	default:
		return http.StatusText(status)
	}
}

// FailNext scripts the next calls of a method: each call takes the next
// fault, in order, until they are used up. The method's case does not
// matter. A call that takes a fault is still listed by Calls, and a
// message it refuses is not in Sent.
func (s *Server) FailNext(method string, faults ...Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()

	key := strings.ToLower(method)
	s.faults[key] = append(s.faults[key], faults...)
}

// takeFault pops the next fault of a method. The caller holds s.mu.
func (s *Server) takeFault(method string) (Fault, bool) {
	key := strings.ToLower(method)

	queue := s.faults[key]
	if len(queue) == 0 {
		return Fault{}, false
	}
	s.faults[key] = queue[1:]

	return queue[0], true
}

// Violations returns how many messages WithRateLimits refused.
func (s *Server) Violations() int {
	s.mu.Lock()
	defer s.mu.Unlock()

	return s.limits.violations
}

// rateLimiter applies Telegram's limits on new messages. It is guarded by
// Server.mu.
type rateLimiter struct {
	byChat     map[int64][]time.Time
	all        []time.Time
	violations int
}

// Telegram's limits on new messages.
const (
	perChatGap     = time.Second
	perGroupWindow = time.Minute
	perGroupMax    = 20
	overallWindow  = time.Second
	overallMax     = 30
)

// init readies a limiter with nothing sent.
func (l *rateLimiter) init() {
	l.byChat = map[int64][]time.Time{}
}

// admit counts a new message in a chat at now and returns 0, or, when it
// breaks a limit, counts a violation and returns the seconds to wait.
func (l *rateLimiter) admit(chatID int64, now time.Time) int {
	chat := dropBefore(l.byChat[chatID], now.Add(-perGroupWindow))
	l.all = dropBefore(l.all, now.Add(-overallWindow))

	var wait time.Duration
	if n := len(chat); n > 0 && now.Sub(chat[n-1]) < perChatGap {
		wait = max(wait, chat[n-1].Add(perChatGap).Sub(now))
	}
	if n := len(chat); chatID < 0 && n >= perGroupMax {
		wait = max(wait, chat[n-perGroupMax].Add(perGroupWindow).Sub(now))
	}
	if n := len(l.all); n >= overallMax {
		wait = max(wait, l.all[n-overallMax].Add(overallWindow).Sub(now))
	}

	if wait > 0 {
		l.byChat[chatID] = chat
		l.violations++
		return max(1, int(math.Ceil(wait.Seconds())))
	}

	l.byChat[chatID] = append(chat, now)
	l.all = append(l.all, now)

	return 0
}

// dropBefore returns times without those before cutoff; times is in
// increasing order.
func dropBefore(times []time.Time, cutoff time.Time) []time.Time {
	i := 0
	for i < len(times) && times[i].Before(cutoff) {
		i++
	}

	return times[i:]
}

// admitMessage applies the rate limits, when enabled, to a new message in
// a chat. The caller holds s.mu.
func (s *Server) admitMessage(chatID int64, now time.Time) *apiError {
	if !s.rateLimits {
		return nil
	}

	if wait := s.limits.admit(chatID, now); wait > 0 {
		return tooManyRequests(wait)
	}

	return nil
}

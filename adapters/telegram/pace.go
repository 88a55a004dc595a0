package telegram

import (
	"context"
	"errors"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/switchboardhq/switchboard/core"
)

// Telegram's limits on sending, which it enforces with 429 answers: one
// message a second per chat, 20 a minute per group, about 30 a second in
// all. Each limiter is a token bucket whose burst plus refill stay a
// little under the limit in any window, so that a request that travels
// faster than the one before it still arrives in time.
const (
	chatInterval = time.Second + 50*time.Millisecond
	// groupInterval and groupBurst allow 4 quick messages (an answer in
	// a few parts) and then one every 4 s: at most 19 in any minute.
	groupInterval = 4 * time.Second
	groupBurst    = 4
	globalRate    = 28
	// idleChat is how long a chat's limiters must rest before they are
	// full again and can be forgotten.
	idleChat = time.Minute
	// sweepAt is the number of chats at which resting ones are forgotten.
	// At 28 messages a second no more than 1680 chats can be busy within
	// idleChat, so the map stays below this size plus that.
	sweepAt = 4096
)

// errPaced says that a send would wait past its deadline for its turn.
var errPaced = errors.New("telegram rate limit: no turn before the deadline")

// pacer holds sends to Telegram's rate limits. A send takes a token from
// each of its limiters at the moment it goes out, or from none: taking
// them early and sending later would let the next send of the chat come
// too soon.
type pacer struct {
	mu     sync.Mutex
	global *rate.Limiter
	chats  map[int64]*chatPace
}

type chatPace struct {
	chat  *rate.Limiter
	group *rate.Limiter // nil for private chats
	used  time.Time
}

func newPacer() *pacer {
	return &pacer{
		global: rate.NewLimiter(globalRate, 1),
		chats:  make(map[int64]*chatPace),
	}
}

// wait blocks until a message to chat may go out, or returns a send error
// that asks the outbox to come back later when the turn would come after
// ctx's deadline.
func (p *pacer) wait(ctx context.Context, chat int64) error {
	for {
		delay := p.take(chat, time.Now())
		if delay == 0 {
			return nil
		}

		if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < delay {
			return core.RetryAfter(delay, errPaced)
		}

		if !sleep(ctx, delay) {
			return &core.SendError{Err: ctx.Err()}
		}
	}
}

// take takes a token from every limiter of chat and returns 0, or takes
// none and returns how long to wait before trying again.
func (p *pacer) take(chat int64, now time.Time) time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()

	c := p.chat(chat, now)
	limiters := []*rate.Limiter{p.global, c.chat}

	if c.group != nil {
		limiters = append(limiters, c.group)
	}

	var (
		delay time.Duration
		taken = make([]*rate.Reservation, 0, len(limiters))
	)

	for _, l := range limiters {
		r := l.ReserveN(now, 1)
		taken = append(taken, r)
		delay = max(delay, r.DelayFrom(now))
	}

	if delay == 0 {
		c.used = now
		return 0
	}

	for _, r := range taken {
		r.CancelAt(now)
	}

	return delay
}

// chat returns the limiters of chat, creating them, and forgets resting
// chats when there are many.
func (p *pacer) chat(chat int64, now time.Time) *chatPace {
	if c, ok := p.chats[chat]; ok {
		return c
	}

	if len(p.chats) >= sweepAt {
		for id, c := range p.chats {
			if now.Sub(c.used) > idleChat {
				delete(p.chats, id)
			}
		}
	}

	c := &chatPace{chat: rate.NewLimiter(rate.Every(chatInterval), 1), used: now}
	if chat < 0 {
		c.group = rate.NewLimiter(rate.Every(groupInterval), groupBurst)
	}

	p.chats[chat] = c

	return c
}

package telegram_test

import (
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/adapters/telegram"
	"github.com/switchboardhq/switchboard/adapters/telegram/telegramtest"
	"github.com/switchboardhq/switchboard/core"
	"github.com/switchboardhq/switchboard/core/access"
	"github.com/switchboardhq/switchboard/core/coretest"
	"github.com/switchboardhq/switchboard/core/store"
	"github.com/switchboardhq/switchboard/core/store/storetest"
)

// BenchmarkTelegram measures a message's whole way through the gateway:
// the fake Bot API hands it to the adapter's long poll, the pipeline
// stores it, the echo responder answers, and the outbox sends the answer
// to the fake, which enforces Telegram's rate limits. The latency runs
// from the update's Push to the sendMessage that answers it.
//
// rate=10 offers 10 messages a second, one every 100 ms, each from one of
// 100 owners in their private chat: Telegram's limits never bind, so the
// latency is the gateway's own. chats=64 has 64 owners who each send
// their next message as soon as the answer to the last one came: the
// gateway is saturated and its throughput is the pacing's, under
// Telegram's 30 messages a second.
//
// It reports msgs/s, p50-ms and p99-ms, and fails when the fake refused
// a message for going too fast.
func BenchmarkTelegram(b *testing.B) {
	b.Run("rate=10", func(b *testing.B) { benchTelegram(b, 100, 100*time.Millisecond) })
	b.Run("chats=64", func(b *testing.B) { benchTelegram(b, 64, 0) })
}

// benchTelegram sends b.N messages from chats owners. With a gap it sends
// one every gap whatever the answers do; without one each owner waits for
// the answer to their last message.
func benchTelegram(b *testing.B, chats int, gap time.Duration) {
	var (
		mu      sync.Mutex
		pushed  = make(map[string]time.Time, b.N)
		latency = make([]time.Duration, 0, b.N)
		answers = make([]chan struct{}, chats)
	)

	for i := range answers {
		answers[i] = make(chan struct{}, 1)
	}

	s := telegramtest.NewServer(b, telegramtest.WithRateLimits(),
		telegramtest.WithOnSent(func(m telegramtest.Sent) {
			mu.Lock()
			latency = append(latency, m.At.Sub(pushed[m.Text]))
			mu.Unlock()

			select {
			case answers[m.ChatID-1] <- struct{}{}:
			default: // rate=10 waits for no answer
			}
		}))

	owners := make([]access.Owner, chats)
	for i := range owners {
		owners[i] = access.Owner{Channel: core.ChannelTelegram, UserID: core.UserID(
			strconv.Itoa(i + 1))}
	}

	db := storetest.Open(b, store.SQLite)
	a := newAdapter(b, s, func(c *telegram.Config) { c.DB = db })
	startPipeline(b, db, a, owners...)

	push := func(n int) {
		chat := int64(n%chats + 1)
		u := s.Private(chat, "Owner", fmt.Sprintf("message %d", n))

		mu.Lock()
		pushed[u.Message.Text] = time.Now()
		mu.Unlock()

		s.Push(u)
	}

	b.ResetTimer()

	start := time.Now()

	for n := range b.N {
		switch {
		case gap > 0:
			push(n)
			time.Sleep(gap)
		case n < chats:
			push(n)
		default:
			// The next message of a chat goes once its last one is answered.
			<-answers[n%chats]
			push(n)
		}
	}

	s.WaitSent(b, b.N, time.Duration(b.N)*time.Second)

	elapsed := time.Since(start)

	b.StopTimer()

	mu.Lock()
	defer mu.Unlock()

	if v := s.Violations(); v != 0 {
		b.Fatalf("the fake refused %d messages for going faster than Telegram allows", v)
	}

	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msgs/s")
	b.ReportMetric(coretest.PercentileMS(latency, 0.50), "p50-ms")
	b.ReportMetric(coretest.PercentileMS(latency, 0.99), "p99-ms")
}

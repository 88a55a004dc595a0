package pipeline_test

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/core"
	"github.com/switchboardhq/switchboard/core/access"
	"github.com/switchboardhq/switchboard/core/coretest"
	"github.com/switchboardhq/switchboard/core/metrics"
	"github.com/switchboardhq/switchboard/core/pipeline"
	"github.com/switchboardhq/switchboard/core/store"
	"github.com/switchboardhq/switchboard/core/store/storetest"
)

// benchWarmup is how many messages each session sends before the timer
// starts: the first one creates the session, the rest fill the caches.
const benchWarmup = 5

// BenchmarkPipeline measures the whole path of a message: stored by
// Receive, answered by the echo responder, written to the outbox with the
// turn and sent by the deliverer through the in-memory adapter, on a SQLite
// file. Every session is a direct chat with its own owner and sends its
// next message only when the answer to the previous one was sent, so the
// latency runs from Deliver to the adapter's Send of the answer.
//
// It reports throughput (msgs/s), the latency percentiles (p50-ms,
// p99-ms), the CPU time of the whole process per message (cpu-ms/msg) and
// the process's peak resident memory (peak-rss-MB), which covers every
// sub-benchmark run so far in this process.
func BenchmarkPipeline(b *testing.B) {
	for _, sessions := range []int{1, 64} {
		b.Run(fmt.Sprintf("sessions=%d", sessions), func(b *testing.B) {
			benchPipeline(b, sessions)
		})
	}
}

func benchPipeline(b *testing.B, sessions int) {
	bp := startBenchPipeline(b, sessions)

	// Warm up: create every session and fill the caches, untimed.
	if err := bp.run(benchWarmup*sessions, nil); err != nil {
		b.Fatal(err)
	}

	latencies := make([][]time.Duration, sessions)
	for i := range latencies {
		latencies[i] = make([]time.Duration, 0, b.N/sessions+1)
	}

	b.ResetTimer()

	start, startCPU := time.Now(), cpuTime()
	err := bp.run(b.N, latencies)
	elapsed, cpu := time.Since(start), cpuTime()-startCPU

	b.StopTimer()

	if err != nil {
		b.Fatal(err)
	}

	all := slices.Concat(latencies...)
	slices.Sort(all)

	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msgs/s")
	b.ReportMetric(coretest.PercentileMS(all, 0.50), "p50-ms")
	b.ReportMetric(coretest.PercentileMS(all, 0.99), "p99-ms")
	b.ReportMetric(millis(cpu)/float64(b.N), "cpu-ms/msg")
	b.ReportMetric(peakRSSMB(), "peak-rss-MB")
}

// benchRun is a running pipeline with one in-memory adapter and a
// channel per session that receives a signal when its answer is sent.
type benchRun struct {
	adapter *coretest.Adapter
	replies []chan struct{}
	sent    []int // messages each session has sent, for unique ids
}

// startBenchPipeline runs a pipeline on a fresh SQLite file with one owner
// and one direct chat per session. It stops when the benchmark ends.
func startBenchPipeline(b *testing.B, sessions int) *benchRun {
	b.Helper()

	db := storetest.Open(b, store.SQLite)
	ctx, cancel := context.WithCancel(context.Background())

	presence, err := db.Announce(ctx, store.NewReplicaID())
	if err != nil {
		b.Fatalf("announce: %v", err)
	}

	owners := make([]access.Owner, sessions)
	byChat := make(map[core.ChatID]chan struct{}, sessions)
	bp := &benchRun{
		replies: make([]chan struct{}, sessions),
		sent:    make([]int, sessions),
	}

	for i := range sessions {
		owners[i] = access.Owner{Channel: channel, UserID: benchUser(i)}
		bp.replies[i] = make(chan struct{}, 1)
		byChat[benchChat(i)] = bp.replies[i]
	}

	// MaxParallel stays at the default of 16, as "bot serve" runs it: on
	// SQLite every query goes through one connection, so more slots than
	// that would not add throughput, only queue in a different place.
	p, err := pipeline.New(db, presence, pipeline.Options{
		AgentID:   "default",
		AgentName: "Benchbot",
		Owners:    owners,
		Logger:    slog.New(slog.DiscardHandler),
		Metrics:   metrics.New(),
	})
	if err != nil {
		b.Fatalf("new pipeline: %v", err)
	}

	bp.adapter = coretest.NewAdapter(channel, 0)
	bp.adapter.OnSend(func(out core.Outgoing) {
		select {
		case byChat[out.To.ChatID] <- struct{}{}:
		default:
		}
	})

	if err := p.Register(bp.adapter); err != nil {
		b.Fatalf("register: %v", err)
	}

	done := make(chan error, 1)

	go func() { done <- p.Run(ctx) }()

	// Cleanups run last first, so the pipeline stops before the database
	// that storetest opened is closed.
	b.Cleanup(func() {
		cancel()

		if err := <-done; err != nil {
			b.Errorf("pipeline run: %v", err)
		}

		_ = presence.Close()
	})

	return bp
}

// run sends n messages spread over the sessions, each session waiting for
// the answer before it sends the next. When latencies is not nil, each
// session appends the latency of each of its messages to its own slice.
func (bp *benchRun) run(n int, latencies [][]time.Duration) error {
	sessions := len(bp.replies)
	errs := make(chan error, sessions)

	var wg sync.WaitGroup

	for s := range sessions {
		count := n / sessions
		if s < n%sessions {
			count++
		}

		wg.Go(func() {
			for range count {
				d, err := bp.roundTrip(s)
				if err != nil {
					errs <- err
					return
				}

				if latencies != nil {
					latencies[s] = append(latencies[s], d)
				}
			}
		})
	}

	wg.Wait()
	close(errs)

	return <-errs
}

// roundTrip delivers the next message of session s and waits for its
// answer to be sent.
func (bp *benchRun) roundTrip(s int) (time.Duration, error) {
	bp.sent[s]++

	msg := core.Inbound{
		ChatID:    benchChat(s),
		UserID:    benchUser(s),
		MessageID: core.MessageID(fmt.Sprintf("%d", bp.sent[s])),
		Text:      fmt.Sprintf("message %d of session %d", bp.sent[s], s),
		Direct:    true,
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	start := time.Now()

	if err := bp.adapter.Deliver(ctx, msg); err != nil {
		return 0, fmt.Errorf("deliver %s/%s: %w", msg.ChatID, msg.MessageID, err)
	}

	select {
	case <-bp.replies[s]:
		return time.Since(start), nil
	case <-ctx.Done():
		return 0, fmt.Errorf("no answer to %s/%s within 10 s", msg.ChatID, msg.MessageID)
	}
}

func benchUser(i int) core.UserID { return core.UserID(fmt.Sprintf("owner-%d", i)) }

func benchChat(i int) core.ChatID { return core.ChatID(fmt.Sprintf("dm-owner-%d", i)) }

func millis(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// peakRSSMB returns the peak resident set size of this process in MiB.
// Linux reports ru_maxrss in KiB.
func peakRSSMB() float64 {
	return float64(rusage().Maxrss) / 1024
}

// cpuTime returns the user and system CPU time this process has used.
func cpuTime() time.Duration {
	ru := rusage()

	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// rusage returns the resource usage of this process, zero if the system
// does not say.
func rusage() syscall.Rusage {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)

	return ru
}

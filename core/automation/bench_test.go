package automation_test

import (
	"bufio"
	"context"
	"log/slog"
	"os"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/switchboardhq/switchboard/core"
	"github.com/switchboardhq/switchboard/core/automation"
	"github.com/switchboardhq/switchboard/core/coretest"
	"github.com/switchboardhq/switchboard/core/store"
	"github.com/switchboardhq/switchboard/core/store/storetest"
)

// The shape of BenchmarkAutomations: the reminders waiting far ahead, and
// the stream that falls due while it measures.
const (
	benchPending   = 100_000
	benchBatch     = 1_000
	benchPerSecond = 10
	benchWindow    = 20 * time.Second
	// benchLead is the time between the end of the set-up and the first
	// reminder of the stream, for the start-up to be measured first.
	benchLead = 3 * time.Second
	// benchAgent owns every reminder of the benchmark.
	benchAgent = "bench"
)

// BenchmarkAutomations measures the engine on a SQLite file that holds
// 100,000 reminders far in the future: the start-up of a new engine on a
// freshly opened database until its first FireDue returns (startup-ms,
// what a restart costs), the resident memory of the process after that
// (rss-MB), and, while Run fires a stream of 10 reminders a second for
// 20 s with the real clock, how late each was written to the outbox: the
// run's fired_at minus its due time (late-p50-ms, late-p99-ms,
// late-max-ms). commit-late-max-ms bounds the same from the commit: it
// is measured to the Poke after the batch that fired it. The engine is
// measured once; the timed loop is one FireDue with nothing due.
func BenchmarkAutomations(b *testing.B) {
	ctx := context.Background()
	url := storetest.URL(b, store.SQLite)
	setup := storetest.OpenURL(b, url)

	insertPending(b, setup, time.Now().Add(24*time.Hour))

	first := time.Now().Add(benchLead)
	stream := insertStream(b, setup, first)

	debug.FreeOSMemory()

	began := time.Now()

	db, err := store.Open(ctx, store.Options{URL: url})
	if err != nil {
		b.Fatalf("open the database again: %v", err)
	}

	b.Cleanup(func() { _ = db.Close() })

	var pokes pokeLog

	e := automation.NewEngine(automation.Config{DB: db, AgentID: benchAgent,
		Poke: pokes.note, Logger: slog.New(slog.DiscardHandler)})

	if _, err := e.FireDue(ctx); err != nil {
		b.Fatalf("first FireDue: %v", err)
	}

	startup := time.Since(began)
	rss := vmRSS(b)

	if time.Now().After(first) {
		b.Fatalf("the start-up took %s, past the first reminder of the stream", startup)
	}

	runFor(b, e, time.Until(first.Add(benchWindow+2*time.Second)))

	fired, committed := streamLateness(b, setup, stream, &pokes)

	for b.Loop() {
		if _, err := e.FireDue(ctx); err != nil {
			b.Fatal(err)
		}
	}

	b.ReportMetric(millis(startup), "startup-ms")
	b.ReportMetric(rss, "rss-MB")
	b.ReportMetric(coretest.PercentileMS(fired, 0.50), "late-p50-ms")
	b.ReportMetric(coretest.PercentileMS(fired, 0.99), "late-p99-ms")
	b.ReportMetric(millis(fired[len(fired)-1]), "late-max-ms")
	b.ReportMetric(millis(committed[len(committed)-1]), "commit-late-max-ms")
}

// benchReminder returns a reminder of the benchmark's agent due at due.
func benchReminder(i int, due, now time.Time) automation.Automation {
	return automation.Automation{
		AgentID:   benchAgent,
		Kind:      automation.KindRemind,
		Channel:   "webhook",
		ChatID:    core.ChatID("chat-" + strconv.Itoa(i%500)),
		UserID:    core.UserID("u-" + strconv.Itoa(i%500)),
		TimeZone:  "UTC",
		Text:      "task-" + strconv.Itoa(i),
		CatchUp:   automation.CatchUpOnce,
		Status:    automation.StatusActive,
		AtTime:    bun.NullTime{Time: due.UTC()},
		NextRunAt: bun.NullTime{Time: due.UTC()},
		CreatedAt: now,
		UpdatedAt: now,
	}
}

// insertPending stores benchPending reminders, one a second from from on,
// in bulk inserts of benchBatch rows.
func insertPending(b *testing.B, db *store.DB, from time.Time) {
	b.Helper()

	ctx := context.Background()
	now := time.Now()
	batch := make([]automation.Automation, 0, benchBatch)

	for i := range benchPending {
		batch = append(batch, benchReminder(i, from.Add(time.Duration(i)*time.Second), now))
		if len(batch) < benchBatch && i < benchPending-1 {
			continue
		}

		if _, err := db.NewInsert().Model(&batch).Exec(ctx); err != nil {
			b.Fatalf("insert pending reminders: %v", err)
		}

		batch = batch[:0]
	}
}

// insertStream stores the reminders that fall due while the benchmark
// measures, benchPerSecond a second from first on, and returns their ids.
func insertStream(b *testing.B, db *store.DB, first time.Time) []int64 {
	b.Helper()

	n := int(benchWindow/time.Second) * benchPerSecond
	step := time.Second / benchPerSecond
	now := time.Now()
	rows := make([]automation.Automation, n)

	for i := range rows {
		rows[i] = benchReminder(benchPending+i, first.Add(time.Duration(i)*step), now)
	}

	_, err := db.NewInsert().Model(&rows).Returning("id").Exec(context.Background())
	if err != nil {
		b.Fatalf("insert the stream: %v", err)
	}

	ids := make([]int64, n)
	for i := range rows {
		ids[i] = rows[i].ID
	}

	return ids
}

// runFor runs the engine with the real clock for d.
func runFor(b *testing.B, e *automation.Engine, d time.Duration) {
	b.Helper()

	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()

	if err := e.Run(ctx); err != nil {
		b.Fatalf("run the engine: %v", err)
	}
}

// streamLateness returns how late each reminder of the stream fired,
// sorted: by the run's fired_at, and by the first Poke after it, which
// comes once the batch that fired it has committed.
func streamLateness(b *testing.B, db *store.DB, ids []int64, pokes *pokeLog,
) (fired, committed []time.Duration) {
	b.Helper()

	var runs []automation.Run

	err := db.NewSelect().Model(&runs).Where("run.automation_id IN (?)", bun.List(ids)).
		Scan(context.Background())
	if err != nil {
		b.Fatalf("read the runs of the stream: %v", err)
	}

	if len(runs) != len(ids) {
		b.Fatalf("%d of the %d reminders of the stream fired", len(runs), len(ids))
	}

	for _, r := range runs {
		poked, ok := pokes.after(r.FiredAt)
		if !ok {
			b.Fatalf("no Poke after run %d fired at %s", r.ID, r.FiredAt)
		}

		fired = append(fired, r.FiredAt.Sub(r.DueAt))
		committed = append(committed, poked.Sub(r.DueAt))
	}

	slices.Sort(fired)
	slices.Sort(committed)

	return fired, committed
}

// pokeLog records when the engine poked the outbox. It is safe for
// concurrent use.
type pokeLog struct {
	mu    sync.Mutex
	times []time.Time
}

func (p *pokeLog) note() {
	p.mu.Lock()
	defer p.mu.Unlock()

	p.times = append(p.times, time.Now())
}

// after returns the first poke at or after t.
func (p *pokeLog) after(t time.Time) (time.Time, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()

	for _, pt := range p.times {
		if !pt.Before(t) {
			return pt, true
		}
	}

	return time.Time{}, false
}

func millis(d time.Duration) float64 {
	return float64(d) / float64(time.Millisecond)
}

// vmRSS returns the resident memory of this process in MiB, from VmRSS in
// /proc/self/status.
func vmRSS(b *testing.B) float64 {
	b.Helper()

	f, err := os.Open("/proc/self/status")
	if err != nil {
		b.Fatalf("read the memory of the process: %v", err)
	}
	defer f.Close()

	sc := bufio.NewScanner(f)
	for sc.Scan() {
		value, ok := strings.CutPrefix(sc.Text(), "VmRSS:")
		if !ok {
			continue
		}

		kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(value), " kB"), 64)
		if err != nil {
			b.Fatalf("parse VmRSS %q: %v", value, err)
		}

		return kb / 1024
	}

	b.Fatalf("no VmRSS in /proc/self/status (read error: %v)", sc.Err())

	return 0
}

package main

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/adapters/webhook"
	"github.com/switchboardhq/switchboard/core/automation"
	"github.com/switchboardhq/switchboard/core/store"
	"github.com/switchboardhq/switchboard/core/store/storetest"
)

// The shape of the reminder crash test: how many chats set how many
// reminders each, how far ahead, and how often the gateway is killed
// before they fall due.
const (
	remindChats   = 20
	remindPerChat = 50
	remindTotal   = remindChats * remindPerChat
	remindMinIn   = 15 // seconds
	remindMaxIn   = 60 // seconds
	remindKills   = 2
	// remindGrace is how long after the last due time the test waits for
	// the reminders before it gives up.
	remindGrace = 90 * time.Second
	// remindLate is lateness that counts as late in the summary.
	remindLate = time.Second
)

// remindPrefix starts every reminder's message.
const remindPrefix = "⏰ Reminder: "

// remindSeed replays the random choices of an earlier run; the timing of
// the processes still differs from run to run.
var remindSeed = flag.Uint64("remind.seed", 0,
	"seed of TestRemindersSurviveKills (0: a new one)")

// TestRemindersSurviveKills sets a thousand reminders through the webhook
// channel, due 15 to 60 seconds later, and kills the gateway with SIGKILL
// twice before they are all due. Every reminder must reach the platform
// exactly once and never before it is due.
func TestRemindersSurviveKills(t *testing.T) {
	t.Parallel()

	storetest.Each(t, func(t *testing.T, kind store.Dialect) {
		t.Parallel()

		testRemindersSurviveKills(t, kind)
	})
}

func testRemindersSurviveKills(t *testing.T, kind store.Dialect) {
	seed := *remindSeed
	if seed == 0 {
		seed = rand.Uint64()
	}

	t.Logf("seed %d (replay with -args -remind.seed=%d)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, seed>>1))
	start := time.Now()

	plat := newPlatform()
	arrived := newArrivals(plat)
	receiver := httptest.NewServer(arrived)
	t.Cleanup(receiver.Close)

	dir := t.TempDir()
	dbURL, env := crashEnv(t, kind, dir, receiver.URL)

	var runs []*process
	t.Cleanup(func() {
		if t.Failed() {
			printLogs(t, runs)
		}
	})

	runs = append(runs, startServe(t, dir, env...))
	db := openCrashStore(t, dbURL)
	reminders := planReminders(rng)
	post := newPoster(t, runs[0].addr)

	ctx, cancel := context.WithCancel(context.Background())
	posted := postReminders(ctx, t, post, reminders)

	defer func() {
		cancel()
		<-posted
	}()

	down := killDuringReminders(t, rng, &runs, dir, env, start)

	<-posted

	if !waitReminders(reminders, plat, db, lastDue(reminders).Add(remindGrace)) {
		t.Errorf("not done %s after the last due time: %d of %d reminders arrived",
			remindGrace, len(remindKeys(plat)), remindTotal)
	}

	stopLast(t, runs[len(runs)-1], post)

	checkReminders(t, reminders, plat, arrived, db, down)
	checkRemindStore(t, db)

	t.Logf("%d reminders, %d posts, %d kills, %d repeated deliveries (same key); seed %d; %s",
		remindTotal, post.posts.Load(), remindKills, plat.repeatCount(), seed,
		time.Since(start).Round(time.Millisecond))
}

// reminder is one /remind a chat posts, and when it was posted.
type reminder struct {
	msg  webhook.Message
	task string
	in   time.Duration
	// sent is when the first try to post it began: the gateway cannot
	// have read it earlier, so it cannot be due before sent+in.
	sent time.Time
	// accepted is when the gateway acknowledged it.
	accepted time.Time
}

// planReminders decides every reminder's chat and delay. Reminder i is
// task-i; chat c posts reminders c, c+remindChats, and so on.
func planReminders(rng *rand.Rand) []*reminder {
	out := make([]*reminder, remindTotal)

	for i := range out {
		in := remindMinIn + rng.IntN(remindMaxIn-remindMinIn+1)
		task := fmt.Sprintf("task-%d", i)

		out[i] = &reminder{
			msg: webhook.Message{
				MessageID: fmt.Sprintf("remind-%04d", i),
				ChatID:    fmt.Sprintf("rchat-%02d", i%remindChats),
				UserID:    crashUser,
				Text:      fmt.Sprintf("/remind me in %d seconds to %s", in, task),
			},
			task: task,
			in:   time.Duration(in) * time.Second,
		}
	}

	return out
}

// postReminders posts every chat's reminders, one after the other, each
// chat from its own goroutine, and closes the returned channel when all
// are accepted or ctx ends. The poster tries each one again until the
// gateway takes it, so kills only delay them.
func postReminders(ctx context.Context, t *testing.T, post *poster, rs []*reminder,
) <-chan struct{} {
	var wg sync.WaitGroup

	for c := range remindChats {
		wg.Go(func() {
			for i := c; i < len(rs); i += remindChats {
				r := rs[i]
				r.sent = time.Now()

				if err := post.post(ctx, r.msg); err != nil {
					if ctx.Err() == nil {
						t.Errorf("post %s: %v", r.msg.MessageID, err)
					}

					return
				}

				r.accepted = time.Now()
				post.accepted.Add(1)
			}
		})
	}

	done := make(chan struct{})

	go func() {
		wg.Wait()
		close(done)
	}()

	return done
}

// downtime is a span in which no gateway was running.
type downtime struct{ from, to time.Time }

// killDuringReminders kills the newest run with SIGKILL remindKills times
// at random moments between 3 and 55 s after start, leaves the gateway
// down for 0.5 to 3 s, then starts a new run on the same data. It returns
// the spans without a gateway.
func killDuringReminders(t *testing.T, rng *rand.Rand, runs *[]*process, dir string,
	env []string, start time.Time,
) []downtime {
	t.Helper()

	at := make([]time.Duration, remindKills)
	for k := range at {
		at[k] = time.Duration(3000+rng.IntN(52_000)) * time.Millisecond
	}

	slices.Sort(at)

	var down []downtime

	for k, after := range at {
		time.Sleep(time.Until(start.Add(after)))

		from := time.Now()
		(*runs)[len(*runs)-1].kill()

		pause := time.Duration(500+rng.IntN(2500)) * time.Millisecond
		time.Sleep(pause)

		*runs = append(*runs, startServe(t, dir, env...))
		down = append(down, downtime{from: from, to: time.Now()})

		t.Logf("kill %d of %d at %s, down for %s", k+1, remindKills,
			from.Sub(start).Round(time.Millisecond), time.Since(from).Round(time.Millisecond))
	}

	return down
}

// waitReminders waits until every reminder reached the platform and the
// gateway has nothing left to fire or send, or until deadline.
func waitReminders(rs []*reminder, plat *platform, db *store.DB, deadline time.Time) bool {
	const pending = "SELECT (SELECT count(*) FROM automations WHERE status = 'active') " +
		"+ (SELECT count(*) FROM outbox WHERE status <> 'sent')"

	for time.Now().Before(deadline) {
		if len(remindKeys(plat)) >= len(rs) && countRow(db, pending) == 0 {
			return true
		}

		time.Sleep(100 * time.Millisecond)
	}

	return false
}

// remindKeys returns the idempotency keys of the reminders that reached
// the platform, by task.
func remindKeys(plat *platform) map[string][]string {
	firsts, _ := plat.deliveries()
	keys := make(map[string][]string)

	for _, d := range firsts {
		if task, ok := taskOf(d.Text); ok {
			keys[task] = append(keys[task], d.IdempotencyKey)
		}
	}

	return keys
}

// taskOf returns the task a reminder's message is about. A message that
// comes more than a minute late has a second line that says so.
func taskOf(text string) (string, bool) {
	first, _, _ := strings.Cut(text, "\n")

	return strings.CutPrefix(first, remindPrefix)
}

// checkReminders checks that every reminder and every confirmation
// reached the platform once, and that no reminder came before it was due,
// and logs how late they came.
func checkReminders(t *testing.T, rs []*reminder, plat *platform, arrived *arrivals,
	db *store.DB, down []downtime,
) {
	t.Helper()

	firsts, problems := plat.deliveries()
	for _, p := range problems {
		t.Errorf("platform: %s", p)
	}

	checkConfirmations(t, rs, firsts)

	due := dueTimes(t, db)
	keys := remindKeys(plat)

	var (
		lost     []string
		lateness []time.Duration
		byKill   int
	)

	for _, r := range rs {
		ks := keys[r.task]
		delete(keys, r.task)

		switch {
		case len(ks) == 0:
			lost = append(lost, r.task)
			continue
		case len(ks) > 1:
			t.Errorf("%s arrived %d times (keys %s)", r.task, len(ks), strings.Join(ks, ", "))
		}

		late, ok := checkDue(t, r, due[r.task], arrived.at(ks[0]))
		if !ok {
			continue
		}

		lateness = append(lateness, late)

		if dueWhileDown(due[r.task], down) {
			byKill++
		}
	}

	if len(lost) > 0 {
		t.Errorf("%d of %d reminders never arrived: %v", len(lost), len(rs), lost)
	}

	for task, ks := range keys {
		t.Errorf("a reminder for unknown %q arrived (keys %s)", task, strings.Join(ks, ", "))
	}

	logLateness(t, lateness, byKill)
}

// checkDue checks one reminder's due time and arrival and returns how
// late it came. The gateway must have set it no earlier than the
// reminder asked, and fired it no earlier than that.
func checkDue(t *testing.T, r *reminder, due, arrival time.Time) (time.Duration, bool) {
	t.Helper()

	switch {
	case due.IsZero():
		t.Errorf("%s arrived but is not stored as a reminder", r.task)
		return 0, false
	case arrival.IsZero():
		t.Errorf("%s: no arrival time recorded", r.task)
		return 0, false
	case due.Before(r.sent.Add(r.in).Truncate(time.Microsecond)):
		t.Errorf("%s is due at %s, before it was posted (%s) plus %s",
			r.task, due.Format(time.StampMicro), r.sent.Format(time.StampMicro), r.in)
	}

	if arrival.Before(due) {
		t.Errorf("%s arrived %s early: at %s, due %s", r.task, due.Sub(arrival),
			arrival.Format(time.StampMicro), due.Format(time.StampMicro))
	}

	return arrival.Sub(due), true
}

// checkConfirmations checks that the gateway confirmed every /remind once
// and that nothing else reached the platform.
func checkConfirmations(t *testing.T, rs []*reminder, firsts []webhook.Delivery) {
	t.Helper()

	replies := make(map[string][]string)

	for _, d := range firsts {
		if _, ok := taskOf(d.Text); !ok {
			replies[d.ReplyTo] = append(replies[d.ReplyTo], d.Text)
		}
	}

	for _, r := range rs {
		got := replies[r.msg.MessageID]
		delete(replies, r.msg.MessageID)

		if len(got) != 1 || !strings.HasPrefix(got[0], "I'll remind you") {
			t.Errorf("%q was answered %q, want one confirmation", r.msg.Text, got)
		}
	}

	for replyTo, texts := range replies {
		t.Errorf("unexpected messages replying to %q: %q", replyTo, texts)
	}
}

// dueTimes returns when the gateway stored each reminder as due, by task.
func dueTimes(t *testing.T, db *store.DB) map[string]time.Time {
	t.Helper()

	var all []automation.Automation

	err := db.NewSelect().Model(&all).Where("a.kind = ?", automation.KindRemind).
		Scan(context.Background())
	if err != nil {
		t.Fatalf("read the reminders: %v", err)
	}

	due := make(map[string]time.Time, len(all))
	for _, a := range all {
		if _, dup := due[a.Text]; dup {
			t.Errorf("%s is stored more than once", a.Text)
		}

		due[a.Text] = a.AtTime.Time
	}

	return due
}

// dueWhileDown reports whether due fell in a span without a gateway.
func dueWhileDown(due time.Time, down []downtime) bool {
	for _, d := range down {
		if !due.Before(d.from) && !due.After(d.to) {
			return true
		}
	}

	return false
}

// logLateness logs the spread of arrival minus due time, how many came
// more than remindLate late, and how many fell due while no gateway ran.
func logLateness(t *testing.T, lateness []time.Duration, byKill int) {
	t.Helper()

	if len(lateness) == 0 {
		return
	}

	slices.Sort(lateness)

	over := 0
	for _, d := range lateness {
		if d > remindLate {
			over++
		}
	}

	pct := func(p float64) time.Duration {
		return lateness[min(int(p*float64(len(lateness))), len(lateness)-1)]
	}

	t.Logf("lateness of %d reminders: p50 %s, p99 %s, max %s; %d more than %s late; "+
		"%d fell due while the gateway was down", len(lateness),
		pct(0.50).Round(time.Millisecond), pct(0.99).Round(time.Millisecond),
		lateness[len(lateness)-1].Round(time.Millisecond), over, remindLate, byKill)
}

// checkRemindStore checks the database after the last run stopped: every
// reminder stored once and done, fired once, and its message sent.
func checkRemindStore(t *testing.T, db *store.DB) {
	t.Helper()

	checks := []struct {
		what  string
		query string
		want  int
	}{
		{"stored reminders", "SELECT count(*) FROM automations WHERE kind = 'remind'",
			remindTotal},
		{"reminders not done", "SELECT count(*) FROM automations WHERE status <> 'done'", 0},
		{"runs", "SELECT count(*) FROM automation_runs", remindTotal},
		{"outbox rows not sent", "SELECT count(*) FROM outbox WHERE status <> 'sent'", 0},
	}

	for _, c := range checks {
		if n := countRow(db, c.query); n != c.want {
			t.Errorf("%s: %d, want %d (-1: the query failed)", c.what, n, c.want)
		}
	}
}

// arrivals notes when each idempotency key first reached the platform in
// a delivery the platform took, then hands the request to the platform.
// It is safe for concurrent use.
type arrivals struct {
	plat *platform

	mu    sync.Mutex
	first map[string]time.Time
}

func newArrivals(plat *platform) *arrivals {
	return &arrivals{plat: plat, first: make(map[string]time.Time)}
}

// ServeHTTP passes the delivery to the platform and notes when it came,
// unless the platform refused it (a body cut short by a kill).
func (a *arrivals) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	now := time.Now()
	sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}

	a.plat.ServeHTTP(sw, r)

	if sw.status != http.StatusOK {
		return
	}

	a.mu.Lock()
	defer a.mu.Unlock()

	if _, seen := a.first[r.Header.Get("Idempotency-Key")]; !seen {
		a.first[r.Header.Get("Idempotency-Key")] = now
	}
}

// at returns when key first arrived; zero when it did not.
func (a *arrivals) at(key string) time.Time {
	a.mu.Lock()
	defer a.mu.Unlock()

	return a.first[key]
}

// statusWriter remembers the status a handler answered with.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

// lastDue returns when the last reminder falls due at the latest.
func lastDue(rs []*reminder) time.Time {
	var last time.Time

	for _, r := range rs {
		if due := r.sent.Add(r.in); due.After(last) {
			last = due
		}
	}

	return last
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/adapters/webhook"
	"github.com/switchboardhq/switchboard/core/store"
	"github.com/switchboardhq/switchboard/core/store/storetest"
)

// The shape of the crash test: how many chats post how many messages each,
// and how often the gateway is killed while they do.
const (
	crashChats   = 20
	crashPerChat = 10
	crashTotal   = crashChats * crashPerChat
	crashKills   = 4
	crashSecret  = "crash-test-secret-4f1d9a"
	crashUser    = "u1"
)

// crashSeed replays the random choices of an earlier run; the timing of
// the processes still differs from run to run.
var crashSeed = flag.Uint64("crash.seed", 0, "seed of TestCrash (0: a new one)")

// TestCrash runs the gateway as a real process and kills it with SIGKILL at
// random moments while a platform posts messages to it and takes its
// answers. Every message must be answered exactly once, answers of a chat
// must come in the order its messages were accepted, and nothing may be
// left in the database when the last run stops.
func TestCrash(t *testing.T) {
	t.Parallel()

	storetest.Each(t, func(t *testing.T, kind store.Dialect) {
		t.Parallel()

		testCrash(t, kind)
	})
}

func testCrash(t *testing.T, kind store.Dialect) {
	seed := *crashSeed
	if seed == 0 {
		seed = rand.Uint64()
	}

	t.Logf("seed %d (replay with -args -crash.seed=%d)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, seed>>1))
	start := time.Now()

	plat := newPlatform()
	receiver := httptest.NewServer(plat)
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
	chats := planChats(rng)
	post := newPoster(t, runs[0].addr)

	progress := func() string {
		return fmt.Sprintf("%d of %d messages accepted, %d answered",
			post.accepted.Load(), crashTotal, plat.answered())
	}

	ctx, cancel := context.WithCancel(context.Background())
	sent := post.start(ctx, chats)

	defer func() {
		cancel()
		<-sent
	}()

	killAndRestart(t, rng, &runs, dir, env, progress)

	if !waitDone(sent, plat, db, 60*time.Second) {
		t.Errorf("not done within 60 s: %s", progress())
	}

	cancel()
	<-sent
	stopLast(t, runs[len(runs)-1], post)

	checkStore(t, db)
	checkAnswers(t, chats, plat)
	checkOrder(t, chats, plat)

	t.Logf("%d messages, %d redelivered on purpose, %d posts in all; %d kills; "+
		"%d repeated deliveries (same key); seed %d; %s",
		crashTotal, post.redelivered.Load(), post.posts.Load(), crashKills, plat.repeatCount(),
		seed, time.Since(start).Round(time.Millisecond))
}

// killAndRestart kills the newest run with SIGKILL crashKills times, each
// after a random 100 to 600 ms, and starts a new run on the same data after
// each kill.
func killAndRestart(t *testing.T, rng *rand.Rand, runs *[]*process, dir string, env []string,
	progress func() string,
) {
	t.Helper()

	for kill := 1; kill <= crashKills; kill++ {
		wait := time.Duration(100+rng.IntN(500)) * time.Millisecond
		time.Sleep(wait)

		(*runs)[len(*runs)-1].kill()
		t.Logf("kill %d of %d after %s: %s", kill, crashKills, wait, progress())

		*runs = append(*runs, startServe(t, dir, env...))
	}
}

// stopLast stops the last run the way a service manager does, once the
// poster is done, and reports what went wrong on the poster's side.
func stopLast(t *testing.T, last *process, post *poster) {
	t.Helper()

	// A connection the client opened but never used would hold up the
	// graceful stop for seconds.
	post.client.CloseIdleConnections()

	if err := last.stop(); err != nil {
		t.Errorf("stop the last gateway: %v", err)
	}

	for _, err := range post.errors() {
		t.Error(err)
	}
}

// crashEnv returns the database URL and the environment of every gateway
// run: one fixed address, the webhook channel pointed at receiver, and the
// same database for all runs.
func crashEnv(t *testing.T, kind store.Dialect, dir, receiver string) (string, []string) {
	t.Helper()

	env := []string{
		"BOT_HTTP_ADDR=" + freeAddr(t),
		"BOT_WEBHOOK_DELIVER_URL=" + receiver,
		"BOT_WEBHOOK_SECRET=" + crashSecret,
		"BOT_ACCESS_OWNERS=webhook:" + crashUser,
	}

	if kind == store.Postgres {
		dbURL := storetest.URL(t, store.Postgres)
		return dbURL, append(env, "BOT_DATABASE_URL="+dbURL)
	}

	data := filepath.Join(dir, "data")

	return "sqlite:" + filepath.Join(data, "bot.db"), append(env, "BOT_DATA_DIR="+data)
}

// openCrashStore opens the gateway's database beside it, to watch its
// progress and check what it left; the gateway has migrated it.
func openCrashStore(t *testing.T, dbURL string) *store.DB {
	t.Helper()

	db, err := store.Open(context.Background(), store.Options{URL: dbURL, MaxOpenConns: 1})
	if err != nil {
		t.Fatalf("open the gateway's database: %v", err)
	}

	t.Cleanup(func() { _ = db.Close() })

	return db
}

// waitDone waits until every message is accepted and answered and the
// gateway has recorded every answer as sent, or until timeout.
func waitDone(sent <-chan struct{}, plat *platform, db *store.DB, timeout time.Duration,
) bool {
	deadline := time.Now().Add(timeout)

	for time.Now().Before(deadline) {
		select {
		case <-sent:
			if plat.answered() == crashTotal && countRow(db, unsentQuery) == 0 {
				return true
			}
		default:
		}

		time.Sleep(20 * time.Millisecond)
	}

	return false
}

// unsentQuery counts the messages and answers the gateway has not
// finished.
const unsentQuery = "SELECT (SELECT count(*) FROM inbound_messages WHERE status <> 'handled') " +
	"+ (SELECT count(*) FROM outbox WHERE status <> 'sent')"

// countRow runs a query that returns one number; -1 means it failed.
func countRow(db *store.DB, query string) int {
	var n int
	if err := db.QueryRowContext(context.Background(), query).Scan(&n); err != nil {
		return -1
	}

	return n
}

// printLogs shows the end of every gateway run's log.
func printLogs(t *testing.T, runs []*process) {
	t.Helper()

	for i, p := range runs {
		lines := strings.Split(strings.TrimRight(p.logs(), "\n"), "\n")
		lines = lines[max(len(lines)-40, 0):]

		t.Logf("gateway run %d of %d, last %d lines of its log:\n%s",
			i+1, len(runs), len(lines), strings.Join(lines, "\n"))
	}
}

// crashChat is what one chat of the platform posts, and what came of it.
type crashChat struct {
	msgs []webhook.Message
	// pauses[k] is the wait before msgs[k] is posted.
	pauses []time.Duration
	// redeliver[k] is the index of a message posted again once msgs[k] is
	// accepted, as a platform redelivers; -1 for none.
	redeliver []int
	// accepted lists message ids in the order of their first 202.
	accepted []string
}

// planChats decides every chat's messages, pauses and redeliveries.
func planChats(rng *rand.Rand) []*crashChat {
	chats := make([]*crashChat, crashChats)

	for c := range chats {
		ch := &crashChat{}
		chatID := fmt.Sprintf("chat-%02d", c)

		for k := range crashPerChat {
			id := fmt.Sprintf("msg-%03d", k*crashChats+c)
			ch.msgs = append(ch.msgs, webhook.Message{
				MessageID: id,
				ChatID:    chatID,
				UserID:    crashUser,
				Text:      fmt.Sprintf("message %s in %s", id, chatID),
			})

			// A third of the messages follow the previous one at once, so
			// that a chat's messages and answers queue up behind each other.
			pause := time.Duration(50+rng.IntN(350)) * time.Millisecond
			if rng.IntN(3) == 0 {
				pause = 0
			}

			ch.pauses = append(ch.pauses, pause)

			again := -1
			if rng.IntN(6) == 0 {
				again = rng.IntN(k + 1)
			}

			ch.redeliver = append(ch.redeliver, again)
		}

		chats[c] = ch
	}

	return chats
}

// poster posts messages to the gateway the way a platform delivers a
// webhook: each one again and again until the gateway acknowledges it
// with 202. It is safe for concurrent use.
type poster struct {
	url    string
	client *http.Client

	posts       atomic.Int64 // every try
	accepted    atomic.Int64 // first acknowledgements
	redelivered atomic.Int64 // deliberate repeats

	mu   sync.Mutex
	errs []error
}

func newPoster(t *testing.T, addr string) *poster {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = crashChats
	t.Cleanup(tr.CloseIdleConnections)

	return &poster{
		url:    "http://" + addr + webhook.Path,
		client: &http.Client{Transport: tr, Timeout: 5 * time.Second},
	}
}

// start posts every chat's messages, each chat from its own goroutine, and
// closes the returned channel when all are done or ctx ends.
func (p *poster) start(ctx context.Context, chats []*crashChat) <-chan struct{} {
	var wg sync.WaitGroup

	for _, ch := range chats {
		wg.Go(func() {
			if err := p.run(ctx, ch); err != nil && ctx.Err() == nil {
				p.mu.Lock()
				p.errs = append(p.errs, err)
				p.mu.Unlock()
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

// run posts one chat's messages in order, each after the previous one was
// accepted.
func (p *poster) run(ctx context.Context, ch *crashChat) error {
	for k, m := range ch.msgs {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(ch.pauses[k]):
		}

		if err := p.post(ctx, m); err != nil {
			return err
		}

		ch.accepted = append(ch.accepted, m.MessageID)
		p.accepted.Add(1)

		if j := ch.redeliver[k]; j >= 0 {
			if err := p.post(ctx, ch.msgs[j]); err != nil {
				return err
			}

			p.redelivered.Add(1)
		}
	}

	return nil
}

// post sends m until it is acknowledged. A refusal (a 4xx answer) is an
// error, since trying again would not help.
func (p *poster) post(ctx context.Context, m webhook.Message) error {
	body, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("encode message %s: %w", m.MessageID, err)
	}

	for {
		status := p.try(ctx, body)

		switch {
		case status == http.StatusAccepted:
			return nil
		case status >= 400 && status < 500:
			return fmt.Errorf("message %s refused with status %d", m.MessageID, status)
		}

		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// try posts body once and returns the status, or 0 when no answer came.
func (p *poster) try(ctx context.Context, body []byte) int {
	p.posts.Add(1)

	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.url, bytes.NewReader(body))
	if err != nil {
		return 0
	}

	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+crashSecret)

	resp, err := p.client.Do(req)
	if err != nil {
		return 0
	}
	defer resp.Body.Close()

	_, _ = io.Copy(io.Discard, resp.Body)

	return resp.StatusCode
}

func (p *poster) errors() []error {
	p.mu.Lock()
	defer p.mu.Unlock()

	return slices.Clone(p.errs)
}

// platform plays the messenger behind the webhook channel. It keeps the
// first delivery of every idempotency key, answers a repeat of a key with
// the message id it gave the first time, and counts the repeats. It is
// safe for concurrent use.
type platform struct {
	mu       sync.Mutex
	keys     map[string]int // idempotency key → index in firsts
	firsts   []webhook.Delivery
	replied  map[string]bool // reply_to of the first deliveries
	repeats  int
	problems []string
}

func newPlatform() *platform {
	return &platform{keys: make(map[string]int), replied: make(map[string]bool)}
}

// ServeHTTP takes one delivery and answers with its platform message id.
func (pl *platform) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer "+crashSecret {
		pl.problem("delivery with a wrong or missing bearer secret")
		http.Error(w, "unauthorized", http.StatusUnauthorized)

		return
	}

	// A body cut short comes from a gateway killed while sending; nobody
	// reads this answer.
	var d webhook.Delivery
	if err := json.NewDecoder(r.Body).Decode(&d); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}

	key := r.Header.Get("Idempotency-Key")
	if key == "" || key != d.IdempotencyKey {
		pl.problem(fmt.Sprintf("Idempotency-Key %q does not match the body's %q",
			key, d.IdempotencyKey))
	}

	id := pl.record(key, d)

	// A platform takes a while to answer; a gateway killed meanwhile has
	// delivered a message it has not recorded as sent.
	time.Sleep(time.Duration(5+rand.IntN(35)) * time.Millisecond)

	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]string{"message_id": id})
}

// record keeps d under key unless key was seen, and returns the platform
// message id of key. A repeat must carry what the first delivery did.
func (pl *platform) record(key string, d webhook.Delivery) string {
	pl.mu.Lock()
	defer pl.mu.Unlock()

	i, seen := pl.keys[key]
	if seen {
		pl.repeats++

		if pl.firsts[i] != d {
			pl.problems = append(pl.problems, fmt.Sprintf(
				"repeat of key %s differs: first %+v, now %+v", key, pl.firsts[i], d))
		}
	} else {
		i = len(pl.firsts)
		pl.keys[key] = i
		pl.firsts = append(pl.firsts, d)
		pl.replied[d.ReplyTo] = true
	}

	return fmt.Sprintf("out-%d", i+1)
}

func (pl *platform) problem(s string) {
	pl.mu.Lock()
	defer pl.mu.Unlock()

	pl.problems = append(pl.problems, s)
}

// answered returns how many distinct messages have an answer.
func (pl *platform) answered() int {
	pl.mu.Lock()
	defer pl.mu.Unlock()

	return len(pl.replied)
}

func (pl *platform) repeatCount() int {
	pl.mu.Lock()
	defer pl.mu.Unlock()

	return pl.repeats
}

// deliveries returns the first delivery of every key in arrival order, and
// the problems seen.
func (pl *platform) deliveries() ([]webhook.Delivery, []string) {
	pl.mu.Lock()
	defer pl.mu.Unlock()

	return slices.Clone(pl.firsts), slices.Clone(pl.problems)
}

// checkAnswers checks that every message has exactly one answer (one
// idempotency key) that echoes it, and that no answer replies to a
// message nobody sent.
func checkAnswers(t *testing.T, chats []*crashChat, plat *platform) {
	t.Helper()

	firsts, problems := plat.deliveries()
	for _, p := range problems {
		t.Errorf("platform: %s", p)
	}

	byMessage := make(map[string][]webhook.Delivery)
	for _, d := range firsts {
		byMessage[d.ReplyTo] = append(byMessage[d.ReplyTo], d)
	}

	var lost []string

	for _, ch := range chats {
		for _, m := range ch.msgs {
			ds := byMessage[m.MessageID]
			delete(byMessage, m.MessageID)

			switch {
			case len(ds) == 0:
				lost = append(lost, m.MessageID)
			case len(ds) > 1:
				t.Errorf("message %s answered %d times (keys %s)", m.MessageID, len(ds),
					keysOf(ds))
			case ds[0].ChatID != m.ChatID || ds[0].Text != m.Text || ds[0].Parts != 1:
				t.Errorf("answer to %s: got chat %s, %d parts, text %q; want chat %s, "+
					"1 part, text %q", m.MessageID, ds[0].ChatID, ds[0].Parts, ds[0].Text,
					m.ChatID, m.Text)
			}
		}
	}

	if len(lost) > 0 {
		t.Errorf("%d of %d messages have no answer: %v", len(lost), crashTotal, lost)
	}

	for replyTo, ds := range byMessage {
		t.Errorf("%d answers reply to unknown message %q (keys %s)", len(ds), replyTo,
			keysOf(ds))
	}
}

func keysOf(ds []webhook.Delivery) string {
	keys := make([]string, len(ds))
	for i, d := range ds {
		keys[i] = d.IdempotencyKey
	}

	return strings.Join(keys, ", ")
}

// checkOrder checks that the answers of every chat arrived in the order
// its messages were accepted. A chat posts one message at a time, so the
// acceptance order is the order of storage, which the gateway keeps when
// it handles a chat's messages and when it sends their answers.
func checkOrder(t *testing.T, chats []*crashChat, plat *platform) {
	t.Helper()

	firsts, _ := plat.deliveries()
	got := make(map[string][]string)
	seen := make(map[string]bool)

	for _, d := range firsts {
		if !seen[d.ReplyTo] {
			seen[d.ReplyTo] = true
			got[d.ChatID] = append(got[d.ChatID], d.ReplyTo)
		}
	}

	for _, ch := range chats {
		chatID := ch.msgs[0].ChatID
		if !slices.Equal(got[chatID], ch.accepted) {
			t.Errorf("chat %s: answers arrived in the order %v; messages were accepted "+
				"in the order %v", chatID, got[chatID], ch.accepted)
		}
	}
}

// checkStore checks the database after the last run stopped: every
// message stored once and answered, every answer sent, nothing pending.
func checkStore(t *testing.T, db *store.DB) {
	t.Helper()

	checks := []struct {
		what  string
		query string
		want  int
	}{
		{"stored messages", "SELECT count(*) FROM inbound_messages", crashTotal},
		{"messages not answered", "SELECT count(*) FROM inbound_messages " +
			"WHERE status <> 'handled' OR outcome <> 'answered'", 0},
		{"outbox rows", "SELECT count(*) FROM outbox", crashTotal},
		{"outbox rows not sent", "SELECT count(*) FROM outbox WHERE status <> 'sent'", 0},
	}

	failed := false

	for _, c := range checks {
		if n := countRow(db, c.query); n != c.want {
			t.Errorf("%s: %d, want %d (-1: the query failed)", c.what, n, c.want)
			failed = true
		}
	}

	if failed {
		printUnsent(t, db)
	}
}

// printUnsent shows the outbox rows that were not sent, for a failure.
func printUnsent(t *testing.T, db *store.DB) {
	t.Helper()

	rows, err := db.QueryContext(context.Background(), "SELECT id, chat_id, reply_to, status, "+
		"attempts, claimed_by, last_error FROM outbox WHERE status <> 'sent' ORDER BY id LIMIT 20")
	if err != nil {
		t.Logf("list unsent outbox rows: %v", err)
		return
	}
	defer rows.Close()

	for rows.Next() {
		var (
			id, attempts                                  int64
			chatID, replyTo, status, claimedBy, lastError string
		)

		if err := rows.Scan(&id, &chatID, &replyTo, &status, &attempts, &claimedBy,
			&lastError); err != nil {
			t.Logf("read unsent outbox row: %v", err)
			return
		}

		t.Logf("unsent outbox row %d: chat %s, reply to %s, %s after %d attempts, "+
			"claimed by %q, last error %q", id, chatID, replyTo, status, attempts, claimedBy,
			lastError)
	}

	if err := rows.Err(); err != nil {
		t.Logf("list unsent outbox rows: %v", err)
	}
}

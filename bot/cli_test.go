package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/core/store"
	"github.com/switchboardhq/switchboard/core/token"
)

const testSecret = "a-test-secret-of-some-length"

func TestServeStartsWithNoConfig(t *testing.T) {
	t.Parallel()

	dir := t.TempDir()
	start := time.Now()
	p := startServe(t, dir)
	t.Logf("/healthz answered %s after the process started", time.Since(start))

	for _, path := range []string{"/readyz", "/metrics"} {
		resp, err := http.Get("http://" + p.addr + path)
		if err != nil {
			t.Fatal(err)
		}

		resp.Body.Close()

		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s = %d", path, resp.StatusCode)
		}
	}

	if _, err := os.Stat(filepath.Join(dir, "data", "bot.db")); err != nil {
		t.Fatalf("no SQLite file in ./data: %v", err)
	}

	if err := p.stop(); err != nil {
		t.Fatalf("stop on SIGTERM: %v\n%s", err, p.logs())
	}

	if !strings.Contains(p.logs(), `"msg":"gateway stopped"`) {
		t.Fatalf("no clean stop logged:\n%s", p.logs())
	}
}

func TestSecondCopyRefusesAndRestartAfterKillWorks(t *testing.T) {
	t.Parallel()

	dir := t.TempDir()
	first := startServe(t, dir)

	_, stderr, code := runBot(t, dir, []string{"BOT_HTTP_ADDR=" + freeAddr(t)}, "serve")
	if code != 1 || !strings.Contains(stderr, "another gateway is using this database") {
		t.Fatalf("second copy: exit %d, stderr %q; want exit 1 and a lock error", code, stderr)
	}

	first.kill()

	// The kernel dropped the lock with the process: no stale pid file
	// stands in the way.
	startServe(t, dir)
}

func TestBadConfigurationStopsStartup(t *testing.T) {
	t.Parallel()

	cases := []struct {
		name string
		file string
		env  []string
		want string
	}{
		{"unknown key", "http:\n  adress: x\n", nil, `unknown key "http.adress"`},
		{"malformed yaml", "http: [\n", nil, "config"},
		{"invalid value", "", []string{"BOT_HTTP_ADDR=nonsense"}, "http.addr"},
		{"invalid group reply", "access:\n  group_reply: sometimes\n", nil,
			"access.group_reply"},
		{"unknown env key", "", []string{"BOT_AGENT_MAX_PARALEL=3"}, "BOT_AGENT_MAX_PARALEL"},
		{"missing file", "-", nil, "no such file"},
	}

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()

			dir := t.TempDir()
			args := []string{"serve"}

			if tc.file != "" {
				path := filepath.Join(dir, "config.yaml")
				if tc.file != "-" {
					if err := os.WriteFile(path, []byte(tc.file), 0o600); err != nil {
						t.Fatal(err)
					}
				}

				args = append(args, "--config", path)
			}

			_, stderr, code := runBot(t, dir, tc.env, args...)
			if code != 1 || !strings.Contains(stderr, tc.want) {
				t.Fatalf("exit %d, stderr %q; want exit 1 naming %q", code, stderr, tc.want)
			}

			if _, err := os.Stat(filepath.Join(dir, "data")); !os.IsNotExist(err) {
				t.Fatalf("a rejected configuration left a data directory behind")
			}
		})
	}
}

func TestUnreachableDatabase(t *testing.T) {
	t.Parallel()

	dir := t.TempDir()
	url := "postgres://bot:secret-password@" + freeAddr(t) + "/bot?connect_timeout=2"

	_, stderr, code := runBot(t, dir, []string{"BOT_DATABASE_URL=" + url}, "serve")
	if code != 1 || !strings.Contains(stderr, "database.url") {
		t.Fatalf("exit %d, stderr %q; want exit 1 naming database.url", code, stderr)
	}

	if strings.Contains(stderr, "secret-password") {
		t.Fatalf("the error shows the database password: %q", stderr)
	}
}

func TestTokenCreateStoresOnlyTheHash(t *testing.T) {
	t.Parallel()

	dir := t.TempDir()

	stdout, stderr, code := runBot(t, dir, nil, "token", "create", "--name", "ci")
	if code != 0 {
		t.Fatalf("token create: exit %d: %s", code, stderr)
	}

	secret := strings.TrimSpace(stdout)
	if !strings.HasPrefix(secret, token.Prefix) || strings.Count(stdout, "\n") != 1 {
		t.Fatalf("stdout %q: want the token alone on one line", stdout)
	}
	if !strings.Contains(stderr, "for user owner") {
		t.Fatalf("stderr %q: want it to name the default user owner", stderr)
	}

	stdout, stderr, code = runBot(t, dir, nil, "token", "create", "--name", "dashboard",
		"--user", "alice@example.com")
	if code != 0 || !strings.Contains(stderr, "for user alice@example.com") {
		t.Fatalf("token create --user: exit %d, stderr %q", code, stderr)
	}
	aliceSecret := strings.TrimSpace(stdout)

	_, stderr, code = runBot(t, dir, nil, "token", "create")
	if code != 2 || !strings.Contains(stderr, "--name is required") {
		t.Fatalf("token create without a name: exit %d, %q", code, stderr)
	}

	_, stderr, code = runBot(t, dir, nil, "token", "create", "--name", "x", "--user", "a b")
	if code == 0 || !strings.Contains(stderr, "user: must be") {
		t.Fatalf("token create with a bad user: exit %d, %q", code, stderr)
	}

	db := openData(t, dir)

	var rows []struct {
		Hash   string `bun:"token_hash"`
		UserID string `bun:"user_id"`
	}
	if err := db.NewRaw("SELECT token_hash, user_id FROM api_tokens ORDER BY id").
		Scan(context.Background(), &rows); err != nil {
		t.Fatal(err)
	}

	if len(rows) != 2 || rows[0].Hash != token.Hash(secret) || rows[0].UserID != "owner" ||
		rows[1].Hash != token.Hash(aliceSecret) || rows[1].UserID != "alice@example.com" {
		t.Fatalf("stored %+v, want only the hashes of the printed tokens with their users",
			rows)
	}

	raw, err := os.ReadFile(filepath.Join(dir, "data", "bot.db"))
	if err != nil {
		t.Fatal(err)
	}

	if bytes.Contains(raw, []byte(secret)) || bytes.Contains(raw, []byte(aliceSecret)) {
		t.Fatalf("the database file contains a token itself")
	}
}

func TestMigrateCommands(t *testing.T) {
	t.Parallel()

	dir := t.TempDir()

	steps := []struct {
		args []string
		want string
	}{
		{[]string{"migrate", "status"}, "pending  20261203000001_foundation"},
		{[]string{"migrate", "up"}, "applied 20261203000001_foundation"},
		{[]string{"migrate", "status"}, "applied  20261203000001_foundation"},
		{[]string{"migrate", "up"}, "nothing applied"},
		{[]string{"migrate", "down"}, "rolled back 20261203000001_foundation"},
		{[]string{"migrate", "status"}, "pending  20261203000001_foundation"},
	}

	for _, s := range steps {
		stdout, stderr, code := runBot(t, dir, nil, s.args...)
		if code != 0 || !strings.Contains(stdout, s.want) {
			t.Fatalf("bot %v: exit %d, stdout %q, stderr %q; want %q", s.args, code, stdout,
				stderr, s.want)
		}
	}

	startServe(t, dir)

	_, stderr, code := runBot(t, dir, nil, "migrate", "down")
	if code != 1 || !strings.Contains(stderr, "stop the gateway before migrating") {
		t.Fatalf("migrate down while serving: exit %d, %q", code, stderr)
	}
}

// receiver is the other end of the webhook channel: it records the
// answers the gateway posts.
type receiver struct {
	*httptest.Server

	mu   sync.Mutex
	msgs []map[string]any
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		var m map[string]any
		if err := json.NewDecoder(req.Body).Decode(&m); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}

		r.mu.Lock()
		r.msgs = append(r.msgs, m)
		r.mu.Unlock()

		_, _ = io.WriteString(w, `{"message_id":"r1"}`)
	}))
	t.Cleanup(r.Close)

	return r
}

// wait returns the text of the n-th answer (from 1) once it arrived.
func (r *receiver) wait(t *testing.T, n int) string {
	t.Helper()

	deadline := time.Now().Add(15 * time.Second)

	for time.Now().Before(deadline) {
		r.mu.Lock()
		if len(r.msgs) >= n {
			text, _ := r.msgs[n-1]["text"].(string)
			r.mu.Unlock()

			return text
		}
		r.mu.Unlock()

		time.Sleep(20 * time.Millisecond)
	}

	t.Fatalf("answer %d never arrived", n)

	return ""
}

// post sends one message to the gateway's webhook and returns the status
// and body.
func post(t *testing.T, addr, secret string, msg map[string]any) (int, string) {
	t.Helper()

	body, _ := json.Marshal(msg)
	req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/webhook/messages",
		bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+secret)

	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()

	b, _ := io.ReadAll(resp.Body)

	return resp.StatusCode, string(b)
}

func TestPairingThroughTheCommandLine(t *testing.T) {
	t.Parallel()

	dir := t.TempDir()
	rcv := newReceiver(t)
	env := []string{"BOT_WEBHOOK_DELIVER_URL=" + rcv.URL, "BOT_WEBHOOK_SECRET=" + testSecret}
	p := startServe(t, dir, env...)

	msg := map[string]any{"message_id": "1", "chat_id": "c1", "user_id": "anna", "text": "hi"}
	if code, body := post(t, p.addr, testSecret, msg); code != http.StatusAccepted {
		t.Fatalf("post: %d %s", code, body)
	}

	reply := rcv.wait(t, 1)

	_, code, ok := strings.Cut(reply, "bot pair approve ")
	if !ok {
		t.Fatalf("stranger got %q, want a pairing code", reply)
	}

	stdout, _, _ := runBot(t, dir, env, "pair", "list")
	if !strings.Contains(stdout, code) || !strings.Contains(stdout, "webhook:anna") {
		t.Fatalf("pair list = %q, want code %s for webhook:anna", stdout, code)
	}

	stdout, stderr, exit := runBot(t, dir, env, "pair", "approve", code)
	if exit != 0 || !strings.Contains(stdout, "approved webhook:anna") {
		t.Fatalf("pair approve: exit %d, %q %q", exit, stdout, stderr)
	}

	if got := rcv.wait(t, 2); !strings.Contains(got, "approved") {
		t.Fatalf("approval notice = %q", got)
	}

	msg["message_id"], msg["text"] = "2", "hello agent"
	post(t, p.addr, testSecret, msg)

	if got := rcv.wait(t, 3); got != "hello agent" {
		t.Fatalf("approved user got %q, want the echo", got)
	}

	_, stderr, exit = runBot(t, dir, env, "pair", "approve", code)
	if exit != 1 || !strings.Contains(stderr, "no pending pairing request") {
		t.Fatalf("approving twice: exit %d, %q", exit, stderr)
	}
}

func TestWebhookRejectsBadRequests(t *testing.T) {
	t.Parallel()

	dir := t.TempDir()
	rcv := newReceiver(t)
	p := startServe(t, dir, "BOT_WEBHOOK_DELIVER_URL="+rcv.URL, "BOT_WEBHOOK_SECRET="+testSecret,
		"BOT_ACCESS_OWNERS=webhook:u1")

	ok := map[string]any{"message_id": "1", "chat_id": "c", "user_id": "u1", "text": "x"}

	cases := []struct {
		name   string
		secret string
		msg    map[string]any
		status int
		want   string
	}{
		{"no secret", "", ok, http.StatusUnauthorized, "unauthorized"},
		{"wrong secret", "wrong-secret-wrong-secret", ok, http.StatusUnauthorized, "unauthorized"},
		{"empty text", testSecret, map[string]any{"message_id": "2", "chat_id": "c",
			"user_id": "u1", "text": " "}, http.StatusBadRequest, `"field":"text"`},
		{"too long", testSecret, map[string]any{"message_id": "3", "chat_id": "c",
			"user_id": "u1", "text": strings.Repeat("a", 64<<10+1)}, http.StatusBadRequest,
			"at most 65536 bytes"},
		{"unknown field", testSecret, map[string]any{"message_id": "4", "chat_id": "c",
			"user_id": "u1", "text": "x", "colour": "red"}, http.StatusBadRequest, "colour"},
		{"missing user", testSecret, map[string]any{"message_id": "5", "chat_id": "c",
			"text": "x"}, http.StatusBadRequest, `"field":"user_id"`},
	}

	for _, tc := range cases {
		status, body := post(t, p.addr, tc.secret, tc.msg)
		if status != tc.status || !strings.Contains(body, tc.want) {
			t.Errorf("%s: %d %s; want %d containing %q", tc.name, status, body, tc.status,
				tc.want)
		}
	}

	post(t, p.addr, testSecret, map[string]any{"message_id": "9", "chat_id": "c",
		"user_id": "u1", "text": "/nonsense"})

	if got := rcv.wait(t, 1); !strings.Contains(got, "I don't know /nonsense") {
		t.Fatalf("unknown command got %q", got)
	}

	resp, err := http.Get("http://" + p.addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()

	metrics, _ := io.ReadAll(resp.Body)
	if !strings.Contains(string(metrics), `bot_messages_received_total{channel="webhook"} 1`) {
		t.Fatalf("metrics do not count exactly the one good message:\n%s", metrics)
	}
}

// openData opens the SQLite database of a gateway directory.
func openData(t *testing.T, dir string) *store.DB {
	t.Helper()

	db, err := store.Open(context.Background(),
		store.Options{URL: "sqlite:" + filepath.Join(dir, "data", "bot.db")})
	if err != nil {
		t.Fatal(err)
	}

	t.Cleanup(func() { _ = db.Close() })

	return db
}

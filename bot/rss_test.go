package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// rssIdleWait is how long the gateway sits idle before its memory is read.
const rssIdleWait = 2 * time.Second

// rssTrafficMessages is how many messages the gateway handles before the
// memory is read a second time.
const rssTrafficMessages = 500

// BenchmarkIdleRSS starts "bot serve" on SQLite with the webhook channel,
// lets it sit idle and reads its resident memory (idle-rss-MB) and the
// peak so far (peak-rss-MB) from /proc. It then sends messages through the
// webhook, waits for every answer, lets it settle and reads both again
// (traffic-rss-MB, traffic-peak-rss-MB). The gateway is measured once; the
// timed loop only reads /proc.
func BenchmarkIdleRSS(b *testing.B) {
	var answered atomic.Int64

	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		answered.Add(1)
		w.WriteHeader(http.StatusOK)
	}))
	defer receiver.Close()

	const secret = "bench-secret-0123456789"

	p := startServeTB(b, b.TempDir(),
		"BOT_LOG_LEVEL=warn",
		"BOT_ACCESS_OWNERS=webhook:owner",
		"BOT_WEBHOOK_DELIVER_URL="+receiver.URL,
		"BOT_WEBHOOK_SECRET="+secret,
	)
	pid := p.cmd.Process.Pid

	time.Sleep(rssIdleWait)

	idle := readMemStatus(b, pid)

	sendWebhookMessages(b, p.addr, secret, rssTrafficMessages)

	deadline := time.Now().Add(30 * time.Second)
	for answered.Load() < rssTrafficMessages {
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d answers arrived within 30 s\n%s", answered.Load(),
				rssTrafficMessages, p.logs())
		}

		time.Sleep(10 * time.Millisecond)
	}

	time.Sleep(rssIdleWait)

	var busy memStatus
	for b.Loop() {
		busy = readMemStatus(b, pid)
	}

	b.ReportMetric(idle.rssMB, "idle-rss-MB")
	b.ReportMetric(idle.hwmMB, "peak-rss-MB")
	b.ReportMetric(busy.rssMB, "traffic-rss-MB")
	b.ReportMetric(busy.hwmMB, "traffic-peak-rss-MB")
}

// startServeTB is startServe for benchmarks: it runs "bot serve" in dir
// with env and waits until /healthz answers. The process is killed when
// the benchmark ends.
func startServeTB(tb testing.TB, dir string, env ...string) *process {
	tb.Helper()

	addr := freeAddr(tb)
	p := &process{addr: addr, done: make(chan struct{})}
	p.cmd = exec.Command(binary, "serve")
	p.cmd.Dir = dir
	p.cmd.Env = testEnv(append(env, "BOT_HTTP_ADDR="+addr)...)

	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		tb.Fatal(err)
	}

	if err := p.cmd.Start(); err != nil {
		tb.Fatalf("start bot serve: %v", err)
	}

	go p.collect(stderr)

	tb.Cleanup(p.kill)

	if err := p.waitHealthy(15 * time.Second); err != nil {
		p.kill()
		tb.Fatalf("bot serve did not become healthy: %v\n%s", err, p.logs())
	}

	return p
}

// sendWebhookMessages posts n direct messages from the owner, spread over
// eight chats, and fails unless each is accepted.
func sendWebhookMessages(tb testing.TB, addr, secret string, n int) {
	tb.Helper()

	client := &http.Client{Timeout: 10 * time.Second}

	for i := range n {
		body, err := json.Marshal(map[string]string{
			"message_id": strconv.Itoa(i),
			"chat_id":    fmt.Sprintf("chat-%d", i%8),
			"user_id":    "owner",
			"text":       fmt.Sprintf("message %d", i),
		})
		if err != nil {
			tb.Fatal(err)
		}

		req, err := http.NewRequest(http.MethodPost, "http://"+addr+"/webhook/messages",
			strings.NewReader(string(body)))
		if err != nil {
			tb.Fatal(err)
		}

		req.Header.Set("Authorization", "Bearer "+secret)
		req.Header.Set("Content-Type", "application/json")

		resp, err := client.Do(req)
		if err != nil {
			tb.Fatalf("post message %d: %v", i, err)
		}

		resp.Body.Close()

		if resp.StatusCode != http.StatusAccepted {
			tb.Fatalf("post message %d: %s", i, resp.Status)
		}
	}
}

// memStatus is the resident memory of a process in MiB: now and at its
// peak.
type memStatus struct {
	rssMB float64
	hwmMB float64
}

// readMemStatus reads VmRSS and VmHWM of process pid from
// /proc/PID/status.
func readMemStatus(tb testing.TB, pid int) memStatus {
	tb.Helper()

	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		tb.Fatalf("read memory of process %d: %v", pid, err)
	}
	defer f.Close()

	var m memStatus

	sc := bufio.NewScanner(f)
	for sc.Scan() {
		key, value, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}

		switch key {
		case "VmRSS":
			m.rssMB = parseKB(tb, value) / 1024
		case "VmHWM":
			m.hwmMB = parseKB(tb, value) / 1024
		}
	}

	if err := sc.Err(); err != nil {
		tb.Fatalf("read memory of process %d: %v", pid, err)
	}

	if m.rssMB == 0 || m.hwmMB == 0 {
		tb.Fatalf("no VmRSS or VmHWM in /proc/%d/status", pid)
	}

	return m
}

// parseKB parses a /proc size such as "  10240 kB".
func parseKB(tb testing.TB, s string) float64 {
	tb.Helper()

	n, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(s), " kB"), 64)
	if err != nil {
		tb.Fatalf("parse size %q: %v", s, err)
	}

	return n
}

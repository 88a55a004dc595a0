package httpapi_test

import (
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/adapters/openai/openaitest"
	"github.com/switchboardhq/switchboard/core/store"
)

// benchClients is how many clients send requests at once.
const benchClients = 8

// load sends b.N requests from benchClients clients, each request made by
// newReq with the client's number, and reports requests a second and the
// 50th and 99th percentile latency.
func load(b *testing.B, ta *testAPI, newReq func(client int) *http.Request) {
	b.Helper()

	var (
		next      atomic.Int64
		mu        sync.Mutex
		latencies = make([]time.Duration, 0, b.N)
		wg        sync.WaitGroup
		client    = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: benchClients}}
	)

	b.ResetTimer()
	start := time.Now()

	for c := range benchClients {
		wg.Go(func() {
			for next.Add(1) <= int64(b.N) {
				req := newReq(c)
				t0 := time.Now()

				res, err := client.Do(req)
				if err != nil {
					b.Error(err)
					return
				}

				_, _ = io.Copy(io.Discard, res.Body)
				res.Body.Close()

				if res.StatusCode != http.StatusOK {
					b.Errorf("%s %s: %d", req.Method, req.URL.Path, res.StatusCode)
					return
				}

				mu.Lock()
				latencies = append(latencies, time.Since(t0))
				mu.Unlock()
			}
		})
	}

	wg.Wait()

	elapsed := time.Since(start)

	b.StopTimer()
	slices.Sort(latencies)

	if len(latencies) == 0 {
		return
	}

	pct := func(p float64) float64 {
		return float64(latencies[int(float64(len(latencies)-1)*p)].Microseconds()) / 1000
	}

	b.ReportMetric(float64(len(latencies))/elapsed.Seconds(), "req/s")
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkAPIStatus measures GET /api/agent/status, authenticated with an
// API token, on SQLite.
func BenchmarkAPIStatus(b *testing.B) {
	ta := newTestAPI(b, store.SQLite, withModel())

	load(b, ta, func(int) *http.Request {
		req, _ := http.NewRequest("GET", ta.URL+"/api/agent/status", nil)
		req.Header.Set("Authorization", "Bearer "+ta.token("anna"))

		return req
	})
}

// BenchmarkAPIChat measures POST /api/agent/chat through the pipeline and
// the agent loop on the fake model at zero latency, on SQLite; each client
// talks in a session of its own.
func BenchmarkAPIChat(b *testing.B) {
	ta := newTestAPI(b, store.SQLite, withModel())

	replies := make([]openaitest.Reply, b.N)
	for i := range replies {
		replies[i] = openaitest.TextReply("Noted.")
	}

	ta.Model.Push(replies...)

	sessions := make([]int64, benchClients)
	for c := range sessions {
		var s sessionView
		ta.doJSON("POST", "/api/agent/sessions", "anna", map[string]any{}, &s)
		sessions[c] = s.ID
	}

	load(b, ta, func(c int) *http.Request {
		body := fmt.Sprintf(`{"message": "hello", "session_id": %d}`, sessions[c])
		req, _ := http.NewRequest("POST", ta.URL+"/api/agent/chat", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+ta.token("anna"))
		req.Header.Set("Content-Type", "application/json")

		return req
	})
}

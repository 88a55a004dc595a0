package agent_test

import (
	"context"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/adapters/openai/openaitest"
	"github.com/switchboardhq/switchboard/core/agent"
	"github.com/switchboardhq/switchboard/core/session"
)

// BenchmarkLoopTurn measures one turn of the agent loop without tools
// against the fake OpenAI server at zero latency: building the request
// from a 20-turn history, the call through the real client, and reading
// the answer. The fake server runs in this process, so cpu-ms/turn also
// counts its side of the exchange: an upper bound of the loop's own cost.
func BenchmarkLoopTurn(b *testing.B) {
	srv := openaitest.NewServer(b)
	l, err := agent.NewLoop(agent.LoopConfig{
		Provider: newProvider(srv),
		Models:   []agent.Model{{Name: "bench"}},
	})
	if err != nil {
		b.Fatal(err)
	}

	var history []session.Turn
	for i := range 20 {
		role := session.RoleUser
		if i%2 == 1 {
			role = session.RoleAssistant
		}

		history = append(history, session.Turn{Role: role,
			Text: strings.Repeat("some earlier words ", 10)})
	}

	req := request("what now?", history...)
	ctx := context.Background()

	for range b.N {
		srv.Push(openaitest.TextReply("an answer of a few words"))
	}

	start := cpuTime()

	b.ResetTimer()

	for range b.N {
		if _, err := l.Respond(ctx, req); err != nil {
			b.Fatal(err)
		}
	}

	b.StopTimer()
	b.ReportMetric(float64(cpuTime()-start)/float64(time.Millisecond)/float64(b.N),
		"cpu-ms/turn")
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)

	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

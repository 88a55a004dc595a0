package pipeline_test

import (
	"context"
	"time"

	"github.com/switchboardhq/switchboard/core/agent"
	"github.com/switchboardhq/switchboard/core/clock"
)

// responderFunc adapts a function to agent.Responder.
type responderFunc func(context.Context, agent.Request) (agent.Reply, error)

func (f responderFunc) Name() string { return "test" }

func (f responderFunc) Respond(ctx context.Context, req agent.Request) (agent.Reply, error) {
	return f(ctx, req)
}

// newClock returns a fake clock that starts now, so that the deliverer's
// real timers and the stored times agree until a test advances it.
func newClock() *clock.Fake {
	return clock.NewFake(time.Now())
}

package core_test

import (
	"context"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/core"
)

// sinkFunc is a Sink made of a function.
type sinkFunc func(context.Context, core.Inbound) error

func (f sinkFunc) Receive(ctx context.Context, m core.Inbound) error { return f(ctx, m) }

func TestSinkHolderWaitsForRun(t *testing.T) {
	t.Parallel()

	var h core.SinkHolder

	ctx := context.Background()

	if s := h.Wait(ctx, 10*time.Millisecond); s != nil {
		t.Fatal("a sink before Set")
	}

	sink := sinkFunc(func(context.Context, core.Inbound) error { return nil })

	got := make(chan core.Sink, 1)

	go func() { got <- h.Wait(ctx, 5*time.Second) }()

	time.Sleep(20 * time.Millisecond)
	h.Set(sink)

	select {
	case s := <-got:
		if s == nil {
			t.Fatal("Wait returned no sink after Set")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Wait did not return after Set")
	}

	h.Clear()

	if s := h.Wait(ctx, 10*time.Millisecond); s != nil {
		t.Fatal("a sink after Clear")
	}

	h.Set(sink)

	if s := h.Wait(ctx, 0); s == nil {
		t.Fatal("no sink after a second Set")
	}
}

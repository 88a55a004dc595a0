package budget_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/core/budget"
	"github.com/switchboardhq/switchboard/core/clock"
	"github.com/switchboardhq/switchboard/core/store"
	"github.com/switchboardhq/switchboard/core/store/storetest"
)

func TestParsePrices(t *testing.T) {
	t.Parallel()

	got, err := budget.ParsePrices([]string{"gpt-4o-mini=0.15/0.60", " org/model=v1 = 3 / 15 "})
	if err != nil {
		t.Fatal(err)
	}

	if got["gpt-4o-mini"] != (budget.Price{Input: 0.15, Output: 0.6}) ||
		got["org/model=v1"] != (budget.Price{Input: 3, Output: 15}) || len(got) != 2 {
		t.Fatalf("prices = %+v", got)
	}

	for _, bad := range []string{"m", "=1/2", "m=1", "m=a/2", "m=1/-2", "m=NaN/1", "m=1/Inf"} {
		if _, err := budget.ParsePrices([]string{bad}); err == nil ||
			!strings.Contains(err.Error(), bad) {
			t.Errorf("ParsePrices(%q) error = %v, want one naming the entry", bad, err)
		}
	}
}

func TestCostAndDollars(t *testing.T) {
	t.Parallel()

	p := budget.Prices{"m": {Input: 0.15, Output: 0.6}}

	if got := p.CostMicros("m", 1_000_000, 500_000); got != 450_000 {
		t.Errorf("cost of 1M in, 500k out = %d micros, want 450000", got)
	}

	if got := p.CostMicros("unpriced", 1_000_000, 1_000_000); got != 0 {
		t.Errorf("cost of an unpriced model = %d, want 0", got)
	}

	for micros, want := range map[int64]string{
		0: "$0.00", 450_000: "$0.45", 12_345_678: "$12.35", 4_200: "$0.0042",
	} {
		if got := budget.Dollars(micros); got != want {
			t.Errorf("Dollars(%d) = %s, want %s", micros, got, want)
		}
	}
}

func TestPeriodIsTheMonthInTheZone(t *testing.T) {
	t.Parallel()

	tokyo, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		t.Fatal(err)
	}

	// 20:00 UTC on 31 March is already 1 April in Tokyo.
	p := budget.PeriodOf(time.Date(2027, 3, 31, 20, 0, 0, 0, time.UTC), tokyo)
	if !p.Start.Equal(time.Date(2027, 4, 1, 0, 0, 0, 0, tokyo)) ||
		!p.End.Equal(time.Date(2027, 5, 1, 0, 0, 0, 0, tokyo)) {
		t.Errorf("period = %v .. %v, want April in Tokyo", p.Start, p.End)
	}

	// December ends with the year.
	p = budget.PeriodOf(time.Date(2026, 12, 31, 23, 59, 59, 0, time.UTC), time.UTC)
	if !p.End.Equal(time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("end of December = %v", p.End)
	}
}

func TestStatusCountsMessagesOnce(t *testing.T) {
	t.Parallel()

	storetest.Each(t, func(t *testing.T, kind store.Dialect) {
		t.Parallel()

		db := storetest.Open(t, kind)
		ctx := context.Background()
		now := time.Date(2026, 12, 15, 12, 0, 0, 0, time.UTC)

		calls := []*budget.Call{
			// Message 1 took two calls (a tool step), message 2 a retry.
			{InboundID: 1, InputTokens: 100, OutputTokens: 10, CostMicros: 300, ToolCalls: 1},
			{InboundID: 1, InputTokens: 150, OutputTokens: 20, CostMicros: 400},
			{InboundID: 2, Error: "500"},
			{InboundID: 2, InputTokens: 10, OutputTokens: 5, CostMicros: 50},
			// A call without a stored message counts as a call only.
			{InputTokens: 1},
		}

		for _, c := range calls {
			c.AgentID, c.SessionID, c.Provider, c.Model = "a", 9, "openai", "m"
			c.CreatedAt = now

			if err := budget.Record(ctx, db, c); err != nil {
				t.Fatal(err)
			}
		}

		l := &budget.Ledger{DB: db, AgentID: "a", Zone: time.UTC, Clock: clock.NewFake(now),
			Limits: budget.Limits{Messages: 4, CostMicros: 1_000, StepDownPercent: 50}}

		s, err := l.Status(ctx)
		if err != nil {
			t.Fatal(err)
		}

		want := budget.Usage{Calls: 5, Messages: 2, InputTokens: 261, OutputTokens: 35,
			CostMicros: 750}
		if s.Usage != want {
			t.Fatalf("usage = %+v, want %+v", s.Usage, want)
		}

		// Cost is the tighter limit: 75% used.
		if s.Share() != 0.75 || !s.Low() || s.Reached() || s.MessagesRemaining() != 2 {
			t.Errorf("share %v low %v reached %v remaining %d", s.Share(), s.Low(),
				s.Reached(), s.MessagesRemaining())
		}

		used, err := budget.UsedTools(ctx, db, 9, now.Add(-time.Minute))
		if err != nil || !used {
			t.Errorf("UsedTools = %v, %v; want true", used, err)
		}

		used, err = budget.UsedTools(ctx, db, 9, now.Add(time.Minute))
		if err != nil || used {
			t.Errorf("UsedTools after the call = %v, %v; want false", used, err)
		}
	})
}

func TestStatusWithoutLimits(t *testing.T) {
	t.Parallel()

	s := budget.Status{Usage: budget.Usage{Messages: 1_000_000}}
	if s.Share() != 0 || s.Low() || s.Reached() || s.MessagesRemaining() != -1 {
		t.Errorf("no limits: share %v low %v reached %v remaining %d", s.Share(), s.Low(),
			s.Reached(), s.MessagesRemaining())
	}
}

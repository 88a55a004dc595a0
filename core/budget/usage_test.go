package budget_test

import (
	"context"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/core/budget"
	"github.com/switchboardhq/switchboard/core/store"
	"github.com/switchboardhq/switchboard/core/store/storetest"
)

func TestTotalsOfAPeriod(t *testing.T) {
	t.Parallel()

	storetest.Each(t, func(t *testing.T, kind store.Dialect) {
		t.Parallel()

		db := storetest.Open(t, kind)
		ctx := context.Background()
		day := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)

		calls := []*budget.Call{
			{AgentID: "a", Provider: "openai", Model: "m", InputTokens: 100, OutputTokens: 10,
				CreatedAt: day.Add(time.Hour)},
			{AgentID: "a", Provider: "openai", Model: "m", InputTokens: 50, OutputTokens: 5,
				CreatedAt: day.Add(26 * time.Hour)},
			{AgentID: "a", Provider: "openai", Model: "m", Error: "429",
				CreatedAt: day.Add(27 * time.Hour)},
			{AgentID: "b", Provider: "openai", Model: "m", InputTokens: 999,
				CreatedAt: day.Add(time.Hour)},
			{AgentID: "a", Provider: "openai", Model: "m", InputTokens: 7,
				CreatedAt: day.AddDate(0, 1, 0)},
		}

		for _, c := range calls {
			if err := budget.Record(ctx, db, c); err != nil {
				t.Fatal(err)
			}
		}

		got, err := budget.Totals(ctx, db, "a", day, day.AddDate(0, 1, 0))
		if err != nil {
			t.Fatal(err)
		}

		want := budget.Usage{Calls: 3, InputTokens: 150, OutputTokens: 15}
		if got != want {
			t.Fatalf("totals = %+v, want %+v", got, want)
		}

		empty, err := budget.Totals(ctx, db, "nobody", day, day.AddDate(0, 1, 0))
		if err != nil || empty != (budget.Usage{}) {
			t.Fatalf("totals of nobody = %+v, %v", empty, err)
		}
	})
}

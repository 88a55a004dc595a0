// Package budget accounts for what the agent spends: every model call is
// recorded with its tokens, and totals are read per period.
package budget

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// Call is one recorded model call.
type Call struct {
	bun.BaseModel `bun:"table:model_calls"`

	ID           int64     `bun:"id,pk,autoincrement"`
	AgentID      string    `bun:"agent_id"`
	SessionID    int64     `bun:"session_id,nullzero"`
	Provider     string    `bun:"provider"`
	Model        string    `bun:"model"`
	InputTokens  int64     `bun:"input_tokens"`
	OutputTokens int64     `bun:"output_tokens"`
	DurationMS   int64     `bun:"duration_ms"`
	Error        string    `bun:"error"`
	CreatedAt    time.Time `bun:"created_at"`
}

// Record stores one call. A failed call is recorded too, with its error:
// it may have cost input tokens, and it shows in the logs of the period.
func Record(ctx context.Context, db bun.IDB, c *Call) error {
	if len(c.Error) > 500 {
		c.Error = c.Error[:500]
	}

	if _, err := db.NewInsert().Model(c).Exec(ctx); err != nil {
		return fmt.Errorf("record model call: %w", err)
	}

	return nil
}

// Usage sums the calls of a period.
type Usage struct {
	Calls        int64 `bun:"calls"`
	InputTokens  int64 `bun:"input_tokens"`
	OutputTokens int64 `bun:"output_tokens"`
}

// Totals sums an agent's calls made in [from, to).
func Totals(ctx context.Context, db bun.IDB, agentID string, from, to time.Time,
) (Usage, error) {
	var u Usage

	err := db.NewSelect().Model((*Call)(nil)).
		ColumnExpr("count(*) AS calls").
		ColumnExpr("coalesce(sum(input_tokens), 0) AS input_tokens").
		ColumnExpr("coalesce(sum(output_tokens), 0) AS output_tokens").
		Where("agent_id = ?", agentID).
		Where("created_at >= ?", from).
		Where("created_at < ?", to).
		Scan(ctx, &u)
	if err != nil {
		return Usage{}, fmt.Errorf("sum model calls: %w", err)
	}

	return u, nil
}

// Package budget accounts for what the agent spends: every model call is
// recorded with its tokens and cost, and a billing period, the calendar
// month in the agent's time zone, is measured against the configured
// limits.
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

	ID        int64  `bun:"id,pk,autoincrement"`
	AgentID   string `bun:"agent_id"`
	SessionID int64  `bun:"session_id,nullzero"`
	// InboundID is the stored message the call answers; calls for one
	// message count as one message of the period. A request that is not
	// stored (the OpenAI-compatible endpoint) has a negative id of its own.
	InboundID    int64  `bun:"inbound_id,nullzero"`
	Provider     string `bun:"provider"`
	Model        string `bun:"model"`
	InputTokens  int64  `bun:"input_tokens"`
	OutputTokens int64  `bun:"output_tokens"`
	// CostMicros is the call's cost in millionths of a US dollar, at the
	// prices configured when it was made.
	CostMicros int64 `bun:"cost_micros"`
	// ToolCalls counts the tools the model asked to run in its answer.
	ToolCalls  int       `bun:"tool_calls"`
	DurationMS int64     `bun:"duration_ms"`
	Error      string    `bun:"error"`
	CreatedAt  time.Time `bun:"created_at"`
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
	// Calls counts model calls, failed ones included.
	Calls int64 `bun:"calls"`
	// Messages counts the distinct messages the calls answered.
	Messages     int64 `bun:"messages"`
	InputTokens  int64 `bun:"input_tokens"`
	OutputTokens int64 `bun:"output_tokens"`
	CostMicros   int64 `bun:"cost_micros"`
}

// Totals sums an agent's calls made in [from, to).
func Totals(ctx context.Context, db bun.IDB, agentID string, from, to time.Time,
) (Usage, error) {
	var u Usage

	err := db.NewSelect().Model((*Call)(nil)).
		ColumnExpr("count(*) AS calls").
		ColumnExpr("count(DISTINCT inbound_id) AS messages").
		ColumnExpr("coalesce(sum(input_tokens), 0) AS input_tokens").
		ColumnExpr("coalesce(sum(output_tokens), 0) AS output_tokens").
		ColumnExpr("coalesce(sum(cost_micros), 0) AS cost_micros").
		Where("agent_id = ?", agentID).
		Where("created_at >= ?", from).
		Where("created_at < ?", to).
		Scan(ctx, &u)
	if err != nil {
		return Usage{}, fmt.Errorf("sum model calls: %w", err)
	}

	return u, nil
}

// UsedTools reports whether a model asked for tools in the session since
// the given time.
func UsedTools(ctx context.Context, db bun.IDB, sessionID int64, since time.Time,
) (bool, error) {
	ok, err := db.NewSelect().Model((*Call)(nil)).
		Where("session_id = ?", sessionID).
		Where("created_at >= ?", since).
		Where("tool_calls > 0").
		Exists(ctx)
	if err != nil {
		return false, fmt.Errorf("look up tool use of session %d: %w", sessionID, err)
	}

	return ok, nil
}

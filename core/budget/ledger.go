package budget

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/uptrace/bun"

	"github.com/switchboardhq/switchboard/core/clock"
)

// Period is one billing period: a calendar month in the agent's time zone.
type Period struct {
	// Start is the first instant of the month, End the first of the next.
	Start, End time.Time
}

// PeriodOf returns the calendar month in loc that holds t.
func PeriodOf(t time.Time, loc *time.Location) Period {
	local := t.In(loc)
	start := time.Date(local.Year(), local.Month(), 1, 0, 0, 0, 0, loc)

	return Period{Start: start, End: start.AddDate(0, 1, 0)}
}

// Limits bound what the agent may spend in a period. A zero limit is no
// limit.
type Limits struct {
	// Messages bounds the messages answered with a model.
	Messages int64
	// CostMicros bounds the cost in millionths of a dollar.
	CostMicros int64
	// StepDownPercent is the share of a limit after which routing steps
	// down a tier; 0 means DefaultStepDownPercent.
	StepDownPercent int
}

// DefaultStepDownPercent is the step-down share when none is set.
const DefaultStepDownPercent = 80

// Status is a period's usage measured against the limits.
type Status struct {
	Period
	Usage  Usage
	Limits Limits
}

// Share returns the used share of the tighter limit: 0 with no limits, 1
// or more once a limit is reached.
func (s Status) Share() float64 {
	share := 0.0

	if s.Limits.Messages > 0 {
		share = float64(s.Usage.Messages) / float64(s.Limits.Messages)
	}

	if s.Limits.CostMicros > 0 {
		share = max(share, float64(s.Usage.CostMicros)/float64(s.Limits.CostMicros))
	}

	return share
}

// Reached reports whether a limit is used up: no model may be called
// until the period ends.
func (s Status) Reached() bool {
	return s.Share() >= 1
}

// Low reports whether so much of a limit is used that routing should step
// down a tier.
func (s Status) Low() bool {
	percent := s.Limits.StepDownPercent
	if percent <= 0 {
		percent = DefaultStepDownPercent
	}

	return s.Share()*100 >= float64(percent)
}

// MessagesRemaining returns how many messages the period has left, or -1
// when messages are not limited.
func (s Status) MessagesRemaining() int64 {
	if s.Limits.Messages <= 0 {
		return -1
	}

	return max(0, s.Limits.Messages-s.Usage.Messages)
}

// Ledger reads one agent's budget. Its fields must not change once it is
// in use; SetLimits changes the limits.
type Ledger struct {
	DB      bun.IDB
	AgentID string
	// Zone is the agent's time zone, where months begin.
	Zone *time.Location
	// Limits are the limits until SetLimits is called.
	Limits Limits
	// Clock defaults to the system clock.
	Clock clock.Clock

	mu      sync.RWMutex
	changed *Limits
}

// SetLimits replaces the limits while the ledger is in use.
func (l *Ledger) SetLimits(lim Limits) {
	l.mu.Lock()
	defer l.mu.Unlock()

	l.changed = &lim
}

// CurrentLimits returns the limits in force.
func (l *Ledger) CurrentLimits() Limits {
	l.mu.RLock()
	defer l.mu.RUnlock()

	if l.changed != nil {
		return *l.changed
	}

	return l.Limits
}

// Status returns the usage of the current period against the limits.
func (l *Ledger) Status(ctx context.Context) (Status, error) {
	now := time.Now()
	if l.Clock != nil {
		now = l.Clock.Now()
	}

	zone := l.Zone
	if zone == nil {
		zone = time.UTC
	}

	p := PeriodOf(now, zone)

	u, err := Totals(ctx, l.DB, l.AgentID, p.Start.UTC(), p.End.UTC())
	if err != nil {
		return Status{}, fmt.Errorf("budget of agent %s: %w", l.AgentID, err)
	}

	return Status{Period: p, Usage: u, Limits: l.CurrentLimits()}, nil
}

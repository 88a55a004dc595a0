package automation

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/switchboardhq/switchboard/core"
)

// person is one person's settings: their time zone.
type person struct {
	bun.BaseModel `bun:"table:people"`

	AgentID   string       `bun:"agent_id,pk"`
	Channel   core.Channel `bun:"channel,pk"`
	UserID    core.UserID  `bun:"user_id,pk"`
	TimeZone  string       `bun:"time_zone"`
	UpdatedAt time.Time    `bun:"updated_at"`
}

// ZoneOf returns the person's IANA time zone, or fallback when they have
// not set one.
func ZoneOf(ctx context.Context, db bun.IDB, agentID string, ch core.Channel,
	user core.UserID, fallback string,
) (string, error) {
	p := &person{AgentID: agentID, Channel: ch, UserID: user}

	err := db.NewSelect().Model(p).WherePK().Scan(ctx)

	switch {
	case errors.Is(err, sql.ErrNoRows):
		return fallback, nil
	case err != nil:
		return "", fmt.Errorf("read the time zone of %s:%s: %w", ch, user, err)
	}

	return p.TimeZone, nil
}

// SetZone stores the person's time zone, which must be an IANA name; an
// unknown one is a *core.InputError.
func SetZone(ctx context.Context, db bun.IDB, agentID string, ch core.Channel,
	user core.UserID, zone string, now time.Time,
) error {
	if _, err := time.LoadLocation(zone); err != nil || zone == "" || zone == "Local" {
		return &core.InputError{Field: "time_zone", Rule: fmt.Sprintf(
			"must be an IANA time zone such as Europe/Berlin or America/New_York (got %q)",
			zone)}
	}

	p := &person{AgentID: agentID, Channel: ch, UserID: user, TimeZone: zone, UpdatedAt: now}

	_, err := db.NewInsert().Model(p).
		On("CONFLICT (agent_id, channel, user_id) DO UPDATE").
		Set("time_zone = EXCLUDED.time_zone").
		Set("updated_at = EXCLUDED.updated_at").
		Exec(ctx)
	if err != nil {
		return fmt.Errorf("store the time zone of %s:%s: %w", ch, user, err)
	}

	return nil
}

package skill

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"
)

// Time is the "time" skill: the current date and time in the person's
// time zone.
type Time struct {
	// Now replaces the clock in tests; nil means time.Now.
	Now func() time.Time
}

// Name returns "time".
func (Time) Name() string { return "time" }

// Description tells the model when to use it.
func (Time) Description() string {
	return "Get the current date, time and weekday in the person's time zone, " +
		"or in another IANA time zone such as Europe/Berlin."
}

// Parameters takes an optional time zone.
func (Time) Parameters() json.RawMessage {
	return json.RawMessage(`{"type":"object","properties":{"time_zone":{"type":"string",` +
		`"description":"IANA time zone; the person's own when left out"}}}`)
}

// Credentials returns none.
func (Time) Credentials() []string { return nil }

// Run returns the time, such as "Thursday 3 December 2026, 17:04 (Europe/Berlin, UTC+01:00)".
func (t Time) Run(_ context.Context, call Call) (string, error) {
	var args struct {
		TimeZone string `json:"time_zone"`
	}

	if err := decodeArgs(call.Arguments, &args); err != nil {
		return "", err
	}

	zone := args.TimeZone
	if zone == "" {
		zone = call.TimeZone
	}

	if zone == "" {
		zone = "UTC"
	}

	loc, err := time.LoadLocation(zone)
	if err != nil {
		return "", fmt.Errorf("time_zone: %q is not an IANA time zone", zone)
	}

	now := time.Now
	if t.Now != nil {
		now = t.Now
	}

	at := now().In(loc)

	return at.Format("Monday 2 January 2006, 15:04") +
		fmt.Sprintf(" (%s, UTC%s)", zone, at.Format("-07:00")), nil
}

// Calculator is the "calculator" skill: arithmetic with an evaluator that
// knows only numbers and a few math functions, so the model's input can
// never run code.
type Calculator struct{}

// Name returns "calculator".
func (Calculator) Name() string { return "calculator" }

// Description tells the model when to use it.
func (Calculator) Description() string {
	return "Evaluate an arithmetic expression exactly, e.g. (17.5 * 3) / 4 or " +
		"sqrt(2) ^ 2. Operators: + - * / % ^ and parentheses; functions: sqrt, abs, " +
		"round, floor, ceil, min, max, pow, log, ln, exp, sin, cos, tan; constants pi, e."
}

// Parameters takes the expression.
func (Calculator) Parameters() json.RawMessage {
	return json.RawMessage(`{"type":"object","required":["expression"],"properties":` +
		`{"expression":{"type":"string","description":"the arithmetic expression"}}}`)
}

// Credentials returns none.
func (Calculator) Credentials() []string { return nil }

// maxExpression bounds the expression's length and size.
const maxExpression = 500

// Run evaluates the expression and returns the number.
func (Calculator) Run(_ context.Context, call Call) (string, error) {
	var args struct {
		Expression string `json:"expression"`
	}

	if err := decodeArgs(call.Arguments, &args); err != nil {
		return "", err
	}

	src := strings.TrimSpace(args.Expression)
	if src == "" || len(src) > maxExpression {
		return "", fmt.Errorf("expression: must be 1 to %d characters", maxExpression)
	}

	v, err := Evaluate(src)
	if err != nil {
		return "", err
	}

	return formatNumber(v), nil
}

func formatNumber(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return fmt.Sprintf("%.0f", v)
	}

	return fmt.Sprintf("%.10g", v)
}

// decodeArgs reads the model's arguments; an empty object is fine.
func decodeArgs(raw json.RawMessage, v any) error {
	if len(raw) == 0 {
		return nil
	}

	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("arguments: not the expected JSON object: %w", err)
	}

	return nil
}

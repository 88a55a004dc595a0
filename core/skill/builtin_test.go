package skill_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/core/skill"
)

func TestCalculator(t *testing.T) {
	t.Parallel()

	cases := []struct {
		expr string
		want string
		err  string
	}{
		{"1 + 2 * 3", "7", ""},
		{"(17.5 * 3) / 4", "13.125", ""},
		{"2 ^ 10", "1024", ""},
		{"sqrt(2) ^ 2", "2", ""},
		{"max(3, 9) - min(1, -4)", "13", ""},
		{"round(pi * 100) / 100", "3.14", ""},
		{"10 % 4", "2", ""},
		{"1 / 0", "", "not a finite number"},
		{"", "", "1 to 500 characters"},
		{"os.Exit(1)", "", "expression"},
		{"len('abc')", "", "expression"},
		{"'a' + 'b'", "", "expression"},
		{"1 +", "", "cannot read"},
		{"-2 ^ 2", "-4", ""},
		{"2 ^ 3 ^ 2", "512", ""},
		{"-(3 - 5) * 2", "4", ""},
		{"pow(2, 0.5) * pow(2, 0.5)", "2", ""},
		{"sqrt(1, 2)", "", "takes 1 argument"},
		{"((1)", "", "want"},
		{"1.2.3", "", "cannot read the number"},
		{strings.Repeat("(", 150) + "1" + strings.Repeat(")", 150), "", "nests too deeply"},
	}

	for _, tc := range cases {
		args, _ := json.Marshal(map[string]string{"expression": tc.expr})
		got, err := skill.Calculator{}.Run(context.Background(), skill.Call{Arguments: args})

		switch {
		case tc.err == "" && (err != nil || got != tc.want):
			t.Errorf("%q = %q, %v; want %s", tc.expr, got, err, tc.want)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%q = %q, %v; want an error containing %q", tc.expr, got, err, tc.err)
		}
	}
}

func TestTime(t *testing.T) {
	t.Parallel()

	fixed := time.Date(2026, 12, 3, 16, 4, 0, 0, time.UTC)
	s := skill.Time{Now: func() time.Time { return fixed }}

	cases := []struct {
		userZone, args, want string
	}{
		{"Europe/Berlin", `{}`, "Thursday 3 December 2026, 17:04 (Europe/Berlin, UTC+01:00)"},
		{"", `{}`, "Thursday 3 December 2026, 16:04 (UTC, UTC+00:00)"},
		{"Europe/Berlin", `{"time_zone":"Asia/Tokyo"}`,
			"Friday 4 December 2026, 01:04 (Asia/Tokyo, UTC+09:00)"},
	}

	for _, tc := range cases {
		got, err := s.Run(context.Background(), skill.Call{TimeZone: tc.userZone,
			Arguments: json.RawMessage(tc.args)})
		if err != nil || got != tc.want {
			t.Errorf("zone %q args %s = %q, %v; want %q", tc.userZone, tc.args, got, err, tc.want)
		}
	}

	_, err := s.Run(context.Background(), skill.Call{Arguments: json.RawMessage(
		`{"time_zone":"Mars/Olympus"}`)})
	if err == nil || !strings.Contains(err.Error(), "time_zone") {
		t.Fatalf("unknown zone: err = %v", err)
	}
}

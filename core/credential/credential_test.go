package credential_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/core"
	"github.com/switchboardhq/switchboard/core/credential"
	"github.com/switchboardhq/switchboard/core/secret"
	"github.com/switchboardhq/switchboard/core/store"
	"github.com/switchboardhq/switchboard/core/store/storetest"
)

const (
	agentID = "agent-1"
	apiKey  = "sk-live-0123456789abcdefWXYZ"
)

var t0 = time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)

func newBox(t *testing.T) *secret.Box {
	t.Helper()

	key := make([]byte, secret.KeySize)
	_, _ = rand.Read(key)

	b, err := secret.NewBox(key)
	if err != nil {
		t.Fatalf("NewBox: %v", err)
	}

	return b
}

func set(t *testing.T, s *credential.Store, agent, skill string, values map[string]string) {
	t.Helper()

	if err := s.Set(context.Background(), agent, skill, values, t0); err != nil {
		t.Fatalf("Set %s/%s: %v", agent, skill, err)
	}
}

func masked(t *testing.T, s *credential.Store, agent, skill string) map[string]string {
	t.Helper()

	m, err := s.Masked(context.Background(), agent, skill)
	if err != nil {
		t.Fatalf("Masked %s/%s: %v", agent, skill, err)
	}

	return m
}

func TestRoundTrip(t *testing.T) {
	t.Parallel()

	storetest.Each(t, func(t *testing.T, kind store.Dialect) {
		t.Parallel()

		ctx := context.Background()
		s := credential.New(storetest.Open(t, kind), newBox(t))

		set(t, s, agentID, "weather", map[string]string{"api_key": apiKey, "region": "eu"})
		set(t, s, agentID, "weather", map[string]string{"region": "us-east"})

		tests := []struct {
			skill, name string
			want        string
			found       bool
		}{
			{"weather", "api_key", apiKey, true},
			{"weather", "region", "us-east", true},
			{"weather", "missing", "", false},
			{"news", "api_key", "", false},
		}

		for _, tt := range tests {
			got, found, err := s.Get(ctx, agentID, tt.skill, tt.name)
			if err != nil || got != tt.want || found != tt.found {
				t.Errorf("Get(%s, %s) = %q, %v, %v, want %q, %v", tt.skill, tt.name,
					got, found, err, tt.want, tt.found)
			}
		}

		if _, found, _ := s.Get(ctx, "agent-2", "weather", "api_key"); found {
			t.Error("another agent sees the credential")
		}
	})
}

func TestMaskedHidesValues(t *testing.T) {
	t.Parallel()

	storetest.Each(t, func(t *testing.T, kind store.Dialect) {
		t.Parallel()

		s := credential.New(storetest.Open(t, kind), newBox(t))
		values := map[string]string{"api_key": apiKey, "pin": "4711", "user": "alice"}

		set(t, s, agentID, "weather", values)

		got := masked(t, s, agentID, "weather")
		want := map[string]string{"api_key": "••••WXYZ", "pin": "••••", "user": "••••"}

		if !maps.Equal(got, want) {
			t.Fatalf("Masked = %v, want %v", got, want)
		}

		for name, m := range got {
			if strings.Contains(m, values[name]) {
				t.Errorf("mask of %s %q contains its value", name, m)
			}
		}

		if m := masked(t, s, agentID, "news"); len(m) != 0 {
			t.Errorf("Masked of a skill without credentials = %v, want empty", m)
		}
	})
}

func TestTableHoldsNoPlaintext(t *testing.T) {
	t.Parallel()

	storetest.Each(t, func(t *testing.T, kind store.Dialect) {
		t.Parallel()

		db := storetest.Open(t, kind)
		s := credential.New(db, newBox(t))

		set(t, s, agentID, "weather", map[string]string{"api_key": apiKey})

		forbidden := [][]byte{
			[]byte(apiKey),
			[]byte(base64.StdEncoding.EncodeToString([]byte(apiKey))),
			[]byte(base64.RawURLEncoding.EncodeToString([]byte(apiKey))),
		}

		for _, cell := range rawCells(t, db) {
			for _, f := range forbidden {
				if bytes.Contains(cell, f) {
					t.Fatalf("skill_credentials holds %q in a column", f)
				}
			}
		}
	})
}

// rawCells returns every column of every skill_credentials row as bytes.
func rawCells(t *testing.T, db *store.DB) [][]byte {
	t.Helper()

	rows, err := db.DB.DB.QueryContext(context.Background(), "SELECT * FROM skill_credentials")
	if err != nil {
		t.Fatalf("read skill_credentials: %v", err)
	}
	defer rows.Close()

	cols, err := rows.Columns()
	if err != nil {
		t.Fatalf("columns: %v", err)
	}

	var cells [][]byte

	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))

		for i := range vals {
			ptrs[i] = &vals[i]
		}

		if err := rows.Scan(ptrs...); err != nil {
			t.Fatalf("scan: %v", err)
		}

		for _, v := range vals {
			if b, ok := v.([]byte); ok {
				cells = append(cells, b)
			} else {
				cells = append(cells, fmt.Append(nil, v))
			}
		}
	}

	if err := rows.Err(); err != nil {
		t.Fatalf("read skill_credentials: %v", err)
	}

	if len(cells) == 0 {
		t.Fatal("skill_credentials is empty")
	}

	return cells
}

func TestSealedValueBoundToRow(t *testing.T) {
	t.Parallel()

	storetest.Each(t, func(t *testing.T, kind store.Dialect) {
		t.Parallel()

		ctx := context.Background()
		db := storetest.Open(t, kind)
		s := credential.New(db, newBox(t))

		set(t, s, agentID, "weather", map[string]string{"api_key": apiKey})

		var sealed []byte

		err := db.NewRaw("SELECT sealed FROM skill_credentials WHERE skill = ?", "weather").
			Scan(ctx, &sealed)
		if err != nil {
			t.Fatalf("read sealed value: %v", err)
		}

		tests := []struct {
			agent, skill, name string
		}{
			{agentID, "news", "api_key"},
			{agentID, "weather", "token"},
			{"agent-2", "weather", "api_key"},
		}

		for _, tt := range tests {
			_, err := db.ExecContext(ctx, "INSERT INTO skill_credentials "+
				"(agent_id, skill, name, sealed, masked, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
				tt.agent, tt.skill, tt.name, sealed, "••••", t0)
			if err != nil {
				t.Fatalf("copy sealed value: %v", err)
			}

			got, found, err := s.Get(ctx, tt.agent, tt.skill, tt.name)
			if !errors.Is(err, secret.ErrDecrypt) {
				t.Errorf("Get(%s, %s, %s) of a copied value = %q, %v, %v, want ErrDecrypt",
					tt.agent, tt.skill, tt.name, got, found, err)
			}
		}
	})
}

func TestOtherKeyCannotOpen(t *testing.T) {
	t.Parallel()

	storetest.Each(t, func(t *testing.T, kind store.Dialect) {
		t.Parallel()

		db := storetest.Open(t, kind)
		set(t, credential.New(db, newBox(t)), agentID, "weather",
			map[string]string{"api_key": apiKey})

		other := credential.New(db, newBox(t))

		got, _, err := other.Get(context.Background(), agentID, "weather", "api_key")
		if !errors.Is(err, secret.ErrDecrypt) {
			t.Fatalf("Get with another key = %q, %v, want ErrDecrypt", got, err)
		}

		if strings.Contains(err.Error(), apiKey) {
			t.Fatalf("error %q shows the value", err)
		}

		if m := masked(t, other, agentID, "weather"); m["api_key"] != "••••WXYZ" {
			t.Fatalf("Masked with another key = %v, want the stored mask", m)
		}
	})
}

func TestSetRejectsBlank(t *testing.T) {
	t.Parallel()

	storetest.Each(t, func(t *testing.T, kind store.Dialect) {
		t.Parallel()

		s := credential.New(storetest.Open(t, kind), newBox(t))

		tests := []struct {
			name   string
			skill  string
			values map[string]string
			field  string
		}{
			{"empty value", "weather", map[string]string{"api_key": apiKey, "region": ""},
				"credentials.region"},
			{"blank value", "weather", map[string]string{"api_key": " \t"},
				"credentials.api_key"},
			{"empty name", "weather", map[string]string{"": apiKey}, "credentials"},
			{"empty skill", "", map[string]string{"api_key": apiKey}, "skill"},
		}

		for _, tt := range tests {
			err := s.Set(context.Background(), agentID, tt.skill, tt.values, t0)

			var in *core.InputError
			if !errors.As(err, &in) || in.Field != tt.field {
				t.Errorf("%s: Set = %v, want an InputError on %s", tt.name, err, tt.field)
			}
		}

		if m := masked(t, s, agentID, "weather"); len(m) != 0 {
			t.Fatalf("rejected Set stored %v, want nothing", m)
		}
	})
}

func TestClear(t *testing.T) {
	t.Parallel()

	storetest.Each(t, func(t *testing.T, kind store.Dialect) {
		t.Parallel()

		s := credential.New(storetest.Open(t, kind), newBox(t))
		values := map[string]string{"api_key": apiKey, "region": "eu"}

		set(t, s, agentID, "weather", values)
		set(t, s, agentID, "news", values)
		set(t, s, "agent-2", "weather", values)

		if err := s.Clear(context.Background(), agentID, "weather"); err != nil {
			t.Fatalf("Clear: %v", err)
		}

		tests := []struct {
			agent, skill string
			want         int
		}{
			{agentID, "weather", 0},
			{agentID, "news", 2},
			{"agent-2", "weather", 2},
		}

		for _, tt := range tests {
			if got := len(masked(t, s, tt.agent, tt.skill)); got != tt.want {
				t.Errorf("after Clear, %s/%s has %d credentials, want %d",
					tt.agent, tt.skill, got, tt.want)
			}
		}
	})
}

package token_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/core"
	"github.com/switchboardhq/switchboard/core/store"
	"github.com/switchboardhq/switchboard/core/store/storetest"
	"github.com/switchboardhq/switchboard/core/token"
)

var t0 = time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)

func TestCreateAndLookup(t *testing.T) {
	t.Parallel()

	storetest.Each(t, func(t *testing.T, kind store.Dialect) {
		t.Parallel()

		ctx := context.Background()
		db := storetest.Open(t, kind)

		secret, err := token.Create(ctx, db, "agent-1", "alice@example.com", " ci ", t0)
		if err != nil {
			t.Fatalf("Create: %v", err)
		}

		got, err := token.Lookup(ctx, db, "agent-1", secret)
		if err != nil {
			t.Fatalf("Lookup: %v", err)
		}
		if got.UserID != "alice@example.com" || got.Name != "ci" ||
			got.Hash != token.Hash(secret) || got.LastUsedAt.IsZero() {
			t.Fatalf("Lookup = %+v, want alice's token ci, just used", got)
		}

		again, err := token.Lookup(ctx, db, "agent-1", secret)
		if err != nil || !again.LastUsedAt.Equal(got.LastUsedAt.Time) {
			t.Fatalf("second Lookup = %+v, %v; want last_used_at unchanged within a minute",
				again, err)
		}

		// A minute later the use is recorded again.
		if _, err := db.NewUpdate().Model((*token.Token)(nil)).Set("last_used_at = ?", t0).
			Where("id = ?", got.ID).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := token.Lookup(ctx, db, "agent-1", secret); err != nil {
			t.Fatalf("third Lookup: %v", err)
		}

		var stored token.Token
		if err := db.NewSelect().Model(&stored).Where("id = ?", got.ID).Scan(ctx); err != nil {
			t.Fatal(err)
		}
		if !stored.LastUsedAt.After(t0) {
			t.Fatalf("last_used_at = %v after a use much later, want it recorded",
				stored.LastUsedAt)
		}

		for name, s := range map[string]string{
			"wrong secret":  secret[:len(secret)-1] + "x",
			"no prefix":     strings.TrimPrefix(secret, token.Prefix),
			"empty":         "",
			"another agent": secret,
		} {
			agent := "agent-1"
			if name == "another agent" {
				agent = "agent-2"
			}

			if _, err := token.Lookup(ctx, db, agent, s); !errors.Is(err, token.ErrNotFound) {
				t.Errorf("%s: Lookup error = %v, want ErrNotFound", name, err)
			}
		}
	})
}

func TestCreateValidates(t *testing.T) {
	t.Parallel()

	db := storetest.Open(t, store.SQLite)

	tests := []struct {
		name, user, tokenName, field string
	}{
		{"empty name", "owner", "  ", "name"},
		{"long name", "owner", strings.Repeat("n", 65), "name"},
		{"empty user", "", "ci", "user"},
		{"user with a space", "a b", "ci", "user"},
		{"user with a slash", "a/b", "ci", "user"},
		{"long user", strings.Repeat("u", 65), "ci", "user"},
	}

	for _, tt := range tests {
		_, err := token.Create(context.Background(), db, "agent-1", tt.user, tt.tokenName, t0)

		var ie *core.InputError
		if !errors.As(err, &ie) || ie.Field != tt.field {
			t.Errorf("%s: Create error = %v, want an InputError for %s", tt.name, err, tt.field)
		}
	}

	for _, user := range []string{"owner", "supabase:7f1c2a9e-5b3d", "a.b_c-d@e", "U1"} {
		if _, err := token.Create(context.Background(), db, "agent-1", user, "ok", t0); err != nil {
			t.Errorf("Create for user %q: %v", user, err)
		}
	}
}

func TestListAndRevoke(t *testing.T) {
	t.Parallel()

	storetest.Each(t, func(t *testing.T, kind store.Dialect) {
		ctx := context.Background()
		db := storetest.Open(t, kind)
		now := time.Now().UTC()

		first, err := token.Create(ctx, db, "default", "owner", "laptop", now)
		if err != nil {
			t.Fatal(err)
		}

		if _, err := token.Create(ctx, db, "default", "anna", "phone", now); err != nil {
			t.Fatal(err)
		}

		if _, err := token.Create(ctx, db, "other", "owner", "elsewhere", now); err != nil {
			t.Fatal(err)
		}

		list, err := token.List(ctx, db, "default")
		if err != nil || len(list) != 2 || list[0].Name != "laptop" || list[1].UserID != "anna" {
			t.Fatalf("List = %+v, %v; want laptop and phone of this agent", list, err)
		}

		revoked, err := token.Revoke(ctx, db, "default", list[0].ID)
		if err != nil || revoked.Name != "laptop" || revoked.UserID != "owner" {
			t.Fatalf("Revoke = %+v, %v", revoked, err)
		}

		if _, err := token.Lookup(ctx, db, "default", first); !errors.Is(err, token.ErrNotFound) {
			t.Fatalf("Lookup of a revoked token: %v, want ErrNotFound", err)
		}

		if _, err := token.Revoke(ctx, db, "default", list[0].ID); !errors.Is(err,
			token.ErrNotFound) {
			t.Fatalf("revoking twice: %v, want ErrNotFound", err)
		}

		other, _ := token.List(ctx, db, "other")
		if _, err := token.Revoke(ctx, db, "default", other[0].ID); !errors.Is(err,
			token.ErrNotFound) {
			t.Fatalf("revoking another agent's token: %v, want ErrNotFound", err)
		}
	})
}

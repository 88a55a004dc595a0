package access_test

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/switchboardhq/switchboard/core"
	"github.com/switchboardhq/switchboard/core/access"
	"github.com/switchboardhq/switchboard/core/store"
	"github.com/switchboardhq/switchboard/core/store/storetest"
)

const agentID = "agent-1"

var t0 = time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)

func TestApproveUnknownCode(t *testing.T) {
	t.Parallel()

	storetest.Each(t, func(t *testing.T, kind store.Dialect) {
		t.Parallel()

		db := storetest.Open(t, kind)
		p := newPolicy(db)
		code := requestPairing(t, db, p, "stranger", t0)

		tests := []struct {
			name    string
			agentID string
			code    string
		}{
			{"never issued", agentID, "OOOO1111"},
			{"empty", agentID, ""},
			{"prefix of a real code", agentID, code[:4]},
			{"real code of another agent", "agent-2", code},
		}

		for _, tt := range tests {
			_, err := approve(t, db, tt.agentID, tt.code, t0)
			if !errors.Is(err, access.ErrUnknownCode) {
				t.Fatalf("%s: Approve(%q) = %v, want ErrUnknownCode", tt.name, tt.code, err)
			}
		}

		if allowed(t, db, p, "stranger") {
			t.Fatal("stranger allowed after only unknown codes were approved")
		}
	})
}

func TestApproveTwice(t *testing.T) {
	t.Parallel()

	storetest.Each(t, func(t *testing.T, kind store.Dialect) {
		t.Parallel()

		db := storetest.Open(t, kind)
		p := newPolicy(db)
		code := requestPairing(t, db, p, "stranger", t0)

		req, err := approve(t, db, agentID, code, t0.Add(time.Minute))
		if err != nil {
			t.Fatalf("first Approve: %v", err)
		}

		if req.UserID != "stranger" || req.Channel != core.ChannelTelegram || req.Code != code {
			t.Fatalf("Approve returned %+v, want the stranger's request", req)
		}

		if !allowed(t, db, p, "stranger") {
			t.Fatal("stranger not allowed after Approve")
		}

		if _, err := approve(t, db, agentID, code, t0.Add(2*time.Minute)); !errors.Is(err,
			access.ErrUnknownCode) {
			t.Fatalf("second Approve = %v, want ErrUnknownCode", err)
		}

		if got := pending(t, db, t0.Add(2*time.Minute)); len(got) != 0 {
			t.Fatalf("Pending after Approve = %v, want none", got)
		}
	})
}

func TestApproveCaseInsensitive(t *testing.T) {
	t.Parallel()

	storetest.Each(t, func(t *testing.T, kind store.Dialect) {
		t.Parallel()

		db := storetest.Open(t, kind)
		p := newPolicy(db)

		tests := []struct {
			user  core.UserID
			typed func(code string) string
		}{
			{"lower", strings.ToLower},
			{"mixed", func(c string) string { return strings.ToLower(c[:4]) + c[4:] }},
			{"padded", func(c string) string { return "  " + strings.ToLower(c) + "\n" }},
		}

		for _, tt := range tests {
			code := requestPairing(t, db, p, tt.user, t0)

			req, err := approve(t, db, agentID, tt.typed(code), t0)
			if err != nil {
				t.Fatalf("Approve(%q) for code %s: %v", tt.typed(code), code, err)
			}

			if req.UserID != tt.user {
				t.Fatalf("Approve(%q) approved %s, want %s", tt.typed(code), req.UserID, tt.user)
			}
		}
	})
}

func TestApproveExpiredCode(t *testing.T) {
	t.Parallel()

	storetest.Each(t, func(t *testing.T, kind store.Dialect) {
		t.Parallel()

		db := storetest.Open(t, kind)
		p := newPolicy(db)
		code := requestPairing(t, db, p, "stranger", t0)

		_, err := approve(t, db, agentID, code, t0.Add(access.PairingTTL))
		if !errors.Is(err, access.ErrExpiredCode) {
			t.Fatalf("Approve at expiry = %v, want ErrExpiredCode", err)
		}

		if allowed(t, db, p, "stranger") {
			t.Fatal("stranger allowed through an expired code")
		}
	})
}

func TestPendingListsOpenRequestsOnly(t *testing.T) {
	t.Parallel()

	storetest.Each(t, func(t *testing.T, kind store.Dialect) {
		t.Parallel()

		db := storetest.Open(t, kind)
		p := newPolicy(db)

		requestPairing(t, db, p, "expired", t0.Add(-2*access.PairingTTL))
		requestPairing(t, db, p, "waiting", t0.Add(-time.Minute))
		approved := requestPairing(t, db, p, "approved", t0.Add(-time.Minute))
		requestPairing(t, db, p, "fresh", t0)

		if _, err := approve(t, db, agentID, approved, t0); err != nil {
			t.Fatalf("Approve: %v", err)
		}

		got := pending(t, db, t0)

		var users []core.UserID
		for _, r := range got {
			users = append(users, r.UserID)
		}

		if want := []core.UserID{"waiting", "fresh"}; !slices.Equal(users, want) {
			t.Fatalf("Pending users = %v, want %v", users, want)
		}

		for _, r := range got {
			if r.AgentID != agentID || !r.ApprovedAt.IsZero() || !r.ExpiresAt.After(t0) {
				t.Fatalf("Pending listed %+v", r)
			}
		}

		later := pending(t, db, t0.Add(access.PairingTTL-time.Second))
		if len(later) != 1 || later[0].UserID != "fresh" {
			t.Fatalf("Pending just before the fresh code expires = %+v, want only fresh", later)
		}

		if other, err := access.Pending(context.Background(), db, "agent-2", t0); err != nil ||
			len(other) != 0 {
			t.Fatalf("Pending of another agent = %v, %v; want none", other, err)
		}
	})
}

func TestPairingRepeatsOpenCode(t *testing.T) {
	t.Parallel()

	storetest.Each(t, func(t *testing.T, kind store.Dialect) {
		t.Parallel()

		db := storetest.Open(t, kind)
		p := newPolicy(db)

		first := requestPairing(t, db, p, "stranger", t0)
		again := requestPairing(t, db, p, "stranger", t0.Add(10*time.Minute))

		if again != first {
			t.Fatalf("second request got code %s, want the open code %s", again, first)
		}

		if got := pending(t, db, t0.Add(10*time.Minute)); len(got) != 1 {
			t.Fatalf("Pending = %+v, want one request", got)
		}
	})
}

func newPolicy(db *store.DB) *access.Policy {
	owners := []access.Owner{{Channel: core.ChannelTelegram, UserID: "owner"}}

	return access.NewPolicy(db, agentID, owners, access.GroupReplyMention)
}

// requestPairing sends a direct message from user through Check at now and
// returns the pairing code of user's open request.
func requestPairing(t *testing.T, db *store.DB, p *access.Policy, user core.UserID,
	now time.Time,
) string {
	t.Helper()

	msg := core.Inbound{
		Channel:   core.ChannelTelegram,
		ChatID:    core.ChatID("chat-" + user),
		UserID:    user,
		MessageID: "1",
		UserName:  "Name of " + string(user),
		Text:      "hello",
		Direct:    true,
	}

	var v access.Verdict

	err := db.RunInTx(context.Background(), &sql.TxOptions{},
		func(ctx context.Context, tx bun.Tx) error {
			var err error
			v, err = p.Check(ctx, tx, msg, now)

			return err
		})
	if err != nil {
		t.Fatalf("Check: %v", err)
	}

	if v.Outcome != access.Pair {
		t.Fatalf("Check of a stranger = %+v, want Pair", v)
	}

	var req access.PairingRequest

	err = db.NewSelect().Model(&req).
		Where("user_id = ?", user).
		Where("approved_at IS NULL").
		OrderExpr("id DESC").
		Limit(1).
		Scan(context.Background())
	if err != nil {
		t.Fatalf("read pairing request of %s: %v", user, err)
	}

	if !strings.Contains(v.Reply, req.Code) {
		t.Fatalf("reply %q does not carry the code %s", v.Reply, req.Code)
	}

	return req.Code
}

func approve(t *testing.T, db *store.DB, agent, code string, now time.Time,
) (*access.PairingRequest, error) {
	t.Helper()

	var req *access.PairingRequest

	err := db.RunInTx(context.Background(), &sql.TxOptions{},
		func(ctx context.Context, tx bun.Tx) error {
			var err error
			req, err = access.Approve(ctx, tx, agent, code, now)

			return err
		})

	return req, err
}

func pending(t *testing.T, db *store.DB, now time.Time) []access.PairingRequest {
	t.Helper()

	reqs, err := access.Pending(context.Background(), db, agentID, now)
	if err != nil {
		t.Fatalf("Pending: %v", err)
	}

	return reqs
}

func allowed(t *testing.T, db *store.DB, p *access.Policy, user core.UserID) bool {
	t.Helper()

	ok, err := p.Allowed(context.Background(), db, core.ChannelTelegram, user)
	if err != nil {
		t.Fatalf("Allowed: %v", err)
	}

	return ok
}

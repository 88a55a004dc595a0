// Package access decides who may talk to the agent: owners from the
// configuration, people an owner approved through a pairing code, and in
// groups only messages addressed to the agent.
package access

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/switchboardhq/switchboard/core"
	"github.com/switchboardhq/switchboard/core/store"
)

// PairingTTL is how long a pairing code stays valid.
const PairingTTL = time.Hour

// MaxPendingPerChannel bounds the open pairing requests of one channel, so
// that strangers cannot flood the owner's list.
const MaxPendingPerChannel = 3

// GroupReply says when the agent answers in a group.
type GroupReply string

// The group reply modes.
const (
	// GroupReplyMention answers only messages that mention the agent or
	// reply to it.
	GroupReplyMention GroupReply = "mention"
	// GroupReplyAll answers every message from an allowed sender.
	GroupReplyAll GroupReply = "all"
)

// Owner is a person who is always allowed.
type Owner struct {
	Channel core.Channel
	UserID  core.UserID
}

// Policy applies the access rules of one agent.
type Policy struct {
	db         *store.DB
	agentID    string
	owners     map[Owner]bool
	groupReply GroupReply
	trusted    map[core.Channel]bool
}

// NewPolicy returns the policy for agentID.
func NewPolicy(db *store.DB, agentID string, owners []Owner, groupReply GroupReply) *Policy {
	set := make(map[Owner]bool, len(owners))
	for _, o := range owners {
		set[o] = true
	}

	return &Policy{db: db, agentID: agentID, owners: set, groupReply: groupReply,
		trusted: make(map[core.Channel]bool)}
}

// Trust lets every message of the channel through: its adapter has
// authenticated the sender. It must be called before the policy is used.
func (p *Policy) Trust(ch core.Channel) {
	p.trusted[ch] = true
}

// Outcome is what the pipeline does with a message.
type Outcome int

// The outcomes of Check.
const (
	// Allow hands the message on to commands or the agent.
	Allow Outcome = iota
	// Ignore drops the message without an answer: a group message not
	// addressed to the agent, or a stranger in a group.
	Ignore
	// Pair answers with Verdict.Reply (a pairing code or a refusal) and
	// nothing else.
	Pair
)

// Verdict is the result of Check.
type Verdict struct {
	Outcome Outcome
	// Reply is the answer for Pair.
	Reply string
	// Reason explains Ignore and Pair in logs.
	Reason string
}

// Check decides about msg inside tx, creating a pairing request when a
// stranger writes in a direct chat.
func (p *Policy) Check(ctx context.Context, tx bun.IDB, msg core.Inbound, now time.Time,
) (Verdict, error) {
	v, err := p.Gate(ctx, tx, msg)
	if err != nil || v.Outcome != Pair {
		return v, err
	}

	v.Reply, err = p.pair(ctx, tx, msg, now)

	return v, err
}

// Gate decides about msg without writing anything. A trusted channel's
// messages are always allowed. For a stranger in a
// direct chat it returns Pair without a reply: Check creates the request.
// Owners cost no query.
func (p *Policy) Gate(ctx context.Context, db bun.IDB, msg core.Inbound) (Verdict, error) {
	if p.trusted[msg.Channel] {
		return Verdict{Outcome: Allow}, nil
	}

	if !msg.Direct && p.groupReply == GroupReplyMention && !msg.Mentioned && !msg.ReplyToAgent {
		return Verdict{Outcome: Ignore, Reason: "group message not addressed to the agent"}, nil
	}

	ok, err := p.Allowed(ctx, db, msg.Channel, msg.UserID)

	switch {
	case err != nil:
		return Verdict{}, err
	case ok:
		return Verdict{Outcome: Allow}, nil
	case !msg.Direct:
		return Verdict{Outcome: Ignore, Reason: "unknown sender in a group"}, nil
	default:
		return Verdict{Outcome: Pair, Reason: "unknown sender"}, nil
	}
}

// Allowed reports whether the user is an owner or was approved.
func (p *Policy) Allowed(ctx context.Context, db bun.IDB, ch core.Channel, user core.UserID,
) (bool, error) {
	if p.owners[Owner{Channel: ch, UserID: user}] {
		return true, nil
	}

	n, err := db.NewSelect().Model((*AllowedUser)(nil)).
		Where("agent_id = ?", p.agentID).
		Where("channel = ?", ch).
		Where("user_id = ?", user).
		Count(ctx)
	if err != nil {
		return false, fmt.Errorf("look up allowed user %s:%s: %w", ch, user, err)
	}

	return n > 0, nil
}

// AllowedUser is a person an owner approved.
type AllowedUser struct {
	bun.BaseModel `bun:"table:allowed_users"`

	AgentID    string       `bun:"agent_id,pk"`
	Channel    core.Channel `bun:"channel,pk"`
	UserID     core.UserID  `bun:"user_id,pk"`
	UserName   string       `bun:"user_name"`
	ApprovedAt time.Time    `bun:"approved_at"`
}

// PairingRequest is a stranger's request to talk to the agent.
type PairingRequest struct {
	bun.BaseModel `bun:"table:pairing_requests"`

	ID         int64        `bun:"id,pk,autoincrement"`
	AgentID    string       `bun:"agent_id"`
	Channel    core.Channel `bun:"channel"`
	ChatID     core.ChatID  `bun:"chat_id"`
	UserID     core.UserID  `bun:"user_id"`
	UserName   string       `bun:"user_name"`
	Code       string       `bun:"code"`
	CreatedAt  time.Time    `bun:"created_at"`
	ExpiresAt  time.Time    `bun:"expires_at"`
	ApprovedAt bun.NullTime `bun:"approved_at"`
}

func (p *Policy) pair(ctx context.Context, tx bun.IDB, msg core.Inbound, now time.Time,
) (string, error) {
	if err := p.db.XactLock(ctx, tx, "pairing:"+p.agentID+":"+string(msg.Channel)); err != nil {
		return "", err
	}

	pending := func() *bun.SelectQuery {
		return tx.NewSelect().Model((*PairingRequest)(nil)).
			Where("agent_id = ?", p.agentID).
			Where("channel = ?", msg.Channel).
			Where("approved_at IS NULL").
			Where("expires_at > ?", now)
	}

	var mine PairingRequest

	err := pending().Where("user_id = ?", msg.UserID).OrderExpr("id DESC").Limit(1).
		Scan(ctx, &mine)
	if err == nil {
		return pairingReply(mine.Code, mine.ExpiresAt.Sub(now)), nil
	}

	if !errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("look up pairing request: %w", err)
	}

	n, err := pending().Count(ctx)
	if err != nil {
		return "", fmt.Errorf("count pairing requests: %w", err)
	}

	if n >= MaxPendingPerChannel {
		return "I can't take more pairing requests right now. Please try again later.", nil
	}

	req := &PairingRequest{
		AgentID:   p.agentID,
		Channel:   msg.Channel,
		ChatID:    msg.ChatID,
		UserID:    msg.UserID,
		UserName:  msg.UserName,
		CreatedAt: now,
		ExpiresAt: now.Add(PairingTTL),
	}

	for range 5 {
		req.Code = newCode()

		res, err := tx.NewInsert().Model(req).On("CONFLICT DO NOTHING").Exec(ctx)
		if err != nil {
			return "", fmt.Errorf("store pairing request: %w", err)
		}

		if n, _ := res.RowsAffected(); n == 1 {
			return pairingReply(req.Code, PairingTTL), nil
		}
	}

	return "", errors.New("store pairing request: no free code after 5 tries")
}

func pairingReply(code string, left time.Duration) string {
	mins := int(left.Round(time.Minute) / time.Minute)

	return fmt.Sprintf("Hi! I only talk to people my owner has approved. "+
		"Your pairing code is %s; it is valid for %d minutes. "+
		"Ask the owner to run: bot pair approve %s", code, mins, code)
}

// codeAlphabet leaves out letters and digits that look alike.
const codeAlphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"

func newCode() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)

	for i := range b {
		b[i] = codeAlphabet[int(b[i])%len(codeAlphabet)]
	}

	return string(b)
}

// Errors of Approve.
var (
	ErrUnknownCode = errors.New("no pending pairing request has this code")
	ErrExpiredCode = errors.New("the pairing code has expired")
)

// Approve allows the person behind a pending pairing code and returns the
// request, so that the caller can tell them.
func Approve(ctx context.Context, tx bun.IDB, agentID, code string, now time.Time,
) (*PairingRequest, error) {
	req := new(PairingRequest)

	err := tx.NewSelect().Model(req).
		Where("agent_id = ?", agentID).
		Where("code = ?", strings.ToUpper(strings.TrimSpace(code))).
		Where("approved_at IS NULL").
		Scan(ctx)

	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, ErrUnknownCode
	case err != nil:
		return nil, fmt.Errorf("look up pairing code: %w", err)
	case !req.ExpiresAt.After(now):
		return nil, ErrExpiredCode
	}

	req.ApprovedAt = bun.NullTime{Time: now}

	if _, err := tx.NewUpdate().Model(req).Column("approved_at").WherePK().Exec(ctx); err != nil {
		return nil, fmt.Errorf("approve pairing request: %w", err)
	}

	user := &AllowedUser{
		AgentID:    agentID,
		Channel:    req.Channel,
		UserID:     req.UserID,
		UserName:   req.UserName,
		ApprovedAt: now,
	}

	if _, err := tx.NewInsert().Model(user).On("CONFLICT DO NOTHING").Exec(ctx); err != nil {
		return nil, fmt.Errorf("allow user: %w", err)
	}

	return req, nil
}

// Pending lists the pairing requests that wait for approval.
func Pending(ctx context.Context, db bun.IDB, agentID string, now time.Time,
) ([]PairingRequest, error) {
	var reqs []PairingRequest

	err := db.NewSelect().Model(&reqs).
		Where("agent_id = ?", agentID).
		Where("approved_at IS NULL").
		Where("expires_at > ?", now).
		OrderExpr("id").
		Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("list pairing requests: %w", err)
	}

	return reqs, nil
}

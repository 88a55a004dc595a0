package pipeline

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/switchboardhq/switchboard/core"
	"github.com/switchboardhq/switchboard/core/outbox"
)

// adopt takes over the pending messages and outbox claims of replicas that
// are gone (on SQLite: every earlier process), then queues every pending
// message this replica owns.
func (p *Pipeline) adopt(ctx context.Context) error {
	var owners []string

	err := p.db.NewRaw(`SELECT owner FROM inbound_messages
		WHERE agent_id = ? AND status = ? AND owner <> ?
		UNION
		SELECT claimed_by FROM outbox
		WHERE agent_id = ? AND status = ? AND claimed_by <> '' AND claimed_by <> ?`,
		p.agentID, statusReceived, p.replica.ID,
		p.agentID, outbox.StatusPending, p.replica.ID,
	).Scan(ctx, &owners)
	if err != nil {
		return fmt.Errorf("list owners of unfinished work: %w", err)
	}

	adopted := 0

	for _, owner := range owners {
		n, err := p.adoptFrom(ctx, owner)
		if err != nil {
			return err
		}

		adopted += n
	}

	if adopted > 0 {
		p.log.Info("adopted unfinished messages", "count", adopted, "from", len(owners))
	}

	var convs []struct {
		Channel  core.Channel  `bun:"channel"`
		ChatID   core.ChatID   `bun:"chat_id"`
		ThreadID core.ThreadID `bun:"thread_id"`
	}

	err = p.db.NewSelect().Model((*inboundRow)(nil)).
		Column("channel", "chat_id", "thread_id").
		Where("agent_id = ?", p.agentID).
		Where("status = ?", statusReceived).
		Where("owner = ?", p.replica.ID).
		Group("channel", "chat_id", "thread_id").
		Scan(ctx, &convs)
	if err != nil {
		return fmt.Errorf("list conversations with pending messages: %w", err)
	}

	for _, c := range convs {
		conv := core.Conversation{Channel: c.Channel, ChatID: c.ChatID, ThreadID: c.ThreadID}
		p.sched.notify(conv, nil)
	}

	p.deliverer.Poke()

	return nil
}

// adoptFrom moves the work of owner to this replica if owner is dead and
// returns how many messages it took.
func (p *Pipeline) adoptFrom(ctx context.Context, owner string) (int, error) {
	var n int64

	err := p.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		alive, err := p.replica.Alive(ctx, tx, owner)
		if err != nil || alive {
			return err
		}

		res, err := tx.NewUpdate().Model((*inboundRow)(nil)).
			Set("owner = ?", p.replica.ID).
			Where("agent_id = ?", p.agentID).
			Where("owner = ?", owner).
			Where("status = ?", statusReceived).
			Exec(ctx)
		if err != nil {
			return fmt.Errorf("adopt messages of %s: %w", owner, err)
		}

		n, _ = res.RowsAffected()

		_, err = tx.NewUpdate().Model((*outbox.Message)(nil)).
			Set("claimed_by = ''").
			Set("claimed_until = NULL").
			Where("agent_id = ?", p.agentID).
			Where("claimed_by = ?", owner).
			Where("status = ?", outbox.StatusPending).
			Exec(ctx)
		if err != nil {
			return fmt.Errorf("release outbox claims of %s: %w", owner, err)
		}

		return nil
	})

	return int(n), err
}

// adoptLoop looks for work of dead replicas every AdoptInterval.
func (p *Pipeline) adoptLoop(ctx context.Context) {
	t := time.NewTicker(p.opts.AdoptInterval)
	defer t.Stop()

	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}

		if err := p.adopt(ctx); err != nil && ctx.Err() == nil {
			p.log.Error("adopt work of stopped replicas", "err", err)
		}
	}
}

package telegram

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/switchboardhq/switchboard/core"
	"github.com/switchboardhq/switchboard/core/store"
)

// runPolling polls while this replica holds the bot's lease and waits on
// standby while another replica does, until ctx ends.
func (a *Adapter) runPolling(ctx context.Context, sink core.Sink, botID int64) {
	l := a.cfg.DB.Lease(a.cfg.AgentID, string(core.ChannelTelegram),
		strconv.FormatInt(botID, 10), a.cfg.ReplicaID, a.cfg.LeaseExpiry)

	s := newStreak(a.log, "polling lease")
	onStandby := false

	for {
		held, left, err := l.Acquire(ctx)
		wait := a.cfg.LeaseRenew

		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			a.receiveFailed(err)
			s.fail(err, wait)
		case !held:
			s.ok()
			a.standby()

			if !onStandby {
				a.log.Info("standby: another replica polls the bot")
				onStandby = true
			}

			// Try again just after the holder's lease would expire.
			wait = min(wait, left+50*time.Millisecond)
		default:
			s.ok()
			onStandby = false

			a.log.Info("polling lease held, polling", "replica", a.cfg.ReplicaID)
			a.pollHolding(ctx, sink, l)
		}

		if !sleep(ctx, wait) {
			return
		}
	}
}

// pollHolding polls while the lease holds. It renews the lease every
// LeaseRenew, and stops polling when another replica has taken it, or
// when renewing failed for so long that the lease may expire before the
// next try. When ctx ends it gives the lease up, so that a standby replica
// takes over at once.
func (a *Adapter) pollHolding(ctx context.Context, sink core.Sink, l *store.Lease) {
	if a.cfg.DB.Exclusive() {
		a.poll(ctx, sink)
		return
	}

	pollCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})

	go func() {
		defer close(done)
		a.poll(pollCtx, sink)
	}()

	defer func() {
		stop()
		<-done

		releaseCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()

		if err := l.Release(releaseCtx); err != nil {
			a.log.Warn("give up the polling lease", "err", err)
		}
	}()

	tick := time.NewTicker(a.cfg.LeaseRenew)
	defer tick.Stop()

	renewed := time.Now()

	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}

		start := time.Now()
		held, _, err := l.Acquire(ctx)

		switch {
		case ctx.Err() != nil:
			return
		case err == nil && held:
			renewed = start
		case err == nil:
			a.log.Warn("polling lease taken by another replica, polling stops")
			return
		case time.Since(renewed) >= a.cfg.LeaseExpiry-a.cfg.LeaseRenew:
			a.log.Error("polling lease not renewed in time, polling stops", "err", err)
			return
		default:
			a.log.Warn("renew the polling lease", "err", err)
		}
	}
}

// poller is the state of one run of long polls.
type poller struct {
	// offset is one past the last update handed over, 0 before the first.
	offset int
	// confirmed is the offset Telegram was last asked with.
	confirmed int
	// webhookGone is true once deleteWebhook succeeded.
	webhookGone bool
}

// poll long-polls for updates until ctx ends, retrying failures with
// backoff (what a 429 asks for, else 1 s doubling to 30 s). An update is
// confirmed, by the next request's offset, only after it was handed over.
func (a *Adapter) poll(ctx context.Context, sink core.Sink) {
	var (
		p     poller
		s     = newStreak(a.log, "telegram polling")
		fails int
	)

	defer a.confirm(ctx, &p)

	for ctx.Err() == nil {
		err := a.pollOnce(ctx, sink, &p)
		if err == nil {
			fails = 0
			s.ok()

			continue
		}

		if ctx.Err() != nil {
			return
		}

		fails++
		wait := retryWait(err, fails)

		a.receiveFailed(err)
		s.fail(err, wait)
		sleep(ctx, wait)
	}
}

// pollOnce makes one long poll and hands over what it brings. It stops at
// the first update that could not be stored, which then comes again.
func (a *Adapter) pollOnce(ctx context.Context, sink core.Sink, p *poller) error {
	if !p.webhookGone {
		// A webhook makes getUpdates fail with 409. Its pending updates
		// stay and come by polling.
		if _, err := a.api(ctx).Request(tgbotapi.DeleteWebhookConfig{}); err != nil {
			return fmt.Errorf("delete webhook: %w", err)
		}

		p.webhookGone = true
		a.receiving()
	}

	updates, err := a.getUpdates(ctx, p.offset, a.cfg.PollTimeout)
	if err != nil {
		return err
	}

	p.confirmed = p.offset
	a.receiving()

	for _, u := range updates {
		if err := a.handle(ctx, sink, u); err != nil {
			return err
		}

		p.offset = u.UpdateID + 1
	}

	return nil
}

// confirm tells Telegram, when polling stops, about the updates handed
// over since the last request, so that the next poller does not get them
// again. That would be harmless, since the core drops repeats, but noisy.
func (a *Adapter) confirm(ctx context.Context, p *poller) {
	if p.offset == p.confirmed {
		return
	}

	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()

	if _, err := a.api(ctx).Request(tgbotapi.UpdateConfig{Offset: p.offset, Limit: 1}); err != nil {
		a.log.Debug("confirm updates at stop", "err", err)
	}
}

// getUpdates asks for the updates from offset on, waiting up to timeout
// for the first. An update it cannot read is returned empty, so that it
// is confirmed and skipped instead of blocking the ones after it.
func (a *Adapter) getUpdates(ctx context.Context, offset int, timeout time.Duration,
) ([]update, error) {
	resp, err := a.api(ctx).Request(tgbotapi.UpdateConfig{
		Offset:         offset,
		Timeout:        int(timeout / time.Second),
		AllowedUpdates: allowedUpdates,
	})
	if err != nil {
		return nil, fmt.Errorf("get updates: %w", err)
	}

	var raw []json.RawMessage
	if err := json.Unmarshal(resp.Result, &raw); err != nil {
		return nil, fmt.Errorf("read updates: %w", err)
	}

	updates := make([]update, len(raw))

	for i, r := range raw {
		if err := json.Unmarshal(r, &updates[i]); err != nil {
			var id struct {
				UpdateID int `json:"update_id"`
			}

			_ = json.Unmarshal(r, &id)
			updates[i] = update{UpdateID: id.UpdateID}
			a.log.Warn("unreadable update skipped", "update_id", id.UpdateID, "err", err)
		}
	}

	return updates, nil
}

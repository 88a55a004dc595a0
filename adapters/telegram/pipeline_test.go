package telegram_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/adapters/telegram"
	"github.com/switchboardhq/switchboard/adapters/telegram/telegramtest"
	"github.com/switchboardhq/switchboard/core"
	"github.com/switchboardhq/switchboard/core/access"
	"github.com/switchboardhq/switchboard/core/outbox"
	"github.com/switchboardhq/switchboard/core/pipeline"
	"github.com/switchboardhq/switchboard/core/store"
	"github.com/switchboardhq/switchboard/core/store/storetest"
)

// TestPipelineAnswersThroughTelegram runs the real pipeline, with its echo
// responder, on a database: a message in a private chat and one in a forum
// topic are stored, answered and sent back where they came from, and an
// update Telegram sends twice is answered once.
func TestPipelineAnswersThroughTelegram(t *testing.T) {
	t.Parallel()

	db := storetest.Open(t, store.SQLite)
	s := telegramtest.NewServer(t)
	a := newAdapter(t, s, func(c *telegram.Config) { c.DB = db })

	startPipeline(t, db, a)

	private := s.Private(42, "Ada", "hello from a private chat")
	s.Push(private)

	topic := s.Topic(-1001112223334, 9, 42, "@"+s.BotUsername()+" hello from a topic")
	s.Push(topic)

	sent := s.WaitSent(t, 2, 10*time.Second)
	slices.SortFunc(sent, func(x, y telegramtest.Sent) int { return int(x.ChatID - y.ChatID) })

	inTopic, inPrivate := sent[0], sent[1]

	if inPrivate.ChatID != 42 || inPrivate.ReplyTo != private.Message.MessageID ||
		!strings.Contains(inPrivate.Text, "hello from a private chat") {
		t.Fatalf("private answer %s, want the echo replying to the question", inPrivate)
	}

	if inTopic.ThreadID != 9 || inTopic.ReplyTo != topic.Message.MessageID ||
		!strings.Contains(inTopic.Text, "hello from a topic") {
		t.Fatalf("topic answer %s, want the echo in topic 9", inTopic)
	}

	if len(s.Commands()) == 0 {
		t.Fatalf("the pipeline registered no command menu")
	}

	// Telegram sends the same message again, as after a lost confirmation.
	s.Push(telegramtest.Update{Message: private.Message})
	eventually(t, "the repeat is confirmed", func() bool { return len(s.Pending()) == 0 })
	time.Sleep(300 * time.Millisecond)

	if n := len(s.Sent()); n != 2 {
		t.Fatalf("%d messages sent, want no answer to the repeat: %v", n, s.Sent())
	}
}

// startPipeline runs the pipeline with its echo responder and a as its
// only adapter until the test ends. owners default to Telegram user 42.
func startPipeline(t testing.TB, db *store.DB, a core.Adapter, owners ...access.Owner) {
	t.Helper()

	if len(owners) == 0 {
		owners = []access.Owner{{Channel: core.ChannelTelegram, UserID: "42"}}
	}

	ctx, cancel := context.WithCancel(context.Background())

	presence, err := db.Announce(ctx, store.NewReplicaID())
	if err != nil {
		t.Fatalf("announce: %v", err)
	}

	p, err := pipeline.New(db, presence, pipeline.Options{
		AgentID:   "default",
		AgentName: "Testbot",
		Owners:    owners,
		Outbox: outbox.DelivererConfig{
			MaxAttempts:  3,
			MaxBackoff:   50 * time.Millisecond,
			PollInterval: 50 * time.Millisecond,
		},
		Logger: discard(),
	})
	if err != nil {
		t.Fatalf("new pipeline: %v", err)
	}

	if err := p.Register(a); err != nil {
		t.Fatalf("register: %v", err)
	}

	done := make(chan error, 1)

	go func() { done <- p.Run(ctx) }()

	t.Cleanup(func() {
		cancel()

		select {
		case err := <-done:
			if err != nil {
				t.Errorf("pipeline run: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("pipeline did not stop within 10 s")
		}

		_ = presence.Close()
	})
}

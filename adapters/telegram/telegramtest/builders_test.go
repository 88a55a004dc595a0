package telegramtest_test

import (
	"encoding/json"
	"testing"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/switchboardhq/switchboard/adapters/telegram/telegramtest"
)

// pollRaw fetches the pending updates through the library and decodes
// them as the fake's own types, which carry the fields v5.5.1 lacks
// (message_thread_id, is_topic_message, forum_topic_created).
func pollRaw(t *testing.T, bot *tgbotapi.BotAPI) []telegramtest.Update {
	t.Helper()

	res, err := bot.MakeRequest("getUpdates", nil)
	if err != nil {
		t.Fatalf("get updates: %v", err)
	}

	var out []telegramtest.Update
	if err := json.Unmarshal(res.Result, &out); err != nil {
		t.Fatalf("decode updates: %v", err)
	}

	return out
}

func TestGroupEntities(t *testing.T) {
	t.Parallel()

	s := telegramtest.NewServer(t)
	bot := newBot(t, s)

	const text = "/ask@switchboard_test_bot 🙂 hey @switchboard_test_bot and @al"
	s.Push(s.Group(-1001234567890, 5, "Flo", text))

	updates, err := bot.GetUpdates(tgbotapi.UpdateConfig{})
	if err != nil || len(updates) != 1 {
		t.Fatalf("get updates: %d, %v", len(updates), err)
	}
	m := updates[0].Message

	if m.Chat.Type != "supergroup" {
		t.Errorf("chat type = %q, want supergroup", m.Chat.Type)
	}
	if !m.IsCommand() || m.Command() != "ask" || m.CommandWithAt() != "ask@switchboard_test_bot" {
		t.Errorf("command = %q (%q)", m.Command(), m.CommandWithAt())
	}

	want := []tgbotapi.MessageEntity{
		{Type: "bot_command", Offset: 0, Length: 25},
		// The emoji is two UTF-16 code units.
		{Type: "mention", Offset: 33, Length: 21},
	}
	if len(m.Entities) != len(want) {
		t.Fatalf("entities = %+v, want %+v (a 2-letter @al is no username)", m.Entities, want)
	}
	for i, w := range want {
		if m.Entities[i] != w {
			t.Errorf("entity %d = %+v, want %+v", i, m.Entities[i], w)
		}
	}

	if s.Group(-5, 5, "", "x").Message.Chat.Type != "group" {
		t.Error("a small negative id is not a basic group")
	}
}

func TestTopicReplyAndEdit(t *testing.T) {
	t.Parallel()

	s := telegramtest.NewServer(t)
	bot := newBot(t, s)

	const chat, thread = int64(-1009999999999), int64(40)
	in := s.Topic(chat, thread, 8, "in the topic")
	s.Push(in)

	raw := pollRaw(t, bot)
	m := raw[0].Message
	if m.MessageThreadID != thread || !m.IsTopicMessage || !m.Chat.IsForum {
		t.Errorf("topic message = %+v", m)
	}
	if r := m.ReplyToMessage; r == nil || r.MessageID != thread || r.ForumTopicCreated == nil {
		t.Errorf("reply_to_message = %+v, want the topic's service message", r)
	}
	if m.MessageID <= thread {
		t.Errorf("message id %d, want after the topic's %d", m.MessageID, thread)
	}

	answer, err := bot.MakeRequest("sendMessage", tgbotapi.Params{
		"chat_id": "-1009999999999", "message_thread_id": "40", "text": "answer",
	})
	if err != nil {
		t.Fatalf("send into topic: %v", err)
	}
	var sent telegramtest.Message
	if err := json.Unmarshal(answer.Result, &sent); err != nil {
		t.Fatalf("decode answer: %v", err)
	}
	if sent.MessageThreadID != thread || !sent.IsTopicMessage {
		t.Errorf("answer = %+v, want in thread %d", sent, thread)
	}
	if got := s.Sent()[0]; got.ThreadID != thread {
		t.Errorf("sent thread = %d, want %d", got.ThreadID, thread)
	}

	s.Push(s.ReplyToBot(chat, 8, "thanks", sent.MessageID))
	s.Push(s.Edited(in, "edited text"))

	raw = pollRaw(t, bot)
	reply, edit := raw[1].Message, raw[2].EditedMessage
	if reply.ReplyToMessage == nil || !reply.ReplyToMessage.From.IsBot ||
		reply.ReplyToMessage.Text != "answer" || reply.MessageThreadID != thread {
		t.Errorf("reply to bot = %+v", reply)
	}
	if edit == nil || edit.MessageID != m.MessageID || edit.Text != "edited text" ||
		edit.EditDate == 0 {
		t.Errorf("edited = %+v", edit)
	}
}

func TestAllowedUpdates(t *testing.T) {
	t.Parallel()

	s := telegramtest.NewServer(t)
	bot := newBot(t, s)

	in := s.Private(3, "Gus", "v1")
	s.Push(in)
	s.Push(s.Edited(in, "v2"))

	got, err := bot.GetUpdates(tgbotapi.UpdateConfig{AllowedUpdates: []string{"message"}})
	if err != nil || len(got) != 1 || got[0].Message == nil {
		t.Fatalf("only messages: %+v, %v", got, err)
	}

	// The library sends allowed_updates=null when none are given, which
	// keeps the last setting.
	got, err = bot.GetUpdates(tgbotapi.UpdateConfig{})
	if err != nil || len(got) != 1 {
		t.Fatalf("setting kept: %+v, %v", got, err)
	}
}

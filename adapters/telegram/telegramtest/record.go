package telegramtest

import (
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

// Sent is one message the bot sent (sendMessage, sendPhoto) or edited
// (editMessageText), as the server accepted it.
type Sent struct {
	// Method is "sendMessage", "sendPhoto" or "editMessageText".
	Method string
	// ChatID is the chat_id parameter.
	ChatID int64
	// ThreadID is the message_thread_id parameter, or for an edit the
	// thread of the edited message.
	ThreadID int64
	// Text is the text, or a photo's caption, as sent: with its markup.
	Text string
	// ReplyTo is the message replied to, from reply_parameters or
	// reply_to_message_id.
	ReplyTo int64
	// ParseMode is the parse_mode parameter.
	ParseMode string
	// MessageID is the new message's id, or the edited message's.
	MessageID int64
	// Photo holds the uploaded photo's bytes.
	Photo []byte
	// At is when the request arrived.
	At time.Time
}

// String describes the message on one line, for test failures.
func (m Sent) String() string {
	return fmt.Sprintf("%s chat=%d thread=%d id=%d reply_to=%d parse_mode=%q text=%q",
		m.Method, m.ChatID, m.ThreadID, m.MessageID, m.ReplyTo, m.ParseMode, m.Text)
}

// recorder keeps what the bot did. It is guarded by Server.mu.
type recorder struct {
	calls    []recordedCall
	sent     []Sent
	changed  chan struct{}
	commands []BotCommand
	// onSent is WithOnSent's function, or nil.
	onSent func(Sent)
}

// recordedCall is one call's method and parameters.
type recordedCall struct {
	method string
	params url.Values
}

// init readies an empty recorder.
func (r *recorder) init() {
	r.changed = make(chan struct{})
}

// addCall keeps a call's parameters.
func (r *recorder) addCall(c *call) {
	r.calls = append(r.calls, recordedCall{method: c.method, params: cloneValues(c.params)})
}

// addSent keeps an accepted message and wakes WaitSent.
func (r *recorder) addSent(m Sent) {
	r.sent = append(r.sent, m)

	if r.onSent != nil {
		r.onSent(m)
	}

	close(r.changed)
	r.changed = make(chan struct{})
}

// Sent returns the messages the bot sent or edited, in arrival order.
func (s *Server) Sent() []Sent {
	s.mu.Lock()
	defer s.mu.Unlock()

	return slices.Clone(s.record.sent)
}

// SentTo returns the messages the bot sent or edited in one chat, in
// arrival order.
func (s *Server) SentTo(chatID int64) []Sent {
	var out []Sent
	for _, m := range s.Sent() {
		if m.ChatID == chatID {
			out = append(out, m)
		}
	}

	return out
}

// WaitSent waits until the bot has sent or edited at least n messages and
// returns them all. It fails the test, listing what came, when timeout
// passes first.
func (s *Server) WaitSent(t testing.TB, n int, timeout time.Duration) []Sent {
	t.Helper()

	deadline := time.NewTimer(timeout)
	defer deadline.Stop()

	for {
		s.mu.Lock()
		sent := slices.Clone(s.record.sent)
		changed := s.record.changed
		s.mu.Unlock()

		if len(sent) >= n {
			return sent
		}

		select {
		case <-changed:
		case <-deadline.C:
			lines := make([]string, len(sent))
			for i, m := range sent {
				lines[i] = "\n\t" + m.String()
			}
			t.Fatalf("telegramtest: %d of %d messages sent after %v:%s",
				len(sent), n, timeout, strings.Join(lines, ""))
			return nil
		}
	}
}

// Calls returns the parameters of every call of a method, in arrival
// order, including calls that were refused or failed. The method's case
// does not matter, as in Telegram. Uploaded files are not among the
// parameters; see Sent.
func (s *Server) Calls(method string) []url.Values {
	s.mu.Lock()
	defer s.mu.Unlock()

	var out []url.Values
	for _, c := range s.record.calls {
		if strings.EqualFold(c.method, method) {
			out = append(out, cloneValues(c.params))
		}
	}

	return out
}

// Commands returns the commands of the last setMyCommands, whatever its
// scope and language, or nil after deleteMyCommands.
func (s *Server) Commands() []BotCommand {
	s.mu.Lock()
	defer s.mu.Unlock()

	return slices.Clone(s.record.commands)
}

// cloneValues returns a deep copy of v.
func cloneValues(v url.Values) url.Values {
	out := maps.Clone(v)
	for k, vs := range out {
		out[k] = slices.Clone(vs)
	}

	return out
}

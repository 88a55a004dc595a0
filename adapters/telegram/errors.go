package telegram

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/switchboardhq/switchboard/core"
)

// maxBackoff is the longest wait between two failed calls.
const maxBackoff = 30 * time.Second

// apiError returns Telegram's refusal in err's chain: its HTTP-like code
// and the time it asked to wait. ok is false for network failures and
// answers that were not Telegram's JSON.
func apiError(err error) (code int, retryAfter time.Duration, ok bool) {
	var te *tgbotapi.Error
	if !errors.As(err, &te) {
		return 0, 0, false
	}

	code = te.Code
	if code == 0 {
		// The library leaves the code unset on uploads; the description
		// starts with the status text.
		code = codeOf(te.Message)
	}

	return code, time.Duration(te.RetryAfter) * time.Second, true
}

// codeOf reads the status from a description such as "Bad Request: chat
// not found".
func codeOf(description string) int {
	for _, code := range []int{http.StatusBadRequest, http.StatusUnauthorized,
		http.StatusForbidden, http.StatusNotFound, http.StatusConflict,
		http.StatusTooManyRequests} {
		if strings.HasPrefix(description, http.StatusText(code)) {
			return code
		}
	}

	return 0
}

// sendError steers the outbox after a failed send. Telegram's 429 says
// when to retry; a 400 (chat not found, thread gone, text refused) or a 403
// (bot blocked or removed) cannot succeed on a retry; anything else, 5xx
// and network failures included, is retried with backoff. A 401 or 404
// concerns the bot's token, not the message, so it is retried too: the
// message may go out once the token is fixed.
func sendError(err error) error {
	code, retryAfter, ok := apiError(err)

	switch {
	case !ok:
		return &core.SendError{Err: err}
	case code == http.StatusTooManyRequests || retryAfter > 0:
		return core.RetryAfter(max(retryAfter, time.Second), describe(code, err))
	case code == http.StatusBadRequest || code == http.StatusForbidden:
		return core.Undeliverable(describe(code, err))
	default:
		return &core.SendError{Err: describe(code, err)}
	}
}

// describe puts the status code before Telegram's description, which
// alone does not always say it.
func describe(code int, err error) error {
	if code == 0 {
		return err
	}

	return fmt.Errorf("telegram answered %d: %w", code, err)
}

// isConflict reports a 409: another poller or a webhook takes the bot's
// updates.
func isConflict(err error) bool {
	code, _, ok := apiError(err)
	return ok && code == http.StatusConflict
}

// retryWait is how long to wait after the attempt-th failure in a row:
// what Telegram asked for on a 429, else 1 s doubling up to 30 s.
func retryWait(err error, attempt int) time.Duration {
	if _, retryAfter, ok := apiError(err); ok && retryAfter > 0 {
		return retryAfter
	}

	return backoff(attempt)
}

// backoff is 1 s doubling per attempt, at most maxBackoff.
func backoff(attempt int) time.Duration {
	d := time.Second << min(max(attempt-1, 0), 5)
	return min(d, maxBackoff)
}

// streak logs a run of failures of one activity once instead of per try:
// its first failure, and any change of cause, at warn; the end of the run
// at info; the tries in between at debug.
type streak struct {
	log   *slog.Logger
	what  string
	last  string
	tries int
}

func newStreak(log *slog.Logger, what string) *streak {
	return &streak{log: log, what: what}
}

// fail records a failure that will be retried after wait.
func (s *streak) fail(err error, wait time.Duration) {
	s.tries++

	msg := err.Error()
	if isConflict(err) {
		msg = "409 Conflict: another poller or a webhook takes this bot's updates; " +
			"exactly one may (" + msg + ")"
	}

	level := slog.LevelDebug
	if msg != s.last {
		level = slog.LevelWarn
	}

	s.last = msg
	s.log.Log(context.Background(), level, s.what+" failed, retrying", "err", msg,
		"tries", s.tries, "retry_in", wait.String())
}

// ok ends a run of failures.
func (s *streak) ok() {
	if s.tries > 0 {
		s.log.Info(s.what+" works again", "failed_tries", s.tries)
	}

	s.last, s.tries = "", 0
}

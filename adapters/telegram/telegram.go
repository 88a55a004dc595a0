// Package telegram is the Telegram adapter, over the Bot API client
// github.com/go-telegram-bot-api/telegram-bot-api/v5. It is the pattern the
// other messenger adapters follow: it acknowledges an update only after the
// core stored it, turns Telegram's answers into send errors that steer the
// outbox, paces its own sends, and keeps exactly one receiver per bot when
// several replicas share a PostgreSQL database.
//
// Receiving: in polling mode (the default) Run asks for updates in its own
// long-poll loop and confirms an update, by asking with a higher offset,
// only when Sink.Receive returned nil for it. On PostgreSQL only the replica
// that holds the bot's row in adapter_leases polls; the others wait on
// standby and take over when its lease expires. In webhook mode Run
// registers WebhookURL with Telegram and HTTPHandler receives the updates.
//
// Only new messages are taken: text, commands (as text, "/help@bot"
// included) and photos with their caption. An edited message is ignored,
// because the answer to the original already stands and a second answer to
// the same question would confuse more than help. Other update kinds are
// confirmed and dropped.
//
// Sending: plain text without parse mode, so that no formatting in an
// answer can make Telegram refuse it, paced to Telegram's limits.
//
// The library's calls take no context. Each call goes through a client
// bound to the caller's context (see api), so a stop cancels a long poll at
// once and a send ends at its deadline.
package telegram

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/switchboardhq/switchboard/core"
	"github.com/switchboardhq/switchboard/core/clock"
	"github.com/switchboardhq/switchboard/core/outbox"
	"github.com/switchboardhq/switchboard/core/store"
)

// The receiving modes.
const (
	// ModePolling asks Telegram for updates with long polls.
	ModePolling = "polling"
	// ModeWebhook has Telegram post updates to WebhookURL.
	ModeWebhook = "webhook"
)

// WebhookPath is where the adapter receives updates in webhook mode.
const WebhookPath = "/telegram/webhook"

// DefaultAPIEndpoint is the public Bot API server.
const DefaultAPIEndpoint = "https://api.telegram.org"

// Telegram's limits on what one message carries, in UTF-16 code units.
const (
	textLimit    = 4096
	captionLimit = 1024
)

// standbyError is the health of a replica that does not poll.
const standbyError = "standby: another replica polls"

// tokenPattern is the shape of a bot token: the bot's id, a colon and a
// secret. It keeps a token from breaking the URLs it is put in.
var tokenPattern = regexp.MustCompile(`^[0-9]{1,20}:[A-Za-z0-9_-]+$`)

// Config configures the adapter.
type Config struct {
	// Token is the bot's token from @BotFather. It is never logged.
	Token string
	// APIEndpoint is the Bot API server's base URL: the public one (the
	// default) or a self-hosted telegram-bot-api server.
	APIEndpoint string
	// Mode is ModePolling (the default) or ModeWebhook.
	Mode string
	// WebhookURL is the public URL Telegram posts updates to, ending in
	// WebhookPath. Webhook mode only.
	WebhookURL string
	// WebhookSecret is the secret Telegram sends with every update.
	// Webhook mode only, and then required.
	WebhookSecret string
	// DB holds the polling lease. Required in polling mode; on SQLite the
	// lease is held trivially, since one process owns the file.
	DB *store.DB
	// AgentID is the agent the bot belongs to; it keys the lease.
	AgentID string
	// ReplicaID names this process as the lease's holder; default a fresh
	// store.NewReplicaID.
	ReplicaID string
	// HTTPClient makes every request; default a client with a time-out of
	// PollTimeout plus 30 s. A time-out of its own must exceed PollTimeout.
	HTTPClient *http.Client
	// PollTimeout is how long one long poll may wait for updates; default
	// 50 s. It is sent in whole seconds.
	PollTimeout time.Duration
	// LeaseRenew is how often the poller renews its lease and a standby
	// replica tries to take it; default 10 s.
	LeaseRenew time.Duration
	// LeaseExpiry is how long a lease lasts without renewal, and so how
	// soon a dead poller is replaced; default 30 s.
	LeaseExpiry time.Duration
	// Clock stamps Health.LastMessageAt; default the system clock.
	Clock clock.Clock
	// Logger receives the adapter's logs; default slog.Default.
	Logger *slog.Logger
}

// Adapter is the Telegram channel. Create it with New; it is safe for
// concurrent use.
type Adapter struct {
	cfg      Config
	endpoint string // the library's URL format: base + "/bot%s/%s"
	log      *slog.Logger
	pace     *pacer

	// sink is set by Run once the bot is known, for the webhook handler.
	sink core.SinkHolder
	// self is the bot's own user, from getMe.
	self atomic.Pointer[tgbotapi.User]

	mu     sync.Mutex
	health health
}

// health is the adapter's state behind Health: the receiving side, and the
// last send failure that no successful send has followed.
type health struct {
	connected bool
	lastMsgAt time.Time
	recvErr   string
	sendErr   string
}

// New checks cfg, fills in its defaults and returns the adapter. It makes
// no request: Run learns who the bot is.
func New(cfg Config) (*Adapter, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}

	if err := cfg.validate(); err != nil {
		return nil, err
	}

	return &Adapter{
		cfg:      cfg,
		endpoint: cfg.APIEndpoint + "/bot%s/%s",
		log:      cfg.Logger.With("component", "telegram"),
		pace:     newPacer(),
	}, nil
}

func (c *Config) setDefaults() error {
	c.APIEndpoint = strings.TrimRight(c.APIEndpoint, "/")
	if c.APIEndpoint == "" {
		c.APIEndpoint = DefaultAPIEndpoint
	}

	if c.Mode == "" {
		c.Mode = ModePolling
	}

	if c.ReplicaID == "" {
		c.ReplicaID = store.NewReplicaID()
	}

	if c.PollTimeout < 0 {
		return errors.New("new telegram adapter: poll timeout must not be negative")
	}

	if c.PollTimeout == 0 {
		c.PollTimeout = 50 * time.Second
	}

	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{Timeout: c.PollTimeout + 30*time.Second}
	}

	if c.LeaseRenew <= 0 {
		c.LeaseRenew = 10 * time.Second
	}

	if c.LeaseExpiry <= 0 {
		c.LeaseExpiry = 30 * time.Second
	}

	if c.Clock == nil {
		c.Clock = clock.System{}
	}

	if c.Logger == nil {
		c.Logger = slog.Default()
	}

	return nil
}

// validate checks the filled-in config; its error names the field.
func (c *Config) validate() error {
	fail := func(field, rule string) error {
		return fmt.Errorf("new telegram adapter: %s %s", field, rule)
	}

	u, err := url.Parse(c.APIEndpoint)

	switch {
	case !tokenPattern.MatchString(c.Token):
		return fail("token", "must look like 123456789:AAE... as @BotFather gives it")
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		return fail("api endpoint", fmt.Sprintf("must be an absolute http or https URL, got %q",
			c.APIEndpoint))
	case c.Mode != ModePolling && c.Mode != ModeWebhook:
		return fail("mode", fmt.Sprintf("must be %q or %q, got %q", ModePolling, ModeWebhook,
			c.Mode))
	case c.HTTPClient.Timeout != 0 && c.HTTPClient.Timeout <= c.PollTimeout:
		return fail("http client", "time-out must exceed the poll timeout")
	case c.LeaseRenew >= c.LeaseExpiry:
		return fail("lease renew", "must be shorter than the lease expiry")
	case c.Mode == ModePolling && c.DB == nil:
		return fail("db", "is required in polling mode (it holds the polling lease)")
	case c.Mode == ModePolling && c.AgentID == "":
		return fail("agent id", "is required in polling mode (it keys the polling lease)")
	case c.Mode == ModeWebhook:
		return c.validateWebhook()
	}

	return nil
}

func (c *Config) validateWebhook() error {
	w, err := url.Parse(c.WebhookURL)

	switch {
	case err != nil || (w.Scheme != "http" && w.Scheme != "https") || w.Host == "" ||
		!strings.HasSuffix(w.Path, WebhookPath):
		return fmt.Errorf("new telegram adapter: webhook url must be an absolute URL "+
			"ending in %s, got %q", WebhookPath, c.WebhookURL)
	case c.WebhookSecret == "":
		return errors.New("new telegram adapter: webhook secret is required in webhook mode")
	}

	return nil
}

// Channel returns core.ChannelTelegram.
func (a *Adapter) Channel() core.Channel { return core.ChannelTelegram }

// Run learns who the bot is, then receives updates until ctx ends: by long
// polling while this replica holds the bot's lease, or by webhook. It
// retries every failure itself and returns nil when ctx ends.
func (a *Adapter) Run(ctx context.Context, sink core.Sink) error {
	defer a.setHealth(func(h *health) { h.connected = false })

	self, ok := a.identify(ctx)
	if !ok {
		return nil
	}

	a.self.Store(&self)
	a.sink.Set(sink)
	defer a.sink.Clear()

	a.log.Info("bot identified", "bot_id", self.ID, "bot_username", self.UserName,
		"mode", a.cfg.Mode)

	if a.cfg.Mode == ModeWebhook {
		a.runWebhook(ctx)
	} else {
		a.runPolling(ctx, sink, self.ID)
	}

	return nil
}

// identify asks getMe until it answers or ctx ends.
func (a *Adapter) identify(ctx context.Context) (tgbotapi.User, bool) {
	s := newStreak(a.log, "getMe")

	for attempt := 1; ; attempt++ {
		self, err := a.api(ctx).GetMe()
		if err == nil {
			s.ok()
			return self, true
		}

		if ctx.Err() != nil {
			return tgbotapi.User{}, false
		}

		wait := retryWait(err, attempt)
		a.receiveFailed(err)
		s.fail(err, wait)

		if !sleep(ctx, wait) {
			return tgbotapi.User{}, false
		}
	}
}

// Health reports whether this replica receives the bot's updates, when
// the last one came, and the last failure.
func (a *Adapter) Health() core.Health {
	a.mu.Lock()
	defer a.mu.Unlock()

	h := core.Health{
		Connected:     a.health.connected,
		LastMessageAt: a.health.lastMsgAt,
		LastError:     a.health.recvErr,
	}

	if h.LastError == "" {
		h.LastError = a.health.sendErr
	}

	return h
}

// TextLimit is Telegram's 4096 UTF-16 code units.
func (a *Adapter) TextLimit() int { return textLimit }

// CountText counts UTF-16 code units, as Telegram does.
func (a *Adapter) CountText(text string) int { return outbox.CountUTF16(text) }

// RepliesInThreads is true: an answer goes to the forum topic of its
// question, and each topic is a conversation of its own.
func (a *Adapter) RepliesInThreads() bool { return true }

func (a *Adapter) setHealth(fn func(*health)) {
	a.mu.Lock()
	defer a.mu.Unlock()

	fn(&a.health)
}

// receiving marks this replica as the bot's receiver, with no error.
func (a *Adapter) receiving() {
	a.setHealth(func(h *health) { h.connected, h.recvErr = true, "" })
}

// receiveFailed shows a failure of the receiving side.
func (a *Adapter) receiveFailed(err error) {
	a.setHealth(func(h *health) { h.connected, h.recvErr = false, err.Error() })
}

// standby shows that another replica receives the bot's updates.
func (a *Adapter) standby() {
	a.setHealth(func(h *health) { h.connected, h.recvErr = false, standbyError })
}

// api returns the library's client for calls that end when ctx does. The
// library takes no context, so each call gets a client of its own whose
// HTTP requests carry ctx.
func (a *Adapter) api(ctx context.Context) *tgbotapi.BotAPI {
	bot := &tgbotapi.BotAPI{
		Token:  a.cfg.Token,
		Client: ctxClient{ctx: ctx, client: a.cfg.HTTPClient, token: a.cfg.Token},
	}
	bot.SetAPIEndpoint(a.endpoint)

	return bot
}

// ctxClient is the library's HTTP client: it binds every request to ctx
// and keeps the bot token, which is part of every URL, out of errors.
type ctxClient struct {
	ctx    context.Context
	client *http.Client
	token  string
}

// Do sends req with the client's context.
func (c ctxClient) Do(req *http.Request) (*http.Response, error) {
	resp, err := c.client.Do(req.WithContext(c.ctx))
	if err != nil {
		return nil, redact(err, c.token)
	}

	return resp, nil
}

// redact removes the bot token from err's text. A *url.Error keeps its
// cause, so errors.Is and time-out checks still work.
func redact(err error, token string) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return &url.Error{Op: ue.Op, URL: strings.ReplaceAll(ue.URL, token, "<token>"),
			Err: ue.Err}
	}

	if strings.Contains(err.Error(), token) {
		return errors.New(strings.ReplaceAll(err.Error(), token, "<token>"))
	}

	return err
}

// sleep waits d or until ctx ends; it reports whether ctx is still live.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()

	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

package config

import (
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"net"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/switchboardhq/switchboard/core/budget"
)

// FieldError is a configuration value that breaks a rule. Key is the dotted
// key ("http.addr") and Rule says what is wrong, with the value unless the
// value is a secret.
type FieldError struct {
	Key  string
	Rule string
}

// Error returns "config: <key>: <rule>".
func (e *FieldError) Error() string {
	return "config: " + e.Key + ": " + e.Rule
}

// ownerChannels are the channels an access.owners entry may name.
var ownerChannels = []string{"web", "telegram", "discord", "slack", "whatsapp", "webhook"}

// agentIDPattern is what agent.id must match.
var agentIDPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)

// Validate checks every key and returns the first problem as a *FieldError,
// or nil when the configuration is usable. Keys are checked in the order
// they appear in Config.
func (c Config) Validate() error {
	checks := []func() error{
		c.Agent.validate,
		c.AI.validate,
		c.Budget.validate,
		c.Routing.validate,
		c.Access.validate,
		c.Database.validate,
		c.Data.validate,
		c.HTTP.validate,
		c.Log.validate,
		c.Outbox.validate,
		c.Webhook.validate,
		c.Secrets.validate,
		c.Skills.validate,
		c.Auth.validate,
		c.Deployment.validate,
		c.Telegram.validate,
	}

	for _, check := range checks {
		if err := check(); err != nil {
			return err
		}
	}

	return nil
}

// validate checks the agent section.
func (a Agent) validate() error {
	if !agentIDPattern.MatchString(a.ID) {
		return ruleError("agent.id", "must match %s, got %q", agentIDPattern, a.ID)
	}

	if strings.TrimSpace(a.Name) == "" {
		return ruleError("agent.name", "must not be empty")
	}
	if n := utf8.RuneCountInString(a.Name); n > 64 {
		return ruleError("agent.name", "must be at most 64 characters, got %d: %q", n, a.Name)
	}

	if err := inRange("agent.max_parallel", a.MaxParallel, 1, 1024); err != nil {
		return err
	}

	if err := inRange("agent.max_steps", a.MaxSteps, 1, 64); err != nil {
		return err
	}

	if _, err := time.LoadLocation(a.TimeZone); err != nil || a.TimeZone == "" {
		return ruleError("agent.time_zone", "must be an IANA time zone such as "+
			"Europe/Berlin, got %q", a.TimeZone)
	}

	return oneOf("agent.responder", a.Responder, "agent", "echo")
}

// validate checks the ai section.
func (a AI) validate() error {
	if err := oneOf("ai.provider", a.Provider, "", "openai", "anthropic"); err != nil {
		return err
	}

	if a.Provider != "" && strings.TrimSpace(a.Model) == "" {
		return ruleError("ai.model", "is required when ai.provider is set")
	}

	if a.BaseURL != "" {
		u, err := url.Parse(a.BaseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return ruleError("ai.base_url", "must be an absolute http or https URL")
		}
	}

	if _, err := budget.ParsePrices(a.Prices); err != nil {
		return ruleError("ai.prices", "%v", err)
	}

	return inRange("ai.context_window", a.ContextWindow, 8_192, 10_000_000)
}

// validate checks the budget section.
func (b Budget) validate() error {
	if b.MessagesLimit < 0 {
		return ruleError("budget.messages_limit", "must be 0 (no limit) or more, got %d",
			b.MessagesLimit)
	}

	if b.CostLimit < 0 || math.IsNaN(b.CostLimit) || math.IsInf(b.CostLimit, 0) {
		return ruleError("budget.cost_limit", "must be 0 (no limit) or a number of dollars, "+
			"got %v", b.CostLimit)
	}

	return inRange("budget.step_down_percent", b.StepDownPercent, 50, 100)
}

// validate checks the routing section.
func (r Routing) validate() error {
	if err := inRange("routing.cheap_below", r.CheapBelow, 0, 100); err != nil {
		return err
	}

	if err := inRange("routing.premium_from", r.PremiumFrom, 1, 101); err != nil {
		return err
	}

	if r.PremiumFrom < r.CheapBelow {
		return ruleError("routing.premium_from", "must be at least routing.cheap_below (%d), "+
			"got %d", r.CheapBelow, r.PremiumFrom)
	}

	return nil
}

// validate checks the access section; user ids may contain further colons.
func (a Access) validate() error {
	for i, entry := range a.Owners {
		channel, userID, ok := strings.Cut(entry, ":")
		if !ok {
			return ruleError("access.owners",
				"entry %d must be channel:user_id, got %q", i, entry)
		}

		if !slices.Contains(ownerChannels, channel) {
			return ruleError("access.owners", "entry %d: channel must be one of %s, got %q",
				i, strings.Join(ownerChannels, ", "), entry)
		}

		if userID == "" {
			return ruleError("access.owners", "entry %d: user id is empty in %q", i, entry)
		}
	}

	return oneOf("access.group_reply", a.GroupReply, "mention", "all")
}

// validate checks the database section.
func (d Database) validate() error {
	if err := validateDatabaseURL(d.URL); err != nil {
		return err
	}

	// PostgreSQL pins one connection for the replica's presence and one for
	// the migration lock while migrating, so fewer than 4 leave no room.
	if err := inRange("database.max_open_conns", d.MaxOpenConns, 4, 1000); err != nil {
		return err
	}

	return oneOf("database.sqlite_synchronous", d.SQLiteSynchronous, "normal", "full")
}

// validateDatabaseURL checks database.url. A PostgreSQL URL may carry a
// password, so it is only ever shown redacted.
func validateDatabaseURL(raw string) error {
	const key = "database.url"

	switch {
	case raw == "":
		return nil

	case strings.HasPrefix(raw, "sqlite:"):
		if strings.TrimPrefix(raw, "sqlite:") == "" {
			return ruleError(key, "sqlite: must be followed by a file path")
		}
		return nil

	case strings.HasPrefix(raw, "postgres://"), strings.HasPrefix(raw, "postgresql://"):
		if _, err := url.Parse(raw); err != nil {
			return ruleError(key, "is not a valid URL: %v", urlErrorCause(err))
		}
		return nil
	}

	return ruleError(key, `must be empty, "sqlite:PATH" or "postgres://...", got %q`,
		redactURL(raw))
}

// validate checks the data section.
func (d Data) validate() error {
	if d.Dir == "" {
		return ruleError("data.dir", "must not be empty")
	}

	return nil
}

// validate checks the http section.
func (h HTTP) validate() error {
	_, port, err := net.SplitHostPort(h.Addr)
	if err != nil {
		return ruleError("http.addr", "must be host:port, got %q", h.Addr)
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return ruleError("http.addr", "port must be a number from 0 to 65535, got %q", h.Addr)
	}

	if h.ShutdownTimeout <= 0 {
		return ruleError("http.shutdown_timeout", "must be positive, got %s", h.ShutdownTimeout)
	}

	return nil
}

// validate checks the log section.
func (l Log) validate() error {
	if err := oneOf("log.level", l.Level, "debug", "info", "warn", "error"); err != nil {
		return err
	}

	return oneOf("log.format", l.Format, "auto", "text", "json")
}

// validate checks the outbox section.
func (o Outbox) validate() error {
	if err := inRange("outbox.max_attempts", o.MaxAttempts, 1, 100); err != nil {
		return err
	}

	if o.MaxBackoff < time.Second {
		return ruleError("outbox.max_backoff", "must be at least 1s, got %s", o.MaxBackoff)
	}

	return nil
}

// validate checks the webhook channel. The secret is never shown.
func (w Webhook) validate() error {
	if w.DeliverURL == "" {
		return nil
	}

	u, err := url.Parse(w.DeliverURL)
	if err != nil {
		return ruleError("webhook.deliver_url", "is not a valid URL: %v", urlErrorCause(err))
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return ruleError("webhook.deliver_url",
			"must be an absolute http or https URL, got %q", u.Redacted())
	}

	if utf8.RuneCountInString(w.Secret) < 16 {
		return ruleError("webhook.secret",
			"must be at least 16 characters when webhook.deliver_url is set")
	}

	return nil
}

// ruleError builds a *FieldError for key.
func ruleError(key, format string, args ...any) error {
	return &FieldError{Key: key, Rule: fmt.Sprintf(format, args...)}
}

// inRange checks that v lies in [lo, hi].
func inRange(key string, v, lo, hi int) error {
	if v < lo || v > hi {
		return ruleError(key, "must be from %d to %d, got %d", lo, hi, v)
	}

	return nil
}

// oneOf checks that v is one of allowed.
func oneOf(key, v string, allowed ...string) error {
	if slices.Contains(allowed, v) {
		return nil
	}

	switch len(allowed) {
	case 1:
		return ruleError(key, "must be %s, got %q", allowed[0], v)
	case 2:
		return ruleError(key, "must be %s or %s, got %q", allowed[0], allowed[1], v)
	}

	return ruleError(key, "must be one of %s, got %q", strings.Join(allowed, ", "), v)
}

// urlErrorCause drops the URL that *url.Error repeats, since it may hold a
// password.
func urlErrorCause(err error) error {
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		return urlErr.Err
	}

	return err
}

// redactURL hides the password of raw when it parses as a URL, and the whole
// value when it does not but could still hold one.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		if strings.Contains(raw, "@") {
			return "(unparseable URL, not shown)"
		}
		return raw
	}

	return u.Redacted()
}

// validate checks the secrets section without showing the key.
func (s Secrets) validate() error {
	if s.Key == "" {
		return nil
	}

	raw, err := base64.StdEncoding.DecodeString(s.Key)
	if err != nil || len(raw) != 32 {
		return ruleError("secrets.key", "must be base64 of 32 bytes (openssl rand -base64 32)")
	}

	return nil
}

// validate checks the skills section.
func (s Skills) validate() error {
	u, err := url.Parse(s.WeatherURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return ruleError("skills.weather_url", "must be an absolute http or https URL, got %q",
			s.WeatherURL)
	}

	return nil
}

// validate checks the auth section. The JWT secret is never shown.
func (a Auth) validate() error {
	s := a.Supabase

	if s.JWTSecret != "" && utf8.RuneCountInString(s.JWTSecret) < 32 {
		return ruleError("auth.supabase.jwt_secret", "must be empty or at least 32 characters "+
			"(the project's JWT secret from Supabase's API settings)")
	}

	if err := validateJWKSURL(s.JWKSURL); err != nil {
		return err
	}

	if strings.TrimSpace(s.Audience) == "" {
		return ruleError("auth.supabase.audience", "must not be empty")
	}

	if s.Issuer != strings.TrimSpace(s.Issuer) {
		return ruleError("auth.supabase.issuer", "must not start or end with spaces, got %q",
			s.Issuer)
	}

	if a.LoginTTL < 5*time.Minute || a.LoginTTL > 8760*time.Hour {
		return ruleError("auth.login_ttl", "must be from 5m to 8760h, got %s", a.LoginTTL)
	}

	return nil
}

// validateJWKSURL checks auth.supabase.jwks_url: empty, an http or https
// URL, "file:" followed by an absolute path, or an absolute path.
func validateJWKSURL(raw string) error {
	const key = "auth.supabase.jwks_url"

	if raw == "" || filepath.IsAbs(raw) {
		return nil
	}

	if path, ok := strings.CutPrefix(raw, "file:"); ok {
		// "file://host/path" names a host, which a local file cannot have.
		hasHost := strings.HasPrefix(path, "//") && !strings.HasPrefix(path, "///")
		if !filepath.IsAbs(path) || hasHost {
			return ruleError(key, "file: must be followed by an absolute path such as "+
				"file:/etc/switchboard/jwks.json, got %q", raw)
		}
		return nil
	}

	u, err := url.Parse(raw)
	if err != nil {
		return ruleError(key, "is not a valid URL: %v", urlErrorCause(err))
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return ruleError(key, "must be an http or https URL, file:/path or an absolute path, "+
			"got %q", u.Redacted())
	}

	return nil
}

// validate checks the deployment section.
func (d Deployment) validate() error {
	if err := oneOf("deployment.tier", d.Tier, "starter", "standard", "performance",
		"enterprise"); err != nil {
		return err
	}

	if err := oneOf("deployment.region", d.Region, "", "us-east", "us-west", "eu-central",
		"eu-north", "ap-south"); err != nil {
		return err
	}

	return oneOf("deployment.messenger", d.Messenger, "web", "telegram", "discord", "slack",
		"whatsapp")
}

// telegramToken is the shape of a bot token: the bot's id, a colon and a
// secret.
var telegramToken = regexp.MustCompile(`^[0-9]{1,20}:[A-Za-z0-9_-]{20,}$`)

// validate checks the telegram section.
func (t Telegram) validate() error {
	if t.Token != "" && !telegramToken.MatchString(t.Token) {
		return ruleError("telegram.token", "must look like 123456789:AAE... as @BotFather "+
			"gives it")
	}

	u, err := url.Parse(t.APIEndpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return ruleError("telegram.api_endpoint", "must be an absolute http or https URL, "+
			"got %q", t.APIEndpoint)
	}

	if err := oneOf("telegram.mode", t.Mode, "polling", "webhook"); err != nil {
		return err
	}

	if t.Mode != "webhook" || t.Token == "" {
		return nil
	}

	w, err := url.Parse(t.WebhookURL)
	if err != nil || w.Scheme != "https" || w.Host == "" {
		return ruleError("telegram.webhook_url", "must be the public https URL of "+
			"/telegram/webhook when telegram.mode is webhook, got %q", t.WebhookURL)
	}

	if n := len(t.WebhookSecret); n < 16 || n > 256 ||
		strings.Trim(t.WebhookSecret, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"+
			"0123456789_-") != "" {
		return ruleError("telegram.webhook_secret", "must be 16 to 256 of A-Z, a-z, 0-9, _ "+
			"and - when telegram.mode is webhook")
	}

	return nil
}

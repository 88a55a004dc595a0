// Package config holds the gateway's configuration: the YAML file, the
// BOT_<SECTION>_<KEY> environment overrides, the defaults that let the
// gateway start with no file at all, and the validation that names the key at
// fault.
package config

import (
	"log/slog"
	"path/filepath"
	"strings"
	"time"
)

// Config is the whole configuration of one gateway process. Every field has
// a yaml tag of the form section.key; the environment variable that
// overrides it is BOT_<SECTION>_<KEY> in upper case.
type Config struct {
	Agent      Agent      `yaml:"agent"`
	AI         AI         `yaml:"ai"`
	Budget     Budget     `yaml:"budget"`
	Routing    Routing    `yaml:"routing"`
	Access     Access     `yaml:"access"`
	Database   Database   `yaml:"database"`
	Data       Data       `yaml:"data"`
	HTTP       HTTP       `yaml:"http"`
	Log        Log        `yaml:"log"`
	Outbox     Outbox     `yaml:"outbox"`
	Secrets    Secrets    `yaml:"secrets"`
	Skills     Skills     `yaml:"skills"`
	Webhook    Webhook    `yaml:"webhook"`
	Auth       Auth       `yaml:"auth"`
	Deployment Deployment `yaml:"deployment"`
	Telegram   Telegram   `yaml:"telegram"`
}

// Agent configures the agent that answers messages.
type Agent struct {
	// ID names the agent; every stored row carries it. Default "default".
	ID string `yaml:"id"`
	// Name is how the agent introduces itself in replies. Default "Switchboard".
	Name string `yaml:"name"`
	// MaxParallel bounds how many sessions are handled at once. Default 16.
	MaxParallel int `yaml:"max_parallel"`
	// Responder chooses what answers free text: "agent" (the model of the
	// ai section) or "echo" (the message itself, for trials and tests).
	Responder string `yaml:"responder"`
	// SystemPrompt starts every model call.
	SystemPrompt string `yaml:"system_prompt"`
	// MaxSteps bounds the model calls for one message. Default 8.
	MaxSteps int `yaml:"max_steps"`
	// TimeZone is the IANA zone the agent reads and shows times in.
	TimeZone string `yaml:"time_zone"`
}

// Skills configures the built-in skills.
type Skills struct {
	// WeatherURL is the OpenWeatherMap-compatible endpoint of the weather
	// skill, whose api_key credential is set per agent.
	WeatherURL string `yaml:"weather_url"`
}

// Secrets configures the encryption of stored credentials.
type Secrets struct {
	// Key is base64 of 32 random bytes. When empty, the key is read from
	// data.dir/secret.key, or generated there on first start. Replicas on
	// one PostgreSQL need the same key, so set it for them.
	Key string `yaml:"key"`
}

// AI configures the model provider.
type AI struct {
	// Provider is "openai" (any OpenAI-compatible server), "anthropic", or
	// empty for none: free text then gets a reply that says how to set one.
	Provider string `yaml:"provider"`
	// BaseURL points the provider at another server (Ollama, vLLM, ...).
	BaseURL string `yaml:"base_url"`
	// APIKey authenticates with the provider; never logged.
	APIKey string `yaml:"api_key"`
	// Model is the model to call.
	Model string `yaml:"model"`
	// FallbackModels are tried in order when Model fails.
	FallbackModels []string `yaml:"fallback_models"`
	// ContextWindow is the models' context size in tokens.
	ContextWindow int `yaml:"context_window"`
	// VisionModels lists the models that accept images.
	VisionModels []string `yaml:"vision_models"`
	// Prices lists "model=input/output", in US dollars per million tokens,
	// for the cost of each call; a model without a price costs nothing.
	Prices []string `yaml:"prices"`
}

// Budget limits what the agent spends per billing period, the calendar
// month in agent.time_zone.
type Budget struct {
	// MessagesLimit bounds the messages answered with a model; 0 is none.
	MessagesLimit int `yaml:"messages_limit"`
	// CostLimit bounds the cost in US dollars, from ai.prices; 0 is none.
	CostLimit float64 `yaml:"cost_limit"`
	// StepDownPercent is the share of a limit after which routing picks
	// the next cheaper tier. Default 80.
	StepDownPercent int `yaml:"step_down_percent"`
}

// Routing picks the model for each message by how complex it looks: the
// cheap model, ai.model (standard) or the premium model.
type Routing struct {
	// CheapModel answers simple messages; empty means ai.model.
	CheapModel string `yaml:"cheap_model"`
	// PremiumModel answers complex messages; empty means ai.model.
	PremiumModel string `yaml:"premium_model"`
	// CheapBelow is the complexity score (0 to 100) below which the cheap
	// model answers. Default 30.
	CheapBelow int `yaml:"cheap_below"`
	// PremiumFrom is the score from which the premium model answers.
	// Default 60.
	PremiumFrom int `yaml:"premium_from"`
}

// Access configures who may talk to the agent.
type Access struct {
	// Owners are always allowed, as "channel:user_id" entries.
	Owners []string `yaml:"owners"`
	// GroupReply is "mention" (answer in groups only when mentioned or
	// replied to) or "all".
	GroupReply string `yaml:"group_reply"`
}

// Database selects and tunes the storage.
type Database struct {
	// URL is empty for SQLite at data.dir/bot.db, "sqlite:PATH" for another
	// SQLite file, or "postgres://..." for PostgreSQL.
	URL string `yaml:"url"`
	// MaxOpenConns bounds the PostgreSQL pool; SQLite always uses one writer.
	MaxOpenConns int `yaml:"max_open_conns"`
	// SQLiteSynchronous is "normal" (survives a killed process) or "full"
	// (also survives power loss, about 20 times slower per commit).
	SQLiteSynchronous string `yaml:"sqlite_synchronous"`
}

// Data names the directory for local state.
type Data struct {
	// Dir holds the SQLite file and the lock that keeps a second copy out.
	Dir string `yaml:"dir"`
}

// HTTP configures the listener for health, metrics, the API and webhooks.
type HTTP struct {
	// Addr is host:port. Default 127.0.0.1:8080.
	Addr string `yaml:"addr"`
	// ShutdownTimeout bounds how long a stop waits for requests in flight.
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
}

// Log configures logging.
type Log struct {
	// Level is debug, info, warn or error.
	Level string `yaml:"level"`
	// Format is auto (text on a terminal, JSON otherwise), text or json.
	Format string `yaml:"format"`
}

// Outbox configures delivery of answers.
type Outbox struct {
	// MaxAttempts bounds how often one outgoing message is tried.
	MaxAttempts int `yaml:"max_attempts"`
	// MaxBackoff caps the wait between two attempts.
	MaxBackoff time.Duration `yaml:"max_backoff"`
}

// Webhook configures the generic HTTP channel: messages come in as POSTs to
// /webhook/messages and answers go out as POSTs to DeliverURL.
type Webhook struct {
	// DeliverURL receives answers; the channel is off while it is empty.
	DeliverURL string `yaml:"deliver_url"`
	// Secret is the bearer token both directions must carry.
	Secret string `yaml:"secret"`
}

// Telegram configures the Telegram adapter; it is off while Token is
// empty.
type Telegram struct {
	// Token is the bot's token from @BotFather; never logged.
	Token string `yaml:"token"`
	// APIEndpoint is the Bot API server: the public one, or a self-hosted
	// telegram-bot-api server.
	APIEndpoint string `yaml:"api_endpoint"`
	// Mode is "polling" (the gateway asks for updates) or "webhook"
	// (Telegram posts them to WebhookURL).
	Mode string `yaml:"mode"`
	// WebhookURL is the public https URL of this gateway's
	// /telegram/webhook, for webhook mode.
	WebhookURL string `yaml:"webhook_url"`
	// WebhookSecret is the secret Telegram sends with every update in
	// webhook mode.
	WebhookSecret string `yaml:"webhook_secret"`
}

// Deployment says how and where the gateway runs, as the status route
// reports it. The tier also sets agent.max_parallel and
// budget.messages_limit when it is changed through the API's settings.
type Deployment struct {
	// Tier is starter, standard, performance or enterprise.
	Tier string `yaml:"tier"`
	// Region is where the deployment runs: us-east, us-west, eu-central,
	// eu-north, ap-south, or empty when it does not say.
	Region string `yaml:"region"`
	// Messenger is the messenger the agent is mainly used in: web,
	// telegram, discord, slack or whatsapp.
	Messenger string `yaml:"messenger"`
}

// Auth configures how callers of the REST API under /api prove who they
// are: API tokens (always on), a login cookie made by POST /api/auth/login,
// and Supabase access tokens when the supabase keys are set.
type Auth struct {
	// Supabase accepts Supabase access tokens; off while both JWTSecret
	// and JWKSURL are empty.
	Supabase Supabase `yaml:"supabase"`
	// CookieSecure marks the login cookie Secure, so that browsers send it
	// over HTTPS only. Default false, for the plain HTTP listener on
	// 127.0.0.1; set it true behind HTTPS.
	CookieSecure bool `yaml:"cookie_secure"`
	// LoginTTL is how long a login cookie stays valid. Default 720h.
	LoginTTL time.Duration `yaml:"login_ttl"`
}

// Supabase says which Supabase access tokens (JWTs) are accepted.
type Supabase struct {
	// JWTSecret verifies HS256 tokens; never logged nor shown in errors.
	JWTSecret string `yaml:"jwt_secret"`
	// JWKSURL verifies RS256 and ES256 tokens with the keys of a JWKS: an
	// http(s) URL, fetched and cached, or a local file as "file:/path" or
	// an absolute path.
	JWKSURL string `yaml:"jwks_url"`
	// Audience must be among a token's aud. Default "authenticated".
	Audience string `yaml:"audience"`
	// Issuer must equal a token's iss when set.
	Issuer string `yaml:"issuer"`
}

// Owner is one parsed access.owners entry.
type Owner struct {
	// Channel is the messenger: web, telegram, discord, slack, whatsapp or
	// webhook.
	Channel string
	// UserID is the user's id on that channel, kept as written; it may
	// contain colons.
	UserID string
}

// ParsedOwners splits every access.owners entry at its first colon. It
// assumes a validated configuration and skips entries without a colon.
func (a Access) ParsedOwners() []Owner {
	owners := make([]Owner, 0, len(a.Owners))
	for _, entry := range a.Owners {
		channel, userID, ok := strings.Cut(entry, ":")
		if ok {
			owners = append(owners, Owner{Channel: channel, UserID: userID})
		}
	}

	return owners
}

// IsPostgres reports whether the URL selects PostgreSQL rather than SQLite.
func (d Database) IsPostgres() bool {
	return strings.HasPrefix(d.URL, "postgres://") || strings.HasPrefix(d.URL, "postgresql://")
}

// SQLitePath returns the SQLite file to open: the path after "sqlite:", or
// bot.db in data.dir when database.url is empty. It returns "" when the
// database is PostgreSQL.
func (c Config) SQLitePath() string {
	switch {
	case c.Database.URL == "":
		return filepath.Join(c.Data.Dir, "bot.db")
	case strings.HasPrefix(c.Database.URL, "sqlite:"):
		return strings.TrimPrefix(c.Database.URL, "sqlite:")
	}

	return ""
}

// SlogLevel returns the log.level as a slog.Level; anything unknown counts as
// info.
func (l Log) SlogLevel() slog.Level {
	switch l.Level {
	case "debug":
		return slog.LevelDebug
	case "warn":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	}

	return slog.LevelInfo
}

package config

import (
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// writeConfig writes content to a config file in a fresh directory and
// returns its path.
func writeConfig(t *testing.T, content string) string {
	t.Helper()

	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatalf("write config: %v", err)
	}

	return path
}

func TestLoadDefaults(t *testing.T) {
	t.Parallel()

	if err := Default().Validate(); err != nil {
		t.Fatalf("Default().Validate() = %v, want nil", err)
	}

	cfg, err := Load("", nil)
	if err != nil {
		t.Fatalf("Load() error = %v", err)
	}
	if !reflect.DeepEqual(cfg, Default()) {
		t.Errorf("Load() = %+v, want Default() %+v", cfg, Default())
	}
}

func TestLoadEmptyFile(t *testing.T) {
	t.Parallel()

	tests := map[string]string{
		"empty":         "",
		"comments only": "# nothing here\n",
		"null document": "~\n",
		"empty section": "http:\n",
	}

	for name, content := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()

			cfg, err := Load(writeConfig(t, content), nil)
			if err != nil {
				t.Fatalf("Load() error = %v", err)
			}
			if !reflect.DeepEqual(cfg, Default()) {
				t.Errorf("Load() = %+v, want Default()", cfg)
			}
		})
	}
}

func TestLoadFullFile(t *testing.T) {
	t.Parallel()

	const content = `
agent:
  id: support-bot
  name: Helper
  max_parallel: 4
  responder: echo
  system_prompt: Be terse.
  max_steps: 5
  time_zone: Europe/Berlin
ai:
  provider: openai
  base_url: http://127.0.0.1:11434/v1
  api_key: ""
  model: llama3.2
  fallback_models: [qwen2.5]
  context_window: 32768
  vision_models: [llava]
  prices: ["llama3.2=0/0", "gpt-4o=2.50/10"]
budget:
  messages_limit: 500
  cost_limit: 12.5
  step_down_percent: 90
routing:
  cheap_model: llama3.2:1b
  premium_model: qwen2.5:32b
  cheap_below: 20
  premium_from: 70
access:
  owners: ["telegram:42", "slack:T01:U02"]
  group_reply: all
database:
  url: postgres://bot:pw@db.internal:5432/bot?sslmode=disable
  max_open_conns: 20
  sqlite_synchronous: full
data:
  dir: /var/lib/switchboard
http:
  addr: ":9090"
  shutdown_timeout: 30s
log:
  level: debug
  format: json
outbox:
  max_attempts: 3
  max_backoff: 1m30s
webhook:
  deliver_url: https://example.com/hook
  secret: 0123456789abcdef
skills:
  weather_url: http://127.0.0.1:9999/weather
auth:
  supabase:
    jwt_secret: super-secret-jwt-token-with-at-least-32-characters
    jwks_url: https://abc.supabase.co/auth/v1/.well-known/jwks.json
    audience: dashboard
    issuer: https://abc.supabase.co/auth/v1
  cookie_secure: true
  login_ttl: 24h
deployment:
  tier: performance
  region: eu-north
  messenger: telegram
telegram:
  token: "123456789:AAE-very-long-bot-token_x"
  api_endpoint: http://127.0.0.1:8081
  mode: webhook
  webhook_url: https://bot.example.com/telegram/webhook
  webhook_secret: s3cret-s3cret-s3cret
`

	want := Config{
		Agent: Agent{ID: "support-bot", Name: "Helper", MaxParallel: 4, Responder: "echo",
			SystemPrompt: "Be terse.", MaxSteps: 5, TimeZone: "Europe/Berlin"},
		AI: AI{Provider: "openai", BaseURL: "http://127.0.0.1:11434/v1", Model: "llama3.2",
			FallbackModels: []string{"qwen2.5"}, ContextWindow: 32768,
			VisionModels: []string{"llava"}, Prices: []string{"llama3.2=0/0", "gpt-4o=2.50/10"}},
		Budget: Budget{MessagesLimit: 500, CostLimit: 12.5, StepDownPercent: 90},
		Routing: Routing{CheapModel: "llama3.2:1b", PremiumModel: "qwen2.5:32b", CheapBelow: 20,
			PremiumFrom: 70},
		Access: Access{
			Owners:     []string{"telegram:42", "slack:T01:U02"},
			GroupReply: "all",
		},
		Database: Database{
			URL:               "postgres://bot:pw@db.internal:5432/bot?sslmode=disable",
			MaxOpenConns:      20,
			SQLiteSynchronous: "full",
		},
		Data:   Data{Dir: "/var/lib/switchboard"},
		HTTP:   HTTP{Addr: ":9090", ShutdownTimeout: 30 * time.Second},
		Log:    Log{Level: "debug", Format: "json"},
		Outbox: Outbox{MaxAttempts: 3, MaxBackoff: 90 * time.Second},
		Webhook: Webhook{
			DeliverURL: "https://example.com/hook",
			Secret:     "0123456789abcdef",
		},
		Skills: Skills{WeatherURL: "http://127.0.0.1:9999/weather"},
		Auth: Auth{
			Supabase: Supabase{
				JWTSecret: "super-secret-jwt-token-with-at-least-32-characters",
				JWKSURL:   "https://abc.supabase.co/auth/v1/.well-known/jwks.json",
				Audience:  "dashboard",
				Issuer:    "https://abc.supabase.co/auth/v1",
			},
			CookieSecure: true,
			LoginTTL:     24 * time.Hour,
		},
		Deployment: Deployment{Tier: "performance", Region: "eu-north", Messenger: "telegram"},
		Telegram: Telegram{Token: "123456789:AAE-very-long-bot-token_x",
			APIEndpoint: "http://127.0.0.1:8081", Mode: "webhook",
			WebhookURL:    "https://bot.example.com/telegram/webhook",
			WebhookSecret: "s3cret-s3cret-s3cret"},
	}

	cfg, err := Load(writeConfig(t, content), nil)
	if err != nil {
		t.Fatalf("Load() error = %v", err)
	}
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("Load() =\n%+v\nwant\n%+v", cfg, want)
	}
}

func TestLoadPartialFileKeepsDefaults(t *testing.T) {
	t.Parallel()

	cfg, err := Load(writeConfig(t, "http:\n  addr: 0.0.0.0:80\n"), nil)
	if err != nil {
		t.Fatalf("Load() error = %v", err)
	}

	want := Default()
	want.HTTP.Addr = "0.0.0.0:80"
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("Load() = %+v, want %+v", cfg, want)
	}
}

func TestLoadFileErrors(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name    string
		content string
		want    string
	}{
		{
			name:    "unknown nested key",
			content: "http:\n  adress: 127.0.0.1:1\n",
			want:    `config: unknown key "http.adress"`,
		},
		{
			name:    "unknown top-level key",
			content: "agent:\n  id: x\nhtp:\n  addr: x\n",
			want:    `config: unknown key "htp"`,
		},
		{
			name:    "unknown key after known ones",
			content: "log:\n  level: info\n  colour: true\n",
			want:    `config: unknown key "log.colour"`,
		},
		{
			name:    "duplicate key",
			content: "log:\n  level: info\n  level: debug\n",
			want:    `config: duplicate key "log.level"`,
		},
		{
			name:    "section is not a mapping",
			content: "http: 8080\n",
			want:    "config: http: want a mapping",
		},
		{
			name:    "top level is a list",
			content: "- a\n- b\n",
			want:    "config: top level: want a mapping",
		},
		{
			name:    "int is text",
			content: "agent:\n  max_parallel: many\n",
			want:    "config: agent.max_parallel: cannot unmarshal",
		},
		{
			name:    "int is a fraction",
			content: "agent:\n  max_parallel: 1.5\n",
			want:    "config: agent.max_parallel: want a whole number",
		},
		{
			name:    "duration without unit",
			content: "http:\n  shutdown_timeout: 10\n",
			want:    "config: http.shutdown_timeout: cannot unmarshal",
		},
		{
			name:    "list is a string",
			content: "access:\n  owners: telegram:1\n",
			want:    "config: access.owners: cannot unmarshal",
		},
		{
			name:    "two documents",
			content: "log:\n  level: info\n---\nlog:\n  level: debug\n",
			want:    "single YAML document",
		},
		{
			name:    "broken yaml",
			content: "http:\n  addr: [\n",
			want:    "parse config file",
		},
		{
			name:    "value fails validation",
			content: "log:\n  level: verbose\n",
			want:    `config: log.level: must be one of debug, info, warn, error, got "verbose"`,
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			_, err := Load(writeConfig(t, tt.content), nil)
			if err == nil {
				t.Fatalf("Load() error = nil, want %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Load() error = %q, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	t.Parallel()

	path := filepath.Join(t.TempDir(), "absent.yaml")

	_, err := Load(path, nil)
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Load() error = %v, want fs.ErrNotExist", err)
	}
	if !strings.Contains(err.Error(), path) {
		t.Errorf("Load() error = %q, want it to name %s", err, path)
	}
}

func TestLoadEnv(t *testing.T) {
	t.Parallel()

	path := writeConfig(t, "http:\n  addr: 127.0.0.1:1111\nagent:\n  name: FromFile\n")
	environ := []string{
		"HOME=/home/bot",
		"BOT_HTTP_ADDR=0.0.0.0:2222",
		"BOT_AGENT_MAX_PARALLEL=64",
		"BOT_HTTP_SHUTDOWN_TIMEOUT=2m",
		"BOT_ACCESS_OWNERS= telegram:1 ,, web:alice:2,",
		"BOT_DATABASE_URL=sqlite:/tmp/other.db",
		"BOT_DATABASE_SQLITE_SYNCHRONOUS=full",
		"BOT_BUDGET_COST_LIMIT=7.25",
		"BOT_AI_PRICES=gpt-4o-mini=0.15/0.60",
		"BOT_AUTH_SUPABASE_JWT_SECRET=" + strings.Repeat("k", 32),
		"BOT_AUTH_SUPABASE_ISSUER=http://127.0.0.1:54321/auth/v1",
		"BOT_AUTH_COOKIE_SECURE=true",
		"BOT_AUTH_LOGIN_TTL=12h",
		"BOT_TEST_DATABASE_URL=postgres://ignored",
		"BOT_TOKEN=ignored",
	}

	cfg, err := Load(path, environ)
	if err != nil {
		t.Fatalf("Load() error = %v", err)
	}

	want := Default()
	want.Agent.Name = "FromFile"
	want.HTTP.Addr = "0.0.0.0:2222"
	want.Agent.MaxParallel = 64
	want.HTTP.ShutdownTimeout = 2 * time.Minute
	want.Access.Owners = []string{"telegram:1", "web:alice:2"}
	want.Database.URL = "sqlite:/tmp/other.db"
	want.Database.SQLiteSynchronous = "full"
	want.Budget.CostLimit = 7.25
	want.AI.Prices = []string{"gpt-4o-mini=0.15/0.60"}
	want.Auth.Supabase.JWTSecret = strings.Repeat("k", 32)
	want.Auth.Supabase.Issuer = "http://127.0.0.1:54321/auth/v1"
	want.Auth.CookieSecure = true
	want.Auth.LoginTTL = 12 * time.Hour
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("Load() =\n%+v\nwant\n%+v", cfg, want)
	}
}

func TestLoadEnvEmptyList(t *testing.T) {
	t.Parallel()

	path := writeConfig(t, "access:\n  owners: [\"web:a\"]\n")

	cfg, err := Load(path, []string{"BOT_ACCESS_OWNERS= , "})
	if err != nil {
		t.Fatalf("Load() error = %v", err)
	}
	if len(cfg.Access.Owners) != 0 {
		t.Errorf("Access.Owners = %q, want empty", cfg.Access.Owners)
	}
}

func TestLoadEnvErrors(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name string
		env  string
		want []string
	}{
		{
			name: "unknown key in known section",
			env:  "BOT_HTTP_ADR=:1",
			want: []string{"BOT_HTTP_ADR"},
		},
		{
			name: "unknown key in section that prefixes another",
			env:  "BOT_DATA_BASE=x",
			want: []string{"BOT_DATA_BASE"},
		},
		{
			name: "bad int",
			env:  "BOT_AGENT_MAX_PARALLEL=lots",
			want: []string{"BOT_AGENT_MAX_PARALLEL", "agent.max_parallel"},
		},
		{
			name: "bad duration",
			env:  "BOT_OUTBOX_MAX_BACKOFF=5",
			want: []string{"BOT_OUTBOX_MAX_BACKOFF", "outbox.max_backoff"},
		},
		{
			name: "bad bool",
			env:  "BOT_AUTH_COOKIE_SECURE=yes please",
			want: []string{"BOT_AUTH_COOKIE_SECURE", "auth.cookie_secure"},
		},
		{
			name: "unknown nested key",
			env:  "BOT_AUTH_SUPABASE_SECRET=x",
			want: []string{"BOT_AUTH_SUPABASE_SECRET", "section auth"},
		},
		{
			name: "value fails validation",
			env:  "BOT_LOG_FORMAT=xml",
			want: []string{"config: log.format:"},
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			_, err := Load("", []string{tt.env})
			if err == nil {
				t.Fatalf("Load() error = nil, want one naming %q", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Load() error = %q, want it to contain %q", err, w)
				}
			}
		})
	}
}

func TestEnvVarsAreUnique(t *testing.T) {
	t.Parallel()

	cfg := Default()
	seen := make(map[string]string)
	for _, l := range keyFields(reflect.ValueOf(&cfg).Elem(), "") {
		if other, ok := seen[l.envVar]; ok {
			t.Errorf("%s and %s both map to %s", other, l.key, l.envVar)
		}
		seen[l.envVar] = l.key

		if err := setFromEnv(reflect.New(l.value.Type()).Elem(), "1s"); err != nil &&
			strings.Contains(err.Error(), "unsupported type") {
			t.Errorf("%s: %v", l.key, err)
		}
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name    string
		change  func(c *Config)
		wantKey string
		wantIn  string
	}{
		{"agent id upper case", func(c *Config) { c.Agent.ID = "Bot" }, "agent.id", `"Bot"`},
		{"agent id empty", func(c *Config) { c.Agent.ID = "" }, "agent.id", `""`},
		{"agent id starts with dash", func(c *Config) { c.Agent.ID = "-a" }, "agent.id", ""},
		{
			"agent id too long", func(c *Config) { c.Agent.ID = strings.Repeat("a", 65) },
			"agent.id", "",
		},
		{"agent name empty", func(c *Config) { c.Agent.Name = " " }, "agent.name", ""},
		{"unknown tier", func(c *Config) { c.Deployment.Tier = "xl" }, "deployment.tier", "xl"},
		{
			"bad telegram token", func(c *Config) { c.Telegram.Token = "not-a-token" },
			"telegram.token", "BotFather",
		},
		{
			"telegram mode", func(c *Config) { c.Telegram.Mode = "push" },
			"telegram.mode", "push",
		},
		{
			"telegram webhook without url", func(c *Config) {
				c.Telegram.Token, c.Telegram.Mode = "1:abcdefghijklmnopqrstuvwxyz", "webhook"
			},
			"telegram.webhook_url", "https",
		},
		{
			"telegram webhook secret", func(c *Config) {
				c.Telegram.Token, c.Telegram.Mode = "1:abcdefghijklmnopqrstuvwxyz", "webhook"
				c.Telegram.WebhookURL = "https://x.example/telegram/webhook"
				c.Telegram.WebhookSecret = "short"
			},
			"telegram.webhook_secret", "16 to 256",
		},
		{
			"unknown region", func(c *Config) { c.Deployment.Region = "moon" },
			"deployment.region", "moon",
		},
		{
			"unknown messenger", func(c *Config) { c.Deployment.Messenger = "icq" },
			"deployment.messenger", "icq",
		},
		{
			"price without slash", func(c *Config) { c.AI.Prices = []string{"m=1"} },
			"ai.prices", `"m=1"`,
		},
		{
			"negative price", func(c *Config) { c.AI.Prices = []string{"m=-1/2"} },
			"ai.prices", "-1",
		},
		{
			"price twice", func(c *Config) { c.AI.Prices = []string{"m=1/2", "m=1/3"} },
			"ai.prices", "twice",
		},
		{
			"negative messages limit", func(c *Config) { c.Budget.MessagesLimit = -1 },
			"budget.messages_limit", "-1",
		},
		{
			"negative cost limit", func(c *Config) { c.Budget.CostLimit = -0.5 },
			"budget.cost_limit", "-0.5",
		},
		{
			"step down too low", func(c *Config) { c.Budget.StepDownPercent = 10 },
			"budget.step_down_percent", "10",
		},
		{
			"cheap above premium", func(c *Config) { c.Routing.CheapBelow = 80 },
			"routing.premium_from", "80",
		},
		{
			"premium past 101", func(c *Config) { c.Routing.PremiumFrom = 200 },
			"routing.premium_from", "200",
		},
		{
			"agent name too long", func(c *Config) { c.Agent.Name = strings.Repeat("é", 65) },
			"agent.name", "65",
		},
		{
			"max parallel zero", func(c *Config) { c.Agent.MaxParallel = 0 },
			"agent.max_parallel", "0",
		},
		{
			"max parallel too high", func(c *Config) { c.Agent.MaxParallel = 1025 },
			"agent.max_parallel", "1025",
		},
		{"responder", func(c *Config) { c.Agent.Responder = "llm" }, "agent.responder", `"llm"`},
		{
			"owner without colon", func(c *Config) { c.Access.Owners = []string{"alice"} },
			"access.owners", `"alice"`,
		},
		{
			"owner unknown channel", func(c *Config) { c.Access.Owners = []string{"irc:bob"} },
			"access.owners", `"irc:bob"`,
		},
		{
			"owner empty user id",
			func(c *Config) { c.Access.Owners = []string{"web:ok", "telegram:"} },
			"access.owners", "entry 1",
		},
		{
			"group reply", func(c *Config) { c.Access.GroupReply = "never" },
			"access.group_reply", `"never"`,
		},
		{
			"database url mysql", func(c *Config) { c.Database.URL = "mysql://x" },
			"database.url", `"mysql://x"`,
		},
		{
			"database url bare path", func(c *Config) { c.Database.URL = "bot.db" },
			"database.url", `"bot.db"`,
		},
		{
			"database url sqlite no path", func(c *Config) { c.Database.URL = "sqlite:" },
			"database.url", "",
		},
		{
			"database url bad postgres",
			func(c *Config) { c.Database.URL = "postgres://u:pw@host:port/db" },
			"database.url", "invalid port",
		},
		{
			"responder", func(c *Config) { c.Agent.Responder = "oracle" },
			"agent.responder", `"oracle"`,
		},
		{
			"max steps", func(c *Config) { c.Agent.MaxSteps = 0 },
			"agent.max_steps", "0",
		},
		{
			"time zone", func(c *Config) { c.Agent.TimeZone = "Mars/Olympus" },
			"agent.time_zone", `"Mars/Olympus"`,
		},
		{
			"weather url", func(c *Config) { c.Skills.WeatherURL = "weather.example" },
			"skills.weather_url", "http",
		},
		{
			"secrets key", func(c *Config) { c.Secrets.Key = "c2hvcnQ=" },
			"secrets.key", "32 bytes",
		},
		{
			"provider", func(c *Config) { c.AI.Provider = "gemini" },
			"ai.provider", `"gemini"`,
		},
		{
			"provider without model", func(c *Config) { c.AI.Provider = "openai" },
			"ai.model", "required",
		},
		{
			"base url", func(c *Config) { c.AI.BaseURL = "localhost:11434" },
			"ai.base_url", "http",
		},
		{
			"context window", func(c *Config) { c.AI.ContextWindow = 100 },
			"ai.context_window", "100",
		},
		{
			"max open conns too few", func(c *Config) { c.Database.MaxOpenConns = 3 },
			"database.max_open_conns", "3",
		},
		{
			"max open conns too high", func(c *Config) { c.Database.MaxOpenConns = 1001 },
			"database.max_open_conns", "1001",
		},
		{
			"sqlite synchronous", func(c *Config) { c.Database.SQLiteSynchronous = "off" },
			"database.sqlite_synchronous", `"off"`,
		},
		{"data dir", func(c *Config) { c.Data.Dir = "" }, "data.dir", ""},
		{"http addr no port", func(c *Config) { c.HTTP.Addr = "localhost" }, "http.addr", ""},
		{
			"http addr named port", func(c *Config) { c.HTTP.Addr = ":http" },
			"http.addr", `":http"`,
		},
		{"http addr port range", func(c *Config) { c.HTTP.Addr = ":65536" }, "http.addr", ""},
		{"http addr signed port", func(c *Config) { c.HTTP.Addr = ":+80" }, "http.addr", ""},
		{
			"shutdown timeout zero", func(c *Config) { c.HTTP.ShutdownTimeout = 0 },
			"http.shutdown_timeout", "0s",
		},
		{"log level", func(c *Config) { c.Log.Level = "trace" }, "log.level", `"trace"`},
		{"log format", func(c *Config) { c.Log.Format = "xml" }, "log.format", `"xml"`},
		{
			"max attempts zero", func(c *Config) { c.Outbox.MaxAttempts = 0 },
			"outbox.max_attempts", "0",
		},
		{
			"max attempts too high", func(c *Config) { c.Outbox.MaxAttempts = 101 },
			"outbox.max_attempts", "101",
		},
		{
			"max backoff short", func(c *Config) { c.Outbox.MaxBackoff = 500 * time.Millisecond },
			"outbox.max_backoff", "500ms",
		},
		{
			"deliver url relative", func(c *Config) { c.Webhook.DeliverURL = "/hook" },
			"webhook.deliver_url", `"/hook"`,
		},
		{
			"deliver url ftp", func(c *Config) { c.Webhook.DeliverURL = "ftp://example.com/" },
			"webhook.deliver_url", "",
		},
		{
			"deliver url unparseable", func(c *Config) { c.Webhook.DeliverURL = "http://a b/%zz" },
			"webhook.deliver_url", "",
		},
		{
			"secret short",
			func(c *Config) {
				c.Webhook.DeliverURL = "https://example.com/hook"
				c.Webhook.Secret = "tooShort"
			},
			"webhook.secret", "",
		},
		{
			"jwt secret short", func(c *Config) { c.Auth.Supabase.JWTSecret = "short" },
			"auth.supabase.jwt_secret", "32 characters",
		},
		{
			"jwks url relative path",
			func(c *Config) { c.Auth.Supabase.JWKSURL = "keys/jwks.json" },
			"auth.supabase.jwks_url", `"keys/jwks.json"`,
		},
		{
			"jwks url ftp",
			func(c *Config) { c.Auth.Supabase.JWKSURL = "ftp://example.com/jwks.json" },
			"auth.supabase.jwks_url", "http or https",
		},
		{
			"jwks url without host",
			func(c *Config) { c.Auth.Supabase.JWKSURL = "https:///jwks.json" },
			"auth.supabase.jwks_url", "",
		},
		{
			"jwks file relative", func(c *Config) { c.Auth.Supabase.JWKSURL = "file:jwks.json" },
			"auth.supabase.jwks_url", "absolute path",
		},
		{
			"jwks file with host",
			func(c *Config) { c.Auth.Supabase.JWKSURL = "file://server/jwks.json" },
			"auth.supabase.jwks_url", "absolute path",
		},
		{
			"jwks url unparseable",
			func(c *Config) { c.Auth.Supabase.JWKSURL = "http://a b/%zz" },
			"auth.supabase.jwks_url", "",
		},
		{
			"audience empty", func(c *Config) { c.Auth.Supabase.Audience = " " },
			"auth.supabase.audience", "empty",
		},
		{
			"issuer with spaces",
			func(c *Config) { c.Auth.Supabase.Issuer = " https://x.supabase.co/auth/v1" },
			"auth.supabase.issuer", "spaces",
		},
		{
			"login ttl short", func(c *Config) { c.Auth.LoginTTL = time.Minute },
			"auth.login_ttl", "1m0s",
		},
		{
			"login ttl long", func(c *Config) { c.Auth.LoginTTL = 8761 * time.Hour },
			"auth.login_ttl", "8761h",
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			cfg := Default()
			tt.change(&cfg)

			err := cfg.Validate()

			var fieldErr *FieldError
			if !errors.As(err, &fieldErr) {
				t.Fatalf("Validate() = %v, want a *FieldError", err)
			}
			if fieldErr.Key != tt.wantKey {
				t.Errorf("FieldError.Key = %q, want %q", fieldErr.Key, tt.wantKey)
			}

			msg := err.Error()
			if !strings.HasPrefix(msg, "config: "+tt.wantKey+": ") {
				t.Errorf("Error() = %q, want prefix %q", msg, "config: "+tt.wantKey+": ")
			}
			if !strings.Contains(msg, tt.wantIn) {
				t.Errorf("Error() = %q, want it to contain %q", msg, tt.wantIn)
			}
		})
	}
}

func TestValidateHidesSecrets(t *testing.T) {
	t.Parallel()

	tests := map[string]func(c *Config){
		"webhook secret": func(c *Config) {
			c.Webhook.DeliverURL = "https://example.com/hook"
			c.Webhook.Secret = "hunter2-secret"
		},
		"database password in bad url": func(c *Config) {
			c.Database.URL = "mysql://bot:hunter2-secret@db/bot"
		},
		"database password in unparseable url": func(c *Config) {
			c.Database.URL = "postgres://bot:hunter2-secret@db:port/bot"
		},
		"jwt secret": func(c *Config) {
			c.Auth.Supabase.JWTSecret = "hunter2-secret"
		},
		"password in jwks url": func(c *Config) {
			c.Auth.Supabase.JWKSURL = "ftp://bot:hunter2-secret@example.com/jwks.json"
		},
	}

	for name, change := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()

			cfg := Default()
			change(&cfg)

			err := cfg.Validate()
			if err == nil {
				t.Fatal("Validate() = nil, want an error")
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("Validate() = %q, shows the secret", err)
			}
		})
	}
}

func TestValidateAccepts(t *testing.T) {
	t.Parallel()

	tests := map[string]func(c *Config){
		"owners of every channel": func(c *Config) {
			c.Access.Owners = []string{
				"web:a", "telegram:1", "discord:2", "slack:T1:U2", "whatsapp:+491", "webhook:x",
			}
		},
		"sqlite url":          func(c *Config) { c.Database.URL = "sqlite:/var/lib/bot.db" },
		"postgres url":        func(c *Config) { c.Database.URL = "postgres://u:p@h:5432/db" },
		"postgresql url":      func(c *Config) { c.Database.URL = "postgresql:///db?host=/run" },
		"any port":            func(c *Config) { c.HTTP.Addr = ":0" },
		"ipv6 address":        func(c *Config) { c.HTTP.Addr = "[::1]:65535" },
		"agent id at maximum": func(c *Config) { c.Agent.ID = "a" + strings.Repeat("_", 63) },
		"webhook on": func(c *Config) {
			c.Webhook.DeliverURL = "http://127.0.0.1:9000/in"
			c.Webhook.Secret = strings.Repeat("s", 16)
		},
		"secret without url": func(c *Config) { c.Webhook.Secret = "short" },
		"one second backoff": func(c *Config) { c.Outbox.MaxBackoff = time.Second },
		"supabase hs256": func(c *Config) {
			c.Auth.Supabase.JWTSecret = strings.Repeat("s", 32)
			c.Auth.Supabase.Issuer = "https://abc.supabase.co/auth/v1"
		},
		"jwks http url": func(c *Config) {
			c.Auth.Supabase.JWKSURL = "http://127.0.0.1:54321/auth/v1/.well-known/jwks.json"
		},
		"jwks file url":      func(c *Config) { c.Auth.Supabase.JWKSURL = "file:/etc/jwks.json" },
		"jwks file triple":   func(c *Config) { c.Auth.Supabase.JWKSURL = "file:///etc/jwks.json" },
		"jwks absolute path": func(c *Config) { c.Auth.Supabase.JWKSURL = "/etc/jwks.json" },
		"login ttl bounds":   func(c *Config) { c.Auth.LoginTTL = 5 * time.Minute },
		"secure cookie":      func(c *Config) { c.Auth.CookieSecure = true },
	}

	for name, change := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()

			cfg := Default()
			change(&cfg)

			if err := cfg.Validate(); err != nil {
				t.Errorf("Validate() = %v, want nil", err)
			}
		})
	}
}

func TestParsedOwners(t *testing.T) {
	t.Parallel()

	a := Access{Owners: []string{"telegram:42", "slack:T01:U02"}}
	want := []Owner{
		{Channel: "telegram", UserID: "42"},
		{Channel: "slack", UserID: "T01:U02"},
	}

	if got := a.ParsedOwners(); !reflect.DeepEqual(got, want) {
		t.Errorf("ParsedOwners() = %+v, want %+v", got, want)
	}
}

func TestDatabaseLocation(t *testing.T) {
	t.Parallel()

	tests := []struct {
		url          string
		wantPostgres bool
		wantSQLite   string
	}{
		{url: "", wantSQLite: filepath.Join("state", "bot.db")},
		{url: "sqlite:/srv/bot.db", wantSQLite: "/srv/bot.db"},
		{url: "sqlite:rel/bot.db", wantSQLite: "rel/bot.db"},
		{url: "postgres://h/db", wantPostgres: true},
		{url: "postgresql://h/db", wantPostgres: true},
	}

	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			t.Parallel()

			cfg := Default()
			cfg.Data.Dir = "state"
			cfg.Database.URL = tt.url

			if got := cfg.Database.IsPostgres(); got != tt.wantPostgres {
				t.Errorf("IsPostgres() = %v, want %v", got, tt.wantPostgres)
			}
			if got := cfg.SQLitePath(); got != tt.wantSQLite {
				t.Errorf("SQLitePath() = %q, want %q", got, tt.wantSQLite)
			}
		})
	}
}

func TestSlogLevel(t *testing.T) {
	t.Parallel()

	tests := map[string]slog.Level{
		"debug": slog.LevelDebug,
		"info":  slog.LevelInfo,
		"warn":  slog.LevelWarn,
		"error": slog.LevelError,
	}

	for level, want := range tests {
		if got := (Log{Level: level}).SlogLevel(); got != want {
			t.Errorf("Log{Level: %q}.SlogLevel() = %v, want %v", level, got, want)
		}
	}
}

// TestExampleFile keeps config.example.yaml true: it must load to exactly
// Default() and show every key with a comment above it.
func TestExampleFile(t *testing.T) {
	t.Parallel()

	const path = "../../config.example.yaml"

	cfg, err := Load(path, nil)
	if err != nil {
		t.Fatalf("Load(%s) error = %v", path, err)
	}
	if !reflect.DeepEqual(cfg, Default()) {
		t.Errorf("Load(%s) =\n%+v\nwant Default()\n%+v", path, cfg, Default())
	}

	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read example: %v", err)
	}

	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("parse example: %v", err)
	}

	commented := commentedKeys(doc.Content[0], "")
	def := Default()
	for _, l := range keyFields(reflect.ValueOf(&def).Elem(), "") {
		has, ok := commented[l.key]
		if !ok {
			t.Errorf("example lacks key %s", l.key)
		} else if !has {
			t.Errorf("example key %s has no comment above it", l.key)
		}
	}
}

// commentedKeys maps every dotted key under the mapping n to whether a
// comment sits directly above it.
func commentedKeys(n *yaml.Node, prefix string) map[string]bool {
	out := make(map[string]bool)

	for i := 0; i+1 < len(n.Content); i += 2 {
		key, value := n.Content[i], n.Content[i+1]
		dotted := joinKey(prefix, key.Value)
		out[dotted] = key.HeadComment != ""

		if value.Kind == yaml.MappingNode {
			for k, v := range commentedKeys(value, dotted) {
				out[k] = v
			}
		}
	}

	return out
}

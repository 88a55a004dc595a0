package telegram_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/adapters/telegram"
	"github.com/switchboardhq/switchboard/core/store"
	"github.com/switchboardhq/switchboard/core/store/storetest"
)

func TestNewChecksTheConfig(t *testing.T) {
	t.Parallel()

	db := storetest.Open(t, store.SQLite)
	valid := func() telegram.Config {
		return telegram.Config{Token: "123456:ABC-def_ghi", DB: db, AgentID: "default"}
	}

	cases := []struct {
		name  string
		edit  func(*telegram.Config)
		field string // "" means valid
	}{
		{name: "defaults", edit: func(*telegram.Config) {}},
		{name: "no token", edit: func(c *telegram.Config) { c.Token = "" }, field: "token"},
		{name: "token with a slash", edit: func(c *telegram.Config) { c.Token = "1:a/b" },
			field: "token"},
		{name: "relative endpoint", edit: func(c *telegram.Config) { c.APIEndpoint = "api" },
			field: "api endpoint"},
		{name: "unknown mode", edit: func(c *telegram.Config) { c.Mode = "push" },
			field: "mode"},
		{name: "polling without a database", edit: func(c *telegram.Config) { c.DB = nil },
			field: "db"},
		{name: "polling without an agent", edit: func(c *telegram.Config) { c.AgentID = "" },
			field: "agent id"},
		{name: "client time-out below the poll", edit: func(c *telegram.Config) {
			c.HTTPClient = &http.Client{Timeout: 10 * time.Second}
		}, field: "http client"},
		{name: "renew not before expiry", edit: func(c *telegram.Config) {
			c.LeaseRenew, c.LeaseExpiry = 30*time.Second, 30*time.Second
		}, field: "lease renew"},
		{name: "webhook", edit: func(c *telegram.Config) {
			c.Mode, c.DB, c.AgentID = telegram.ModeWebhook, nil, ""
			c.WebhookURL, c.WebhookSecret = "https://bot.example/telegram/webhook", "s3cret"
		}},
		{name: "webhook on another path", edit: func(c *telegram.Config) {
			c.Mode = telegram.ModeWebhook
			c.WebhookURL, c.WebhookSecret = "https://bot.example/hook", "s3cret"
		}, field: "webhook url"},
		{name: "webhook without a secret", edit: func(c *telegram.Config) {
			c.Mode = telegram.ModeWebhook
			c.WebhookURL = "https://bot.example/telegram/webhook"
		}, field: "webhook secret"},
	}

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()

			cfg := valid()
			tc.edit(&cfg)

			_, err := telegram.New(cfg)

			switch {
			case tc.field == "" && err != nil:
				t.Fatalf("New = %v, want a valid config", err)
			case tc.field != "" && (err == nil || !strings.Contains(err.Error(), tc.field)):
				t.Fatalf("New = %v, want an error naming %q", err, tc.field)
			}
		})
	}
}

func TestCapabilities(t *testing.T) {
	t.Parallel()

	a, err := telegram.New(telegram.Config{Token: "1:x", Mode: telegram.ModeWebhook,
		WebhookURL: "https://bot.example/telegram/webhook", WebhookSecret: "s3cret"})
	if err != nil {
		t.Fatal(err)
	}

	if a.Channel() != "telegram" || !a.RepliesInThreads() || a.TextLimit() != 4096 {
		t.Fatalf("channel %q, threads %v, limit %d", a.Channel(), a.RepliesInThreads(),
			a.TextLimit())
	}

	if h := a.Health(); h.Connected {
		t.Fatalf("health %+v before Run, want not connected", h)
	}
}

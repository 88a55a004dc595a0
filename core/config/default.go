package config

import "time"

// Default returns the configuration the gateway runs with when there is no
// file and no BOT_ variable: one echo agent on 127.0.0.1:8080 with SQLite in
// ./data. Every call returns a fresh value, so callers may change it freely.
func Default() Config {
	return Config{
		Agent: Agent{
			ID:          "default",
			Name:        "Switchboard",
			MaxParallel: 16,
			Responder:   "agent",
			SystemPrompt: "You are a helpful personal assistant. Answer briefly and " +
				"clearly, in the language the person writes in.",
			MaxSteps: 8,
			TimeZone: "UTC",
		},
		AI: AI{
			FallbackModels: []string{},
			ContextWindow:  128_000,
			VisionModels:   []string{},
			Prices:         []string{},
		},
		Budget: Budget{
			MessagesLimit:   0,
			CostLimit:       0,
			StepDownPercent: 80,
		},
		Routing: Routing{
			CheapBelow:  30,
			PremiumFrom: 60,
		},
		Access: Access{
			Owners:     []string{},
			GroupReply: "mention",
		},
		Database: Database{
			URL:               "",
			MaxOpenConns:      10,
			SQLiteSynchronous: "normal",
		},
		Data: Data{Dir: "data"},
		HTTP: HTTP{
			Addr:            "127.0.0.1:8080",
			ShutdownTimeout: 10 * time.Second,
		},
		Log: Log{
			Level:  "info",
			Format: "auto",
		},
		Outbox: Outbox{
			MaxAttempts: 8,
			MaxBackoff:  5 * time.Minute,
		},
		Skills: Skills{
			WeatherURL: "https://api.openweathermap.org/data/2.5/weather",
		},
		Webhook: Webhook{
			DeliverURL: "",
			Secret:     "",
		},
		Auth: Auth{
			Supabase: Supabase{
				JWTSecret: "",
				JWKSURL:   "",
				Audience:  "authenticated",
				Issuer:    "",
			},
			CookieSecure: false,
			LoginTTL:     720 * time.Hour,
		},
		Deployment: Deployment{
			Tier:      "standard",
			Region:    "",
			Messenger: "web",
		},
		Telegram: Telegram{
			Token:         "",
			APIEndpoint:   "https://api.telegram.org",
			Mode:          "polling",
			WebhookURL:    "",
			WebhookSecret: "",
		},
	}
}

package main

import (
	"log/slog"
	"net"

	"github.com/switchboardhq/switchboard/core"
	"github.com/switchboardhq/switchboard/core/automation"
	"github.com/switchboardhq/switchboard/core/config"
	"github.com/switchboardhq/switchboard/core/logtail"
	"github.com/switchboardhq/switchboard/core/pipeline"
	"github.com/switchboardhq/switchboard/core/store"
	"github.com/switchboardhq/switchboard/httpapi"
	"github.com/switchboardhq/switchboard/httpapi/auth"
)

// newAPI builds the REST API and its authenticator.
func newAPI(cfg config.Config, db *store.DB, parts *agentParts, p *pipeline.Pipeline,
	engine *automation.Engine, tail *logtail.Writer, log *slog.Logger,
) (*httpapi.API, error) {
	authn, err := auth.New(auth.Config{
		DB:      db,
		AgentID: cfg.Agent.ID,
		Supabase: auth.Supabase{
			JWTSecret: cfg.Auth.Supabase.JWTSecret,
			JWKSURL:   cfg.Auth.Supabase.JWKSURL,
			Audience:  cfg.Auth.Supabase.Audience,
			Issuer:    cfg.Auth.Supabase.Issuer,
		},
		CookieSecure: cfg.Auth.CookieSecure,
		LoginTTL:     cfg.Auth.LoginTTL,
		Logger:       log,
	})
	if err != nil {
		return nil, err
	}

	apiCfg := httpapi.APIConfig{
		DB:          db,
		AgentID:     cfg.Agent.ID,
		AgentName:   cfg.Agent.Name,
		Auth:        authn,
		Skills:      parts.skills,
		Credentials: parts.creds,
		Ledger:      parts.ledger,
		Prices:      parts.prices,
		Live:        parts.live,
		Automations: engine,
		Admins:      admins(cfg.Access),
		ServerIP:    serverIP(cfg.HTTP.Addr),
		Health: func() map[core.Channel]core.Health {
			out := make(map[core.Channel]core.Health)
			for ch, a := range p.Adapters() {
				out[ch] = a.Health()
			}

			return out
		},
		Logs:   tail.Lines,
		Logger: log,
	}

	return httpapi.NewAPI(apiCfg), nil
}

// admins are the API users who may change skills and settings: "owner",
// the user of tokens made without --user, and every web user in
// access.owners.
func admins(a config.Access) []string {
	out := []string{"owner"}

	for _, o := range a.ParsedOwners() {
		if o.Channel == string(httpapi.WebChannel) {
			out = append(out, o.UserID)
		}
	}

	return out
}

// serverIP is the address the gateway is reached at: the listener's own
// address when it names one, else the first address of this machine that
// is not loopback, else 127.0.0.1.
func serverIP(addr string) string {
	if host, _, err := net.SplitHostPort(addr); err == nil {
		if ip := net.ParseIP(host); ip != nil && !ip.IsUnspecified() {
			return ip.String()
		}
	}

	addrs, err := net.InterfaceAddrs()
	if err == nil {
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() && n.IP.To4() != nil {
				return n.IP.String()
			}
		}
	}

	return "127.0.0.1"
}

// Package httpapi serves the gateway's HTTP endpoints: liveness at
// /healthz, readiness at /readyz, Prometheus metrics at /metrics, the
// webhook handlers of the adapters that receive over HTTP, and the REST
// API under /api for the dashboard and scripts. The API is also the "web"
// messenger adapter: its chat goes through the pipeline like any other
// channel.
package httpapi

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/switchboardhq/switchboard/httpapi/dashboard"
)

// Readiness reports whether the gateway can serve: the database answers
// and its schema is current.
type Readiness interface {
	// Ping checks that the database answers.
	Ping(ctx context.Context) error
	// PendingMigrations counts migrations not yet applied.
	PendingMigrations(ctx context.Context) (int, error)
}

// Mount is an extra handler for a path pattern, such as an adapter's
// webhook.
type Mount struct {
	Pattern string
	Handler http.Handler
}

// Deps are what the HTTP layer needs from the rest of the gateway.
type Deps struct {
	Ready    Readiness
	Registry *prometheus.Registry
	Mounts   []Mount
	// API, when not nil, serves /api.
	API    *API
	Logger *slog.Logger
}

// New returns the gateway's HTTP handler.
func New(d Deps) http.Handler {
	mux := http.NewServeMux()

	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})

	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()

		if err := d.Ready.Ping(ctx); err != nil {
			d.Logger.Warn("not ready: database", "err", err)
			writeJSON(w, http.StatusServiceUnavailable,
				map[string]string{"status": "unavailable", "reason": "database unreachable"})

			return
		}

		n, err := d.Ready.PendingMigrations(ctx)
		if err != nil || n > 0 {
			writeJSON(w, http.StatusServiceUnavailable,
				map[string]any{"status": "unavailable", "reason": "migrations pending",
					"pending": n})

			return
		}

		writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	})

	mux.Handle("GET /metrics", promhttp.HandlerFor(d.Registry, promhttp.HandlerOpts{}))

	for _, m := range d.Mounts {
		mux.Handle(m.Pattern, m.Handler)
	}

	if d.API != nil {
		d.API.Routes(mux)
		// The dashboard takes every other path; the routes above are more
		// specific and win. ("GET /" would conflict with the method-less
		// patterns of the API.)
		mux.Handle("/", dashboard.Handler())
	}

	return mux
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

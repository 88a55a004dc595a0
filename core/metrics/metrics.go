// Package metrics defines the gateway's Prometheus metrics. Each Metrics
// value has its own registry, so tests can run several pipelines in one
// process; the HTTP layer serves the registry at /metrics.
package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Metrics holds the pipeline's counters and histograms. All are safe for
// concurrent use.
type Metrics struct {
	// Registry holds every metric below plus the Go and process collectors.
	Registry *prometheus.Registry

	// Received counts inbound messages stored for the first time.
	Received *prometheus.CounterVec
	// Deduplicated counts redelivered messages that stopped at the key.
	Deduplicated *prometheus.CounterVec
	// Answered counts messages that got an answer into the outbox.
	Answered *prometheus.CounterVec
	// Sent counts outbox rows the platform accepted.
	Sent *prometheus.CounterVec
	// Failed counts outbox rows given up on.
	Failed *prometheus.CounterVec
	// Latency measures from storing a message to sending its answer.
	Latency *prometheus.HistogramVec
}

// New creates the metrics in a fresh registry.
func New() *Metrics {
	counter := func(name, help string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "bot",
			Name:      name,
			Help:      help,
		}, []string{"channel"})
	}

	m := &Metrics{
		Registry:     prometheus.NewRegistry(),
		Received:     counter("messages_received_total", "Inbound messages stored."),
		Deduplicated: counter("messages_deduplicated_total", "Redelivered inbound messages dropped."),
		Answered:     counter("messages_answered_total", "Inbound messages answered."),
		Sent:         counter("messages_sent_total", "Outgoing messages the platform accepted."),
		Failed:       counter("messages_failed_total", "Outgoing messages given up on."),
		Latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "bot",
			Name:      "pipeline_latency_seconds",
			Help:      "Time from storing an inbound message to sending its answer.",
			Buckets:   []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"channel"}),
	}

	m.Registry.MustRegister(
		m.Received, m.Deduplicated, m.Answered, m.Sent, m.Failed, m.Latency,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)

	return m
}

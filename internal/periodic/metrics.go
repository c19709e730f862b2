package periodic

import "github.com/prometheus/client_golang/prometheus"

// Metrics are a Runner's Prometheus metrics.
type Metrics struct {
	runs        *prometheus.CounterVec
	lastSuccess *prometheus.GaugeVec
}

// NewMetrics creates the metrics and registers them with reg (nil: kept
// unregistered).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "brokersync_periodic_runs_total",
			Help: "Periodic job periods this replica ran, by job and result (ok, failed).",
		}, []string{"job", "result"}),
		lastSuccess: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "brokersync_periodic_last_success_timestamp_seconds",
			Help: "When this replica last finished a period of the job (Unix seconds); the maximum over the replicas is the job's last run.",
		}, []string{"job"}),
	}
	if reg != nil {
		reg.MustRegister(m.runs, m.lastSuccess)
	}
	return m
}

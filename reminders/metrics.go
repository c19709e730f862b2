package reminders

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the scheduler's Prometheus metrics.
type Metrics struct {
	due         prometheus.Counter
	claimed     prometheus.Counter
	posted      *prometheus.CounterVec
	retries     *prometheus.CounterVec
	rateLimited *prometheus.CounterVec
	lateness    prometheus.Histogram
}

// NewMetrics registers the scheduler's metrics with reg (nil: unregistered).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		due: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "brokersync_reminders_due_total",
			Help: "Reminders that came due and were taken up to be posted (each once, however often it is retried).",
		}),
		claimed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "brokersync_reminders_claimed_total",
			Help: "Due reminders this replica claimed to post (a retry is claimed again).",
		}),
		posted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "brokersync_reminders_posted_total",
			Help: "Reminders recorded as posted, by how: posted, or found (already in the channel after an attempt whose answer was lost).",
		}, []string{"how"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "brokersync_reminders_retries_total",
			Help: "Reminders tried again, by reason: rate_limited (a 429), paced (their channel's turn came after a quarter of the lease), slack, store, lost_lease.",
		}, []string{"reason"}),
		rateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "brokersync_reminders_rate_limited_total",
			Help: "429 answers from Slack to the scheduler, by method.",
		}, []string{"method"}),
		lateness: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "brokersync_reminders_lateness_seconds",
			Help:    "How long after its due time a reminder was posted.",
			Buckets: []float64{0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600},
		}),
	}
	if reg != nil {
		reg.MustRegister(m.due, m.claimed, m.posted, m.retries, m.rateLimited, m.lateness)
	}
	return m
}

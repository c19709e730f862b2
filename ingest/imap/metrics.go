package imap

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the ingesters' Prometheus metrics, labelled by mailbox
// (account/folder). Create them once and share them between ingesters.
type Metrics struct {
	messages   *prometheus.CounterVec
	skipped    *prometheus.CounterVec
	defects    *prometheus.CounterVec
	events     *prometheus.CounterVec
	conflicts  *prometheus.CounterVec
	reconnects *prometheus.CounterVec
	connected  *prometheus.GaugeVec
	lastUID    *prometheus.GaugeVec
	batch      *prometheus.HistogramVec
	held       prometheus.Gauge
	leases     *prometheus.CounterVec

	tokens       *prometheus.CounterVec
	authFailures *prometheus.CounterVec
	authStopped  *prometheus.GaugeVec
}

// Message results counted in brokersync_imap_messages_total.
const (
	resultStored    = "stored"    // on the timeline of at least one client
	resultUnmatched = "unmatched" // no client among From, To and Cc: not stored
	resultSkipped   = "skipped"   // too large, not a mail, unparseable or rejected
	resultConflict  = "conflict"  // every event's id was recorded before with other content
)

// NewMetrics creates the metrics and registers them with reg (nil: kept
// unregistered, for tests). It panics if they are registered already.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		messages: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "brokersync_imap_messages_total",
			Help: "IMAP messages ingested, by result: stored, unmatched (no client), skipped, conflict (a reused Message-ID).",
		}, []string{"mailbox", "result"}),
		skipped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "brokersync_imap_skipped_total",
			Help: "IMAP messages skipped, by reason: too_large, not_a_mail, parser_failure, rejected.",
		}, []string{"mailbox", "reason"}),
		defects: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "brokersync_imap_defects_total",
			Help: "Defects of IMAP messages that were read anyway, by kind: lenient_header, lenient_address, bad_date, bad_base64, unknown_charset, wrong_charset, unknown_encoding, broken_mime, over_limit.",
		}, []string{"mailbox", "kind"}),
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "brokersync_imap_events_total",
			Help: "Timeline events written from IMAP messages (one per client of a message).",
		}, []string{"mailbox"}),
		conflicts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "brokersync_imap_conflicts_total",
			Help: "Timeline events from IMAP not recorded because their Message-ID was recorded before, for the same client, with other content (the first copy stands).",
		}, []string{"mailbox"}),
		reconnects: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "brokersync_imap_reconnects_total",
			Help: "IMAP sessions that ended with an error and were retried.",
		}, []string{"mailbox"}),
		connected: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "brokersync_imap_connected",
			Help: "1 while the folder is selected on the server.",
		}, []string{"mailbox"}),
		lastUID: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "brokersync_imap_checkpoint_uid",
			Help: "Last UID of the saved checkpoint.",
		}, []string{"mailbox"}),
		batch: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "brokersync_imap_store_seconds",
			Help:    "Time to store the events of one batch of messages.",
			Buckets: prometheus.ExponentialBuckets(0.005, 2, 12),
		}, []string{"mailbox"}),
		tokens: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "brokersync_imap_tokens_total",
			Help: "OAuth2 access tokens fetched for mailboxes signing in with XOAUTH2 or OAUTHBEARER.",
		}, []string{"mailbox"}),
		authFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "brokersync_imap_auth_failures_total",
			Help: "OAuth2 sign-in failures, by reason: invalid_client (secret, certificate or key refused), consent_revoked (no token for the mailbox), token_refused (the server refused a fresh token), token_endpoint (the token endpoint failed; retried).",
		}, []string{"mailbox", "reason"}),
		authStopped: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "brokersync_imap_auth_stopped",
			Help: "1 while a mailbox is stopped because its OAuth2 sign-in was refused; it tries again when its credential files change, or after an hour.",
		}, []string{"mailbox"}),
		held: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "brokersync_imap_mailboxes_held",
			Help: "Mailboxes this replica reads now (holds the lease of). Summed over the replicas it is the number of mailboxes configured.",
		}),
		leases: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "brokersync_imap_lease_changes_total",
			Help: "Mailbox leases this replica acquired, took over (from a replica that stopped renewing), released, or lost, by action.",
		}, []string{"action"}),
	}
	if reg != nil {
		reg.MustRegister(m.messages, m.skipped, m.defects, m.events, m.conflicts, m.reconnects, m.connected, m.lastUID, m.batch,
			m.held, m.leases, m.tokens, m.authFailures, m.authStopped)
	}
	return m
}

// Package activityhook lets a benchmark measure what keeping the activity
// rows (store.Activity) costs the writes that keep them.
package activityhook

import "sync/atomic"

// Off, when set, makes the stores record fills, contacts and scores
// without counting them in their clients' activity rows, which then no
// longer match the tables: only for a benchmark that compares throughput
// with and without the rows (webhooks' BenchmarkOrdersWebhookActivity),
// never elsewhere.
var Off atomic.Bool

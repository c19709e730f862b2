package imap_test

import (
	"sync"

	"github.com/brokersync/brokersync/ingest"
	"github.com/brokersync/brokersync/ingest/sentiment"
)

// The production model, loaded once per test binary.
var loadScorer = sync.OnceValues(sentiment.New)

func scorer() ingest.Scorer {
	m, err := loadScorer()
	if err != nil {
		panic("load sentiment model: " + err.Error())
	}
	return m
}

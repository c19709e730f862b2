package postgres_test

import (
	"testing"

	"github.com/brokersync/brokersync/store"
	"github.com/brokersync/brokersync/store/storetest"
)

func TestSentimentStore(t *testing.T) {
	storetest.RunSentimentStoreTests(t, func(t *testing.T) store.SentimentStore { return openStore(t) })
}

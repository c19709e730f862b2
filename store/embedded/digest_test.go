package embedded_test

import (
	"testing"

	"github.com/brokersync/brokersync/store"
	"github.com/brokersync/brokersync/store/storetest"
)

func TestDigestStore(t *testing.T) {
	storetest.RunDigestStoreTests(t, func(t *testing.T) store.DigestStore { return open(t) })
}

func TestDigestEventIndex(t *testing.T) {
	storetest.RunDigestIndexTests(t, open(t))
}

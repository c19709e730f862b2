package embedded_test

import (
	"testing"

	"github.com/brokersync/brokersync/store/storetest"
)

func TestMilestoneStore(t *testing.T) {
	storetest.RunMilestoneStoreTests(t, func(t *testing.T) storetest.MilestoneBackend { return open(t) })
}

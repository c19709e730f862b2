package store_test

import (
	"testing"

	"github.com/google/uuid"

	"github.com/brokersync/brokersync/store"
)

// Event ids derive from the source's name: these are the ids events stored
// by earlier versions carry, so that a redelivery of any of them is still
// recognised. A failure here means stored events would be duplicated.
func TestEventIDsAreStable(t *testing.T) {
	for _, tc := range []struct {
		source   store.Source
		sourceID string
		want     string
	}{
		{store.SourceEmail, "<CAF3x9@mail.acmegrain.com>/7d3f1c2e-0b4a-4e57-9c11-2a5e6f7b8c90", "1d639a1b-d049-5ba4-a43f-0069fb47a9fb"},
		{store.SourceSlack, "C024BE91L/1767225600.000100", "971c220c-8ab1-5aed-97fe-da8d86fdc446"},
		{store.SourceCommand, "3f1c2e0b.trigger", "c71d40ad-5c65-5d9c-8bae-44e87d2c0b31"},
		{store.SourceLink, "C024BE91L/3f1c2e0b.trigger", "ce026582-f0ab-589a-acb4-43e87bdcf4ef"},
		{store.SourceOrders, "EXEC-20261207-0001", "47600954-14bb-5439-a658-1f12f3ac7f81"},
		{store.SourceCalls, "twilio:CA5f4e3d2c1b0a99887766554433221100", "4d6007f5-f3e7-5c20-a0e5-6e1c75334216"},
		{store.SourceMarket, "MKT-1/7d3f1c2e-0b4a-4e57-9c11-2a5e6f7b8c90", "f2285131-a65b-5b2c-8e25-7a175d6665ea"},
		{store.SourceProfile, "7d3f1c2e-0b4a-4e57-9c11-2a5e6f7b8c90/v3", "fbc4d236-4497-5379-aa99-dc61cc6bbfc3"},
		{store.SourceSentiment, "7d3f1c2e-0b4a-4e57-9c11-2a5e6f7b8c90/drop/2026-12-07", "0ec0c225-4dd3-59ad-a192-5ac3b4f5c452"},
	} {
		if got := store.EventID(tc.source, tc.sourceID); got != uuid.MustParse(tc.want) {
			t.Errorf("EventID(%s, %q) = %s, want %s as stored before", tc.source, tc.sourceID, got, tc.want)
		}
	}
}

func TestSignal(t *testing.T) {
	a := store.Attrs{Extra: store.WithSignal(nil, store.SignalMarketMove)}
	if a.Signal() != store.SignalMarketMove || a.Extra["signal"] != "market_move" {
		t.Errorf("signal %q, extra %v", a.Signal(), a.Extra)
	}
	if (store.Attrs{}).Signal() != "" {
		t.Error("an event without a signal has one")
	}
}

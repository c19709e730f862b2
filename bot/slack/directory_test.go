package slack_test

import (
	"github.com/brokersync/brokersync/bot/slack/slacktest"
	"net/http/httptest"
	"testing"
	"time"

	bslack "github.com/brokersync/brokersync/bot/slack"
	"github.com/brokersync/brokersync/store"
)

// Channels are named through conversations.info, asked once per channel
// and cached; an unknown channel is ENOTFOUND, not an outage.
func TestDirectoryNamesChannels(t *testing.T) {
	fake := slacktest.NewFakeSlack()
	srv := httptest.NewServer(fake.Handler())
	defer srv.Close()
	fake.BaseURL = srv.URL
	fake.AddChannel("C0DEALS", "acme-deals")
	dir := bslack.NewDirectory(bslack.NewAPI("xoxb-test", srv.URL+"/api/"), time.Minute, logger())
	for range 3 {
		c, err := dir.Channel(t.Context(), "C0DEALS")
		if err != nil || c.Name != "acme-deals" {
			t.Fatalf("Channel: %+v, %v", c, err)
		}
	}
	if n := fake.Calls("conversations.info"); n != 1 {
		t.Errorf("conversations.info called %d times, want 1", n)
	}
	if _, err := dir.Channel(t.Context(), "C0NONE"); store.ErrorCode(err) != store.ENOTFOUND {
		t.Errorf("unknown channel: %v, want ENOTFOUND", err)
	}
}

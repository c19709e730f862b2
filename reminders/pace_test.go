package reminders_test

import (
	"testing"
	"time"
)

// Two replicas, three channels Slack holds to 1 message a second, ten
// reminders for each due at once. Every reminder is posted once; Slack
// refuses little more than the first burst, before the replicas know the
// channels are limited (27 here), because from then on they share each
// channel's pace instead of finding it out from 429s one by one (which
// took 4-5 refusals a reminder); and the messages take about the least time
// the limit allows (BenchmarkPaced measures how close on a full run: the
// bound here leaves room for a loaded test machine).
func TestPacedChannelsTakeTheLeastTimeTheLimitAllows(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: takes the limit's real time")
	}
	const n, chans = 30, 3
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			t.Parallel()
			d := dispatchAll(t, newFixture(t, be.open(t)), n, chans, 1)
			span := d.total() - d.late[0]
			t.Logf("%d reminders over %d channels: %v from the first message to the last, %.2fx the least the limit allows; %d 429s",
				n, chans, span.Round(time.Millisecond), span.Seconds()/d.least.Seconds(), d.rateLimited)
			if d.rateLimited > n {
				t.Errorf("Slack answered 429 %d times for %d reminders: the first burst is %d", d.rateLimited, n, n-chans)
			}
			if span > d.least*3/2 {
				t.Errorf("took %v, more than 50%% over the least the limit allows, %v", span, d.least)
			}
		})
	}
}

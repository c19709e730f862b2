package sentiment

import (
	"reflect"
	"strings"
	"testing"
)

func TestSegments(t *testing.T) {
	long := "The December corn fill came in two ticks worse than the screen showed when I called, and nobody explained why. " +
		"I have been a client for nine years and this keeps happening on the open, which is when I trade most. " +
		"Please review the tape and call me back before tomorrow's session, I will be at my desk from seven."
	for _, tc := range []struct {
		name string
		in   string
		want []string
	}{
		{"empty", "  \n ", nil},
		{"one line", "Thanks, great fill on the crude this morning.", []string{"Thanks, great fill on the crude this morning."}},
		{"greeting prefix", "Hi John, can you send the KC coffee specs?", []string{"can you send the KC coffee specs?"}},
		{"greeting only", "Good morning team!", nil},
		{"time of day is not always a greeting", "Evening session was rough", []string{"Evening session was rough"}},
		{"thanks alone is the message", "Thanks!", []string{"Thanks!"}},
		{
			"greeting line, sign-off, signature",
			"Hi Sarah,\n\nPlease send the December corn contract specs.\n\nThanks,\nBob Miller\nMiller Farms | 555-0100",
			[]string{"Please send the December corn contract specs."},
		},
		{
			"disclaimer paragraph and quoted reply",
			"Dear Jane,\nI am unhappy with the slippage on my gold stop.\n\n" +
				"CONFIDENTIALITY NOTICE: This email and any attachments are for the intended recipient only.\n\n" +
				"On Tue, Jan 7, 2025 at 9:14 AM Jane Doe <jane@example.com> wrote:\n> Your stop was filled at 2051.",
			[]string{"I am unhappy with the slippage on my gold stop."},
		},
		{
			"long text splits into sentences, wrapped lines join",
			"Hello,\n" + strings.Replace(long, " showed", "\nshowed", 1) + "\n\nBest regards,\nTom",
			[]string{
				"The December corn fill came in two ticks worse than the screen showed when I called, and nobody explained why.",
				"I have been a client for nine years and this keeps happening on the open, which is when I trade most.",
				"Please review the tape and call me back before tomorrow's session, I will be at my desk from seven.",
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Segments(tc.in); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Segments(%q)\n got %q\nwant %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestSentencesKeepAbbreviationsAndDecimals(t *testing.T) {
	got := sentences("Buy 10 Dec. corn at 4.52 limit. Sell 5 KC coffee at market! Is the margin approx. 10% now? Yes.")
	want := []string{"Buy 10 Dec. corn at 4.52 limit.", "Sell 5 KC coffee at market!", "Is the margin approx. 10% now?", "Yes."}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q\nwant %q", got, want)
	}
}

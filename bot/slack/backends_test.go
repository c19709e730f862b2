package slack_test

import (
	"testing"

	"github.com/brokersync/brokersync/internal/backendtest"
)

func TestMain(m *testing.M) { backendtest.Main(m) }

// TestOnBackends runs the Slack tests that matter most with the real
// PostgreSQL and Cassandra behind the bot: signatures, retries, refusals,
// messages, the shortcut and Socket Mode.
func TestOnBackends(t *testing.T) {
	pg, tl := backendtest.Postgres(t), backendtest.Cassandra(t)
	onBackends = &backing{clients: pg, teams: pg, links: pg, once: pg, timeline: tl, reminders: pg, segments: pg}
	defer func() { onBackends = nil }()
	for name, test := range map[string]func(*testing.T){
		"SignatureChecked":                  TestSignatureChecked,
		"CommandAnsweredInline":             TestCommandAnsweredInline,
		"RetriedCommandAppliedOnce":         TestRetriedCommandAppliedOnce,
		"Refused":                           TestRefused,
		"ChannelMessages":                   TestChannelMessagesBecomeChatEvents,
		"EventRetriedAfterFailure":          TestEventRetriedAfterFailure,
		"AddNoteModal":                      TestAddNoteModal,
		"LogToClientShortcut":               TestLogToClientShortcut,
		"OpenTimelineButton":                TestOpenTimelineButton,
		"SocketMode":                        TestSocketMode,
		"SocketModeTwoReplicas":             TestSocketModeTwoReplicasStoreAnEventOnce,
		"SlowCommandAnsweredLater":          TestSlowCommandAnsweredLater,
		"EventNotLostWhenDeliveryDies":      TestEventNotLostWhenDeliveryDies,
		"FailedCommandAppliedOnRedelivery":  TestFailedCommandAppliedOnRedelivery,
		"FailedShortcutAppliedOnRedelivery": TestFailedShortcutAppliedOnRedelivery,
		"LinkAsksWhoIsInTheChannel":         TestLinkAsksWhoIsInTheChannel,
		"ReminderMessageButtons":            TestReminderMessageButtons,
		"ReminderLogCall":                   TestReminderLogCall,
		"ReminderDoNotContact":              TestReminderDoNotContact,
		"ReminderGoesToChosenChannel":       TestReminderGoesToChosenChannel,
		"SegmentExportUploaded":             TestSegmentExportUploaded,
	} {
		t.Run(name, test)
	}
}

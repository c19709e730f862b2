package bot_test

import (
	"strings"
	"testing"
	"time"

	"github.com/brokersync/brokersync/bot"
	"github.com/brokersync/brokersync/store"
)

func testTeamSetMilestones(t *testing.T, h *harness) {
	ms, ok := h.st.Reminders.(store.MilestoneStore)
	if !ok {
		t.Fatal("the store keeps no milestone settings")
	}
	if r := h.do(h.admin, "/team", "set "+h.desk); r.Status != bot.OK ||
		!strings.Contains(r.Text, "milestones=on milestone-lead=3d position-lead=2 large-trade=1m kyc-refresh=12mo goal-threshold=100% desk-zone=UTC") {
		t.Fatalf("/team set %s: %v %q", h.desk, r.Status, r.Text)
	}
	r := h.do(h.admin, "/team", "set "+h.desk+" milestone-lead=1d position-lead=3bd large-trade=250k kyc-refresh=1y goal-threshold=90% desk-zone=America/Chicago followup-market=off")
	if r.Status != bot.OK || !strings.Contains(r.Text, "followup-market=off") ||
		!strings.Contains(r.Text, "milestone-lead=1d position-lead=3 large-trade=250k kyc-refresh=12mo goal-threshold=90% desk-zone=America/Chicago") {
		t.Fatalf("/team set: %v %q", r.Status, r.Text)
	}
	d, err := ms.DeskMilestones(h.ctx, h.desk)
	if err != nil || d.Lead != 24*time.Hour || d.PositionLead != 3 || d.LargeTrade != 250_000 || d.KYCRefresh != 12 ||
		d.GoalThreshold != 90 || d.Zone != "America/Chicago" || !d.Enabled || d.UpdatedBy != h.admin {
		t.Fatalf("stored %+v %v", d, err)
	}
	if r := h.do(h.admin, "/team", "set "+h.desk+" milestones=off large-trade=off kyc-refresh=off milestone-lead=0"); r.Status != bot.OK ||
		!strings.Contains(r.Text, "milestones=off milestone-lead=0 position-lead=3 large-trade=off kyc-refresh=off") {
		t.Errorf("off: %v %q", r.Status, r.Text)
	}
	for _, tc := range []struct {
		user, text string
		status     bot.Status
	}{
		{h.broker, "set " + h.desk + " milestones=on", bot.Refused},
		{h.manager, "set " + h.desk + " milestone-lead=2d", bot.Refused},
		{h.admin, "set " + h.desk + " milestone-lead=soon", bot.Invalid},
		{h.admin, "set " + h.desk + " milestone-lead=91d", bot.Invalid},
		{h.admin, "set " + h.desk + " position-lead=21", bot.Invalid},
		{h.admin, "set " + h.desk + " large-trade=lots", bot.Invalid},
		{h.admin, "set " + h.desk + " kyc-refresh=61mo", bot.Invalid},
		{h.admin, "set " + h.desk + " goal-threshold=0", bot.Invalid},
		{h.admin, "set " + h.desk + " desk-zone=Mars/Olympus", bot.Invalid},
		{h.admin, "set " + h.desk + " milestones=maybe", bot.Invalid},
	} {
		if r := h.do(tc.user, "/team", tc.text); r.Status != tc.status {
			t.Errorf("/team %s as %s: %v %q, want %v", tc.text, tc.user, r.Status, r.Text, tc.status)
		}
	}
	if d, _ := ms.DeskMilestones(h.ctx, h.desk); d.Enabled || d.Zone != "America/Chicago" || d.PositionLead != 3 {
		t.Errorf("refused commands changed %+v", d)
	}
}

package bot

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/brokersync/brokersync/store"
)

// The desk's milestone settings, set with /team set <desk> key=value next
// to the follow-up settings. The store keeps them when it keeps
// milestones (both stores do).

const milestoneSettingsHelp = "milestones=on|off, milestone-lead=3d, position-lead=2 (exchange business days), large-trade=1m (USD, or off), kyc-refresh=12mo (or off), goal-threshold=100%, desk-zone=America/Chicago"

func (b *Bot) milestoneStore() (store.MilestoneStore, bool) {
	ms, ok := b.reminders.(store.MilestoneStore)
	return ms, ok
}

// setMilestone applies one milestone setting to d: handled is false for a
// key that is not one; problem says what is wrong with the value.
func setMilestone(d *store.DeskMilestones, key, value, raw string) (handled bool, problem string) {
	switch key {
	case "milestones":
		switch value {
		case "on", "yes", "true":
			d.Enabled = true
		case "off", "no", "false":
			d.Enabled = false
		default:
			return true, "milestones is on or off."
		}
	case "milestone-lead":
		dur, ok := parseDelay(value)
		if !ok {
			return true, "milestone-lead is how long before a milestone its broker hears of it, such as 3d or 12h, or 0 for on the day."
		}
		d.Lead = dur
	case "position-lead":
		n, err := strconv.Atoi(strings.TrimSuffix(value, "bd"))
		if err != nil || n < 0 || n > store.MaxPositionLead {
			return true, fmt.Sprintf("position-lead is a number of exchange business days before first notice and last trading days, 0 to %d.", store.MaxPositionLead)
		}
		d.PositionLead = n
	case "large-trade":
		v, ok := parseAmount(value)
		if !ok {
			return true, "large-trade is a notional in USD such as 1m, 250k or 500000, or off."
		}
		d.LargeTrade = v
	case "kyc-refresh":
		n, ok := parseMonths(value)
		if !ok {
			return true, fmt.Sprintf("kyc-refresh is months after the last assessment such as 12mo or 1y (at most %d months), or off.", store.MaxKYCRefreshMonths)
		}
		d.KYCRefresh = n
	case "goal-threshold":
		n, err := strconv.Atoi(strings.TrimSuffix(value, "%"))
		if err != nil || n < store.MinGoalThreshold || n > store.MaxGoalThresholdPct {
			return true, "goal-threshold is the progress at which a goal is reached, 1% to 100%."
		}
		d.GoalThreshold = n
	case "desk-zone":
		if value == "utc" || value == "off" || value == "none" {
			d.Zone = ""
			break
		}
		if _, ok := store.Location(raw); !ok || strings.TrimSpace(raw) == "" {
			return true, fmt.Sprintf("%q is not a time zone: use an IANA name such as America/Chicago.", raw)
		}
		d.Zone = raw
	default:
		return false, ""
	}
	return true, ""
}

// parseAmount reads 1m, 250k, 1.5m, 500000 or off (0).
func parseAmount(s string) (float64, bool) {
	if s == "off" || s == "0" || s == "none" {
		return 0, true
	}
	mult := 1.0
	switch {
	case strings.HasSuffix(s, "m"):
		mult, s = 1e6, strings.TrimSuffix(s, "m")
	case strings.HasSuffix(s, "k"):
		mult, s = 1e3, strings.TrimSuffix(s, "k")
	}
	v, err := strconv.ParseFloat(strings.ReplaceAll(s, ",", ""), 64)
	if err != nil || !(v > 0) || v*mult > 1e15 {
		return 0, false
	}
	return v * mult, true
}

// parseMonths reads 12mo, 18m, 1y, 2y or off (0).
func parseMonths(s string) (int, bool) {
	if s == "off" || s == "0" || s == "none" {
		return 0, true
	}
	mult := 1
	switch {
	case strings.HasSuffix(s, "mo"):
		s = strings.TrimSuffix(s, "mo")
	case strings.HasSuffix(s, "m"):
		s = strings.TrimSuffix(s, "m")
	case strings.HasSuffix(s, "y"):
		mult, s = 12, strings.TrimSuffix(s, "y")
	}
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 || n*mult > store.MaxKYCRefreshMonths {
		return 0, false
	}
	return n * mult, true
}

func describeMilestones(d *store.DeskMilestones) string {
	onOff := "on"
	if !d.Enabled {
		onOff = "off"
	}
	lead := "0"
	if d.Lead > 0 {
		lead = formatDelay(d.Lead)
	}
	large := "off"
	if d.LargeTrade > 0 {
		large = formatAmount(d.LargeTrade)
	}
	kyc := "off"
	if d.KYCRefresh > 0 {
		kyc = fmt.Sprintf("%dmo", d.KYCRefresh)
	}
	zone := d.Zone
	if zone == "" {
		zone = "UTC"
	}
	return fmt.Sprintf("milestones=%s milestone-lead=%s position-lead=%d large-trade=%s kyc-refresh=%s goal-threshold=%d%% desk-zone=%s",
		onOff, lead, d.PositionLead, large, kyc, d.GoalThreshold, zone)
}

func formatAmount(v float64) string {
	switch {
	case v >= 1e6 && v == float64(int64(v/1e4))*1e4:
		return strconv.FormatFloat(v/1e6, 'f', -1, 64) + "m"
	case v >= 1e3 && v == float64(int64(v/1e3))*1e3:
		return strconv.FormatFloat(v/1e3, 'f', -1, 64) + "k"
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

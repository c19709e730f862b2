package bot

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/brokersync/brokersync/store"
)

// profile renders a client's profile card: the fields a broker looks at
// before a call, then buttons for the timeline and a note.
func (b *Bot) profile(cl *store.Client, a *Actor) Response {
	title := cl.Name + " (" + cl.Handle + ")"
	var fs Fields
	add := func(label, value string) {
		if strings.TrimSpace(value) != "" {
			fs = append(fs, Field{label, value})
		}
	}
	add("Company", cl.Company)
	add("Desk", cl.Team)
	add("Broker", userRef(cl.Broker))
	stage := string(cl.Stage)
	if !cl.StageChangedAt.IsZero() {
		stage += " since " + cl.StageChangedAt.In(a.Location).Format("2006-01-02")
	}
	add("Stage", stage)
	add("Kind", string(cl.Kind))
	add("Accounts", strings.Join(cl.Accounts, ", "))
	add("Onboarded", cl.Onboarded.String())
	add("Risk", riskText(cl.Risk))
	add("Commodities", strings.Join(cl.Trading.Commodities, ", "))
	add("Instruments", joinList(cl.Trading.Instruments))
	add("Order types", joinList(cl.Trading.OrderTypes))
	add("Contact", contactText(cl.Contact))
	for _, p := range cl.Phones {
		add("Phone ("+string(p.Kind)+")", p.Number)
	}
	for _, e := range cl.Emails {
		add("Email ("+string(e.Kind)+")", e.Address)
	}
	for _, ad := range cl.Addresses {
		add("Address ("+string(ad.Kind)+")", joinNonEmpty(", ", ad.Street, ad.City, ad.Region, ad.PostalCode, ad.Country))
	}
	add("Time zone", cl.TimeZone)
	for i, g := range cl.Goals {
		add(fmt.Sprintf("Goal %d (%s)", i+1, g.Term), goalText(g))
	}
	add("Diversification", cl.Diversification)
	add("KYC", kycText(cl))
	add("Tags", strings.Join(cl.Tags, ", "))

	buttons := Actions{
		{Label: "Open timeline", Action: ActionOpenTimeline, Value: cl.Handle, Primary: true},
		{Label: "Add note", Action: ActionAddNote, Value: cl.Handle},
	}
	if u := b.timelineURL(cl.Handle, a.ID); u != "" {
		buttons = append(buttons, Button{Label: "Web timeline", URL: u})
	}
	text := fmt.Sprintf("%s — %s, %s", title, cl.Team, cl.Stage)
	return Response{Text: text, Blocks: []Block{
		Heading{title},
		fs,
		Context{fmt.Sprintf("Profile version %d, updated %s. Change it with /client set %s field=value.", cl.Version, formatTime(cl.UpdatedAt, a.Location), cl.Handle)},
		buttons,
	}}
}

func riskText(r store.Risk) string {
	var parts []string
	if r.Tolerance > 0 {
		parts = append(parts, fmt.Sprintf("%d/10 (%s)", r.Tolerance, store.RiskLabel(r.Tolerance)))
	}
	if r.Horizon != "" {
		parts = append(parts, string(r.Horizon)+" horizon")
	}
	if r.PositionLimit != nil {
		parts = append(parts, "position limit "+num(*r.PositionLimit)+" contracts")
	}
	if r.LossLimit != nil {
		parts = append(parts, "loss limit "+num(*r.LossLimit))
	}
	if !r.ReviewOn.IsZero() {
		parts = append(parts, "review "+r.ReviewOn.String())
	}
	return strings.Join(parts, ", ")
}

func contactText(p store.ContactPrefs) string {
	var parts []string
	if p.DoNotContact {
		dnc := "DO NOT CONTACT"
		if p.DoNotReason != "" {
			dnc += " (" + p.DoNotReason + ")"
		}
		parts = append(parts, dnc)
	}
	if len(p.Channels) > 0 {
		parts = append(parts, "by "+joinList(p.Channels))
	}
	if len(p.Times) > 0 {
		parts = append(parts, strings.Join(p.Times, ", "))
	}
	if p.Frequency != "" {
		parts = append(parts, string(p.Frequency))
	}
	return strings.Join(parts, "; ")
}

func goalText(g store.Goal) string {
	s := g.Description
	if g.Commodity != "" {
		s += " · " + g.Commodity
	}
	if g.Target != nil {
		s += " · target " + num(*g.Target)
	}
	if !g.Deadline.IsZero() {
		s += " · by " + g.Deadline.String()
	}
	if g.Progress > 0 {
		s += fmt.Sprintf(" · %s%% done", num(g.Progress))
	}
	return s
}

// kycText says which know-your-customer facts are on file, not the facts:
// income, net worth and birth date do not belong in a chat channel.
func kycText(cl *store.Client) string {
	if cl.Kind != store.Individual {
		return ""
	}
	k := cl.KYC
	var missing []string
	for _, f := range []struct {
		name string
		ok   bool
	}{
		{"occupation", k.Occupation != ""},
		{"income", k.AnnualIncome != nil},
		{"net worth", k.NetWorth != nil},
		{"date of birth", !k.DateOfBirth.IsZero()},
		{"investment experience", k.InvestmentExperience != ""},
		{"futures experience", k.FuturesExperience != ""},
	} {
		if !f.ok {
			missing = append(missing, f.name)
		}
	}
	if len(missing) == 0 {
		return "complete"
	}
	return "missing " + strings.Join(missing, ", ")
}

func joinList[T ~string](s []T) string {
	parts := make([]string, len(s))
	for i, v := range s {
		parts[i] = string(v)
	}
	return strings.Join(parts, ", ")
}

func joinNonEmpty(sep string, parts ...string) string {
	var out []string
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, sep)
}

func num(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

package web

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/brokersync/brokersync/store"
)

type field struct{ Label, Value string }

type fieldGroup struct {
	Title  string
	Fields []field
}

type goalView struct {
	store.Goal
	Term     string
	Detail   string
	Overdue  bool
	Progress float64
}

type auditRow struct {
	When, Actor, Field, Old, New string
}

type profileView struct {
	Nonce        string
	Client       *store.Client
	Timeline     string
	Zone         string
	Groups       []fieldGroup
	KYC          []field
	KYCAllowed   bool
	KYCOnFile    string
	Goals        []goalView
	ReviewDue    bool
	ReviewOn     string
	ReviewLate   bool
	Trades       *store.TradeStats
	Sentiment    *store.SentimentStats
	SentimentNow string
	Audit        []auditRow
}

// auditShown is how many audit entries the profile lists.
const auditShown = 100

func (p *Pages) profile(w http.ResponseWriter, r *http.Request) {
	viewer, c := p.open(w, r)
	if c == nil {
		return
	}
	ctx := r.Context()
	names := p.Names.Memo()
	loc, _, _ := p.zones(ctx, names, viewer, c)
	now := p.Now()
	nonce, err := newNonce()
	if err != nil {
		p.fail(w, err)
		return
	}
	v := profileView{Nonce: nonce, Client: c, Zone: loc.String(), Timeline: "/clients/" + url.PathEscape(c.Handle) + "/timeline"}
	date := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.In(loc).Format("2 Jan 2006 15:04 MST")
	}
	group := func(title string, fs ...field) {
		var kept []field
		for _, f := range fs {
			if strings.TrimSpace(f.Value) != "" {
				kept = append(kept, f)
			}
		}
		if len(kept) > 0 {
			v.Groups = append(v.Groups, fieldGroup{title, kept})
		}
	}
	stage := string(c.Stage)
	if !c.StageChangedAt.IsZero() {
		stage += " since " + c.StageChangedAt.In(loc).Format("2 Jan 2006")
	}
	group("Identity",
		field{"Name", c.Name}, field{"Handle", c.Handle}, field{"Company", c.Company}, field{"Kind", string(c.Kind)},
		field{"Accounts", strings.Join(c.Accounts, ", ")}, field{"Broker", names.User(ctx, c.Broker)}, field{"Desk", c.Team},
		field{"Onboarded", c.Onboarded.String()}, field{"Stage", stage}, field{"Time zone", c.TimeZone},
		field{"Created", date(c.CreatedAt)}, field{"Last changed", date(c.UpdatedAt)})
	var contact []field
	for _, ph := range c.Phones {
		contact = append(contact, field{"Phone (" + string(ph.Kind) + ")", ph.Number})
	}
	for _, e := range c.Emails {
		contact = append(contact, field{"Email (" + string(e.Kind) + ")", e.Address})
	}
	for _, a := range c.Addresses {
		contact = append(contact, field{"Address (" + string(a.Kind) + ")", joinNonEmpty(", ", a.Street, a.City, a.Region, a.PostalCode, a.Country)})
	}
	group("Contact", contact...)
	dnc := ""
	if c.Contact.DoNotContact {
		dnc = "yes"
		if c.Contact.DoNotReason != "" {
			dnc += ": " + c.Contact.DoNotReason
		}
	}
	group("Communication preferences",
		field{"Channels, in order", joinAny(c.Contact.Channels)}, field{"Preferred times", strings.Join(c.Contact.Times, ", ")},
		field{"Frequency", string(c.Contact.Frequency)}, field{"Do not contact", dnc})
	group("Trading preferences",
		field{"Commodities", strings.Join(c.Trading.Commodities, ", ")}, field{"Instruments", joinAny(c.Trading.Instruments)},
		field{"Order types", joinAny(c.Trading.OrderTypes)})
	tol := ""
	if c.Risk.Tolerance > 0 {
		tol = fmt.Sprintf("%d/10 (%s)", c.Risk.Tolerance, store.RiskLabel(c.Risk.Tolerance))
	}
	group("Risk and suitability",
		field{"Tolerance", tol}, field{"Horizon", string(c.Risk.Horizon)},
		field{"Position limit", withUnit(formatMoney(c.Risk.PositionLimit), " contracts")}, field{"Loss limit", formatMoney(c.Risk.LossLimit)},
		field{"Last assessed", c.Risk.AssessedOn.String()}, field{"Next review", c.Risk.ReviewOn.String()})
	group("Strategy", field{"Diversification", c.Diversification}, field{"Tags", strings.Join(c.Tags, ", ")})

	today := store.DateOf(now.In(loc))
	if !c.Risk.ReviewOn.IsZero() && !today.Before(c.Risk.ReviewOn) {
		v.ReviewDue, v.ReviewOn, v.ReviewLate = true, c.Risk.ReviewOn.String(), c.Risk.ReviewOn.Before(today)
	}
	for _, g := range c.Goals {
		gv := goalView{Goal: g, Term: string(g.Term) + "-term", Progress: clamp(g.Progress, 0, 100)}
		var parts []string
		if g.Commodity != "" {
			parts = append(parts, g.Commodity)
		}
		if g.Target != nil {
			parts = append(parts, "target "+formatNumber(*g.Target))
		}
		if !g.Deadline.IsZero() {
			parts = append(parts, "by "+g.Deadline.String())
			gv.Overdue = g.Deadline.Before(today) && g.Progress < 100
		}
		gv.Detail = strings.Join(parts, " · ")
		v.Goals = append(v.Goals, gv)
	}

	if c.Kind == store.Individual {
		if kr, ok := p.Rights.(KYCRights); ok {
			if v.KYCAllowed, err = kr.CanSeeKYC(ctx, viewer, c); err != nil {
				p.fail(w, err)
				return
			}
		}
		k := c.KYC
		all := []field{
			{"Occupation", k.Occupation}, {"Estimated annual income", formatMoney(k.AnnualIncome)}, {"Estimated net worth", formatMoney(k.NetWorth)},
			{"Date of birth", k.DateOfBirth.String()}, {"Investment experience", k.InvestmentExperience}, {"Futures experience", k.FuturesExperience},
		}
		var have, missing []string
		for _, f := range all {
			if f.Value != "" {
				have = append(have, strings.ToLower(f.Label))
			} else {
				missing = append(missing, strings.ToLower(f.Label))
			}
		}
		switch {
		case len(missing) == 0:
			v.KYCOnFile = "complete"
		case len(have) == 0:
			v.KYCOnFile = "nothing on file"
		default:
			v.KYCOnFile = "missing " + strings.Join(missing, ", ")
		}
		if v.KYCAllowed {
			for _, f := range all {
				if f.Value == "" {
					f.Value = "—"
				}
				v.KYC = append(v.KYC, f)
			}
		}
	}

	if p.Trades != nil {
		if ts, err := p.Trades.TradeStats(ctx, c.ID, now); err == nil {
			v.Trades = &ts
		} else {
			p.Logger.Warn("profile: trade statistics", slog.Any("err", err))
		}
	}
	if p.Sentiment != nil {
		if ss, err := p.Sentiment.SentimentStats(ctx, c.ID, now); err == nil && ss.Count30d > 0 {
			v.Sentiment = &ss
			v.SentimentNow = store.DescribeMeanSentiment(ss.Mean30d)
		} else if err != nil {
			p.Logger.Warn("profile: sentiment statistics", slog.Any("err", err))
		}
	}

	trail, err := p.Clients.AuditTrail(ctx, c.ID, auditShown)
	if err != nil {
		p.fail(w, err)
		return
	}
	for _, a := range trail {
		old, nw := a.Old, a.New
		if isKYCField(a.Field) && !v.KYCAllowed {
			old, nw = hideValue(old), hideValue(nw)
		}
		v.Audit = append(v.Audit, auditRow{When: date(a.At), Actor: names.User(ctx, a.Actor), Field: a.Field, Old: old, New: nw})
	}
	p.render(w, "profile.html", nonce, v)
}

// isKYCField reports whether an audited field is a know-your-customer fact,
// whose values the trail hides from those who may not read them.
func isKYCField(f string) bool {
	return strings.HasPrefix(strings.ToLower(f), "kyc")
}

func hideValue(s string) string {
	if s == "" {
		return ""
	}
	return "(hidden)"
}

func withUnit(s, unit string) string {
	if s == "" {
		return ""
	}
	return s + unit
}

func joinNonEmpty(sep string, parts ...string) string {
	var kept []string
	for _, s := range parts {
		if strings.TrimSpace(s) != "" {
			kept = append(kept, s)
		}
	}
	return strings.Join(kept, sep)
}

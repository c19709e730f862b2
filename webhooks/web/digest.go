package web

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/brokersync/brokersync/bot"
	"github.com/brokersync/brokersync/reminders"
	"github.com/brokersync/brokersync/store"
)

// digestView is the managers' digest page: the same Digest the Slack
// digest and /digest now render, as HTML.
type digestView struct {
	Nonce   string
	Zone    string
	Desks   []string // the desks the viewer manages (admins: every desk)
	Desk    string
	Digests []*digestShown
	Choose  bool // an admin managing no desk: pick one
}

// digestShown is one desk's digest with what its template needs to name
// people and times.
type digestShown struct {
	*reminders.Digest
	ctx   context.Context
	names *bot.Names
}

// Who names a Slack user.
func (d *digestShown) Who(id string) string { return d.names.User(d.ctx, id) }

// When shows a time in the viewer's zone.
func (d *digestShown) When(t time.Time) string { return t.In(d.Loc).Format("Mon 2 Jan 15:04 MST") }

// Day shows a day in the viewer's zone.
func (d *digestShown) Day(t time.Time) string { return t.In(d.Loc).Format("Mon 2 Jan") }

// Period is the digest's period, in the viewer's zone.
func (d *digestShown) Period() string {
	return fmt.Sprintf("%s to %s", d.When(d.From), d.When(d.To))
}

// Timeline links to a client's timeline.
func (d *digestShown) Timeline(c reminders.ClientRef) string { return clientPath(c.Handle, "timeline") }

// Text shows a digest line with Slack mentions as names.
func (d *digestShown) Text(s string) string { return d.names.Text(d.ctx, s) }

// digest serves GET /desk/digest: for managers, the digest of their desks
// (or of ?desk=) over the last day up to now, as /digest now shows it.
func (p *Pages) digest(w http.ResponseWriter, r *http.Request) {
	v := p.openDesk(w, r)
	if v == nil {
		return
	}
	if p.Digests == nil {
		http.Error(w, "Digests are not set up on this BrokerSync.", http.StatusNotFound)
		return
	}
	ctx := r.Context()
	desks := v.scope.Manages
	if v.desk != "" {
		desks = []string{v.desk}
	}
	view := digestView{Zone: v.loc.String(), Desk: v.desk}
	for _, d := range desks {
		if !v.scope.CanManage(d) {
			p.Logger.Info("digest page refused: not their desk", slog.String("user", v.user), slog.String("desk", d))
			http.Error(w, "Only a manager of "+d+" or an admin may read its digest.", http.StatusForbidden)
			return
		}
	}
	if len(desks) == 0 && !v.scope.Admin {
		http.Error(w, "Digests are for desk managers; you manage no desk now.", http.StatusForbidden)
		return
	}
	all, err := p.deskChoices(ctx, v)
	if err != nil {
		p.fail(w, err)
		return
	}
	for _, d := range all {
		if v.scope.CanManage(d) {
			view.Desks = append(view.Desks, d)
		}
	}
	view.Choose = len(desks) == 0
	for _, desk := range desks {
		now := p.Now()
		d, err := p.Digests.Preview(ctx, desk, now, v.loc)
		if reminders.IsNoDesk(err) {
			// A desk with a manager only: nothing to tell yet.
			d, err = &reminders.Digest{Desk: desk, From: now.AddDate(0, 0, -1), To: now, Loc: v.loc, Preview: true, Frequency: store.DigestDaily}, nil
		}
		if err != nil {
			p.fail(w, err)
			return
		}
		view.Digests = append(view.Digests, &digestShown{Digest: d, ctx: ctx, names: v.names})
	}
	if view.Nonce, err = newNonce(); err != nil {
		p.fail(w, err)
		return
	}
	p.render(w, "digest.html", view.Nonce, view)
}

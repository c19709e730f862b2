package bot

import (
	"context"
	"slices"
	"strings"

	"github.com/brokersync/brokersync/store"
)

// /desk [desk]
func deskCmd(ctx context.Context, c *call) Response {
	if c.b.deskURL == nil {
		return textResponse(Failed, "The web pages are not set up on this BrokerSync: ask an admin to set BROKERSYNC_PUBLIC_URL.")
	}
	if c.args.Len() > 1 {
		return c.usageError("Name one desk, or none for every desk you are on.")
	}
	a := c.actor
	desk, manages := "", a.Admin || len(a.Manages) > 0
	if c.args.Len() == 1 {
		d, r := c.deskNamed(ctx, c.args.At(0).Text)
		if r != nil {
			return *r
		}
		desk, manages = d, a.Admin || slices.Contains(a.Manages, d)
	}
	what := "every desk you are on"
	if desk != "" {
		what = desk
	} else if a.Admin {
		what = "every desk"
	}
	buttons := Actions{{Label: "Desk page", URL: c.b.deskURL(a.ID, desk, false), Primary: true}}
	if manages {
		buttons = append(buttons, Button{Label: "Digest", URL: c.b.deskURL(a.ID, desk, true)})
	}
	text := "The web pages of " + what + ": clients, segments and follow-ups"
	if manages {
		text += ", and the digest"
	}
	text += ". The links are for you alone and last 24 hours; the pages show only what you may see when you open them."
	return Response{Text: text, Blocks: []Block{Paragraph{text}, buttons}}
}

// deskNamed checks a desk the actor named: one they are on, or for an
// admin any desk with someone on it.
func (c *call) deskNamed(ctx context.Context, name string) (string, *Response) {
	desk, err := store.NormalizeHandle(name)
	if err != nil {
		r := c.usageError("%q is not a desk name.", name)
		return "", &r
	}
	if !c.actor.Admin {
		if c.actor.canSee(desk) {
			return desk, nil
		}
		r := textResponse(Refused, "You are on %s, not %s: the desk pages show only your own desks.", strings.Join(c.actor.visibleDesks(), ", "), desk)
		return "", &r
	}
	if r := c.deskWithPeople(ctx, desk); r != nil {
		return "", r
	}
	return desk, nil
}

// deskWithPeople checks that someone is on a desk an admin named.
func (c *call) deskWithPeople(ctx context.Context, desk string) *Response {
	ms, err := c.b.teams.Members(ctx, desk)
	if err != nil {
		r := c.b.fail(err, "look up the desk")
		return &r
	}
	if len(ms) == 0 {
		r := textResponse(NotFound, "There is no desk %q.", desk)
		return &r
	}
	return nil
}

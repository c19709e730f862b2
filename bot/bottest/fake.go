// Package bottest holds what tests of the bot and its transports share: a
// directory of Slack users, a small sentiment scorer, a timeline that can be
// made to fail, and the real PostgreSQL and Cassandra in a database and
// keyspace of their own. The fake Slack is bot/slack/slacktest.
package bottest

import (
	"context"
	"slices"
	"strings"
	"sync"

	"github.com/brokersync/brokersync/bot"
	"github.com/brokersync/brokersync/ingest/sentiment"
	"github.com/brokersync/brokersync/store"
)

// Directory is a bot.Directory (and bot.ChannelDirectory) over a fixed set
// of users and channels. Lookups of unknown ids fail, as users.info,
// conversations.info and conversations.members do.
type Directory struct {
	mu       sync.Mutex
	users    map[string]bot.User
	channels map[string]bot.Channel
	members  map[string][]string // channel -> members
}

// NewDirectory returns a directory holding users.
func NewDirectory(users ...bot.User) *Directory {
	d := &Directory{users: map[string]bot.User{}, channels: map[string]bot.Channel{}, members: map[string][]string{}}
	for _, u := range users {
		d.Add(u)
	}
	return d
}

// Add adds or replaces a user.
func (d *Directory) Add(u bot.User) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.users[u.ID] = u
}

// User implements bot.Directory.
func (d *Directory) User(_ context.Context, id string) (bot.User, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	u, ok := d.users[id]
	if !ok {
		return bot.User{}, store.Errorf(store.ENOTFOUND, "user_not_found")
	}
	return u, nil
}

// AddChannel adds or renames a channel.
func (d *Directory) AddChannel(c bot.Channel) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.channels[c.ID] = c
}

// Channel implements bot.ChannelDirectory; unknown ids fail, as
// conversations.info does.
func (d *Directory) Channel(_ context.Context, id string) (bot.Channel, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	c, ok := d.channels[id]
	if !ok {
		return bot.Channel{}, store.Errorf(store.ENOTFOUND, "channel_not_found")
	}
	return c, nil
}

// AddMembers makes a channel the app can see, with these members.
func (d *Directory) AddMembers(channel string, members ...string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.members[channel] = append(d.members[channel], members...)
}

// InChannel implements bot.Directory.
func (d *Directory) InChannel(_ context.Context, channel, user string) (bool, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	ms, ok := d.members[channel]
	if !ok {
		return false, store.Errorf(store.ENOTFOUND, "channel_not_found")
	}
	return slices.Contains(ms, user), nil
}

// Scorer is a tiny lexicon scorer (an ingest.Scorer), so tests can tell a
// happy client from an unhappy one without the real model.
var Scorer lexicon

type lexicon struct{}

// Score implements ingest.Scorer.
func (lexicon) Score(text string) sentiment.Result {
	t := strings.ToLower(text)
	score := 0.0
	for _, w := range []string{"great", "thanks", "happy", "good"} {
		if strings.Contains(t, w) {
			score += 0.6
		}
	}
	for _, w := range []string{"not happy", "slippage", "unhappy", "bad", "angry"} {
		if strings.Contains(t, w) {
			score -= 0.8
		}
	}
	score = max(-1, min(1, score))
	label := sentiment.Neutral
	switch {
	case score > 0.1:
		label = sentiment.Positive
	case score < -0.1:
		label = sentiment.Negative
	}
	return sentiment.Result{Label: label, Score: score}
}

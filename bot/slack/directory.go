package slack

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/slack-go/slack"
	"golang.org/x/sync/singleflight"

	"github.com/brokersync/brokersync/bot"
	"github.com/brokersync/brokersync/store"
)

// NewAPI returns a Slack Web API client for the bot token that waits out a
// 429 as long as Retry-After asks, up to three times. apiURL "" means Slack's.
func NewAPI(botToken, apiURL string, options ...slack.Option) *slack.Client {
	opts := []slack.Option{slack.OptionHTTPClient(&http.Client{Timeout: 15 * time.Second})}
	if apiURL != "" {
		opts = append(opts, slack.OptionAPIURL(apiURL))
	}
	opts = append(opts, options...)
	cfg := slack.DefaultRetryConfig()
	cfg.RetryAfterDuration = 5 * time.Second // when a 429 comes without Retry-After
	opts = append(opts, slack.OptionRetryConfig(cfg))
	return slack.New(botToken, opts...)
}

// Directory is a bot.Directory over users.info, with a cache: a user's
// name, email, time zone and admin flags change rarely, and users.info is
// rate limited (Tier 4, about 100 calls a minute).
type Directory struct {
	api    *slack.Client
	ttl    time.Duration
	logger *slog.Logger
	now    func() time.Time

	mu       sync.Mutex
	cache    map[string]cached
	channels map[string]cachedChannel
	calls    singleflight.Group
}

type cachedChannel struct {
	channel bot.Channel
	at      time.Time
}

type cached struct {
	user bot.User
	at   time.Time
}

// NewDirectory returns a directory whose entries live for ttl (0: 10 minutes).
func NewDirectory(api *slack.Client, ttl time.Duration, logger *slog.Logger) *Directory {
	if ttl <= 0 {
		ttl = 10 * time.Minute
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Directory{api: api, ttl: ttl, logger: logger, now: time.Now, cache: map[string]cached{}, channels: map[string]cachedChannel{}}
}

// User implements bot.Directory. Concurrent lookups of one user make one
// call; when Slack cannot be asked, a stale entry is better than none.
func (d *Directory) User(ctx context.Context, id string) (bot.User, error) {
	d.mu.Lock()
	c, ok := d.cache[id]
	d.mu.Unlock()
	if ok && d.now().Sub(c.at) < d.ttl {
		return c.user, nil
	}
	v, err, _ := d.calls.Do(id, func() (any, error) {
		// The lookup outlives one caller's cancellation: others may wait on it.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		su, err := d.api.GetUserInfoContext(ctx, id)
		if err != nil {
			return nil, err
		}
		u := toUser(su)
		d.mu.Lock()
		d.cache[id] = cached{u, d.now()}
		d.mu.Unlock()
		return u, nil
	})
	if err != nil {
		if ok {
			d.logger.Warn("users.info failed; using the cached entry", slog.String("user", id), slog.Any("err", err))
			return c.user, nil
		}
		var se slack.SlackErrorResponse
		if errors.As(err, &se) && se.Err == "user_not_found" {
			return bot.User{}, store.Errorf(store.ENOTFOUND, "no Slack user %s", id)
		}
		return bot.User{}, store.Unavailable("Slack users.info", err)
	}
	return v.(bot.User), nil
}

// InChannel implements bot.Directory with conversations.members, page by
// page until the user is found. Membership is not cached: it is asked when
// a channel is linked, rarely, and must be current.
func (d *Directory) InChannel(ctx context.Context, channel, user string) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	p := &slack.GetUsersInConversationParameters{ChannelID: channel, Limit: 1000}
	for {
		members, next, err := d.api.GetUsersInConversationContext(ctx, p)
		if err != nil {
			var se slack.SlackErrorResponse
			switch {
			case errors.As(err, &se) && se.Err == "channel_not_found":
				return false, store.Errorf(store.ENOTFOUND, "the app cannot see channel %s", channel)
			case errors.As(err, &se) && se.Err == "missing_scope":
				// An app installed before /client link asked Slack.
				return false, store.Errorf(store.EFORBIDDEN, "the Slack app lacks the channels:read and groups:read scopes; an admin must reinstall it from slack-app-manifest.yaml")
			}
			return false, store.Unavailable("Slack conversations.members", err)
		}
		if slices.Contains(members, user) {
			return true, nil
		}
		if next == "" {
			return false, nil
		}
		p.Cursor = next
	}
}

func toUser(su *slack.User) bot.User {
	name := su.Profile.DisplayName
	if name == "" {
		name = su.Name
	}
	return bot.User{
		ID: su.ID, Name: name, TimeZone: su.TZ,
		Admin:   su.IsAdmin || su.IsOwner || su.IsPrimaryOwner,
		Bot:     su.IsBot || su.IsAppUser,
		Deleted: su.Deleted,
	}
}

// Channel implements bot.ChannelDirectory over conversations.info, cached
// like users: channel names change rarely.
func (d *Directory) Channel(ctx context.Context, id string) (bot.Channel, error) {
	d.mu.Lock()
	c, ok := d.channels[id]
	d.mu.Unlock()
	if ok && d.now().Sub(c.at) < d.ttl {
		return c.channel, nil
	}
	v, err, _ := d.calls.Do("#"+id, func() (any, error) {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		sc, err := d.api.GetConversationInfoContext(ctx, &slack.GetConversationInfoInput{ChannelID: id})
		if err != nil {
			return nil, err
		}
		ch := bot.Channel{ID: sc.ID, Name: sc.Name}
		d.mu.Lock()
		d.channels[id] = cachedChannel{ch, d.now()}
		d.mu.Unlock()
		return ch, nil
	})
	if err != nil {
		if ok {
			d.logger.Warn("conversations.info failed; using the cached entry", slog.String("channel", id), slog.Any("err", err))
			return c.channel, nil
		}
		var se slack.SlackErrorResponse
		if errors.As(err, &se) && se.Err == "channel_not_found" {
			return bot.Channel{}, store.Errorf(store.ENOTFOUND, "no Slack channel %s", id)
		}
		return bot.Channel{}, store.Unavailable("Slack conversations.info", err)
	}
	return v.(bot.Channel), nil
}

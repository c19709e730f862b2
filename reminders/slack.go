package reminders

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/slack-go/slack"
)

// MetadataEventType is the event_type of the metadata every reminder
// message carries, with the reminder's id in its payload: how a replica
// finds a message Slack accepted but whose ts was never recorded.
const MetadataEventType = "brokersync_reminder"

// Message is what a reminder posts.
type Message struct {
	Text   string
	Blocks []slack.Block
}

// Slack is what the scheduler needs of Slack's Web API.
type Slack interface {
	// OpenDM returns the id of the direct message channel with a user.
	OpenDM(ctx context.Context, user string) (string, error)
	// Post posts m to channel with the reminder id in its metadata and
	// returns the message's ts.
	Post(ctx context.Context, channel string, id uuid.UUID, m Message) (string, error)
	// FindPosted looks in channel's history since since for a message
	// carrying reminder id in its metadata; "" if there is none.
	FindPosted(ctx context.Context, channel string, id uuid.UUID, since time.Time) (string, error)
}

// RateLimited is a 429 from Slack: wait RetryAfter before calling Method
// for the channel again.
type RateLimited struct {
	Method     string
	RetryAfter time.Duration
}

func (e *RateLimited) Error() string {
	return fmt.Sprintf("slack %s: rate limited, retry after %s", e.Method, e.RetryAfter)
}

// retryIn is how long to wait before trying again after err: a 429's
// Retry-After (at least a second), else wait.
func retryIn(err error, wait time.Duration) time.Duration {
	var rl *RateLimited
	if errors.As(err, &rl) {
		return max(rl.RetryAfter, time.Second)
	}
	return wait
}

// historyPages bounds how far back FindPosted looks: Slack answers at most
// 200 messages a page, and a reminder left in flight is among the channel's
// latest messages unless the lease was very long.
const historyPages = 5

// SlackAPI is Slack over slack-go. The client should not retry 429s itself
// (no slack.OptionRetryConfig): the scheduler reschedules a limited
// reminder rather than holding its lease while it waits.
type SlackAPI struct {
	api *slack.Client
	dms sync.Map // user -> DM channel id; Slack keeps them for good
}

// NewSlackAPI returns a Slack over api.
func NewSlackAPI(api *slack.Client) *SlackAPI { return &SlackAPI{api: api} }

// NewSlackClient returns a slack-go client for the scheduler: a request
// timeout well inside the claim lease, and no retries of its own.
func NewSlackClient(botToken, apiURL string) *slack.Client {
	// Posts go out many at once, to one host: keep their connections, or
	// each post waits for a new one.
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 64
	opts := []slack.Option{slack.OptionHTTPClient(&http.Client{Timeout: 15 * time.Second, Transport: tr})}
	if apiURL != "" {
		opts = append(opts, slack.OptionAPIURL(apiURL))
	}
	return slack.New(botToken, opts...)
}

// OpenDM implements Slack.
func (s *SlackAPI) OpenDM(ctx context.Context, user string) (string, error) {
	if ch, ok := s.dms.Load(user); ok {
		return ch.(string), nil
	}
	ch, _, _, err := s.api.OpenConversationContext(ctx, &slack.OpenConversationParameters{Users: []string{user}, ReturnIM: true})
	if err != nil {
		return "", slackError("conversations.open", err)
	}
	s.dms.Store(user, ch.ID)
	return ch.ID, nil
}

// Post implements Slack.
func (s *SlackAPI) Post(ctx context.Context, channel string, id uuid.UUID, m Message) (string, error) {
	opts := []slack.MsgOption{
		slack.MsgOptionText(m.Text, false),
		slack.MsgOptionMetadata(slack.SlackMetadata{EventType: MetadataEventType, EventPayload: map[string]any{"reminder_id": id.String()}}),
	}
	if len(m.Blocks) > 0 {
		opts = append(opts, slack.MsgOptionBlocks(m.Blocks...))
	}
	_, ts, err := s.api.PostMessageContext(ctx, channel, opts...)
	if err != nil {
		return "", slackError("chat.postMessage", err)
	}
	return ts, nil
}

// FindPosted implements Slack.
func (s *SlackAPI) FindPosted(ctx context.Context, channel string, id uuid.UUID, since time.Time) (string, error) {
	params := &slack.GetConversationHistoryParameters{
		ChannelID: channel, Limit: 200, IncludeAllMetadata: true,
		Oldest: fmt.Sprintf("%d.000000", since.Unix()),
	}
	want := id.String()
	for range historyPages {
		resp, err := s.api.GetConversationHistoryContext(ctx, params)
		if err != nil {
			return "", slackError("conversations.history", err)
		}
		for _, m := range resp.Messages {
			if m.Metadata.EventType == MetadataEventType && fmt.Sprint(m.Metadata.EventPayload["reminder_id"]) == want {
				return m.Timestamp, nil
			}
		}
		if !resp.HasMore || resp.ResponseMetaData.NextCursor == "" {
			return "", nil
		}
		params.Cursor = resp.ResponseMetaData.NextCursor
	}
	return "", nil
}

func slackError(method string, err error) error {
	var rl *slack.RateLimitedError
	if errors.As(err, &rl) {
		return &RateLimited{Method: method, RetryAfter: rl.RetryAfter}
	}
	return fmt.Errorf("slack %s: %w", method, err)
}

// PostReply implements DigestSlack.
func (s *SlackAPI) PostReply(ctx context.Context, channel, ts string, m Message) (string, error) {
	opts := []slack.MsgOption{slack.MsgOptionText(m.Text, false), slack.MsgOptionTS(ts)}
	if len(m.Blocks) > 0 {
		opts = append(opts, slack.MsgOptionBlocks(m.Blocks...))
	}
	_, reply, err := s.api.PostMessageContext(ctx, channel, opts...)
	if err != nil {
		return "", slackError("chat.postMessage", err)
	}
	return reply, nil
}

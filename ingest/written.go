package ingest

import (
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/brokersync/brokersync/store"
)

// Written is what a person puts on a client's timeline with a command: a
// logged call, meeting, chat or email, a note, feedback, a recommendation,
// a reminder set or cancelled, a channel linked.
type Written struct {
	Client   uuid.UUID
	Kind     store.Kind
	Source   store.Source // store.SourceCommand, store.SourceLink; the demo's chats store.SourceSlack
	SourceID string       // the request's id, so that a retried request is one event
	Actor    string       // who wrote it
	At       time.Time
	Text     string // their words: the first line is the summary
}

// Event returns w's timeline event, for the caller to add the kind's
// attributes to before recording it.
func (w Written) Event() *store.Event {
	summary, body := Summarize(w.Text)
	return &store.Event{
		ClientID: w.Client, Time: w.At, Kind: w.Kind,
		Source: w.Source, SourceID: w.SourceID, Actor: w.Actor,
		Summary: summary, Body: body,
	}
}

// Summarize makes a summary of a text's first line; the whole text is the
// body when the summary does not hold it all.
func Summarize(text string) (summary, body string) {
	text = strings.TrimSpace(text)
	first, _, _ := strings.Cut(text, "\n")
	summary, cut := store.Excerpt(strings.TrimSpace(first), 200)
	if cut || first != text {
		body = text
	}
	return summary, body
}

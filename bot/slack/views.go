package slack

import (
	"encoding/json"

	"github.com/slack-go/slack"

	"github.com/brokersync/brokersync/store"
)

// A modal carries what its submission needs in private_metadata, which
// Slack caps at 3,000 characters.
const maxMetadata = 3000

type noteMeta struct {
	Handle  string `json:"h"`
	Channel string `json:"c,omitempty"`
}

type logMeta struct {
	Channel     string `json:"c"`
	TS          string `json:"ts"`
	User        string `json:"u,omitempty"`
	Text        string `json:"t"`
	ResponseURL string `json:"r,omitempty"`
}

type callMeta struct {
	Reminder    string `json:"id"`
	Channel     string `json:"c,omitempty"`
	TS          string `json:"ts,omitempty"`
	ResponseURL string `json:"r,omitempty"`
}

// callModal asks what was said on the call a reminder was about.
func callModal(meta callMeta) slack.ModalViewRequest {
	b, _ := json.Marshal(meta)
	input := slack.NewPlainTextInputBlockElement(plainText("Spoke to Tom: wants Dec corn quotes Monday"), "summary")
	input.Multiline, input.MaxLength, input.FocusOnLoad = true, 3000, true
	return slack.ModalViewRequest{
		Type: slack.VTModal, CallbackID: callbackLogCall, PrivateMetadata: string(b),
		Title: plainText("Log call"), Submit: plainText("Log and close"), Close: plainText("Cancel"),
		Blocks: slack.Blocks{BlockSet: []slack.Block{
			slack.NewContextBlock("", mrkdwn("The call goes on the client's timeline and the reminder is closed.")),
			slack.NewInputBlock("call", plainText("What was said?"), nil, input),
		}},
	}
}

func plainText(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.PlainTextType, s, false, false)
}

// noteModal asks for a note on a client.
func noteModal(meta noteMeta) slack.ModalViewRequest {
	b, _ := json.Marshal(meta)
	input := slack.NewPlainTextInputBlockElement(plainText("What should the desk know?"), "text")
	input.Multiline, input.MaxLength, input.FocusOnLoad = true, 3000, true
	return slack.ModalViewRequest{
		Type: slack.VTModal, CallbackID: callbackAddNote, PrivateMetadata: string(b),
		Title: plainText("Add a note"), Submit: plainText("Save"), Close: plainText("Cancel"),
		Blocks: slack.Blocks{BlockSet: []slack.Block{
			slack.NewContextBlock("", mrkdwn("Internal note on *"+escape(meta.Handle)+"*, for the desk. Mention colleagues with @.")),
			slack.NewInputBlock("note", plainText("Note"), nil, input),
		}},
	}
}

// logModal asks which client a message is about.
func logModal(meta logMeta) slack.ModalViewRequest {
	// The message text rides along in the metadata; a very long one is cut
	// to fit, as the timeline cuts bodies anyway.
	var b []byte
	for limit := 2400; ; limit -= 200 {
		b, _ = json.Marshal(meta)
		if len(b) <= maxMetadata || limit <= 0 {
			break
		}
		meta.Text, _ = store.Excerpt(meta.Text, limit)
	}
	input := slack.NewPlainTextInputBlockElement(plainText("acme-grain, an email or a phone number"), "ref")
	input.FocusOnLoad = true
	excerpt, _ := store.Excerpt(meta.Text, 500)
	return slack.ModalViewRequest{
		Type: slack.VTModal, CallbackID: callbackLogToClient, PrivateMetadata: string(b),
		Title: plainText("Log to client"), Submit: plainText("Log"), Close: plainText("Cancel"),
		Blocks: slack.Blocks{BlockSet: []slack.Block{
			slack.NewSectionBlock(mrkdwn(">"+excerpt), nil, nil),
			slack.NewInputBlock("client", plainText("Client"), plainText("This channel is not linked to a client; /client link <client> here links it for good."), input),
		}},
	}
}

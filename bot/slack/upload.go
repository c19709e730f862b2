package slack

import (
	"bytes"
	"context"
	"log/slog"

	"github.com/slack-go/slack"

	"github.com/brokersync/brokersync/bot"
)

// deliverFile uploads an answer's attachment (an exported CSV) to the
// direct messages of whoever asked, with files.uploadV2 (Slack's
// getUploadURLExternal, the upload, then completeUploadExternal), and
// returns the answer that says where it went. The file is private to the
// person who asked, like the answer. When Slack refuses the upload the
// answer keeps the attachment, shown inline when small.
func (h *Handler) deliverFile(ctx context.Context, user string, resp bot.Response) bot.Response {
	f := resp.File
	if f == nil || resp.Status != bot.OK || len(f.Content) == 0 {
		return resp
	}
	dm, _, _, err := h.api.OpenConversationContext(ctx, &slack.OpenConversationParameters{Users: []string{user}, ReturnIM: true})
	if err == nil {
		title := f.Title
		if title == "" {
			title = f.Name
		}
		_, err = h.api.UploadFileContext(ctx, slack.UploadFileParameters{
			Reader: bytes.NewReader(f.Content), FileSize: len(f.Content), Filename: f.Name, Title: title,
			SnippetType: f.Type, Channel: dm.ID, InitialComment: resp.Text,
		})
	}
	if err != nil {
		h.log.Warn("export not uploaded to Slack", slog.String("file", f.Name), slog.Any("err", err))
		resp.Text += " Slack did not take the file, so it is shown here; `brokersync export clients --segment …` writes it too."
		return resp
	}
	const where = " The file is in your direct messages with BrokerSync."
	resp.Text += where
	if len(resp.Blocks) > 0 {
		resp.Blocks = append(resp.Blocks, bot.Context{Text: f.Name + where})
	}
	resp.File = nil
	return resp
}

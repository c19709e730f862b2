package imap

import (
	"context"
	"fmt"
	"time"

	goimap "github.com/emersion/go-imap/v2"
)

// CheckReport is what Check found in a mailbox.
type CheckReport struct {
	Mailbox     MailboxConfig
	Mechanism   string    // LOGIN, XOAUTH2 or OAUTHBEARER
	TokenExpiry time.Time // OAuth2: when the token used expires
	Folders     int       // folders on the account (LIST)
	UIDValidity uint32
	Messages    uint32
	// Newest is the arrival time of the folder's last message and its
	// Date and Subject, when the folder holds one.
	Newest        time.Time
	NewestDate    time.Time
	NewestSubject string
}

// Check connects to the mailbox, signs in as serve would, lists the
// account's folders and examines the folder (read-only), and says what it
// found. It stores nothing and changes nothing on the server. Of opts,
// TLSConfig and HTTPClient (token requests) are used.
func Check(ctx context.Context, cfg MailboxConfig, opts Options) (*CheckReport, error) {
	opts.Mailbox = cfg
	in := &Ingester{cfg: cfg, opts: opts, metrics: NewMetrics(nil)}
	in.log = discardLogger()
	if cfg.OAuth != nil {
		in.tokens = newTokens(cfg.OAuth, opts.HTTPClient)
	}
	ctx, cancel := context.WithTimeout(ctx, 2*commandTimeout)
	defer cancel()
	c, release, err := in.connect(ctx, make(chan struct{}, 1))
	if err != nil {
		return nil, err
	}
	defer release()
	r := &CheckReport{Mailbox: cfg, Mechanism: "LOGIN"}
	if cfg.OAuth != nil {
		r.Mechanism = in.mech
		if tok, _, err := in.tokens.token(ctx); err == nil {
			r.TokenExpiry = tok.Expiry
		}
	}
	folders, err := c.List("", "*", nil).Collect()
	if err != nil {
		return nil, fmt.Errorf("list folders: %w", err)
	}
	r.Folders = len(folders)
	sel, err := c.Select(cfg.Folder, &goimap.SelectOptions{ReadOnly: true}).Wait()
	if err != nil {
		return nil, fmt.Errorf("examine %s: %w", cfg.Folder, err)
	}
	r.UIDValidity, r.Messages = sel.UIDValidity, sel.NumMessages
	if sel.NumMessages > 0 {
		var last goimap.SeqSet
		last.AddNum(sel.NumMessages)
		msgs, err := c.Fetch(last, &goimap.FetchOptions{InternalDate: true, Envelope: true}).Collect()
		if err != nil {
			return nil, fmt.Errorf("fetch the newest message: %w", err)
		}
		if len(msgs) == 1 {
			r.Newest = msgs[0].InternalDate
			if env := msgs[0].Envelope; env != nil {
				r.NewestDate, r.NewestSubject = env.Date, env.Subject
			}
		}
	}
	c.Logout().Wait()
	return r, nil
}

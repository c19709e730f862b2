package store

import (
	"context"
	"regexp"
	"strings"
	"time"

	"github.com/google/uuid"
)

// DefaultWorkflowCooldown is how long the events a workflow's own action
// caused are kept from firing it again for the same client.
const DefaultWorkflowCooldown = time.Hour

// Workflow is a desk's rule: when a trigger happens to one of the desk's
// clients, and the client matches a condition, an action is taken. The
// definition ("when fill if risk>=7 then remind \"Call {{.Name}}\" after
// 2h") is kept as written; reminders/workflow parses it.
type Workflow struct {
	Name       string // unique; lower-case letters, digits and dashes
	Desk       string
	Definition string
	Enabled    bool
	Cooldown   time.Duration // whole seconds; 0 means DefaultWorkflowCooldown
	CreatedBy  string
	CreatedAt  time.Time
	UpdatedBy  string
	UpdatedAt  time.Time
}

var workflowName = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,39}$`)

// NormalizeWorkflowName lower-cases and checks a workflow's name.
func NormalizeWorkflowName(name string) (string, error) {
	n := strings.ToLower(strings.TrimSpace(name))
	if !workflowName.MatchString(n) {
		return "", Invalid("name", "%q: a workflow's name is 1-40 lower-case letters, digits and dashes, starting with a letter or digit", name)
	}
	return n, nil
}

// Validate checks a workflow before it is stored and normalises its name.
func (w *Workflow) Validate() error {
	n, err := NormalizeWorkflowName(w.Name)
	if err != nil {
		return err
	}
	w.Name = n
	if strings.TrimSpace(w.Desk) == "" {
		return Invalid("desk", "a workflow belongs to a desk")
	}
	if strings.TrimSpace(w.Definition) == "" {
		return Invalid("definition", "a workflow needs a definition: when … then …")
	}
	if w.Cooldown < 0 || w.Cooldown > 90*24*time.Hour || w.Cooldown%time.Second != 0 {
		return Invalid("cooldown", "must be whole seconds between 0 (the default, 1h) and 90 days")
	}
	return nil
}

// CooldownOrDefault is the workflow's cool-down, the default when unset.
func (w *Workflow) CooldownOrDefault() time.Duration {
	if w.Cooldown <= 0 {
		return DefaultWorkflowCooldown
	}
	return w.Cooldown
}

// Same reports whether two versions of a workflow say the same thing.
func (w *Workflow) Same(o *Workflow) bool {
	return w.Name == o.Name && w.Desk == o.Desk && w.Definition == o.Definition && w.Enabled == o.Enabled && w.CooldownOrDefault() == o.CooldownOrDefault()
}

// WorkflowFiring is one firing of a workflow on a client: its key is the
// triggering event's id (or, for a trigger with no event, what stands for
// it: a quiet spell's start), so that a workflow fires at most once per
// client and triggering event however often the event is delivered.
//
// A firing is begun (recorded, pending) before its action is taken and
// finished after; a firing left pending by a crash, or one whose action
// waits (after <delay>), is taken up again by DueWorkflowFirings. Actions
// are idempotent by firing, so taking one up twice does it once.
type WorkflowFiring struct {
	Workflow string
	ClientID uuid.UUID
	Key      string
	EventID  uuid.UUID // the triggering event; uuid.Nil when none
	FiredAt  time.Time // when the workflow fired
	Due      time.Time // when its action is due (FiredAt, or later with after)
	DoneAt   time.Time // zero while pending
}

// Done reports whether the firing's action was taken.
func (f *WorkflowFiring) Done() bool { return !f.DoneAt.IsZero() }

// WorkflowStore keeps desks' workflows and their firings.
type WorkflowStore interface {
	// PutWorkflow creates w, or replaces the workflow of its name when that
	// one is on the same desk (keeping who created it and when). It
	// reports whether anything changed: storing what is stored already
	// (Workflow.Same) writes nothing. EINVALID; ECONFLICT when the name is
	// another desk's workflow.
	PutWorkflow(ctx context.Context, w *Workflow) (changed bool, err error)

	// Workflow returns one workflow by name. ENOTFOUND.
	Workflow(ctx context.Context, name string) (*Workflow, error)

	// Workflows lists workflows by name: those of desks, nil for every
	// desk, empty for none.
	Workflows(ctx context.Context, desks []string) ([]*Workflow, error)

	// DeleteWorkflow deletes a workflow and its firings. ENOTFOUND.
	DeleteWorkflow(ctx context.Context, name string) error

	// BeginWorkflowFirings records each firing (pending) unless a firing
	// with its workflow, client and key is recorded already, all in one
	// write. It returns, in order, the stored firings and whether each is
	// the one given. EINVALID.
	BeginWorkflowFirings(ctx context.Context, fs ...*WorkflowFiring) (stored []*WorkflowFiring, first []bool, err error)

	// FinishWorkflowFirings marks firings done at at; one done already
	// keeps its time, one not recorded is passed over.
	FinishWorkflowFirings(ctx context.Context, at time.Time, fs ...*WorkflowFiring) error

	// LastWorkflowFiring returns when the workflow last fired on the
	// client; zero when never.
	LastWorkflowFiring(ctx context.Context, workflow string, client uuid.UUID) (time.Time, error)

	// DueWorkflowFirings returns up to limit pending firings due at or
	// before now, earliest first.
	DueWorkflowFirings(ctx context.Context, now time.Time, limit int) ([]*WorkflowFiring, error)
}

// Validate checks a firing before it is recorded.
func (f *WorkflowFiring) Validate() error {
	switch {
	case f.Workflow == "":
		return Invalid("workflow", "a firing needs a workflow")
	case f.ClientID == uuid.Nil:
		return Invalid("client", "a firing needs a client")
	case f.Key == "":
		return Invalid("key", "a firing needs a key")
	case f.FiredAt.IsZero():
		return Invalid("fired", "a firing needs a time")
	}
	if f.Due.Before(f.FiredAt) {
		f.Due = f.FiredAt
	}
	f.FiredAt = f.FiredAt.UTC().Truncate(time.Microsecond)
	f.Due = f.Due.UTC().Truncate(time.Microsecond)
	return nil
}

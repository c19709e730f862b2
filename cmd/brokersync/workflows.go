package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/brokersync/brokersync/reminders/workflow"
	"github.com/brokersync/brokersync/store"
	"github.com/brokersync/brokersync/store/segment"
)

const workflowsUsage = `usage: brokersync workflows apply FILE.yaml
Creates or updates the desk workflows a YAML file defines, checked first (every mistake with its line);
applying the same file again changes nothing. Workflows the file does not name are left as they are.
The file:
` + workflow.FileExample

// applyActor is who the workflows a file applies are changed by.
const applyActor = "brokersync:workflows-apply"

func workflowsCmd(ctx context.Context, cfg Config, logger *slog.Logger, args []string, stdout io.Writer) error {
	if len(args) != 2 || args[0] != "apply" {
		return usageError{workflowsUsage}
	}
	data, err := os.ReadFile(args[1])
	if err != nil {
		return err
	}
	specs, err := workflow.ParseFile(data, cfg.cat)
	if err != nil {
		return fileErrors(args[1], err)
	}
	st, err := openStores(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer st.Close()
	return applyWorkflows(ctx, st.Workflows, st.Segments, args[1], specs, time.Now(), stdout)
}

// fileErrors names the file in each line of a file's mistakes.
func fileErrors(file string, err error) error {
	var fe workflow.FileErrors
	if !errors.As(err, &fe) {
		return err
	}
	lines := make([]string, len(fe))
	for i, e := range fe {
		lines[i] = fmt.Sprintf("%s:%d:%d: %s", file, e.Line, e.Column, e.Msg)
	}
	return errors.New(strings.Join(lines, "\n"))
}

// applyWorkflows checks what the specs name (saved segments) and stores
// each; a workflow stored already as the file says is left alone.
func applyWorkflows(ctx context.Context, ws store.WorkflowStore, segs segment.Store, file string, specs []workflow.Spec, now time.Time, out io.Writer) error {
	var errs workflow.FileErrors
	lookup := segment.Lookup{Segment: func(ctx context.Context, name string) (string, error) {
		s, err := segs.Segment(ctx, name)
		return s.Filter, err
	}}
	for _, s := range specs {
		d := s.Definition
		if k := d.Trigger.Kind; k == workflow.TriggerEntered || k == workflow.TriggerLeft {
			if _, err := segs.Segment(ctx, d.Trigger.Arg); err != nil {
				errs = append(errs, &workflow.FileError{Line: s.Line, Column: 1, Msg: fmt.Sprintf("workflow %s: %s", s.Workflow.Name, store.ErrorMessage(err))})
			}
		}
		if d.Filter != nil && d.Filter.Root != nil {
			if _, err := segment.Resolve(ctx, d.Filter, lookup); err != nil {
				errs = append(errs, &workflow.FileError{Line: s.Line, Column: 1, Msg: fmt.Sprintf("workflow %s: in the condition: %v", s.Workflow.Name, err)})
			}
		}
	}
	if len(errs) > 0 {
		return fileErrors(file, errs)
	}
	var created, updated, same int
	for _, s := range specs {
		w := s.Workflow
		w.UpdatedBy, w.UpdatedAt = applyActor, now
		_, err := ws.Workflow(ctx, w.Name)
		isNew := store.ErrorCode(err) == store.ENOTFOUND
		changed, err := ws.PutWorkflow(ctx, &w)
		if err != nil {
			return fmt.Errorf("%s:%d: workflow %s: %s (the workflows before it are applied)", file, s.Line, s.Workflow.Name, store.ErrorMessage(err))
		}
		verb := "unchanged"
		switch {
		case isNew:
			verb, created = "created", created+1
		case changed:
			verb, updated = "updated", updated+1
		default:
			same++
		}
		fmt.Fprintf(out, "%s (%s): %s\n", w.Name, w.Desk, verb)
	}
	fmt.Fprintf(out, "%d created, %d updated, %d unchanged\n", created, updated, same)
	return nil
}

package main

import (
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/brokersync/brokersync/internal/backendtest"
	"github.com/brokersync/brokersync/reminders/workflow"
)

// workflows apply: checked with lines, applied, and applied again to no
// effect; on the embedded store and PostgreSQL.
func TestWorkflowsApply(t *testing.T) {
	for _, b := range []struct {
		name   string
		getenv func(t *testing.T) func(string) string
	}{
		{"embedded", func(t *testing.T) func(string) string { return env(t) }},
		{"postgres", func(t *testing.T) func(string) string {
			return env(t, "BROKERSYNC_POSTGRES_URL", backendtest.PostgresURL(t))
		}},
	} {
		t.Run(b.name, func(t *testing.T) {
			getenv := b.getenv(t)
			dir := t.TempDir()
			file := filepath.Join(dir, "workflows.yaml")
			write := func(s string) {
				if err := os.WriteFile(file, []byte(s), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			// Names of their own: the PostgreSQL database is shared.
			sfx := strings.ToLower(rand.Text()[:6])
			example := strings.NewReplacer("big-fill-call", "big-fill-call-"+sfx, "quiet-vip", "quiet-vip-"+sfx).Replace(workflow.FileExample)
			write(example)
			out, err := runCmd(t, getenv, "", "workflows", "apply", file)
			if err != nil || !strings.HasSuffix(out, "2 created, 0 updated, 0 unchanged\n") {
				t.Fatalf("first apply: %q %v", out, err)
			}
			out, err = runCmd(t, getenv, "", "workflows", "apply", file)
			if err != nil || !strings.HasSuffix(out, "0 created, 0 updated, 2 unchanged\n") {
				t.Fatalf("applied again: %q %v", out, err)
			}
			write(strings.Replace(example, "after: 2h", "after: 3h", 1))
			out, err = runCmd(t, getenv, "", "workflows", "apply", file)
			if err != nil || !strings.Contains(out, "big-fill-call-"+sfx+" (grain-desk): updated") || !strings.HasSuffix(out, "0 created, 1 updated, 1 unchanged\n") {
				t.Fatalf("one changed: %q %v", out, err)
			}
			// Mistakes: each with the file, line and column; nothing applied.
			write(strings.Replace(strings.Replace(example, "when: fill", "when: fil", 1), "cooldown: 24h", "cooldown: soon", 1))
			out, err = runCmd(t, getenv, "", "workflows", "apply", file)
			if err == nil || !strings.Contains(err.Error(), file+":4:11: \"fil\" is not a trigger") || !strings.Contains(err.Error(), file+":13:15: \"soon\" is not a cool-down") || out != "" {
				t.Errorf("mistakes: %q %v", out, err)
			}
			// A name of another desk's workflow.
			write(strings.Replace(example, "desk: grain-desk", "desk: softs-desk", 1))
			if _, err := runCmd(t, getenv, "", "workflows", "apply", file); err == nil || !strings.Contains(err.Error(), file+":2: workflow big-fill-call-"+sfx+": the name") {
				t.Errorf("another desk's name: %v", err)
			}
			// An unknown saved segment in a trigger.
			write("- {name: seg-" + sfx + ", desk: d, when: entered segment nowhere, then: tag x}\n")
			if _, err := runCmd(t, getenv, "", "workflows", "apply", file); err == nil || !strings.Contains(err.Error(), ":1:1: workflow seg-"+sfx+": no saved segment") {
				t.Errorf("unknown segment: %v", err)
			}
			if _, err := runCmd(t, getenv, "", "workflows", "apply"); err == nil || !strings.Contains(err.Error(), "usage: brokersync workflows apply") {
				t.Errorf("no file: %v", err)
			}
		})
	}
}

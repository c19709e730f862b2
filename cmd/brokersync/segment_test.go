package main

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// export clients --segment prints the client CSV of the clients a filter
// or saved segment matches, among those the --as user may see.
func TestExportClientsBySegment(t *testing.T) {
	getenv := env(t, "BROKERSYNC_ADMINS", "U0ADMIN")
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	if _, err := runCmd(t, getenv, "", "import", "clients", "--team", "grain-desk", "--broker", "U0JANE", write("grain.csv", goodCSV)); err != nil {
		t.Fatal(err)
	}
	energy := "handle,name,tags,risk\nnorth-energy,Northwind Energy,high-value,9\n"
	if _, err := runCmd(t, getenv, "", "import", "clients", "--team", "energy-desk", "--broker", "U0OMAR", write("energy.csv", energy)); err != nil {
		t.Fatal(err)
	}
	// The head of both desks saves "big": a saved segment is seen by
	// admins and by those who share a desk with whoever saved it.
	for _, cmd := range [][2]string{
		{"/team add <@U0JANE> grain-desk broker", "U0ADMIN"},
		{"/team add <@U0OMAR> energy-desk broker", "U0ADMIN"},
		{"/team add <@U0MARIA> grain-desk manager", "U0ADMIN"},
		{"/team add <@U0MARIA> energy-desk manager", "U0ADMIN"},
		{"/segment save big tag:high-value", "U0MARIA"},
	} {
		if out, err := runCmd(t, getenv, "", "exec", cmd[0], "--as", cmd[1]); err != nil {
			t.Fatalf("%s: %q %v", cmd[0], out, err)
		}
	}
	handles := func(out string) string {
		t.Helper()
		rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
		if err != nil {
			t.Fatalf("%v:\n%s", err, out)
		}
		if len(rows) == 0 || rows[0][0] != "handle" {
			t.Fatalf("not the client CSV:\n%s", out)
		}
		var hs []string
		for _, r := range rows[1:] {
			hs = append(hs, r[0])
		}
		return strings.Join(hs, ",")
	}
	for _, tc := range []struct{ as, segment, want string }{
		{"U0ADMIN", "tag:high-value", "acme-grain,north-energy"},
		{"U0ADMIN", "big", "acme-grain,north-energy"},
		{"U0ADMIN", "risk>=6", "müller-agrar,north-energy"},
		{"U0JANE", "big", "acme-grain"},
		{"<@U0JANE>", "tag:high-value OR desk:energy-desk", "acme-grain"},
		{"U0OMAR", "big", "north-energy"},
		{"U0OMAR", "desk:grain-desk", ""},
		{"U0JANE", "-tag:high-value", "müller-agrar"},
	} {
		out, err := runCmd(t, getenv, "", "export", "clients", "--segment", tc.segment, "--as", tc.as)
		if err != nil {
			t.Errorf("--segment %q --as %s: %v", tc.segment, tc.as, err)
			continue
		}
		if got := handles(out); got != tc.want {
			t.Errorf("--segment %q --as %s: %s, want %s", tc.segment, tc.as, got, tc.want)
		}
	}
	if _, err := runCmd(t, getenv, "", "export", "clients", "--segment", "rsk>=7", "--as", "U0JANE"); err == nil || !strings.Contains(err.Error(), "did you mean risk?") || !strings.Contains(err.Error(), "^~~") {
		t.Errorf("a misspelt filter: %v", err)
	}
	if _, err := runCmd(t, getenv, "", "export", "clients", "--segment", "tag:x"); err == nil || exitCode(err) != 2 {
		t.Errorf("--segment without --as: %v", err)
	}
	if out, err := runCmd(t, getenv, "", "export", "clients", "--segment", "", "--as", "U0NOBODY"); err == nil || strings.Contains(out, "acme") {
		t.Errorf("someone on no desk: %q %v", out, err)
	}
	// exec prints an export's file after the answer.
	out, err := runCmd(t, getenv, "", "exec", "/segment export big", "--as", "U0JANE")
	if err != nil || !strings.Contains(out, "1 client of big") || !strings.Contains(out, "\nhandle,") || strings.Contains(out, "north-energy") {
		t.Errorf("exec /segment export: %q %v", out, err)
	}
}

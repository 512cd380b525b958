package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestVersion checks that --version and the version subcommand print the
// module version (issue 13: there was no --version).
func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"--version"}, {"version"}} {
		out, errOut, code := run(t, args...)
		if code != 0 || errOut != "" {
			t.Fatalf("%v: exit %d, stderr %q", args, code, errOut)
		}
		if out != "scaleacross "+version()+"\n" || version() == "" {
			t.Errorf("%v printed %q, want %q", args, out, "scaleacross "+version()+"\n")
		}
	}
}

// TestStudiesHelp checks that every studies subcommand has its own help
// with examples (issue 13: studies subcommands had empty help).
func TestStudiesHelp(t *testing.T) {
	for _, sub := range []string{"list", "show", "export", "merge"} {
		out, _, code := run(t, "studies", sub, "--help")
		if code != 0 {
			t.Fatalf("studies %s --help: exit %d", sub, code)
		}
		if !strings.Contains(out, "Examples:\n  scaleacross ") {
			t.Errorf("studies %s --help has no examples:\n%s", sub, out)
		}
		if !strings.HasPrefix(out, sub+" ") {
			t.Errorf("studies %s --help does not open with its description:\n%s", sub, out)
		}
	}
}

// TestErrorsJSON checks that under --json an error is one JSON object on
// stderr with the message, the field and the exit code, and that without
// --json it stays a text line (issue 13: errors were plain text even with
// --json).
func TestErrorsJSON(t *testing.T) {
	bad := writeTemp(t, "bad.yaml", strings.Replace(hostileJob, "tp: 8,", "tp: eight,", 1))
	cases := []struct {
		args  []string
		field string
		code  int
	}{
		{[]string{"simulate", "-f", bad, "--json"}, "parallel.tp", 2},
		{[]string{"simulate", "--json", "--bogus"}, "", 2},
		{[]string{"studies", "show", "x", "--json"}, "", 2},
	}
	for _, c := range cases {
		_, errOut, code := run(t, c.args...)
		if code != c.code {
			t.Errorf("%v: exit %d, want %d (stderr %q)", c.args, code, c.code, errOut)
			continue
		}
		var e struct {
			Error    string `json:"error"`
			Field    string `json:"field"`
			ExitCode int    `json:"exit_code"`
		}
		if err := json.Unmarshal([]byte(errOut), &e); err != nil {
			t.Errorf("%v: stderr is not JSON: %v\n%s", c.args, err, errOut)
			continue
		}
		if e.Error == "" || e.Field != c.field || e.ExitCode != c.code {
			t.Errorf("%v: got %+v, want field %q and exit_code %d", c.args, e, c.field, c.code)
		}
	}
	_, errOut, code := run(t, "simulate", "-f", bad)
	if code != 2 || !strings.HasPrefix(errOut, "scaleacross: parallel.tp") {
		t.Errorf("text error: exit %d, stderr %q", code, errOut)
	}
}

// writeTemp writes text to a file called name in a fresh temporary
// directory and returns its path.
func writeTemp(t *testing.T, name, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

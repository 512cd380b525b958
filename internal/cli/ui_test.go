package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A file that is not a study database is refused with exit 2 before the
// server starts, and left as it was; so is a missing one, which is not
// created.
func TestUIRefusesForeignDatabase(t *testing.T) {
	dir := t.TempDir()
	foreign := filepath.Join(dir, "notes.db")
	data := []byte("model: llama3.1-405b\n")
	if err := os.WriteFile(foreign, data, 0o644); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing.db")
	for _, db := range []string{foreign, missing} {
		var out, errOut bytes.Buffer
		code := Main([]string{"ui", "--db", db, "--addr", "127.0.0.1:0"}, &out, &errOut)
		if code != ExitBadInput || !strings.Contains(errOut.String(), db) {
			t.Errorf("ui --db %s: exit %d, stderr %q; want exit 2 naming the file", db, code, errOut.String())
		}
		if out.Len() != 0 {
			t.Errorf("ui --db %s printed %q", db, out.String())
		}
	}
	if after, _ := os.ReadFile(foreign); !bytes.Equal(after, data) {
		t.Error("ui modified the foreign file")
	}
	if _, err := os.Stat(missing); err == nil {
		t.Error("ui created the missing database")
	}
}

func TestUIBadAddr(t *testing.T) {
	db := filepath.Join(t.TempDir(), "s.db")
	if code := Main([]string{"plan", "-f", smallPlan, "--db", db, "--json"}, &bytes.Buffer{}, &bytes.Buffer{}); code != 0 {
		t.Fatalf("plan: exit %d", code)
	}
	var out, errOut bytes.Buffer
	if code := Main([]string{"ui", "--db", db, "--addr", "not-an-address"}, &out, &errOut); code != ExitBadInput || !strings.Contains(errOut.String(), "--addr") {
		t.Errorf("ui --addr not-an-address: exit %d, %q", code, errOut.String())
	}
}

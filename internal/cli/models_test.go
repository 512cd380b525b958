package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/scaleacross/scaleacross/model"
)

// runModelsCLI runs the command tree and returns exit code, stdout and stderr.
func runModelsCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestModelsList(t *testing.T) {
	code, out, errOut := runModelsCLI(t, "models")
	if code != ExitOK {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if !strings.HasPrefix(lines[0], "ID") || !strings.Contains(lines[0], "ACTIVE") || !strings.Contains(lines[0], "EXPERTS") {
		t.Errorf("header %q", lines[0])
	}
	for _, id := range model.IDs() {
		if !strings.Contains(out, "\n"+id+" ") && !strings.Contains(out, "\n"+id+"* ") {
			t.Errorf("listing lacks a row for %s", id)
		}
	}
	if !strings.Contains(out, "llama4-behemoth*") || !strings.Contains(out, "assumed") {
		t.Errorf("listing does not flag Behemoth's assumed dimensions:\n%s", out)
	}
}

func TestModelsListJSON(t *testing.T) {
	code, out, errOut := runModelsCLI(t, "models", "--json")
	if code != ExitOK {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	var rows []modelsRow
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatalf("not a JSON list: %v\n%s", err, out)
	}
	var ids []string
	for _, r := range rows {
		ids = append(ids, r.ID)
		m, err := model.Lookup(r.ID)
		if err != nil {
			t.Fatal(err)
		}
		if r.TotalParams != m.TotalParams() || r.ActiveParams != m.ActiveParams() || r.Layers != m.Layers || r.Hidden != m.Hidden {
			t.Errorf("%s row %+v disagrees with the catalog", r.ID, r)
		}
	}
	if diff := cmp.Diff(model.IDs(), ids); diff != "" {
		t.Errorf("ids (-catalog +json):\n%s", diff)
	}
	for _, key := range []string{`"id"`, `"name"`, `"total_params"`, `"active_params"`, `"layers"`, `"hidden"`, `"experts"`} {
		if !strings.Contains(out, key) {
			t.Errorf("JSON lacks key %s", key)
		}
	}
}

func TestModelsShowGolden(t *testing.T) {
	code, out, errOut := runModelsCLI(t, "models", "show", "llama4-maverick")
	if code != ExitOK {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	golden(t, "models_show_llama4-maverick.golden", []byte(out))
}

func TestModelsShowJSON(t *testing.T) {
	code, out, errOut := runModelsCLI(t, "models", "show", "llama4-maverick", "--json", "--seq", "32768")
	if code != ExitOK {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal([]byte(out), &raw); err != nil {
		t.Fatalf("not a JSON object: %v", err)
	}
	for _, key := range []string{"total_params", "active_params", "breakdown", "flops_per_token", "training_flops_per_token",
		"kv_bytes_per_token", "kv_bytes_full_context", "assumptions", "architecture", "seq_len"} {
		if _, ok := raw[key]; !ok {
			t.Errorf("JSON lacks key %q", key)
		}
	}
	var d modelsDetail
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		t.Fatal(err)
	}
	m, _ := model.Lookup("llama4-maverick")
	if d.TotalParams != m.TotalParams() || d.ActiveParams != m.ActiveParams() {
		t.Errorf("total/active %d/%d, catalog %d/%d", d.TotalParams, d.ActiveParams, m.TotalParams(), m.ActiveParams())
	}
	if d.SeqLen != 32768 || d.FLOPsPerToken != m.FLOPsPerToken(32768) || d.TrainingFLOPsPerToken != 3*d.FLOPsPerToken {
		t.Errorf("seq %d flops %g training %g, want seq 32768 flops %g and 3x", d.SeqLen, d.FLOPsPerToken, d.TrainingFLOPsPerToken, m.FLOPsPerToken(32768))
	}
	// Llama 4: 4 KiB per token per layer in bf16, 48 layers.
	if d.KVBytesPerToken != 48*4096 {
		t.Errorf("kv_bytes_per_token %g, want %d", d.KVBytesPerToken, 48*4096)
	}
	if d.Assumptions == nil || len(d.Assumptions) != 0 {
		t.Errorf("maverick assumptions %#v, want an empty list", d.Assumptions)
	}

	code, out, _ = runModelsCLI(t, "models", "show", "llama4-behemoth", "--json")
	if code != ExitOK {
		t.Fatalf("behemoth exit %d", code)
	}
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		t.Fatal(err)
	}
	if len(d.Assumptions) == 0 {
		t.Errorf("behemoth JSON lists no assumptions")
	}
}

func TestModelsShowAssumptionsLabelled(t *testing.T) {
	code, out, _ := runModelsCLI(t, "models", "show", "llama4-behemoth")
	if code != ExitOK {
		t.Fatalf("exit %d", code)
	}
	m, _ := model.Lookup("llama4-behemoth")
	if !strings.Contains(out, "ASSUMED") {
		t.Errorf("Behemoth output does not label its assumptions:\n%s", out)
	}
	for _, a := range m.Assumptions {
		if !strings.Contains(out, a) {
			t.Errorf("output lacks assumption %q", a)
		}
	}
}

func TestModelsShowConfigPath(t *testing.T) {
	path := filepath.Join("..", "..", "model", "testdata", "hf", "mixtral-8x7b.json")
	code, out, errOut := runModelsCLI(t, "models", "show", path, "--json")
	if code != ExitOK {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	var d modelsDetail
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		t.Fatal(err)
	}
	m, _ := model.Lookup("mixtral-8x7b")
	if d.TotalParams != m.TotalParams() || d.ActiveParams != m.ActiveParams() {
		t.Errorf("imported total/active %d/%d, catalog %d/%d", d.TotalParams, d.ActiveParams, m.TotalParams(), m.ActiveParams())
	}
}

func TestModelsErrors(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "config.json")
	if err := os.WriteFile(bad, []byte(`{"model_type":"llama","hidden_size":0}`), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want string // in stderr
	}{
		{"unknown id", []string{"models", "show", "llama4-scot"}, "llama4-scout"},
		{"no id", []string{"models", "show"}, "exactly one"},
		{"two ids", []string{"models", "show", "a", "b"}, "exactly one"},
		{"bad seq", []string{"models", "show", "llama3-8b", "--seq", "0"}, "--seq"},
		{"stray argument", []string{"models", "llama3-8b"}, "models show llama3-8b"},
		{"bad config", []string{"models", "show", bad}, "hidden_size"},
		{"missing config", []string{"models", "show", "nope/config.json"}, "cannot read"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := runModelsCLI(t, tt.args...)
			if code != ExitBadInput {
				t.Errorf("exit %d, want %d (stderr %q)", code, ExitBadInput, errOut)
			}
			if !strings.Contains(errOut, tt.want) {
				t.Errorf("stderr %q lacks %q", errOut, tt.want)
			}
		})
	}
}

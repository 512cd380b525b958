package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestModelRefs checks the command line's model references (issue 13): a
// relative model path is read from the spec file's folder (not the
// current directory), the model's label is its config name, a Hugging
// Face id resolves through the local cache under $HF_HOME/hub, and an id
// found nowhere gets a hint that says where it looked.
func TestModelRefs(t *testing.T) {
	config, err := os.ReadFile("../../model/testdata/hf-dense/Mistral-7B-v0.1.json")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "cfg", "Mistral-7B-v0.1"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "cfg", "Mistral-7B-v0.1", "config.json"), config, 0o644); err != nil {
		t.Fatal(err)
	}
	relJob := filepath.Join(dir, "job.yaml")
	if err := os.WriteFile(relJob, []byte(strings.Replace(hostileJob, "model: llama3-8b", "model: cfg/Mistral-7B-v0.1/config.json", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := run(t, "simulate", "-f", relJob)
	if code != 0 {
		t.Fatalf("relative model path: exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "Mistral-7B-v0.1") || strings.Contains(out, "cfg/Mistral") {
		t.Errorf("the label is not the config's name:\n%s", out)
	}

	home := t.TempDir()
	snap := filepath.Join(home, "hub", "models--mistralai--Mistral-7B-v0.1", "snapshots", "26bca36bde8333b5d7f72e9ed20ccda6a618af24")
	if err := os.MkdirAll(snap, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(snap, "config.json"), config, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("HF_HOME", home)
	t.Setenv("HF_HUB_CACHE", "")
	out, errOut, code = run(t, "models", "show", "mistralai/Mistral-7B-v0.1")
	if code != 0 || !strings.Contains(out, "mistralai/Mistral-7B-v0.1") {
		t.Errorf("Hugging Face id through the cache: exit %d, stderr %q\n%s", code, errOut, out)
	}
	_, errOut, code = run(t, "models", "show", "meta-llama/Llama-3.1-8B")
	want := filepath.Join(home, "hub", "models--meta-llama--Llama-3.1-8B", "snapshots", "*", "config.json")
	if code != 2 || !strings.Contains(errOut, want) || !strings.Contains(errOut, "config.json") {
		t.Errorf("missing Hugging Face id: exit %d, stderr %q lacks %q", code, errOut, want)
	}
}

package model

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scaleacross/scaleacross/fault"
)

// fakeHub writes a Hugging Face hub cache holding one model id with the
// given config.json under snapshot snap, the way huggingface_hub lays it
// out (refs/main names the snapshot), and returns the hub folder.
func fakeHub(t *testing.T, id, snap string, config []byte) string {
	t.Helper()
	hub := filepath.Join(t.TempDir(), "hub")
	dir := filepath.Join(hub, "models--"+strings.ReplaceAll(id, "/", "--"))
	if err := os.MkdirAll(filepath.Join(dir, "snapshots", snap), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "refs"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "refs", "main"), []byte(snap+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "snapshots", snap, "config.json"), config, 0o644); err != nil {
		t.Fatal(err)
	}
	return hub
}

// TestLoadHubID checks that a Hugging Face id resolves through a local
// hub cache, with the id as the model's label (issue 13: the cache was not
// looked in).
func TestLoadHubID(t *testing.T) {
	config, err := os.ReadFile(filepath.Join("testdata", "hf-dense", "Qwen3-8B.json"))
	if err != nil {
		t.Fatal(err)
	}
	hub := fakeHub(t, "Qwen/Qwen3-8B", "9c925d64d72725edaf899c6cb9c377fd0709d9c5", config)
	m, err := Loader{HubDirs: []string{filepath.Join(t.TempDir(), "empty"), hub}}.Load("Qwen/Qwen3-8B")
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if m.ID != "Qwen/Qwen3-8B" || m.Family != "qwen3" || !strings.Contains(m.Source, hub) {
		t.Errorf("id %q family %q source %q", m.ID, m.Family, m.Source)
	}
}

// TestLoadHubHint checks that a Hugging Face id found nowhere says where
// it was looked for and that a config.json path works (issue 13: it gave
// nearest catalog ids and no hint).
func TestLoadHubHint(t *testing.T) {
	hub := filepath.Join(t.TempDir(), "hub")
	_, err := Loader{HubDirs: []string{hub}}.Load("meta-llama/Llama-3.1-8B")
	if !errors.Is(err, fault.ErrBadInput) {
		t.Fatalf("error %v, want bad input", err)
	}
	for _, want := range []string{filepath.Join(hub, "models--meta-llama--Llama-3.1-8B", "snapshots", "*", "config.json"), "path to its config.json", "llama3.1-8b"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if got := HubDirs(func(k string) string { return map[string]string{"HF_HOME": "/h"}[k] }, "/home/u"); len(got) != 1 || got[0] != filepath.Join("/h", "hub") {
		t.Errorf("HubDirs with HF_HOME = %v", got)
	}
	if got := HubDirs(func(string) string { return "" }, "/home/u"); len(got) != 1 || got[0] != filepath.Join("/home/u", ".cache", "huggingface", "hub") {
		t.Errorf("HubDirs without environment = %v", got)
	}
}

// TestLoadRelativeToDir checks that a relative path is read from the
// Loader's folder (the spec file's), and that the label is the folder name
// of config.json, not the path (issue 13).
func TestLoadRelativeToDir(t *testing.T) {
	config, err := os.ReadFile(filepath.Join("testdata", "hf-dense", "Mistral-7B-v0.1.json"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "models", "my-mistral"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "models", "my-mistral", "config.json"), config, 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := Loader{Dir: dir}.Load("models/my-mistral/config.json")
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if m.ID != "my-mistral" {
		t.Errorf("label %q, want my-mistral", m.ID)
	}
	if _, err := (Loader{}).Load("models/my-mistral/config.json"); err == nil {
		t.Errorf("the path resolved from the current directory, not only from the spec's")
	}
}

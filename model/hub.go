package model

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/scaleacross/scaleacross/spec"
)

// Loader resolves the model references of one spec: a catalog id, a path
// to a Hugging Face config.json (or a directory holding one), or a Hugging
// Face model id such as "meta-llama/Llama-3.1-8B" found in a local Hugging
// Face cache. It never reaches the network.
type Loader struct {
	// Dir is the folder that relative paths are read from: the spec file's
	// folder. Empty means the current directory.
	Dir string
	// HubDirs are the Hugging Face hub caches to look in, in order (the
	// folders holding models--ORG--NAME); HubDirs builds the usual list.
	HubDirs []string
}

// HubDirs lists the Hugging Face hub caches that the Hugging Face libraries
// use, in their order of precedence: $HF_HUB_CACHE, $HF_HOME/hub, and
// $XDG_CACHE_HOME/huggingface/hub or else HOME/.cache/huggingface/hub.
// getenv reads the environment (os.Getenv); home is the user's home folder.
func HubDirs(getenv func(string) string, home string) []string {
	var dirs []string
	if d := getenv("HF_HUB_CACHE"); d != "" {
		dirs = append(dirs, d)
	}
	if d := getenv("HF_HOME"); d != "" {
		return append(dirs, filepath.Join(d, "hub"))
	}
	if d := getenv("XDG_CACHE_HOME"); d != "" {
		return append(dirs, filepath.Join(d, "huggingface", "hub"))
	}
	if home != "" {
		dirs = append(dirs, filepath.Join(home, ".cache", "huggingface", "hub"))
	}
	return dirs
}

// Load resolves ref: a catalog id first, then a config.json path (relative
// paths from l.Dir), then a Hugging Face id (ORG/NAME) in the hub caches.
// An imported model's ID (and Name, unless the config names itself in
// _name_or_path) is its own name: the Hugging Face id, the config's
// _name_or_path, or the name of the folder holding config.json, not the
// file path; Source names the file. A reference that is none of
// these gives an *UnknownIDError whose hint says where it looked.
func (l Loader) Load(ref string) (*Model, error) {
	m, lookupErr := Lookup(ref)
	if lookupErr == nil {
		return m, nil
	}
	path, isFile := configPath(l.path(ref))
	label := ""
	if !isFile && isHubID(ref) {
		path, isFile = l.findHub(ref)
		label = ref
	}
	if !isFile {
		if e, ok := lookupErr.(*UnknownIDError); ok {
			e.Hint = l.hint(ref)
		}
		return nil, lookupErr
	}
	data, err := spec.ReadLimited(path, "Hugging Face config", MaxConfigBytes)
	if err != nil {
		return nil, &ConfigError{Msg: fmt.Sprintf("%v (give a catalog id or the path to a config.json)", err)}
	}
	m, err = ImportHF(data, "")
	if err != nil {
		return nil, fmt.Errorf("importing %s: %w", path, err)
	}
	if label == "" {
		label = configLabel(m, path)
	}
	m.ID = label
	if strings.HasSuffix(m.Name, "(imported)") {
		m.Name = label
	}
	m.Source = fmt.Sprintf("Hugging Face config.json (model_type %s) imported from %s", m.Family, path)
	return m, nil
}

// path returns ref read from l.Dir when it is relative.
func (l Loader) path(ref string) string {
	if l.Dir == "" || ref == "" || filepath.IsAbs(ref) {
		return ref
	}
	return filepath.Join(l.Dir, ref)
}

// isHubID says whether ref has the form ORG/NAME of a Hugging Face id.
func isHubID(ref string) bool {
	org, name, ok := strings.Cut(ref, "/")
	return ok && org != "" && name != "" && !strings.ContainsAny(name, "/\\") &&
		!strings.HasPrefix(org, ".") && !strings.HasSuffix(strings.ToLower(name), ".json")
}

// hubFolder is the cache folder name of a Hugging Face id.
func hubFolder(id string) string {
	return "models--" + strings.ReplaceAll(id, "/", "--")
}

// findHub finds config.json of the Hugging Face id in the hub caches: the
// snapshot that refs/main names, or else the first snapshot (by name) that
// holds one.
func (l Loader) findHub(id string) (string, bool) {
	for _, hub := range l.HubDirs {
		dir := filepath.Join(hub, hubFolder(id))
		if b, err := os.ReadFile(filepath.Join(dir, "refs", "main")); err == nil {
			p := filepath.Join(dir, "snapshots", strings.TrimSpace(string(b)), "config.json")
			if isRegular(p) {
				return p, true
			}
		}
		snaps, _ := filepath.Glob(filepath.Join(dir, "snapshots", "*", "config.json"))
		sort.Strings(snaps)
		for _, p := range snaps {
			if isRegular(p) {
				return p, true
			}
		}
	}
	return "", false
}

// isRegular says whether path is a readable file (following links, as the
// cache's snapshots are links into blobs).
func isRegular(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular()
}

// hint says where Load looked for ref and what would work instead.
func (l Loader) hint(ref string) string {
	if !isHubID(ref) {
		return "or give the path to a Hugging Face config.json (or a folder holding one)"
	}
	var where []string
	for _, hub := range l.HubDirs {
		where = append(where, filepath.Join(hub, hubFolder(ref), "snapshots", "*", "config.json"))
	}
	looked := "no Hugging Face cache is set (HF_HOME, HF_HUB_CACHE or HOME)"
	if len(where) > 0 {
		looked = "not in the local Hugging Face cache (looked in " + strings.Join(where, ", ") + ")"
	}
	return fmt.Sprintf("%q looks like a Hugging Face id but is %s; scaleacross never downloads: fetch it with `huggingface-cli download %s config.json`, or give the path to its config.json", ref, looked, ref)
}

// configLabel names a model imported from the config.json at path: its
// _name_or_path (the last part of it when it is a path), or else the
// folder holding config.json, or else the file name without .json.
func configLabel(m *Model, path string) string {
	if n := m.Name; n != "" && !strings.HasSuffix(n, "(imported)") {
		if filepath.IsAbs(n) || strings.HasPrefix(n, ".") {
			n = filepath.Base(n)
		}
		if n != "" && n != "." && n != string(filepath.Separator) {
			return n
		}
	}
	base := filepath.Base(path)
	if strings.EqualFold(base, "config.json") {
		dir := filepath.Base(filepath.Dir(path))
		if dir != "." && dir != string(filepath.Separator) {
			return dir
		}
	}
	return strings.TrimSuffix(base, filepath.Ext(base))
}

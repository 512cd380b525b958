package cli

import (
	"os"
	"path/filepath"

	"github.com/scaleacross/scaleacross/model"
)

// modelLoader resolves the model references of a spec whose folder is dir
// (empty: the current directory), looking for Hugging Face ids in the
// local caches that the environment names.
func modelLoader(dir string) model.Loader {
	home, _ := os.UserHomeDir()
	return model.Loader{Dir: dir, HubDirs: model.HubDirs(os.Getenv, home)}
}

// specDir is the absolute folder of the spec file at path, where a
// relative model path in it is read from.
func specDir(path string) string {
	if path == "" {
		return ""
	}
	dir, err := filepath.Abs(filepath.Dir(path))
	if err != nil {
		return filepath.Dir(path)
	}
	return dir
}

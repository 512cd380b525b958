package cli

import (
	"flag"
	"path/filepath"
	"testing"

	goldenfile "github.com/scaleacross/scaleacross/internal/golden"
)

// update rewrites the golden files under testdata/ instead of comparing:
// go test ./internal/cli -update.
var update = flag.Bool("update", false, "rewrite golden files")

// golden compares got with the golden file testdata/name.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	goldenfile.Check(t, filepath.Join("testdata", name), got, *update)
}

package train

import (
	"flag"
	"path/filepath"
	"testing"

	goldenfile "github.com/scaleacross/scaleacross/internal/golden"
)

var update = flag.Bool("update", false, "rewrite golden files")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	goldenfile.Check(t, filepath.Join("testdata", name), got, *update)
}

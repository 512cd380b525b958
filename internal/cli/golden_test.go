package cli

import (
	"flag"
	"path/filepath"
	"slices"
	"strings"
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

// TestCommandGoldens checks the text and --json output of every command
// against golden files (go test ./internal/cli -update rewrites them), so
// that any change to a printed number or layout shows in review. Plan runs
// without --timings, so its output is deterministic; each plan gets a fresh
// study database, whose temporary path is printed as DB.
func TestCommandGoldens(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"simulate_405b_event.txt", []string{"simulate", "-f", "../../examples/llama3-405b-16k.yaml", "--engine", "event"}},
		{"simulate_two_regions.json", []string{"simulate", "-f", "../../examples/two-regions.yaml", "--json"}},
		{"plan_small.txt", []string{"plan", "-f", smallPlan, "--db", "DB"}},
		{"plan_small.json", []string{"plan", "-f", smallPlan, "--db", "DB", "--json"}},
		{"net_two_regions_pp.txt", []string{"net", "-f", "../../examples/two-regions.yaml", "--dim", "pp", "--max", "64MiB"}},
		{"net_two_regions_pp.json", []string{"net", "-f", "../../examples/two-regions.yaml", "--dim", "pp", "--max", "64MiB", "--json"}},
		{"validate.txt", []string{"validate"}},
		{"validate.json", []string{"validate", "--json"}},
		{"validate_network.txt", []string{"validate", "--network"}},
		{"validate_network.json", []string{"validate", "--network", "--json"}},
		{"hardware.txt", []string{"hardware"}},
		{"hardware.json", []string{"hardware", "--json"}},
		{"models.txt", []string{"models"}},
		{"models.json", []string{"models", "--json"}},
		{"infer_maverick.json", []string{"infer", "-f", "../../examples/serve-maverick-eagle.yaml", "--json"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := filepath.Join(t.TempDir(), "s.db") // a fresh store: study 1
			args := slices.Clone(tc.args)
			for i, a := range args {
				if a == "DB" {
					args[i] = db
				}
			}
			out, errOut, code := run(t, args...)
			if code != 0 {
				t.Fatalf("%v: exit %d: %s", tc.args, code, errOut)
			}
			golden(t, tc.name, []byte(strings.ReplaceAll(out, db, "DB")))
		})
	}
}

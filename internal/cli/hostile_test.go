package cli

import (
	"crypto/sha256"
	"database/sql"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	_ "modernc.org/sqlite"
)

// hostileJob is a small valid job with a site level, the base that the
// reproducers of issue 12 edit.
const hostileJob = `model: llama3-8b
system:
  gpu: h100-sxm
  gpus: 16
  topology:
    levels:
      - {name: node, size: 8, bandwidth_gbps: 3600, latency_us: 1}
      - {name: region, size: 2, bandwidth_gbps: 400, latency_us: 100, distance_km: 500, link_capacity_gbps: 1000, loss_rate: 1e-6}
parallel: {tp: 8, pp: 2, dp: 1}
schedule: 1f1b
training: {seq_len: 8192, global_batch: 16, micro_batch: 1}
`

const hostileServe = `model: llama3.1-8b
system: {gpu: h100-sxm, gpus: 1}
parallel: {tp: 1}
workload: {batch: 2, input_len: 256, output_len: 512}
speculative: {method: eagle3, draft_layers: 1, tree: chain:3}
`

func sha(t *testing.T, path string) [32]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b)
}

// TestHostileInputs runs every reproducer of issue 12 (and the classes of
// its 185-input campaign) through the command line: each must exit 2
// with a message naming the field or flag, within 2 s and without
// allocating 200 MB, and never print a goroutine dump.
func TestHostileInputs(t *testing.T) {
	dir := t.TempDir()
	file := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	job := func(name, old, new string) string {
		if !strings.Contains(hostileJob, old) {
			t.Fatalf("%s: %q not in the base job", name, old)
		}
		return file(name+".yaml", strings.Replace(hostileJob, old, new, 1))
	}
	serve := func(name, old, new string) string {
		if !strings.Contains(hostileServe, old) {
			t.Fatalf("%s: %q not in the base serving spec", name, old)
		}
		return file(name+".yaml", strings.Replace(hostileServe, old, new, 1))
	}
	base, serveBase := file("base.yaml", hostileJob), file("serve.yaml", hostileServe)
	for _, args := range [][]string{{"simulate", "-f", base}, {"simulate", "-f", base, "--engine", "event"}, {"infer", "-f", serveBase}} {
		if _, errOut, code := run(t, args...); code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errOut)
		}
	}
	fifo := filepath.Join(dir, "fifo.yaml")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	big := file("big.yaml", hostileJob+"search: {tp: ["+strings.Repeat("1, ", 1<<20)+"1]}\n")
	longList := file("list.yaml", hostileJob+"search: {tp: ["+strings.Repeat("1, ", 5000)+"1]}\n")
	longID := file("id.yaml", strings.Replace(hostileJob, "model: llama3-8b", "model: "+strings.Repeat("x", 4000), 1))
	var levels strings.Builder
	for range 100 {
		levels.WriteString("      - {name: l, size: 1, bandwidth_gbps: 1, latency_us: 1}\n")
	}
	manyLevels := file("levels.yaml", strings.Replace(hostileJob, "      - {name: node", levels.String()+"      - {name: node", 1))
	chain := "["
	for i := range 300 {
		if i > 0 {
			chain += ", "
		}
		chain += "[" + strings.TrimSuffix(strings.Repeat("0,", i+1), ",") + "]"
	}
	chain += "]"
	deepTree := file("tree.yaml", strings.Replace(hostileServe, "tree: chain:3", "tree: "+chain, 1))
	hfDir := filepath.Join(dir, "hf")
	if err := os.Mkdir(hfDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(hfDir, "config.json"), []byte(`{"model_type": "llama", "hidden_size": 1e400}`), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		// 1. Bounded reads.
		{"spec /dev/zero", []string{"simulate", "-f", "/dev/zero"}, "not a regular file"},
		{"spec FIFO", []string{"simulate", "-f", fifo}, "not a regular file"},
		{"spec directory", []string{"simulate", "-f", dir}, "is a directory"},
		{"spec stdin", []string{"simulate", "-f", "/dev/stdin"}, "cannot read spec"},
		{"spec over 1 MiB", []string{"simulate", "-f", big}, "over the 1048576-byte limit"},
		{"infer spec /dev/zero", []string{"infer", "-f", "/dev/zero"}, "not a regular file"},
		{"plan spec /dev/zero", []string{"plan", "-f", "/dev/zero", "--db", filepath.Join(dir, "p.db")}, "not a regular file"},
		{"net spec /dev/zero", []string{"net", "-f", "/dev/zero"}, "not a regular file"},
		{"models show /dev/zero", []string{"models", "show", "/dev/zero"}, "not a regular file"},
		{"model: /dev/zero", []string{"simulate", "-f", job("modelzero", "model: llama3-8b", "model: /dev/zero")}, "not a regular file"},
		{"model: a directory without config", []string{"simulate", "-f", job("modeldir", "model: llama3-8b", "model: "+dir)}, "config.json"},
		{"config.json non-finite", []string{"simulate", "-f", job("modelhf", "model: llama3-8b", "model: "+hfDir)}, "hidden_size"},
		{"search list over 4096", []string{"plan", "-f", longList, "--db", filepath.Join(dir, "p.db")}, "search.tp: has 5001 entries, over the limit of 4096"},
		{"search list for simulate", []string{"simulate", "-f", longList}, "search.tp: has 5001 entries"},
		{"long model id", []string{"simulate", "-f", longID}, "(4000 bytes, shortened)"},
		{"long id argument", []string{"models", "show", strings.Repeat("y", 60000)}, "(60000 bytes, shortened)"},
		{"huge argument", []string{"hardware", "show", strings.Repeat("y", 70000)}, "over the limit of 65536"},
		{"100 topology levels", []string{"simulate", "-f", manyLevels}, "system.topology.levels: has 102 levels, over the limit of 64"},
		{"draft chain of 300", []string{"infer", "-f", deepTree}, "speculative.tree: has 300 paths, over the limit of 256"},
		// 2. Finite numbers in physical ranges.
		{"route_stretch .inf", []string{"simulate", "-f", job("stretch", "loss_rate: 1e-6", "loss_rate: 1e-6, route_stretch: .inf")}, "system.topology.levels[1].route_stretch: must be a finite number"},
		{"route_stretch 1e6", []string{"simulate", "-f", job("stretch2", "loss_rate: 1e-6", "loss_rate: 1e-6, route_stretch: 1e6")}, "system.topology.levels[1].route_stretch: 1e+06 is outside [1, 10]"},
		{"distance_km 1e308", []string{"simulate", "-f", job("dist", "distance_km: 500", "distance_km: 1e308")}, "system.topology.levels[1].distance_km: 1e+308 is outside [0, 40075]"},
		{"distance_km NaN", []string{"simulate", "--json", "-f", job("distnan", "distance_km: 500", "distance_km: .nan")}, "system.topology.levels[1].distance_km: must be a finite number"},
		{"bandwidth 1e-300", []string{"simulate", "-f", job("bw", "bandwidth_gbps: 400", "bandwidth_gbps: 1e-300")}, "system.topology.levels[1].bandwidth_gbps: 1e-300 is outside [0.001, 1e+06]"},
		{"bandwidth -inf", []string{"simulate", "-f", job("bwinf", "bandwidth_gbps: 400", "bandwidth_gbps: -.inf")}, "system.topology.levels[1].bandwidth_gbps: must be a finite number"},
		{"link capacity 1e300", []string{"simulate", "-f", job("cap", "link_capacity_gbps: 1000", "link_capacity_gbps: 1e300")}, "system.topology.levels[1].link_capacity_gbps"},
		{"loss rate 0.9", []string{"simulate", "-f", job("loss", "loss_rate: 1e-6", "loss_rate: 0.9")}, "system.topology.levels[1].loss_rate: 0.9 is outside [0, 0.5]"},
		{"latency 1e30", []string{"simulate", "-f", job("lat", "latency_us: 100", "latency_us: 1e30")}, "system.topology.levels[1].latency_us"},
		{"oversubscription 0.5", []string{"simulate", "-f", job("over", "latency_us: 100", "latency_us: 100, oversubscription: 0.5")}, "system.topology.levels[1].oversubscription"},
		{"acceptance .nan", []string{"infer", "-f", serve("acc", "tree: chain:3", "tree: chain:3, acceptance: [.nan]")}, "speculative.acceptance[0]: must be a finite number"},
		// Integer overflow and sizes checked before expanding.
		{"level sizes wrap", []string{"simulate", "-f", job("wrap", "size: 2,", "size: 2147483647,")}, "system.topology.levels[1].size: level sizes multiply past 16777216 GPUs"},
		{"sizes product past 2^64", []string{"simulate", "-f", job("wrap2", "size: 8,", "size: 2147483647,")}, "level sizes multiply past"},
		{"gpus huge", []string{"simulate", "-f", job("gpus", "gpus: 16", "gpus: 2000000000")}, "system.gpus: 2000000000 is over the limit of 16777216"},
		{"degree over gpus", []string{"simulate", "-f", job("deg", "pp: 2, dp: 1", "pp: 2, cp: 2000000000, dp: 1")}, "parallel.cp: 2000000000 is more than system.gpus"},
		{"degrees product", []string{"simulate", "-f", job("degp", "tp: 8, pp: 2, dp: 1", "tp: 16, pp: 16, cp: 16, dp: 16")}, "parallel"},
		{"global_batch huge", []string{"simulate", "-f", job("gb", "global_batch: 16", "global_batch: 2000000000")}, "training.global_batch: 2000000000 is over the limit of 16777216"},
		{"infer sweep past 4096", []string{"infer", "-f", serveBase, "--sweep", "batch=2,3,...,9000000000000000000"}, "--sweep: batch 9000000000000000000 is over the limit of 1048576"},
		{"infer sweep int64 max", []string{"infer", "-f", serveBase, "--sweep", "batch=2,3,...,9223372036854775807"}, "--sweep: batch 9223372036854775807 is over the limit"},
		{"infer sweep long progression", []string{"infer", "-f", serveBase, "--sweep", "batch=10,11,...,100000"}, "more than 4096 batch sizes"},
		{"infer sweep overflow", []string{"infer", "-f", serveBase, "--sweep", "batch=1,99999999999999999999999"}, "must be a positive integer"},
		{"net --max int64", []string{"net", "-f", base, "--max", "9223372036854775807"}, "--max 9223372036854775807 is over the limit of 1TiB"},
		{"net --max huge GiB", []string{"net", "-f", base, "--max", "9000000000GiB"}, "--max 9000000000GiB is over the limit"},
		{"input_len near int64", []string{"infer", "-f", serve("inlen", "input_len: 256", "input_len: 9223372036854775000")}, "workload.input_len: 9223372036854775000 is out of range"},
		{"input_len over 16M", []string{"infer", "-f", serve("inlen2", "input_len: 256", "input_len: 100000000")}, "workload.input_len: 100000000 is over the limit of 16777216"},
		{"context over 16M", []string{"infer", "-f", serve("ctx", "input_len: 256", "input_len: 256, context: 2000000000")}, "workload.context"},
		// Fractions, types, malformed YAML.
		{"tp: 1.5", []string{"simulate", "-f", job("tp15", "tp: 8", "tp: 1.5")}, "parallel.tp: must be a whole number, got 1.5"},
		{"gpus: 8.9", []string{"simulate", "-f", job("gpus89", "gpus: 16", "gpus: 8.9")}, "system.gpus: must be a whole number, got 8.9"},
		{"tp: -0.5", []string{"simulate", "-f", job("tpneg", "tp: 8", "tp: -0.5")}, "parallel.tp: must be a whole number, got -0.5"},
		{"serving tp: 0.5", []string{"infer", "-f", serve("stp", "tp: 1", "tp: 0.5")}, "parallel.tp: must be a whole number, got 0.5"},
		{"string for int", []string{"simulate", "-f", job("strint", "gpus: 16", "gpus: sixteen")}, `system.gpus: must be a whole number, got the string "sixteen"`},
		{"list for string", []string{"simulate", "-f", job("liststr", "schedule: 1f1b", "schedule: [1f1b]")}, "schedule: must be a string, got a list"},
		{"bool for mapping", []string{"simulate", "-f", job("boolmap", "parallel: {tp: 8, pp: 2, dp: 1}", "parallel: true")}, "parallel: must be a mapping of fields, got the boolean true"},
		{"unknown field", []string{"simulate", "-f", job("unknown", "micro_batch: 1", "micro_batch: 1, micro_bach: 2")}, "training.micro_bach: unknown field"},
		{"malformed YAML", []string{"simulate", "-f", file("bad.yaml", "model: [unclosed\n")}, "invalid spec"},
		{"deep nesting", []string{"simulate", "-f", file("deep.yaml", "model: "+strings.Repeat("[", 100000))}, "invalid spec"},
		{"binary garbage", []string{"simulate", "-f", file("bin.yaml", "\x7fELF\x00\x01\x02\xff\xfe\x00")}, "invalid spec"},
		{"empty", []string{"simulate", "-f", file("empty.yaml", "")}, "spec is empty"},
		{"two documents", []string{"simulate", "-f", file("two.yaml", hostileJob+"---\nmodel: x\n")}, "exactly one YAML document"},
		{"json NaN-like", []string{"simulate", "-f", file("j.json", `{"model": "llama3-8b", "system": {"gpu": "h100-sxm", "gpus": 1e999}}`)}, "system.gpus"},
		// Usage errors.
		{"unknown command", []string{"simulat"}, "unknown command"},
		{"extra argument", []string{"simulate", "x"}, "unknown command"},
		{"missing argument", []string{"studies", "show"}, "accepts 1 arg"},
		{"unknown flag", []string{"simulate", "--nope"}, "unknown flag"},
		// 6. Memory guards of the event engine and traces.
		{"event engine too large", []string{"simulate", "--engine", "event", "-f", job("ev", "global_batch: 16", "global_batch: 2000000")}, "use the analytic engine (--engine analytic)"},
		{"trace too large", []string{"simulate", "--trace", filepath.Join(dir, "t.json"), "-f", job("tr", "global_batch: 16", "global_batch: 200000")}, "over the limit of 131072 ops for a timeline"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			t0 := time.Now()
			_, errOut, code := run(t, tc.args...)
			d := time.Since(t0)
			runtime.ReadMemStats(&after)
			if code != ExitBadInput || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit %d, stderr %q; want exit 2 naming %q", code, clipArg(errOut), tc.want)
			}
			if strings.Contains(errOut, "goroutine ") || len(errOut) > 2000 {
				t.Errorf("stderr is %d bytes: %q", len(errOut), clipArg(errOut))
			}
			if d > 2*time.Second {
				t.Errorf("took %v, want under 2 s", d)
			}
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 200<<20 {
				t.Errorf("allocated %d MB, want under 200 MB", alloc>>20)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "p.db")); err == nil {
		t.Error("a plan with an invalid spec created its database")
	}
	if _, err := os.Stat(filepath.Join(dir, "t.json")); err == nil {
		t.Error("a refused trace left a file")
	}
}

// TestDatabaseFilesByteIdentical checks at the command line that --db
// paths with URI syntax touch only the file of that literal name, and that
// a study database with a corrupt page is refused, both leaving the other
// files byte-identical (sha256).
func TestDatabaseFilesByteIdentical(t *testing.T) {
	dir := t.TempDir()
	other := filepath.Join(dir, "other.db")
	db, err := sql.Open("sqlite", other)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`CREATE TABLE t (x); INSERT INTO t VALUES (1)`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	h := sha(t, other)
	for _, p := range []string{other + "?x=1", filepath.Join(dir, "%6fther.db")} {
		if _, errOut, code := run(t, "studies", "list", "--db", p); code != 0 {
			t.Errorf("studies list --db %s: exit %d, %s", p, code, errOut)
		}
		if _, err := os.Stat(p); err == nil {
			t.Errorf("studies list created %s", p)
		}
		if _, errOut, code := run(t, "plan", "-f", smallPlan, "--json", "--db", p); code != 0 {
			t.Errorf("plan --db %s: exit %d, %s", p, code, errOut)
		}
		if _, err := os.Stat(p); err != nil {
			t.Errorf("plan did not create the literal file %s: %v", p, err)
		}
		if sha(t, other) != h {
			t.Fatalf("--db %s modified other.db", p)
		}
	}
	// A study database with a corrupt page: the plan is refused before it
	// writes a study row.
	studies := other + "?x=1"
	data, err := os.ReadFile(studies)
	if err != nil {
		t.Fatal(err)
	}
	pageSize := int(data[16])<<8 | int(data[17])
	corrupted := false
	for off := pageSize; off+pageSize <= len(data); off += pageSize {
		if data[off] == 0x02 || data[off] == 0x05 || data[off] == 0x0a || data[off] == 0x0d {
			for i := off + 8; i < off+40; i++ {
				data[i] = 0xff
			}
			corrupted = true
			break
		}
	}
	if !corrupted {
		t.Fatal("no b-tree page to corrupt")
	}
	corrupt := filepath.Join(dir, "corrupt.db")
	if err := os.WriteFile(corrupt, data, 0o644); err != nil {
		t.Fatal(err)
	}
	hc := sha(t, corrupt)
	_, errOut, code := run(t, "plan", "-f", smallPlan, "--db", corrupt)
	if code != ExitBadInput || !strings.Contains(errOut, "corrupt") {
		t.Errorf("plan on a corrupt database: exit %d, %s", code, errOut)
	}
	if sha(t, corrupt) != hc {
		t.Error("the corrupt database was modified")
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), "-journal") || strings.HasSuffix(e.Name(), "-wal") {
			t.Errorf("leftover %s", e.Name())
		}
	}
}

package cli

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/scaleacross/scaleacross/explore"
	"github.com/scaleacross/scaleacross/store"
)

// smallPlan is a small two-building job whose plan takes about a second.
const smallPlan = "../../explore/testdata/small.yaml"

func runPlanCLI(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := Main(args, &out, &errOut)
	return out.String(), errOut.String(), code
}

func decode(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatalf("bad JSON: %v\n%s", err, s)
	}
	return m
}

// stable drops what varies between runs: wall-clock timings, the
// candidates pruned (explore.SpaceSummary.Pruned), study ids.
func stable(t *testing.T, s string) map[string]any {
	m := decode(t, s)
	delete(m, "elapsed_s")
	delete(m, "timings")
	delete(m, "study")
	for _, sp := range m["spaces"].([]any) {
		delete(sp.(map[string]any), "elapsed_s")
		delete(sp.(map[string]any), "pruned")
	}
	return m
}

func TestPlanJSONContract(t *testing.T) {
	db := filepath.Join(t.TempDir(), "s.db")
	out, errOut, code := runPlanCLI(t, "plan", "-f", smallPlan, "--db", db, "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if errOut != "" {
		t.Errorf("stderr not empty with --json: %q", errOut)
	}
	m := decode(t, out)
	best := m["best"].(map[string]any)
	base := m["baselines"].(map[string]any)
	for _, v := range []any{best["step_time_s"], base["production"].(map[string]any)["step_time_s"], base["prior_art"].(map[string]any)["step_time_s"],
		m["speedup_vs_production"], m["speedup_vs_prior_art"], m["candidates_evaluated"]} {
		if f, ok := v.(float64); !ok || f <= 0 {
			t.Errorf("missing or non-positive contract field: %v", v)
		}
	}
	for _, k := range []string{"tp", "pp", "dp", "schedule", "placement", "micro_batch", "technology"} {
		if _, ok := best[k]; !ok {
			t.Errorf("best lacks %q", k)
		}
	}
	// The study is stored and can be listed, shown and exported.
	list, _, code := runPlanCLI(t, "studies", "list", "--db", db, "--json")
	if code != 0 || !strings.Contains(list, `"status": "complete"`) {
		t.Fatalf("studies list: exit %d\n%s", code, list)
	}
	show, _, code := runPlanCLI(t, "studies", "show", "1", "--db", db, "--json")
	if code != 0 {
		t.Fatalf("studies show: exit %d", code)
	}
	if diff := cmp.Diff(stable(t, out), stable(t, show)); diff != "" {
		t.Errorf("studies show differs from plan (-plan +show):\n%s", diff)
	}
	text, _, code := runPlanCLI(t, "studies", "show", "1", "--db", db)
	if code != 0 || !strings.Contains(text, "production") || !strings.Contains(text, "step breakdown") {
		t.Errorf("studies show text: exit %d\n%s", code, text)
	}
	spaces := m["spaces"].([]any)
	feasible := 0
	for _, s := range spaces {
		feasible += int(s.(map[string]any)["feasible"].(float64))
	}
	// Study 1 keeps the default: the fastest of each space and its Pareto
	// front. Study 2 keeps every candidate that fits (--keep all), and its
	// ranking starts with the same rows.
	if _, errOut, code := runPlanCLI(t, "plan", "-f", smallPlan, "--db", db, "--json", "--keep", "all"); code != 0 {
		t.Fatalf("plan --keep all: exit %d: %s", code, errOut)
	}
	export := func(id string) [][]string {
		csvOut, _, code := runPlanCLI(t, "studies", "export", id, "--db", db, "--format", "csv")
		if code != 0 {
			t.Fatalf("export csv: exit %d", code)
		}
		rows, err := csv.NewReader(strings.NewReader(csvOut)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		return rows
	}
	kept, all := export("1"), export("2")
	if len(all)-1 != feasible || all[1][0] != "explorer" || all[1][1] != "1" {
		t.Errorf("export --keep all has %d rows (first %v), want %d feasible candidates ranked", len(all)-1, all[1], feasible)
	}
	if len(kept)-1 < explore.DefaultKeep || len(kept) >= len(all) {
		t.Errorf("default export has %d rows of %d that fit, want at least %d and fewer than all", len(kept)-1, feasible, explore.DefaultKeep)
	}
	if diff := cmp.Diff(all[:explore.DefaultKeep+1], kept[:explore.DefaultKeep+1]); diff != "" {
		t.Errorf("the kept ranking differs from the whole one (-all +kept):\n%s", diff)
	}
	js, _, code := runPlanCLI(t, "studies", "export", "2", "--db", db, "--format", "json")
	if code != 0 || len(decode(t, js)["candidates"].([]any)) != feasible {
		t.Errorf("export json: exit %d", code)
	}
}

func TestPlanTextAndDeterminism(t *testing.T) {
	dir := t.TempDir()
	a, _, code := runPlanCLI(t, "plan", "-f", smallPlan, "--db", filepath.Join(dir, "a.db"), "--json")
	b, _, code2 := runPlanCLI(t, "plan", "-f", smallPlan, "--db", filepath.Join(dir, "b.db"), "--json")
	if code != 0 || code2 != 0 {
		t.Fatalf("exit %d, %d", code, code2)
	}
	// Without --timings the output carries no wall-clock figure: two runs
	// print the same bytes.
	if diff := cmp.Diff(a, b); diff != "" {
		t.Errorf("two runs differ:\n%s", diff)
	}
	timed, _, code := runPlanCLI(t, "plan", "-f", smallPlan, "--db", filepath.Join(dir, "c.db"), "--json", "--timings")
	if m := decode(t, timed); code != 0 || !(m["elapsed_s"].(float64) > 0) || decode(t, a)["elapsed_s"].(float64) != 0 {
		t.Errorf("--timings: exit %d, elapsed %v; without: %v", code, m["elapsed_s"], decode(t, a)["elapsed_s"])
	}
	text, _, code := runPlanCLI(t, "plan", "-f", smallPlan, "--db", filepath.Join(dir, "a.db"))
	if strings.Contains(text, "wall clock") {
		t.Errorf("text output without --timings shows timings:\n%s", text)
	}
	for _, want := range []string{"best is", "prior art", "why", "assumed", "study 2"} {
		if !strings.Contains(text, want) {
			t.Errorf("text output lacks %q:\n%s", want, text)
		}
	}
}

// Four shards in four databases, merged, give the unsharded plan.
func TestShardsMergeCLI(t *testing.T) {
	dir := t.TempDir()
	whole, _, code := runPlanCLI(t, "plan", "-f", smallPlan, "--db", filepath.Join(dir, "whole.db"), "--json")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	var dbs []string
	for i := 0; i < 4; i++ {
		db := filepath.Join(dir, "shard"+string(rune('0'+i))+".db")
		out, errOut, code := runPlanCLI(t, "plan", "-f", smallPlan, "--db", db, "--shard", string(rune('0'+i))+"/4", "--json")
		if code != 0 {
			t.Fatalf("shard %d: exit %d: %s", i, code, errOut)
		}
		if n := decode(t, out)["candidates_evaluated"].(float64); n <= 0 {
			t.Errorf("shard %d evaluated %v", i, n)
		}
		dbs = append(dbs, db)
	}
	out, errOut, code := runPlanCLI(t, append([]string{"studies", "merge", "--db", filepath.Join(dir, "merged.db"), "--json"}, dbs...)...)
	if code != 0 {
		t.Fatalf("merge: exit %d: %s", code, errOut)
	}
	if diff := cmp.Diff(stable(t, whole), stable(t, out)); diff != "" {
		t.Errorf("merged differs from whole (-whole +merged):\n%s", diff)
	}
	// An incomplete set is refused.
	if _, errOut, code := runPlanCLI(t, "studies", "merge", "--db", filepath.Join(dir, "m2.db"), dbs[0], dbs[1]); code != 2 {
		t.Errorf("merging 2 of 4 shards: exit %d (%s), want 2", code, errOut)
	}
}

func TestPlanBadInput(t *testing.T) {
	dir := t.TempDir()
	foreign := filepath.Join(dir, "notes.db")
	content := []byte("not a database\n")
	if err := os.WriteFile(foreign, content, 0o644); err != nil {
		t.Fatal(err)
	}
	nothing := filepath.Join(dir, "nothing.yaml")
	data, _ := os.ReadFile(smallPlan)
	if err := os.WriteFile(nothing, bytes.Replace(data, []byte("tp: [1, 2, 4, 8]"), []byte("tp: [3]"), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"foreign database", []string{"plan", "-f", smallPlan, "--db", foreign}, 2, "not a SQLite database"},
		{"nothing satisfies", []string{"plan", "-f", nothing, "--db", filepath.Join(dir, "n.db")}, 3, "search.tp"},
		{"bad shard", []string{"plan", "-f", smallPlan, "--db", filepath.Join(dir, "x.db"), "--shard", "4/4"}, 2, "--shard"},
		{"bad sweep", []string{"plan", "-f", smallPlan, "--db", filepath.Join(dir, "x.db"), "--sweep", "weather=1"}, 2, "--sweep"},
		{"no database", []string{"studies", "show", "7", "--db", filepath.Join(dir, "x.db")}, 2, "no study database at"},
		{"unknown study", []string{"studies", "show", "7", "--db", filepath.Join(dir, "n.db")}, 2, "no study 7"},
		{"bad keep", []string{"plan", "-f", smallPlan, "--db", filepath.Join(dir, "x.db"), "--keep", "0"}, 2, "--keep"},
		{"keep not a number", []string{"plan", "-f", smallPlan, "--db", filepath.Join(dir, "x.db"), "--keep", "most"}, 2, "--keep"},
		{"bad export format", []string{"studies", "export", "1", "--db", filepath.Join(dir, "x.db"), "--format", "xml"}, 2, "--format"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, errOut, code := runPlanCLI(t, tc.args...)
			if code != tc.code || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit %d, stderr %q; want exit %d mentioning %q", code, errOut, tc.code, tc.want)
			}
		})
	}
	if after, _ := os.ReadFile(foreign); !bytes.Equal(after, content) {
		t.Error("the foreign file was modified")
	}
	if _, err := os.Stat(filepath.Join(dir, "x.db")); err == nil {
		t.Error("a failed plan or a read-only command created x.db")
	}
}

func TestPlanSweepWritesPlots(t *testing.T) {
	dir := t.TempDir()
	base := filepath.Join(dir, "sweep")
	out, errOut, code := runPlanCLI(t, "plan", "-f", smallPlan, "--db", filepath.Join(dir, "s.db"), "--sweep", "distance=1,100", "--plot", base, "--json", "--top-k", "1")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	m := decode(t, out)
	if pts := m["points"].([]any); len(pts) != 2 {
		t.Fatalf("points = %d, want 2", len(pts))
	}
	for _, f := range []string{".svg", ".png", "-pareto.svg", "-pareto.png"} {
		st, err := os.Stat(base + f)
		if err != nil || st.Size() == 0 {
			t.Errorf("plot %s: %v", f, err)
		}
	}
}

// TestPlanEmit prints the best configuration's launch arguments, and an
// unknown framework is refused before the search runs.
func TestPlanEmit(t *testing.T) {
	out, errOut, code := runPlanCLI(t, "plan", "-f", smallPlan, "--db", filepath.Join(t.TempDir(), "s.db"), "--emit", "torchtitan")
	if code != 0 || !strings.Contains(out, "[parallelism]") || !strings.Contains(out, "the plan's best for llama3.1-8b") {
		t.Errorf("exit %d: %s\n%s", code, errOut, out)
	}
	db := filepath.Join(t.TempDir(), "none.db")
	if _, errOut, code := runPlanCLI(t, "plan", "-f", smallPlan, "--db", db, "--emit", "jax"); code != 2 || !strings.Contains(errOut, "--emit") {
		t.Errorf("unknown framework: exit %d, %s", code, errOut)
	}
}

// A study interrupted before its first commit resumes into the plan of an
// uninterrupted run; one searched under an older numbering of the
// candidates is refused.
func TestResumeCLI(t *testing.T) {
	dir := t.TempDir()
	whole, _, code := runPlanCLI(t, "plan", "-f", smallPlan, "--db", filepath.Join(dir, "whole.db"), "--json")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	j, text, name, err := loadJob(smallPlan)
	if err != nil {
		t.Fatal(err)
	}
	o, err := planOptionsOf(j, &planFlags{engine: "event"})
	if err != nil {
		t.Fatal(err)
	}
	old := o
	old.Numbering = 0
	path := filepath.Join(dir, "r.db")
	db, err := store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, opt := range []planOptions{o, old} {
		data, _ := json.Marshal(opt)
		id, err := db.Create(store.Study{Name: name, Model: j.Model, GPUs: j.System.GPUs, Spec: text, Hash: specHash(text, opt), Options: string(data)}, time.Unix(0, 0))
		if err != nil {
			t.Fatal(err)
		}
		if err := db.SetStatus(id, store.StatusInterrupted); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	out, errOut, code := runPlanCLI(t, "plan", "--resume", "1", "--db", path, "--json")
	if code != 0 {
		t.Fatalf("resume: exit %d: %s", code, errOut)
	}
	if diff := cmp.Diff(stable(t, whole), stable(t, out)); diff != "" {
		t.Errorf("resumed plan differs (-whole +resumed):\n%s", diff)
	}
	if _, errOut, code := runPlanCLI(t, "plan", "--resume", "2", "--db", path); code != 2 || !strings.Contains(errOut, "numbered candidates differently") {
		t.Errorf("resuming a study of the older numbering: exit %d (%s), want 2", code, errOut)
	}
}

// Progress lines come at most every interval and say how far the search
// is and how long it has left at its pace.
func TestProgressLines(t *testing.T) {
	var b bytes.Buffer
	clock := time.Unix(0, 0)
	p := progressLines(&b, 4000, 10*time.Second, func() time.Time { return clock })
	for _, step := range []struct {
		dt   time.Duration
		done int
	}{{4 * time.Second, 500}, {7 * time.Second, 1000}, {3 * time.Second, 1500}, {20 * time.Second, 3000}} {
		clock = clock.Add(step.dt)
		p(step.done)
	}
	want := "plan: 1,000 of 4,000 candidates (25%), 11 s elapsed, about 33 s left\n" +
		"plan: 3,000 of 4,000 candidates (75%), 34 s elapsed, about 11 s left\n"
	if b.String() != want {
		t.Errorf("progress lines:\n%s\nwant:\n%s", b.String(), want)
	}
}

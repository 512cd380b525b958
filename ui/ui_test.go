package ui_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/scaleacross/scaleacross/internal/cli"
	goldenfile "github.com/scaleacross/scaleacross/internal/golden"
	"github.com/scaleacross/scaleacross/store"
	"github.com/scaleacross/scaleacross/ui"
)

// update rewrites the JSON golden files under testdata/ instead of
// comparing: go test ./ui -update.
var update = flag.Bool("update", false, "rewrite golden files")

// planSpec is the test study's job: a plan of it takes about a second.
const planSpec = "testdata/plan.yaml"

// shared is the test study, planned once by TestMain.
var shared struct {
	path string
	plan map[string]any
}

func TestMain(m *testing.M) {
	flag.Parse()
	dir, err := os.MkdirTemp("", "scaleacross-ui-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	shared.path, shared.plan, err = makeStore(dir)
	code := 1
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
	} else {
		code = m.Run()
	}
	os.RemoveAll(dir)
	os.Exit(code)
}

// makeStore runs a real plan of planSpec into a fresh database in dir
// and returns its path and the plan's JSON.
func makeStore(dir string) (string, map[string]any, error) {
	db := filepath.Join(dir, "studies.db")
	var out, errOut bytes.Buffer
	if code := cli.Main([]string{"plan", "-f", planSpec, "--db", db, "--json"}, &out, &errOut); code != 0 {
		return "", nil, fmt.Errorf("plan: exit %d: %s", code, errOut.String())
	}
	var plan map[string]any
	if err := json.Unmarshal(out.Bytes(), &plan); err != nil {
		return "", nil, fmt.Errorf("plan JSON: %w", err)
	}
	return db, plan, nil
}

// testStore returns the shared test study's database and plan JSON.
func testStore(testing.TB) (string, map[string]any) { return shared.path, shared.plan }

// newServer serves the database at path read-only.
func newServer(t testing.TB, path string) *httptest.Server {
	t.Helper()
	db, err := store.OpenReadOnly(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	s, err := ui.New(db, ui.Options{Examples: "../examples"})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return ts
}

// get fetches a page, as JSON when asJSON is set.
func get(t testing.TB, ts *httptest.Server, path string, asJSON bool) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, ts.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if asJSON {
		req.Header.Set("Accept", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}

// normalize drops what varies between runs (wall-clock times, creation
// dates, temporary paths) and re-encodes with sorted keys.
func normalize(t testing.TB, body string) []byte {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		t.Fatalf("bad JSON: %v\n%s", err, body)
	}
	var walk func(v any) any
	walk = func(v any) any {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				switch k {
				case "created", "elapsed_s", "timings", "database":
					x[k] = "(varies)"
				default:
					x[k] = walk(e)
				}
			}
		case []any:
			for i := range x {
				x[i] = walk(x[i])
			}
		}
		return v
	}
	out, err := json.MarshalIndent(walk(v), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(out, '\n')
}

// pages are the pages of the test study, with text each HTML page must
// hold.
func pages() []struct {
	name, path string
	want       []string
} {
	return []struct {
		name, path string
		want       []string
	}{
		{"studies", "/", []string{`id="studies"`, "llama3.1-8b", "complete", "2 (building)"}},
		{"studies_filtered", "/?q=nomatch", []string{"No studies match"}},
		{"study", "/studies/1", []string{`id="plans"`, "prior art", "production", `id="candidates"`, "Pareto front", "step breakdown", "memory per GPU", `class="bar"`}},
		{"study_sorted", "/studies/1?sort=memory&desc=1", []string{`id="candidates"`}},
		{"candidate", "/studies/1/explorer/0", []string{`id="step-time"`, `id="traffic"`, `class="stage"`, "trace.json", "forward"}},
		{"whatif_form", "/studies/1/explorer/0/whatif", []string{`id="whatif"`, `name="trunk_gbps"`, `name="distance_km"`, `name="bandwidth_gbps"`}},
		{"whatif", "/studies/1/explorer/0/whatif?run=1&trunk_gbps=400&distance_km=10", []string{`id="diff"`, `id="new-step-time"`}},
		{"compare", "/compare?a=1/explorer/0&b=1/production/0", []string{`id="compare"`, "differs", "placement"}},
		{"serving", "/serving?example=serve-maverick-eagle&batches=1,4,16,64", []string{`id="sweep"`, "llama4-maverick", "<svg"}},
	}
}

func TestPagesHTMLAndJSON(t *testing.T) {
	path, _ := testStore(t)
	ts := newServer(t, path)
	for _, pg := range pages() {
		t.Run(pg.name, func(t *testing.T) {
			code, body := get(t, ts, pg.path, false)
			if code != http.StatusOK {
				t.Fatalf("GET %s: status %d\n%s", pg.path, code, body)
			}
			for _, w := range pg.want {
				if !strings.Contains(body, w) {
					t.Errorf("GET %s: page lacks %q", pg.path, w)
				}
			}
			code, body = get(t, ts, pg.path, true)
			if code != http.StatusOK {
				t.Fatalf("GET %s as JSON: status %d\n%s", pg.path, code, body)
			}
			goldenfile.Check(t, filepath.Join("testdata", pg.name+".json"), normalize(t, body), *update)
			sep := "?"
			if strings.Contains(pg.path, "?") {
				sep = "&"
			}
			code2, body2 := get(t, ts, pg.path+sep+"format=json", false)
			if code2 != code || !bytes.Equal(normalize(t, body), normalize(t, body2)) {
				t.Errorf("?format=json differs from Accept: application/json")
			}
		})
	}
}

func TestBadRequests(t *testing.T) {
	path, _ := testStore(t)
	ts := newServer(t, path)
	for _, c := range []struct {
		path string
		code int
		want string
	}{
		{"/studies/9", 404, "no study 9"},
		{"/studies/x", 404, "no study"},
		{"/studies/1/explorer/999999", 404, "no stored candidate 999999"},
		{"/studies/1/nowhere/0", 404, "no space"},
		{"/studies/9/explorer/0/trace.json", 404, "no study 9"},
		{"/nothing/here", 404, "no page"},
		{"/studies/1/explorer/0/whatif?run=1&tp=0", 400, "tp:"},
		{"/studies/1/explorer/0/whatif?run=1&bandwidth_gbps=-5", 400, "bandwidth_gbps:"},
		{"/studies/1/explorer/0/whatif?run=1&distance_km=1e9", 400, "distance_km:"},
		{"/studies/1/explorer/0/whatif?run=1&schedule=zigzag", 400, "schedule:"},
		{"/studies/1/explorer/0/whatif?run=1&micro_batch=abc", 400, "micro_batch:"},
		{"/compare?a=1/explorer/0&b=oops", 400, "b:"},
		{"/serving?example=nope", 404, "example:"},
		{"/serving?example=serve-maverick-eagle&batches=4,2", 400, "batches:"},
		{"/?sort=bogus", 400, "sort:"},
	} {
		for _, asJSON := range []bool{false, true} {
			code, body := get(t, ts, c.path, asJSON)
			if code != c.code || !strings.Contains(body, c.want) {
				t.Errorf("GET %s (json %v) = %d %q, want %d with %q", c.path, asJSON, code, body, c.code, c.want)
			}
			if asJSON {
				var e struct{ Error string }
				if err := json.Unmarshal([]byte(body), &e); err != nil || e.Error == "" {
					t.Errorf("GET %s: error JSON %q", c.path, body)
				}
			}
		}
	}
	resp, err := http.Post(ts.URL+"/", "text/plain", strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST / = %d, want 405", resp.StatusCode)
	}
}

// The study page shows the plan's own numbers, and the candidate page's
// simulation of the best reproduces the plan's best step time (the
// candidate-to-spec mapping loses nothing).
func TestStudyMatchesPlan(t *testing.T) {
	path, plan := testStore(t)
	ts := newServer(t, path)
	_, body := get(t, ts, "/studies/1", true)
	var sp struct {
		Plans []struct {
			Name    string
			Link    string
			Speedup float64
			Choice  struct {
				StepTimeS float64 `json:"step_time_s"`
			}
		}
	}
	if err := json.Unmarshal([]byte(body), &sp); err != nil {
		t.Fatal(err)
	}
	best := plan["best"].(map[string]any)["step_time_s"].(float64)
	if len(sp.Plans) != 3 || sp.Plans[0].Choice.StepTimeS != best || sp.Plans[1].Speedup != plan["speedup_vs_production"] || sp.Plans[2].Speedup != plan["speedup_vs_prior_art"] {
		t.Fatalf("study page plans %+v differ from the plan", sp.Plans)
	}
	_, body = get(t, ts, sp.Plans[0].Link, true)
	var cp struct {
		Engine string
		Result struct {
			StepTimeS float64 `json:"step_time_s"`
		}
	}
	if err := json.Unmarshal([]byte(body), &cp); err != nil {
		t.Fatal(err)
	}
	if cp.Engine != "event" || cp.Result.StepTimeS != best {
		t.Errorf("candidate page of the best: %s %v s, plan's best %v s", cp.Engine, cp.Result.StepTimeS, best)
	}
}

// The what-if result equals `scaleacross simulate` of the changed spec
// the page shows.
func TestWhatIfMatchesSimulate(t *testing.T) {
	path, _ := testStore(t)
	ts := newServer(t, path)
	_, body := get(t, ts, "/studies/1/explorer/0/whatif?run=1&bandwidth_gbps=50&distance_km=500", true)
	var w struct {
		Spec     string
		Original struct {
			StepTimeS float64 `json:"step_time_s"`
		}
		Changed struct {
			StepTimeS float64 `json:"step_time_s"`
		}
	}
	if err := json.Unmarshal([]byte(body), &w); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(w.Spec, "distance_km: 500") {
		t.Fatalf("changed spec lacks the new distance:\n%s", w.Spec)
	}
	if w.Changed.StepTimeS == w.Original.StepTimeS {
		t.Errorf("changing the site link left the step time at %v s", w.Changed.StepTimeS)
	}
	if got := simulateSpec(t, w.Spec); got != w.Changed.StepTimeS {
		t.Errorf("what-if step %v s, simulate of its spec %v s", w.Changed.StepTimeS, got)
	}
}

// simulateSpec runs `scaleacross simulate --engine event --json` on a spec
// and returns its step time.
func simulateSpec(t testing.TB, text string) float64 {
	t.Helper()
	f := filepath.Join(t.TempDir(), "job.yaml")
	if err := os.WriteFile(f, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	if code := cli.Main([]string{"simulate", "-f", f, "--engine", "event", "--json"}, &out, &errOut); code != 0 && code != 3 {
		t.Fatalf("simulate: exit %d: %s", code, errOut.String())
	}
	var r struct {
		StepTimeS float64 `json:"step_time_s"`
	}
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatal(err)
	}
	return r.StepTimeS
}

// Browsing every page leaves the database file byte for byte as it was.
func TestServerNeverWrites(t *testing.T) {
	path, _ := testStore(t)
	before := snapshot(t, path)
	ts := newServer(t, path)
	for _, pg := range pages() {
		get(t, ts, pg.path, false)
		get(t, ts, pg.path, true)
	}
	get(t, ts, "/studies/1/explorer/0/trace.json", false)
	get(t, ts, "/studies/1/explorer/0/spec.yaml", false)
	ts.Close()
	if after := snapshot(t, path); after != before {
		t.Errorf("browsing changed the database directory:\nbefore %s\nafter  %s", before, after)
	}
}

// snapshot lists the files beside the database with their contents'
// digest, so a changed file or a left-over journal shows.
func snapshot(t testing.TB, path string) string {
	t.Helper()
	dir := filepath.Dir(path)
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var parts []string
	for _, e := range ents {
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, fmt.Sprintf("%s:%d:%08x", e.Name(), len(data), crc(data)))
	}
	sort.Strings(parts)
	return strings.Join(parts, " ")
}

// crc is a small FNV-1a digest.
func crc(data []byte) uint32 {
	h := uint32(2166136261)
	for _, b := range data {
		h = (h ^ uint32(b)) * 16777619
	}
	return h
}

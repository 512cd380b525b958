package ui_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// The trace download is Chrome Trace Event JSON with one process per
// stage, and the spec download reproduces the candidate page's step time
// with `scaleacross simulate`.
func TestDownloads(t *testing.T) {
	path, _ := testStore(t)
	ts := newServer(t, path)
	_, study := get(t, ts, "/studies/1", true)
	var sp struct{ Plans []struct{ Link string } }
	if err := json.Unmarshal([]byte(study), &sp); err != nil || len(sp.Plans) != 3 {
		t.Fatalf("study JSON: %v\n%s", err, study)
	}
	link := sp.Plans[2].Link // prior art: pipeline stages across the sites
	_, page := get(t, ts, link, true)
	var cp struct {
		Stages int
		Result struct {
			StepTimeS float64 `json:"step_time_s"`
		}
	}
	if err := json.Unmarshal([]byte(page), &cp); err != nil {
		t.Fatalf("candidate JSON: %v\n%s", err, page)
	}
	resp, err := http.Get(ts.URL + link + "/trace.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if cd := resp.Header.Get("Content-Disposition"); !strings.Contains(cd, "attachment") {
		t.Errorf("trace Content-Disposition %q, want an attachment", cd)
	}
	var trace struct {
		TraceEvents []struct {
			Ph, Name string
			Pid      int
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&trace); err != nil {
		t.Fatalf("trace JSON: %v", err)
	}
	procs := map[int]bool{}
	for _, e := range trace.TraceEvents {
		if e.Ph == "M" && e.Name == "process_name" {
			procs[e.Pid] = true
		}
	}
	if len(procs) != cp.Stages || cp.Stages < 2 {
		t.Errorf("trace names %d processes for %d stages", len(procs), cp.Stages)
	}
	code, spec := get(t, ts, link+"/spec.yaml", false)
	if code != http.StatusOK {
		t.Fatalf("spec.yaml: status %d", code)
	}
	if got := simulateSpec(t, spec); got != cp.Result.StepTimeS {
		t.Errorf("simulate of the downloaded spec: %v s, candidate page %v s", got, cp.Result.StepTimeS)
	}
}

package explore

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/scaleacross/scaleacross/schedule"
	"github.com/scaleacross/scaleacross/spec"
	"github.com/scaleacross/scaleacross/train"
)

// pruneScenarios are small spaces of several kinds for the pruning tests:
// dense and MoE, pp = 1 only and pipelined only.
func pruneScenarios(t *testing.T) []struct {
	name   string
	b      *Base
	spaces []*Space
} {
	t.Helper()
	edits := []struct {
		name string
		edit func(*spec.Job)
	}{
		{"dense", nil},
		{"dense pp=1", func(j *spec.Job) { j.Search.PP = []int{1}; j.Search.MaxPP = 0 }},
		{"dense pipelined", func(j *spec.Job) { j.Search.PP = []int{2, 4, 8}; j.Search.MaxPP = 0 }},
		{"moe", func(j *spec.Job) {
			j.Model = "qwen3-30b-a3b"
			j.Search.TP = []int{1, 2}
			j.Search.Zero = []int{1}
			j.Search.Technologies = []string{"native", "tcp"}
		}},
	}
	var out []struct {
		name   string
		b      *Base
		spaces []*Space
	}
	for _, e := range edits {
		b, sp := loadSmall(t, e.edit)
		out = append(out, struct {
			name   string
			b      *Base
			spaces []*Space
		}{e.name, b, sp})
	}
	return out
}

// Every candidate's analytic step is at least the compute of every
// candidate of its group (the candidates that differ only in transport
// and collective algorithm, as pricer.job groups them): the bound pruning
// relies on (prune.go). The quick memory check is the engines' figure
// for every schedule pruning may skip, so a pruned candidate fits.
func TestPruneBoundBelowStep(t *testing.T) {
	type member struct {
		c       Candidate
		step    float64
		compute float64
	}
	check := func(t *testing.T, name string, g []member) int {
		maxC, minStep := 0.0, 0.0
		var hi, lo Candidate
		for k, m := range g {
			if m.compute > maxC {
				maxC, hi = m.compute, m.c
			}
			if k == 0 || m.step < minStep {
				minStep, lo = m.step, m.c
			}
		}
		if len(g) > 0 && maxC > minStep {
			t.Fatalf("%s: compute %.9g s of %s exceeds the step %.9g s of %s in its group", name, maxC, hi, minStep, lo)
		}
		return len(g)
	}
	// scan checks the groups of s's candidates numbered i where use(i),
	// returning how many candidates that fit and groups of two or more
	// it checked.
	scan := func(t *testing.T, name string, b *Base, s *Space, use func(i int) bool) (int, int) {
		p := newPricer(b)
		var cfg train.Config
		var ev train.Evaluator
		var g []member
		n, groups := 0, 0
		s.enumerate(b, func(i int, c Candidate, sh *shape) bool {
			if !use(i) {
				return true
			}
			j, same := p.job(i, c, sh)
			if !same {
				if check(t, name, g) > 1 {
					groups++
				}
				g = g[:0]
			}
			if !j.pr.ok || !j.fits {
				return true
			}
			b.candidateConfig(&cfg, &j.c, j.pr)
			r, err := ev.AnalyticShared(&cfg, &j.pr.shared)
			if err != nil || !finite(r.StepTimeS) {
				t.Fatalf("%s candidate %d (%s): %v, step %v", name, i, c, err, r.StepTimeS)
			}
			if c.Schedule != string(schedule.LatencyAware) && (r.MemoryGiBPerGPU != j.mem || !r.Feasible) {
				t.Fatalf("%s candidate %d (%s): quick memory %.9g GiB fits, the engine's %.9g GiB (feasible %v)", name, i, c, j.mem, r.MemoryGiBPerGPU, r.Feasible)
			}
			g = append(g, member{c, r.StepTimeS, r.Breakdown.ComputeS})
			n++
			return true
		})
		if check(t, name, g) > 1 {
			groups++
		}
		return n, groups
	}
	n := 0
	for _, x := range pruneScenarios(t) {
		groups := 0
		for _, s := range x.spaces {
			k, g := scan(t, x.name+" "+s.Name, x.b, s, func(int) bool { return true })
			n, groups = n+k, groups+g
		}
		if groups == 0 {
			t.Errorf("%s: no group of two or more candidates that fit", x.name)
		}
	}
	if !testing.Short() {
		// Windows spread over the default scenario's explorer space.
		b, sp := loadDefault(t)
		const every, window = 50_000, 2_000
		k, g := scan(t, "default explorer", b, sp[0], func(i int) bool { return i%every < window })
		if g == 0 {
			t.Error("default explorer: no group of two or more candidates that fit")
		}
		n += k
	}
	t.Logf("%d candidates that fit checked", n)
}

// Pruning changes nothing the search keeps: on small spaces (dense and
// MoE, pp = 1 and pipelined), with a few records kept (so that the bar
// is high early and much is pruned) and the default, the pruned search
// keeps the exhaustive search's records in every space and finishes into
// the same plan (best, baselines, speed-ups, top list, Pareto front,
// counts). Keeping everything prunes nothing.
func TestPruningKeepsTheExhaustiveResult(t *testing.T) {
	total := 0
	for _, x := range pruneScenarios(t) {
		for _, keep := range []int{1, 0, -1} {
			run := func(exhaustive bool) (*Plan, []*State, map[string]*State) {
				sink := &memSink{states: map[string]State{}, recs: map[string]map[int]Record{}}
				p, states, err := x.b.Run(context.Background(), x.spaces, &Options{Keep: keep, BatchSize: 64, Exhaustive: exhaustive, Sink: sink})
				if err != nil {
					t.Fatalf("%s keep %d: %v", x.name, keep, err)
				}
				return p, states, sink.stored()
			}
			wantPlan, want, wantStored := run(true)
			gotPlan, got, gotStored := run(false)
			pruned := 0
			for k := range got {
				if want[k].Pruned != 0 {
					t.Errorf("%s keep %d %s: the exhaustive search pruned %d", x.name, keep, want[k].Space, want[k].Pruned)
				}
				pruned += got[k].Pruned
				g := *got[k]
				g.Pruned, g.ElapsedS = 0, 0
				w := *want[k]
				w.ElapsedS = 0
				if diff := cmp.Diff(&w, &g); diff != "" {
					t.Errorf("%s keep %d: space %s differs (-exhaustive +pruned):\n%s", x.name, keep, w.Space, diff)
				}
				// What the study store would hold: the same records.
				if diff := cmp.Diff(wantStored[w.Space].Records, gotStored[w.Space].Records); diff != "" {
					t.Errorf("%s keep %d: space %s stores other records (-exhaustive +pruned):\n%s", x.name, keep, w.Space, diff)
				}
			}
			if diff := cmp.Diff(planJSON(t, wantPlan), planJSON(t, gotPlan)); diff != "" {
				t.Errorf("%s keep %d: plans differ (-exhaustive +pruned):\n%s", x.name, keep, diff)
			}
			if diff := cmp.Diff(wantPlan.Pareto, gotPlan.Pareto); diff != "" {
				t.Errorf("%s keep %d: Pareto fronts differ (-exhaustive +pruned):\n%s", x.name, keep, diff)
			}
			if keep < 0 && pruned != 0 {
				t.Errorf("%s: keeping everything pruned %d candidates", x.name, pruned)
			}
			t.Logf("%s keep %d: %d of %d candidates that fit pruned", x.name, keep, pruned, gotPlan.Spaces[0].Feasible)
			total += pruned
		}
	}
	if total == 0 {
		t.Error("nothing was pruned: the comparison shows nothing")
	}
}

// Estimate times its sample on the process's CPU clock, not the wall
// clock, so that other processes' load does not move it: with a CPU clock
// that advances a fixed time per reading and a wall clock that races, it
// is that time per sampled candidate, times the candidates, over the
// workers.
func TestEstimateReadsCPUTime(t *testing.T) {
	b, sp := loadSmall(t, nil)
	var cpu time.Duration
	var wall time.Time
	opt := &Options{Workers: 2,
		CPU: func() time.Duration { cpu += time.Second; return cpu },
		Now: func() time.Time { wall = wall.Add(time.Hour); return wall },
	}
	n, sample := b.estimateSample(sp, opt)
	e := b.Estimate(sp, opt)
	want := 1 / float64(len(sample)) * float64(n) / 2
	if e.Candidates != n || math.Abs(e.Seconds-want) > 1e-9*want {
		t.Errorf("estimate %+v, want %d candidates in %.6g s", e, n, want)
	}
}

// What is pruned depends on the batches, not on the workers' timing: the
// same batch size prunes the same count with one worker or three.
func TestPrunedCountIgnoresWorkers(t *testing.T) {
	b, sp := loadSmall(t, nil)
	count := func(workers int) []int {
		states, err := b.Search(context.Background(), sp, &Options{Keep: 1, BatchSize: 200, Workers: workers})
		if err != nil {
			t.Fatal(err)
		}
		var out []int
		for _, st := range states {
			out = append(out, st.Pruned)
		}
		return out
	}
	one, three := count(1), count(3)
	if diff := cmp.Diff(one, three); diff != "" || one[0] == 0 {
		t.Errorf("pruned per space with 1 worker %v, with 3 %v", one, three)
	}
}

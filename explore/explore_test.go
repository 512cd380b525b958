package explore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/scaleacross/scaleacross/fault"
	"github.com/scaleacross/scaleacross/hardware"
	"github.com/scaleacross/scaleacross/model"
	"github.com/scaleacross/scaleacross/network"
	"github.com/scaleacross/scaleacross/parallel"
	"github.com/scaleacross/scaleacross/spec"
	"github.com/scaleacross/scaleacross/train"
)

func loadSmall(t testing.TB, edit func(*spec.Job)) (*Base, []*Space) {
	t.Helper()
	data, err := os.ReadFile("testdata/small.yaml")
	if err != nil {
		t.Fatal(err)
	}
	j, err := spec.ParseJob(data)
	if err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(j)
	}
	b, err := Resolve(j, model.Load, hardware.Lookup)
	if err != nil {
		t.Fatal(err)
	}
	sp, err := b.Spaces(network.TechnologyNames())
	if err != nil {
		t.Fatal(err)
	}
	return b, sp
}

func plan(t testing.TB, b *Base, sp []*Space, opt *Options) *Plan {
	t.Helper()
	p, _, err := b.Run(context.Background(), sp, opt)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func planJSON(t testing.TB, p *Plan) string {
	t.Helper()
	c := *p
	c.Spaces = append([]SpaceSummary(nil), p.Spaces...)
	c.ZeroTimings()
	data, err := json.MarshalIndent(&c, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// The brute force builds every combination of the small space as a job
// spec, resolves it with train.Resolve (independent of the Explorer's
// enumeration and pruning) and keeps the fastest that fits: the Explorer's
// analytic optimum must be the same step time.
func TestBruteForceFindsSameOptimum(t *testing.T) {
	b, sp := loadSmall(t, nil)
	p := plan(t, b, sp, &Options{TopK: -1})
	j := b.Job
	best := math.Inf(1)
	var bestDesc string
	n := 0
	for _, tp := range []int{1, 2, 4, 8} {
		for _, cp := range []int{1, 2} {
			for _, pp := range []int{1, 2, 4, 8} {
				for _, vp := range []int{1, 2} {
					for _, sched := range kindNames() {
						for _, z := range []int{1, 3} {
							for _, mb := range []int{1, 2} {
								for _, rc := range []string{"none", "full"} {
									for _, pl := range placements(false) {
										for _, tech := range []string{"native", "roce-dcqcn", "tcp"} {
											for _, alg := range algorithms() {
												dp := 64 / (tp * cp * pp)
												if dp == 0 || 64%(tp*cp*pp) != 0 || 64%(dp*mb) != 0 {
													continue
												}
												m := 64 / (dp * mb)
												if !searchesSchedule(sched, pp) || (sched == "zb-h1" || sched == "zb-v") && m < pp {
													continue
												}
												jj := *j
												jj.Search = nil
												z := z
												jj.Parallel = spec.Parallel{TP: tp, CP: cp, PP: pp, VP: vp, DP: dp, EP: 1, Zero: &z}
												jj.Schedule = sched
												jj.Training.MicroBatch = mb
												jj.Training.Recompute = rc
												jj.Network = &spec.Network{Transport: tech, Algorithm: alg}
												jj.Placement = nil
												for _, d := range pl {
													jj.Placement = append(jj.Placement, string(d))
												}
												c, err := train.Resolve(&jj, model.Load, hardware.Lookup)
												if err != nil {
													continue
												}
												r, err := train.Analytic(c)
												if err != nil || !r.Feasible {
													continue
												}
												n++
												if r.StepTimeS < best {
													best = r.StepTimeS
													bestDesc = c.Parallel.String() + " " + sched
												}
											}
										}
									}
								}
							}
						}
					}
				}
			}
		}
	}
	if n == 0 {
		t.Fatal("brute force found nothing")
	}
	if p.Best == nil || math.Abs(p.Best.StepTimeS-best) > 1e-12*best {
		t.Fatalf("explorer best %v, brute force %.9f s (%s) over %d feasible combinations", p.Best, best, bestDesc, n)
	}
	t.Logf("optimum %.4f s (%s), %d feasible brute-force combinations, explorer evaluated %d", best, bestDesc, n, p.CandidatesEvaluated)
}

// Same input, same output: worker count and batch size do not matter.
func TestDeterministic(t *testing.T) {
	b, sp := loadSmall(t, nil)
	a := planJSON(t, plan(t, b, sp, &Options{Workers: 1, BatchSize: 97}))
	c := planJSON(t, plan(t, b, sp, &Options{Workers: 4, BatchSize: 4096}))
	if diff := cmp.Diff(a, c); diff != "" {
		t.Errorf("plans differ (-1 worker +4 workers):\n%s", diff)
	}
}

// Sharded searches merged give the unsharded plan.
func TestShardsMergeToWhole(t *testing.T) {
	b, sp := loadSmall(t, nil)
	want := planJSON(t, plan(t, b, sp, &Options{}))
	const n = 4
	parts := map[string][]*State{}
	for i := 0; i < n; i++ {
		states, err := b.Search(context.Background(), sp, &Options{Shard: Shard{i, n}, BatchSize: 50})
		if err != nil {
			t.Fatal(err)
		}
		for _, st := range states {
			parts[st.Space] = append(parts[st.Space], st)
		}
	}
	var merged []*State
	for _, s := range sp {
		m, err := MergeStates(parts[s.Name])
		if err != nil {
			t.Fatal(err)
		}
		merged = append(merged, m)
	}
	p, err := b.Finish(sp, merged, &Options{})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, planJSON(t, p)); diff != "" {
		t.Errorf("merged shards differ from the whole (-whole +merged):\n%s", diff)
	}
}

// memSink stores like the study store: the state, plus the records added
// and less those dropped by every commit.
type memSink struct {
	states map[string]State
	recs   map[string]map[int]Record
}

func (m *memSink) Commit(st State, add []Record, drop []int) error {
	if st.Records != nil {
		return errors.New("a committed state carries records")
	}
	if m.recs[st.Space] == nil {
		m.recs[st.Space] = map[int]Record{}
	}
	for _, r := range add {
		m.recs[st.Space][r.Index] = r
	}
	for _, i := range drop {
		if _, ok := m.recs[st.Space][i]; !ok {
			return fmt.Errorf("dropping record %d, which is not stored", i)
		}
		delete(m.recs[st.Space], i)
	}
	m.states[st.Space] = st
	return nil
}

// stored returns the committed states with their stored records in index
// order, as the study store reads them back.
func (m *memSink) stored() map[string]*State {
	out := map[string]*State{}
	for k, st := range m.states {
		st := st
		for _, r := range m.recs[k] {
			st.Records = append(st.Records, r)
		}
		slices.SortFunc(st.Records, func(a, b Record) int { return a.Index - b.Index })
		out[k] = &st
	}
	return out
}

// A search cancelled between batches resumes from what it committed and
// ends with the same plan.
func TestResumeAfterCancel(t *testing.T) {
	b, sp := loadSmall(t, nil)
	want := planJSON(t, plan(t, b, sp, &Options{}))
	ctx, cancel := context.WithCancel(context.Background())
	sink := &memSink{states: map[string]State{}, recs: map[string]map[int]Record{}}
	calls := 0
	_, err := b.Search(ctx, sp, &Options{BatchSize: 64, Sink: sink, Progress: func(int) {
		if calls++; calls == 3 {
			cancel()
		}
	}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Search after cancel = %v, want context.Canceled", err)
	}
	resume := sink.stored()
	if len(resume) != 1 || resume[ExplorerSpace].Next != 3*64 || resume[ExplorerSpace].Done {
		t.Fatalf("committed states %+v, want the explorer at 192", resume)
	}
	p, _, err := b.Run(context.Background(), sp, &Options{Resume: resume})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, planJSON(t, p)); diff != "" {
		t.Errorf("resumed plan differs (-whole +resumed):\n%s", diff)
	}
}

func TestNoFitNamesTightestConstraint(t *testing.T) {
	tests := []struct {
		name string
		edit func(*spec.Job)
		want string
	}{
		{"tp that divides no head count", func(j *spec.Job) { j.Search.TP = []int{3} }, "search.tp"},
		{"pp fixed beyond the layers", func(j *spec.Job) { j.Parallel.PP = 64 }, "parallel.pp"},
		{"memory: 70B without tp, with at most 2 stages", func(j *spec.Job) {
			j.Model = "llama3.1-70b"
			j.Search.Zero = []int{1}
			j.Search.TP = []int{1}
			j.Search.MaxPP = 2
		}, "search.tp"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, sp := loadSmall(t, tc.edit)
			_, _, err := b.Run(context.Background(), sp, &Options{})
			var nf *NoFitError
			if !errors.As(err, &nf) || !errors.Is(nf, fault.ErrNoFit) {
				t.Fatalf("Run = %v, want a NoFitError", err)
			}
			if nf.Tightest != tc.want || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("tightest = %q (%v), want %q", nf.Tightest, err, tc.want)
			}
		})
	}
}

func TestBadSearchFieldsNamed(t *testing.T) {
	tests := []struct {
		yaml, field string
	}{
		{"search: {schedules: [1f1b, zigzag]}", "search.schedules[1]"},
		{"search: {recompute: [some]}", "search.recompute[0]"},
		{"search: {technologies: [carrier-pigeon]}", "search.technologies[0]"},
		{"search: {placements: [[tp, xp]]}", "search.placements[0][1]"},
		{"search: {zero: [4]}", "search.zero[0]"},
		{"search: {max_pp: -1}", "search.max_pp"},
		{"schedule: zigzag", "schedule"},
	}
	base, err := os.ReadFile("testdata/small.yaml")
	if err != nil {
		t.Fatal(err)
	}
	head := string(base[:strings.Index(string(base), "search:")])
	for _, tc := range tests {
		j, err := spec.ParseJob([]byte(head + tc.yaml + "\n"))
		if err != nil {
			t.Fatalf("%s: %v", tc.yaml, err)
		}
		b, err := Resolve(j, model.Load, hardware.Lookup)
		if err == nil {
			_, err = b.Spaces(network.TechnologyNames())
		}
		var se *fault.FieldError
		if !errors.As(err, &se) || se.Field != tc.field {
			t.Errorf("%s: error %v, want field %s", tc.yaml, err, tc.field)
		}
	}
}

// The baselines stay inside their spaces.
func TestBaselinesRespectTheirSpaces(t *testing.T) {
	b, sp := loadSmall(t, nil)
	p := plan(t, b, sp, &Options{})
	prod, prior := p.Baselines.Production, p.Baselines.PriorArt
	if prod == nil || prior == nil {
		t.Fatal("a baseline is missing")
	}
	if prod.Technology != "" || prior.Technology != "" || prior.VP != 1 || prod.Collective == "hierarchical" {
		t.Errorf("baselines left their spaces: production %s, prior art %s", prod.Candidate, prior.Candidate)
	}
	if !strings.HasSuffix(prod.Placement, "dp") && prod.DP > 1 {
		t.Errorf("production placement %q does not put dp outermost", prod.Placement)
	}
	if p.SpeedupVsProduction < 1 || p.SpeedupVsPriorArt < 1 {
		t.Errorf("the explorer's space holds both baselines, yet speed-ups are %.3f and %.3f", p.SpeedupVsProduction, p.SpeedupVsPriorArt)
	}
}

// TestPriorArtStaysInItsDefinition checks that the prior-art baseline
// splits its pipeline across the sites (pp alone crosses the outermost
// site level), and that when the spec allows only pp = 1 the baseline is
// left out with a note saying why instead of becoming pure data
// parallelism across sites (issue 13).
func TestPriorArtStaysInItsDefinition(t *testing.T) {
	b, sp := loadSmall(t, nil)
	p := plan(t, b, sp, &Options{})
	prior := p.Baselines.PriorArt
	if prior == nil {
		t.Fatal("no prior-art baseline")
	}
	if prior.PP < 2 || !slices.Equal(prior.CrossSite, []string{"pp"}) {
		t.Errorf("prior art %s crosses the sites with %v, want pp alone", prior.Candidate, prior.CrossSite)
	}
	b, sp = loadSmall(t, func(j *spec.Job) { j.Search.PP = []int{1}; j.Search.MaxPP = 0 })
	p = plan(t, b, sp, &Options{})
	if p.Baselines.PriorArt != nil {
		t.Fatalf("with pp = 1 only, the prior art is %s", p.Baselines.PriorArt.Candidate)
	}
	found := false
	for _, n := range p.Notes {
		found = found || strings.Contains(n, "no prior-art configuration fits") && strings.Contains(n, "pp 1")
	}
	if !found {
		t.Errorf("no note says why the prior art is missing: %q", p.Notes)
	}
}

// Keeping only the fastest candidates and the Pareto front gives the plan
// that keeping every candidate gives, also when resumed or sharded and
// merged; the small Keep (raised to what the re-ranking needs) makes the
// search drop records in almost every batch.
func TestKeepGivesTheWholePlan(t *testing.T) {
	b, sp := loadSmall(t, nil)
	want := planJSON(t, plan(t, b, sp, &Options{Keep: -1}))
	for _, keep := range []int{1, 100} {
		if diff := cmp.Diff(want, planJSON(t, plan(t, b, sp, &Options{Keep: keep, BatchSize: 37}))); diff != "" {
			t.Errorf("keep %d: plan differs (-all +kept):\n%s", keep, diff)
		}
		// Resumed after a cancel, from what the sink stored.
		ctx, cancel := context.WithCancel(context.Background())
		sink := &memSink{states: map[string]State{}, recs: map[string]map[int]Record{}}
		calls := 0
		opt := &Options{Keep: keep, BatchSize: 41, Sink: sink, Progress: func(int) {
			if calls++; calls == 40 {
				cancel()
			}
		}}
		if _, err := b.Search(ctx, sp, opt); !errors.Is(err, context.Canceled) {
			t.Fatalf("keep %d: Search after cancel = %v, want context.Canceled", keep, err)
		}
		stored := sink.stored()
		if n, f := len(stored[ExplorerSpace].Records), stored[ExplorerSpace].Feasible; n > 400 || n >= f {
			t.Errorf("keep %d: the sink stores %d records of %d that fit", keep, n, f)
		}
		p, _, err := b.Run(context.Background(), sp, &Options{Keep: keep, Resume: stored, Sink: sink})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, planJSON(t, p)); diff != "" {
			t.Errorf("keep %d: resumed plan differs (-all +resumed):\n%s", keep, diff)
		}
		// Sharded and merged.
		parts := map[string][]*State{}
		for i := 0; i < 3; i++ {
			states, err := b.Search(context.Background(), sp, &Options{Keep: keep, Shard: Shard{i, 3}, BatchSize: 29})
			if err != nil {
				t.Fatal(err)
			}
			for _, st := range states {
				parts[st.Space] = append(parts[st.Space], st)
			}
		}
		var merged []*State
		for _, s := range sp {
			m, err := MergeStates(parts[s.Name])
			if err != nil {
				t.Fatal(err)
			}
			merged = append(merged, m)
		}
		p, err = b.Finish(sp, merged, &Options{Keep: keep})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, planJSON(t, p)); diff != "" {
			t.Errorf("keep %d: merged plan differs (-all +merged):\n%s", keep, diff)
		}
	}
}

// The keeper keeps the fastest n and the Pareto front of what it was
// given, whatever the batching.
func TestKeeperKeepsFastestAndFront(t *testing.T) {
	var all []Record
	for i := 0; i < 500; i++ {
		// A deterministic scatter with ties in both coordinates.
		all = append(all, Record{Index: i, StepTimeS: float64((i*7919)%97) / 10, MemoryGiB: float64((i*104729)%61) / 2})
	}
	const capacity = 70
	want := map[int]bool{}
	ranked := slices.Clone(all)
	rank(ranked)
	for _, r := range ranked[:20] {
		want[r.Index] = true
	}
	for _, p := range pareto(finalTimes(all, 0, nil, 0), "analytic", capacity) {
		want[p.Index] = true
	}
	for _, batch := range []int{1, 7, 64, 500} {
		k := &keeper{n: 20, capacity: capacity}
		stored := map[int]bool{}
		for lo := 0; lo < len(all); lo += batch {
			add, drop := k.add(all[lo:min(lo+batch, len(all))])
			for _, r := range add {
				stored[r.Index] = true
			}
			for _, i := range drop {
				if !stored[i] {
					t.Fatalf("batch %d: dropped %d, never added", batch, i)
				}
				delete(stored, i)
			}
		}
		got := map[int]bool{}
		for _, r := range k.records() {
			got[r.Index] = true
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("batch %d: kept (-want +got):\n%s", batch, diff)
		}
		if diff := cmp.Diff(want, stored); diff != "" {
			t.Errorf("batch %d: stored (-want +got):\n%s", batch, diff)
		}
	}
}

// Pricing a candidate with the parts its shape shares (the layout built
// once by the enumerator, the links and device resolved once, no traffic
// table) gives exactly the outcome of pricing it alone.
func TestPreparedEqualsPlain(t *testing.T) {
	b, sp := loadSmall(t, nil)
	var cfg candidateCfg
	var ev train.Evaluator // one for all spaces: its memos must tell them apart
	for _, s := range sp {
		p := newPricer(b)
		n := 0
		s.enumerate(b, func(i int, c Candidate, sh *shape) bool {
			j, _ := p.job(i, c, sh)
			got, want := b.evaluatePrepared(&cfg, &ev, &j), b.evaluate(c)
			if got != want {
				t.Fatalf("%s candidate %d (%s): prepared %+v, plain %+v", s.Name, i, c, got, want)
			}
			n++
			return true
		})
		if n == 0 {
			t.Fatalf("space %s is empty", s.Name)
		}
	}
}

// Placement orders that lay out the same way are one candidate: with
// pp = 1 (a degree-1 dimension anywhere in the order) and in the whole
// spaces, of the small job and of the default scenario, no candidate is
// enumerated twice.
func TestCandidatesDistinct(t *testing.T) {
	small, smallSp := loadSmall(t, nil)
	pp1, pp1Sp := loadSmall(t, func(j *spec.Job) { j.Search.PP = []int{1}; j.Search.MaxPP = 0 })
	def, defSp := loadDefault(t)
	for _, x := range []struct {
		name   string
		b      *Base
		spaces []*Space
	}{{"small", small, smallSp}, {"small pp=1", pp1, pp1Sp}, {"default", def, defSp}} {
		for _, s := range x.spaces {
			seen := map[Candidate]int{}
			n, pp1n := 0, 0
			s.Enumerate(x.b, func(i int, c Candidate) bool {
				if k, ok := seen[c]; ok {
					t.Fatalf("%s %s: candidates %d and %d are both %s", x.name, s.Name, k, i, c)
				}
				seen[c] = i
				n++
				if c.PP == 1 {
					pp1n++
				}
				return true
			})
			// With more than one site the prior art splits the pipeline
			// across them: it has no pp = 1 candidate (issue 13), and none
			// at all when the spec allows only pp = 1.
			if s.Name == PriorArtSpace && len(x.b.CrossSite) > 0 {
				if pp1n != 0 || x.name == "small pp=1" && n != 0 {
					t.Errorf("%s %s: %d candidates, %d with pp = 1; want none with pp = 1", x.name, s.Name, n, pp1n)
				}
			} else if n == 0 || x.name == "small pp=1" && pp1n != n {
				t.Errorf("%s %s: %d candidates, %d with pp = 1", x.name, s.Name, n, pp1n)
			}
			t.Logf("%s %s: %d distinct candidates, %d with pp = 1", x.name, s.Name, n, pp1n)
		}
	}
}

// The Explorer searches expert tensor parallelism for MoE models: with
// tp > 1 it tries etp = tp and etp = 1 (parallel.CheckEP decides which
// are valid), prices an etp candidate through its prepared shape exactly
// as plainly, and simulate of its job gives the same step time. The
// baselines keep etp = tp.
func TestExplorerSearchesETP(t *testing.T) {
	b, sp := loadSmall(t, func(j *spec.Job) { j.Model = "qwen3-30b-a3b" })
	var cfg candidateCfg
	var ev train.Evaluator
	for _, s := range sp {
		p := newPricer(b)
		n := 0
		s.enumerate(b, func(i int, c Candidate, sh *shape) bool {
			if c.ETP == 0 {
				return true
			}
			if s.Name != ExplorerSpace || c.ETP != 1 || c.TP == 1 {
				t.Fatalf("%s candidate %s: etp %d", s.Name, c, c.ETP)
			}
			n++
			if n > 40 {
				return true
			}
			j, _ := p.job(i, c, sh)
			got, want := b.evaluatePrepared(&cfg, &ev, &j), b.evaluate(c)
			if got != want {
				t.Fatalf("candidate %s: prepared %+v, plain %+v", c, got, want)
			}
			if !got.ok || !got.fit {
				return true
			}
			rc, err := train.Resolve(b.JobFor(c), model.Load, hardware.Lookup)
			if err != nil {
				t.Fatalf("candidate %s: simulate refuses it: %v", c, err)
			}
			r, err := train.Analytic(rc)
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(r.StepTimeS-got.stepS) > 1e-9*r.StepTimeS {
				t.Errorf("candidate %s: plan %.9f s, simulate %.9f s", c, got.stepS, r.StepTimeS)
			}
			return true
		})
		if s.Name == ExplorerSpace && n == 0 {
			t.Errorf("the explorer space has no etp = 1 candidate")
		}
	}
}

// The same on windows of consecutive candidates spread over the default
// scenario's explorer space (Behemoth, interleaved MoE and chunked
// attention layers, three buildings), where a worker's Evaluator reuses
// what consecutive candidates share.
func TestPreparedEqualsPlainDefault(t *testing.T) {
	if testing.Short() {
		t.Skip("enumerates the default space")
	}
	b, sp := loadDefault(t)
	const every, window = 100_000, 300
	var cfg candidateCfg
	var ev train.Evaluator
	p := newPricer(b)
	checked := 0
	sp[0].enumerate(b, func(i int, c Candidate, sh *shape) bool {
		if i%every >= window {
			return true
		}
		j, _ := p.job(i, c, sh)
		got, want := b.evaluatePrepared(&cfg, &ev, &j), b.evaluate(c)
		if got != want {
			t.Fatalf("candidate %d (%s): prepared %+v, plain %+v", i, c, got, want)
		}
		checked++
		return true
	})
	if checked < 10*window {
		t.Fatalf("checked %d candidates", checked)
	}
}

// Estimate counts whole runs of candidates at once: its count and sample
// are those of visiting every candidate, for whole spaces, shards and
// resumed states.
func TestEstimateSampleCountsEveryCandidate(t *testing.T) {
	small, smallSpaces := loadSmall(t, nil)
	def, defSpaces := loadDefault(t)
	for _, tt := range []struct {
		b  *Base
		sp []*Space
	}{{small, smallSpaces}, {def, defSpaces}} {
		estimateSampleCase(t, tt.b, tt.sp)
	}
}

func estimateSampleCase(t *testing.T, b *Base, sp []*Space) {
	states := map[string]*State{}
	for _, s := range sp {
		states[s.Name] = &State{Space: s.Name, Next: s.Count(b) / 3}
	}
	for _, opt := range []*Options{{}, {Shard: Shard{Index: 1, Count: 3}}, {Shard: Shard{Index: 0, Count: 7}}, {Resume: states}, {Resume: states, Shard: Shard{Index: 2, Count: 5}}} {
		n, sample := b.estimateSample(sp, opt)
		want, wantIdx := 0, []int{}
		for _, s := range sp {
			from := 0
			if st := opt.Resume[s.Name]; st != nil {
				from = st.Next
			}
			s.Enumerate(b, func(i int, c Candidate) bool {
				if i >= from && opt.Shard.holds(i) {
					if want%estimateEvery == 0 {
						wantIdx = append(wantIdx, i)
					}
					want++
				}
				return true
			})
		}
		got := []int{}
		for _, j := range sample {
			got = append(got, j.i)
		}
		if n != want || !slices.Equal(got, wantIdx) {
			t.Errorf("shard %v, resumed %v: counted %d, sampled %v; every candidate: %d, %v", opt.Shard, opt.Resume != nil, n, got, want, wantIdx)
		}
		if want == 0 {
			t.Errorf("shard %v: no candidates", opt.Shard)
		}
	}
}

// The plan states the split rule its spaces obey: every candidate's pp*vp
// passes parallel.SplitLayers, and the assumption quotes parallel.SplitRule,
// the words kept beside it.
func TestPlanStatesItsSplitRule(t *testing.T) {
	b, sp := loadSmall(t, nil)
	n := 0
	for _, s := range sp {
		s.Enumerate(b, func(i int, c Candidate) bool {
			if _, err := parallel.SplitLayers(b.Template.Model.Layers, c.PP, c.VP); err != nil {
				t.Fatalf("%s candidate %s: %v", s.Name, c, err)
			}
			n++
			return true
		})
	}
	if n == 0 {
		t.Fatal("no candidates")
	}
	stated := false
	for _, a := range b.assumptions(sp) {
		stated = stated || strings.Contains(a, parallel.SplitRule)
	}
	if !stated {
		t.Errorf("no assumption states %q", parallel.SplitRule)
	}
}

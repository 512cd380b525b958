package cli

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/scaleacross/scaleacross/explore"
	"github.com/scaleacross/scaleacross/fault"
	"github.com/scaleacross/scaleacross/hardware"
	"github.com/scaleacross/scaleacross/internal/atomicfile"
	"github.com/scaleacross/scaleacross/launch"
	"github.com/scaleacross/scaleacross/network"
	"github.com/scaleacross/scaleacross/report"
	"github.com/scaleacross/scaleacross/spec"
	"github.com/scaleacross/scaleacross/store"
	"github.com/scaleacross/scaleacross/train"
)

// planFlags are the flags of `scaleacross plan`.
type planFlags struct {
	file, db, shard, sweep, plot, engine, emit, keep string
	resume                                           int64
	topK                                             int
	asJSON, grid, timings                            bool
	// topKSet is whether --top-k was given (0 then means no re-ranking).
	topKSet bool
}

// planOptions is what a study stores besides its spec, so that a resumed
// or merged study searches exactly the same spaces.
type planOptions struct {
	TopK         int           `json:"top_k"`
	Engine       string        `json:"engine"`
	Technologies []string      `json:"technologies"`
	Shard        explore.Shard `json:"shard"`
	// Keep is explore.Options.Keep: 0 the default, negative all.
	Keep int `json:"keep,omitempty"`
	// Numbering is the explore.Numbering the study was searched with.
	Numbering int `json:"numbering,omitempty"`
	// SpecDir is the absolute folder of the spec file, where a relative
	// model path is read from; empty for the built-in scenario. It is not
	// stored (a resumed or merged study reads relative paths from the
	// current directory) nor part of the spec hash.
	SpecDir string `json:"-"`
}

// interruptedError reports a search stopped by a signal (exit 1).
type interruptedError struct {
	id   int64
	db   string
	done int
}

func (e interruptedError) Error() string {
	return fmt.Sprintf("interrupted; study %d keeps %d evaluated candidates; continue with: scaleacross plan --resume %d --db %s", e.id, e.done, e.id, e.db)
}

func newPlanCmd() *cobra.Command {
	var f planFlags
	cmd := &cobra.Command{
		Use:   "plan [-f job.yaml]",
		Short: "Search placement, schedule, micro-batching, chunking and network technology for a training job",
		Long: `plan searches the joint design space of a training job: parallel degrees,
which dimension spans the sites (placement order), pipeline schedule, model
chunks, micro-batch size, recomputation, ZeRO stage, the network transport and
the collective algorithm between sites. Every candidate is ranked with the
analytic step model, the best few of each space are re-ranked with the
event-level simulation, and the winner is compared with two baselines searched
the same way inside their own spaces: production (TP in the node, DP across
sites, interleaved 1F1B, default transport, flat NCCL collectives) and prior
art (CrossPipe-style: PP across sites, no chunking or technology choice).

Without -f, plan runs the built-in scenario: a Llama 4 Behemoth-class MoE on
98,304 H100 in three buildings of one campus, FP8. Parts of parallel,
schedule, placement or network left out of the spec are searched; a search:
block constrains the space (tp, pp, vp, cp, ep, zero, micro_batch lists;
max_tp, max_pp, max_vp, max_cp, max_ep, max_micro_batch bounds; schedules,
recompute, placements, technologies; top_k).

Every plan is a study in a SQLite database (--db, default
$XDG_DATA_HOME/scaleacross/studies.db): Ctrl-C leaves it consistent and
--resume ID continues. --shard i/n evaluates a deterministic slice; combine
the shards with "scaleacross studies merge". The study keeps, per space, the
fastest candidates (--keep N, default 2048) and the Pareto front of step time
and memory headroom; --keep all keeps every candidate that fits.

  --sweep cross_site_bandwidth=GBPS,...   re-plan per site trunk capacity (Gb/s)
  --sweep distance=KM,...                  re-plan per distance between sites
  --plot PATH                              sweep plots: PATH.svg/.png and PATH-pareto.svg/.png
  --grid                                   speed-ups over a grid of capacity x distance x model

Exit codes: 0 success; 1 runtime failure or interrupted; 2 bad input;
3 nothing in the space fits (the message names the tightest constraint).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if f.emit != "" && !slices.Contains(launch.Frameworks(), f.emit) {
				return badInput("--emit %q unknown; use %s", f.emit, strings.Join(launch.Frameworks(), ", "))
			}
			f.topKSet = cmd.Flags().Changed("top-k")
			if f.topK < 0 {
				return badInput("--top-k %d: want 0 (no event re-ranking, analytic ranking only) or a positive count", f.topK)
			}
			if f.plot != "" {
				if err := checkOutDir("--plot", f.plot); err != nil {
					return err
				}
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			switch {
			case f.grid:
				return runGrid(ctx, cmd, &f)
			case f.sweep != "":
				return runPlanSweep(ctx, cmd, &f)
			}
			return runPlan(ctx, cmd, &f)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&f.file, "file", "f", "", "training job spec (YAML or JSON); omitted: the built-in scenario")
	fl.BoolVar(&f.asJSON, "json", false, "print JSON")
	fl.StringVar(&f.db, "db", "", "study database (default $XDG_DATA_HOME/scaleacross/studies.db)")
	fl.Int64Var(&f.resume, "resume", 0, "continue the interrupted study with this id")
	fl.StringVar(&f.shard, "shard", "", "evaluate only slice i of n (i/n, 0 <= i < n)")
	fl.IntVar(&f.topK, "top-k", 0, "candidates of each space re-ranked by the event-level simulation; 0 re-ranks none (analytic ranking only) (default search.top_k or 8)")
	fl.StringVar(&f.engine, "engine", train.EngineEvent, "re-ranking engine: event or analytic")
	fl.StringVar(&f.keep, "keep", "", fmt.Sprintf("fastest candidates stored per space besides the Pareto front, or all (default %d)", explore.DefaultKeep))
	fl.StringVar(&f.sweep, "sweep", "", "re-plan per value: cross_site_bandwidth=GBPS,... or distance=KM,...")
	fl.StringVar(&f.plot, "plot", "", "with --sweep: plot path without extension (writes .svg and .png)")
	fl.BoolVar(&f.grid, "grid", false, "print the speed-up table over a grid of capacity x distance x model")
	fl.StringVar(&f.emit, "emit", "", "print the best configuration's launch arguments instead of the plan: megatron, megatron-bridge or torchtitan")
	fl.BoolVar(&f.timings, "timings", false, "print wall-clock timings (they vary between runs, so they are left out by default)")
	return cmd
}

// loadJob reads the spec file, or the built-in scenario without one.
func loadJob(file string) (*spec.Job, string, string, error) {
	if file == "" {
		j, err := explore.DefaultScenario()
		return j, explore.DefaultScenarioYAML, "built-in scenario", err
	}
	data, err := spec.ReadFile(file)
	if err != nil {
		return nil, "", "", err
	}
	j, err := spec.ParseJob(data)
	return j, string(data), filepath.Base(file), err
}

// openDB opens --db or the default database, creating it if need be.
func openDB(path string) (*store.DB, error) {
	path, err := dbPath(path)
	if err != nil {
		return nil, err
	}
	return store.Open(path)
}

// openDBReadOnly opens --db or the default database for reading
// (store.OpenReadOnly): read-only commands never create a file or a
// folder. missing reports that there is no database file at all.
func openDBReadOnly(path string) (db *store.DB, missing bool, err error) {
	path, err = dbPath(path)
	if err != nil {
		return nil, false, err
	}
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return nil, true, badInput("no study database at %s (scaleacross plan creates it; --db names another)", path)
	}
	db, err = store.OpenReadOnly(path)
	return db, false, err
}

// dbPath is --db, or the default database when it is empty.
func dbPath(path string) (string, error) {
	if path != "" {
		return path, nil
	}
	return store.DefaultPath()
}

// rerankEngine maps --engine to a step function.
func rerankEngine(name string) (func(*train.Config) (train.Result, error), error) {
	switch name {
	case train.EngineEvent:
		return train.Event, nil
	case train.EngineAnalytic:
		return train.Analytic, nil
	}
	return nil, badInput("--engine: want event or analytic, got %q", clipArg(name))
}

// topKOf is explore.Options.TopK from --top-k (when set: 0 means no
// re-ranking) or else the spec's search.top_k, or else the default.
func topKOf(j *spec.Job, flag int, set bool) int {
	switch {
	case set && flag == 0:
		return -1
	case flag > 0:
		return flag
	case j.Search != nil && j.Search.TopK != nil:
		if *j.Search.TopK == 0 {
			return -1
		}
		return *j.Search.TopK
	}
	return explore.DefaultTopK
}

// study is one plan run wired to its database.
type study struct {
	db      *store.DB
	id      int64
	base    *explore.Base
	spaces  []*explore.Space
	opt     *explore.Options
	options planOptions
}

// newStudy resolves the job, builds its spaces and records the study.
func newStudy(db *store.DB, j *spec.Job, specText, name string, o planOptions) (*study, error) {
	b, err := explore.Resolve(j, modelLoader(o.SpecDir).Load, hardware.Lookup)
	if err != nil {
		return nil, err
	}
	spaces, err := b.Spaces(o.Technologies)
	if err != nil {
		return nil, err
	}
	rr, err := rerankEngine(o.Engine)
	if err != nil {
		return nil, err
	}
	s := &study{db: db, base: b, spaces: spaces, options: o,
		opt: &explore.Options{Technologies: o.Technologies, TopK: o.TopK, Rerank: rr, RerankEngine: o.Engine, Shard: o.Shard, Keep: o.Keep}}
	if db == nil {
		return s, nil
	}
	optJSON, _ := json.Marshal(o)
	s.id, err = db.Create(store.Study{
		Name: name, Model: b.Template.Model.ID, GPUs: b.Template.GPUs, Spec: specText,
		Hash: specHash(specText, o), Options: string(optJSON), Shard: o.Shard,
	}, time.Now())
	if err != nil {
		return nil, err
	}
	s.opt.Sink = db.Sink(s.id)
	return s, nil
}

// specHash identifies what a study searches: its spec and the options
// that shape the spaces and the ranking (not the shard).
func specHash(specText string, o planOptions) string {
	o.Shard, o.SpecDir = explore.Shard{}, ""
	opt, _ := json.Marshal(o)
	h := sha256.Sum256(append([]byte(specText+"\x00"), opt...))
	return hex.EncodeToString(h[:8])
}

// longSearch is the expected search time from which plan announces its
// estimate on stderr, and progressEvery how often it then reports progress
// when stderr is not a terminal (a batch job's or CI's log). The expected
// time is explore.Base.Estimate's: the process CPU time a sample of the
// candidates takes, per candidate, times the candidates over the cores
// used, so a loaded machine neither announces a small search nor slows
// the estimate (its wall time does grow with the load).
const (
	longSearch    = 10 * time.Second
	progressEvery = 10 * time.Second
)

// run searches, showing progress on stderr, and stores the outcome. On a
// terminal a progress bar shows it (unless quiet); elsewhere a search
// expected to take long says so before it starts and prints a line every
// progressEvery, quiet or not, since those lines do not mix with stdout.
func (s *study) run(ctx context.Context, cmd *cobra.Command, quiet bool) (*explore.Plan, []*explore.State, error) {
	est := s.base.Estimate(s.spaces, s.opt)
	errw := cmd.ErrOrStderr()
	long := est.Seconds >= longSearch.Seconds()
	workers := s.opt.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	announce := func() {
		fmt.Fprintf(errw, "plan: %s candidates to evaluate, about %s on %d cores\n", report.Thousands(float64(est.Candidates)), durationText(est.Seconds), workers)
	}
	if bar := newProgress(cmd, quiet, est.Candidates); bar != nil {
		if long {
			announce()
		}
		s.opt.Progress = func(done int) { _ = bar.Set(done) }
		defer func() { _ = bar.Finish(); fmt.Fprintln(errw) }()
	} else if !isTerminal(errw) && est.Candidates > 0 {
		if long {
			announce()
		}
		s.opt.Progress = progressLines(errw, est.Candidates, progressEvery, time.Now)
	}
	p, states, err := s.base.Run(ctx, s.spaces, s.opt)
	if s.db == nil {
		return p, states, err
	}
	if err != nil {
		if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
			_ = s.db.SetStatus(s.id, store.StatusInterrupted)
			n := 0
			for _, st := range states {
				n += st.Evaluated
			}
			return nil, states, interruptedError{s.id, s.db.Path(), n}
		}
		_ = s.db.SetStatus(s.id, store.StatusFailed)
		return nil, states, err
	}
	if p == nil { // a shard: searched, not ranked
		n := 0
		for _, st := range states {
			n += st.Evaluated
		}
		return nil, states, s.db.Finish(s.id, store.Study{})
	}
	return p, states, s.storeResult(p)
}

func (s *study) storeResult(p *explore.Plan) error {
	data, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("encoding the plan: %w", err)
	}
	st := store.Study{ElapsedS: p.ElapsedS, Result: string(data), SpeedupProd: p.SpeedupVsProduction, SpeedupPrior: p.SpeedupVsPriorArt}
	if p.Best != nil {
		st.BestStepS = p.Best.StepTimeS
	}
	return s.db.Finish(s.id, st)
}

// progressLines returns a progress callback that writes a line to w at
// most every interval (read on now) with the candidates done of total,
// the time elapsed and the time left at the pace so far.
func progressLines(w io.Writer, total int, every time.Duration, now func() time.Time) func(done int) {
	start := now()
	last := start
	return func(done int) {
		t := now()
		if t.Sub(last) < every || done <= 0 {
			return
		}
		last = t
		el := t.Sub(start).Seconds()
		fmt.Fprintf(w, "plan: %s of %s candidates (%.0f%%), %s elapsed, about %s left\n", report.Thousands(float64(done)), report.Thousands(float64(total)),
			100*float64(done)/float64(total), durationText(el), durationText(el*float64(max(total-done, 0))/float64(done)))
	}
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// durationText formats seconds for progress lines.
func durationText(s float64) string {
	switch {
	case s < 90:
		return fmt.Sprintf("%.0f s", s)
	case s < 5400:
		return fmt.Sprintf("%.0f min", s/60)
	}
	return fmt.Sprintf("%.1f h", s/3600)
}

// newProgress returns a progress bar on stderr when it is a terminal and
// the output is not JSON.
func newProgress(cmd *cobra.Command, quiet bool, total int) *progressbar.ProgressBar {
	if quiet || total <= 0 {
		return nil
	}
	f, ok := cmd.ErrOrStderr().(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return nil
	}
	return progressbar.NewOptions(total,
		progressbar.OptionSetWriter(f),
		progressbar.OptionSetDescription("candidates"),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("cand"),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionSetWidth(30),
	)
}

func planOptionsOf(j *spec.Job, f *planFlags) (planOptions, error) {
	o := planOptions{TopK: topKOf(j, f.topK, f.topKSet), Engine: f.engine, Technologies: network.TechnologyNames(), Numbering: explore.Numbering}
	if f.file != "" {
		o.SpecDir = specDir(f.file)
	}
	if f.shard != "" {
		sh, err := explore.ParseShard(f.shard)
		if err != nil {
			return o, err
		}
		o.Shard = sh
	}
	if _, err := rerankEngine(f.engine); err != nil {
		return o, err
	}
	switch k := strings.TrimSpace(f.keep); {
	case k == "":
	case k == "all":
		o.Keep = -1
	default:
		n, err := strconv.Atoi(k)
		if err != nil || n < 1 {
			return o, badInput("--keep: want a positive number of candidates or all, got %q", f.keep)
		}
		o.Keep = n
	}
	return o, nil
}

func runPlan(ctx context.Context, cmd *cobra.Command, f *planFlags) error {
	if f.resume != 0 {
		if f.file != "" || f.shard != "" {
			return badInput("--resume continues a stored study with its own spec and shard; drop -f and --shard")
		}
		return resumePlan(ctx, cmd, f)
	}
	j, text, name, err := loadJob(f.file)
	if err != nil {
		return err
	}
	o, err := planOptionsOf(j, f)
	if err != nil {
		return err
	}
	// Resolve first: a spec that is not valid never creates a database.
	if _, err := newStudy(nil, j, text, name, o); err != nil {
		return err
	}
	db, err := openDB(f.db)
	if err != nil {
		return err
	}
	defer db.Close()
	s, err := newStudy(db, j, text, name, o)
	if err != nil {
		return err
	}
	p, states, err := s.run(ctx, cmd, f.asJSON)
	if err != nil {
		return err
	}
	return printPlanOrShard(cmd, f.printOptions(), s, p, states)
}

func resumePlan(ctx context.Context, cmd *cobra.Command, f *planFlags) error {
	db, err := openDB(f.db)
	if err != nil {
		return err
	}
	defer db.Close()
	st, err := db.Study(f.resume)
	if err != nil {
		return err
	}
	if st.Status == store.StatusComplete {
		return badInput("study %d is already complete (see scaleacross studies show %d)", st.ID, st.ID)
	}
	j, err := spec.ParseJob([]byte(st.Spec))
	if err != nil {
		return fmt.Errorf("study %d: stored spec: %w", st.ID, err)
	}
	var o planOptions
	if err := json.Unmarshal([]byte(st.Options), &o); err != nil {
		return fmt.Errorf("study %d: stored options: %w", st.ID, err)
	}
	if o.Numbering != explore.Numbering {
		return badInput("study %d was searched by an older scaleacross that numbered candidates differently; it cannot be resumed: plan it again", st.ID)
	}
	s, err := newStudy(nil, j, st.Spec, st.Name, o)
	if err != nil {
		return err
	}
	s.db, s.id = db, st.ID
	s.opt.Sink = db.Sink(st.ID)
	if s.opt.Resume, err = db.States(ctx, st.ID); err != nil {
		return err
	}
	if err := db.SetStatus(st.ID, store.StatusRunning); err != nil {
		return err
	}
	p, states, err := s.run(ctx, cmd, f.asJSON)
	if err != nil {
		return err
	}
	return printPlanOrShard(cmd, f.printOptions(), s, p, states)
}

// shardOutput is the JSON of a shard run.
type shardOutput struct {
	Study               int64         `json:"study"`
	Shard               explore.Shard `json:"shard"`
	CandidatesEvaluated int           `json:"candidates_evaluated"`
	Database            string        `json:"database"`
}

// Wall-clock timings vary between runs; unless timings is set they are
// left out (zero in JSON), so that the same input prints the same bytes.
// The study store keeps them either way.
func printPlanOrShard(cmd *cobra.Command, o printOptions, s *study, p *explore.Plan, states []*explore.State) error {
	w := cmd.OutOrStdout()
	asJSON := o.asJSON
	if p != nil && o.emit != "" {
		if p.Best == nil {
			return fault.NoFit(fmt.Errorf("nothing in the explorer's space fits: no launch arguments to print"))
		}
		text, err := launch.Write(o.emit, fmt.Sprintf("the plan's best for %s on %d x %s: %s (scaleacross plan, study %d)", p.Model, p.GPUs, p.GPU, p.Best.Candidate, s.id), s.base.Config(p.Best.Candidate))
		if err != nil {
			return err
		}
		_, err = io.WriteString(w, text)
		return err
	}
	if p != nil && !o.timings {
		q := *p
		q.Spaces = slices.Clone(p.Spaces)
		q.ZeroTimings()
		p = &q
	}
	if p == nil {
		o := shardOutput{Study: s.id, Shard: s.options.Shard, Database: s.db.Path()}
		for _, st := range states {
			o.CandidatesEvaluated += st.Evaluated
		}
		if asJSON {
			return writeJSON(w, o)
		}
		fmt.Fprintf(w, "shard %d/%d: %d candidates evaluated, stored as study %d in %s\ncombine all shards with: scaleacross studies merge --db OUT.db SHARD.db...\n",
			o.Shard.Index, o.Shard.Count, o.CandidatesEvaluated, o.Study, o.Database)
		return nil
	}
	if asJSON {
		return writeJSON(w, planJSON{Study: s.id, Plan: p})
	}
	if err := writePlanText(w, p); err != nil {
		return err
	}
	if s.db != nil {
		fmt.Fprintf(w, "\nstudy %d in %s (scaleacross studies show %d)\n", s.id, s.db.Path(), s.id)
	}
	return nil
}

// printOptions say how a finished plan is printed.
type printOptions struct {
	asJSON, timings bool
	// emit, when set, prints the best configuration's launch arguments
	// for that framework instead of the plan.
	emit string
}

func (f *planFlags) printOptions() printOptions {
	return printOptions{asJSON: f.asJSON, timings: f.timings, emit: f.emit}
}

// planJSON is the document `plan --json` prints.
type planJSON struct {
	Study int64 `json:"study"`
	*explore.Plan
}

// writePlanText prints the plan for people.
func writePlanText(w io.Writer, p *explore.Plan) error {
	site := "no cross-site level"
	if p.SiteLevel != "" {
		site = "sites joined at level " + p.SiteLevel
	}
	fmt.Fprintf(w, "%s on %s x %s, %s; %s\n", p.Model, report.Thousands(float64(p.GPUs)), p.GPU, p.Precision, site)
	var parts []string
	for _, s := range p.Spaces {
		parts = append(parts, fmt.Sprintf("%s %s", s.Name, report.Thousands(float64(s.Evaluated))))
	}
	took := ""
	if p.ElapsedS > 0 {
		took = fmt.Sprintf(" in %.1f s", p.ElapsedS)
	}
	fmt.Fprintf(w, "evaluated %s candidates (%s)%s; ranking: %s\n\n", report.Thousands(float64(p.CandidatesEvaluated)), strings.Join(parts, ", "), took, p.Engine)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(name string, c *explore.Choice, speedup float64) {
		if c == nil {
			fmt.Fprintf(tw, "%s\tnothing in this space fits in memory\n", name)
			return
		}
		cross := strings.Join(c.CrossSite, "+")
		if cross == "" {
			cross = "-"
		}
		sp := ""
		if speedup > 0 {
			sp = fmt.Sprintf("  best is %.2fx (%+.1f%%)", speedup, 100*(speedup-1))
		}
		fmt.Fprintf(tw, "%s\t%s\tMFU %.1f%%\t%.1f GiB\tacross sites: %s%s\n", name, seconds(c.StepTimeS), 100*c.MFU, c.MemoryGiBPerGPU, cross, sp)
		fmt.Fprintf(tw, "\t%s\n", c.Candidate.String())
	}
	row("best", p.Best, 0)
	row("production", p.Baselines.Production, p.SpeedupVsProduction)
	row("prior art", p.Baselines.PriorArt, p.SpeedupVsPriorArt)
	tw.Flush()

	fmt.Fprintf(w, "\nstep breakdown (exposed time)\n")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "\tbest\tproduction\tprior art\t\n")
	type getter func(c *explore.Choice) float64
	for _, r := range []struct {
		name string
		get  getter
	}{
		{"compute", func(c *explore.Choice) float64 { return c.Breakdown.ComputeS }},
		{"tp comm", func(c *explore.Choice) float64 { return c.Breakdown.TPCommS }},
		{"cp comm", func(c *explore.Choice) float64 { return c.Breakdown.CPCommS }},
		{"ep comm", func(c *explore.Choice) float64 { return c.Breakdown.EPCommS }},
		{"pp comm", func(c *explore.Choice) float64 { return c.Breakdown.PPCommS }},
		{"dp comm", func(c *explore.Choice) float64 { return c.Breakdown.DPCommS }},
		{"pipeline bubble", func(c *explore.Choice) float64 { return c.Breakdown.BubbleS }},
		{"optimizer", func(c *explore.Choice) float64 { return c.Breakdown.OptimizerS }},
		{"step", func(c *explore.Choice) float64 { return c.StepTimeS }},
	} {
		fmt.Fprintf(tw, "  %s\t", r.name)
		for _, c := range []*explore.Choice{p.Best, p.Baselines.Production, p.Baselines.PriorArt} {
			if c == nil {
				fmt.Fprintf(tw, "-\t")
				continue
			}
			fmt.Fprintf(tw, "%s\t", seconds(r.get(c)))
		}
		fmt.Fprintln(tw)
	}
	tw.Flush()
	if len(p.Explanation) > 0 {
		fmt.Fprintf(w, "\nwhy\n")
		for _, e := range p.Explanation {
			fmt.Fprintf(w, "  - %s\n", e)
		}
	}
	if len(p.Notes) > 0 {
		fmt.Fprintf(w, "\nnotes\n")
		for _, n := range p.Notes {
			fmt.Fprintf(w, "  - %s\n", n)
		}
	}
	if len(p.Top) > 0 {
		fmt.Fprintf(w, "\ntop %d of the explorer's ranking", len(p.Top))
		groups := groupVariants(p.Top)
		if len(groups) < len(p.Top) {
			fmt.Fprintf(w, " (rows equal in step time and memory that differ only in recompute, transport or collectives are one row)")
		}
		fmt.Fprintln(w)
		for _, g := range groups {
			r := g.rows[0]
			fmt.Fprintf(w, "  %2d  %s  (%s)  %s%s\n", r.Rank, seconds(r.StepTimeS), r.Engine, r.Config, g.suffix())
		}
	}
	if len(p.Assumptions) > 0 {
		fmt.Fprintf(w, "\nassumed\n")
		for _, a := range p.Assumptions {
			fmt.Fprintf(w, "  - %s\n", a)
		}
	}
	if p.Timings.SearchS > 0 {
		fmt.Fprintf(w, "\n%s analytic candidates/s, %.1f re-ranks/s (wall clock)\n", report.Thousands(p.Timings.AnalyticCandidatesPerS), p.Timings.RerankPerS)
	}
	if n := p.Timings.CandidatesPruned; n > 0 {
		fmt.Fprintf(w, "%s of the candidates evaluated were pruned, not priced: a lower bound on their step proved that the search would not keep them\n", report.Thousands(float64(n)))
	}
	return nil
}

// variantKeys are the choices of a listed configuration that can leave
// its step time and memory unchanged (the recompute policy when memory is
// not short, the transport and collective algorithm when little crosses
// the sites).
var variantKeys = []string{"recompute", "transport", "collectives"}

// variantGroup is a run of listed rows that differ only in variantKeys
// and have the same step time, memory and engine.
type variantGroup struct{ rows []explore.Ranked }

// suffix says how many variants the group holds and the values of the
// choices in which they differ; empty for a single row.
func (g variantGroup) suffix() string {
	if len(g.rows) < 2 {
		return ""
	}
	var diffs []string
	for _, k := range variantKeys {
		var vals []string
		for _, r := range g.rows {
			if v := configValue(r.Config, k); !slices.Contains(vals, v) {
				vals = append(vals, v)
			}
		}
		if len(vals) > 1 {
			diffs = append(diffs, k+" "+strings.Join(vals, "|"))
		}
	}
	return fmt.Sprintf("  (x%d variants: %s)", len(g.rows), strings.Join(diffs, ", "))
}

// groupVariants groups consecutive rows of a ranking that the step model
// cannot tell apart: equal step time, memory and engine, and configs equal
// but for variantKeys.
func groupVariants(top []explore.Ranked) []variantGroup {
	var out []variantGroup
	for _, r := range top {
		if n := len(out); n > 0 {
			f := out[n-1].rows[0]
			if f.StepTimeS == r.StepTimeS && f.MemoryGiB == r.MemoryGiB && f.Engine == r.Engine && withoutVariants(f.Config) == withoutVariants(r.Config) {
				out[n-1].rows = append(out[n-1].rows, r)
				continue
			}
		}
		out = append(out, variantGroup{rows: []explore.Ranked{r}})
	}
	return out
}

// withoutVariants is config with its variantKeys choices left out.
func withoutVariants(config string) string {
	var keep []string
	for _, f := range strings.Fields(config) {
		k, _, _ := strings.Cut(f, "=")
		if !slices.Contains(variantKeys, k) {
			keep = append(keep, f)
		}
	}
	return strings.Join(keep, " ")
}

// configValue is the value of choice key in config ("-" when absent).
func configValue(config, key string) string {
	for _, f := range strings.Fields(config) {
		if k, v, ok := strings.Cut(f, "="); ok && k == key {
			return v
		}
	}
	return "-"
}

// sweepPoint is one value of a sweep with its plan.
type sweepPoint struct {
	Value float64       `json:"value"`
	Study int64         `json:"study"`
	Plan  *explore.Plan `json:"plan"`
}

// sweepJSON is the document `plan --sweep --json` prints.
type sweepJSON struct {
	Sweep  string       `json:"sweep"`
	Unit   string       `json:"unit"`
	Points []sweepPoint `json:"points"`
	Plots  []string     `json:"plots"`
}

func runPlanSweep(ctx context.Context, cmd *cobra.Command, f *planFlags) error {
	if f.resume != 0 || f.shard != "" {
		return badInput("--sweep runs whole plans; it does not combine with --resume or --shard")
	}
	key, vals, err := explore.ParseSweep(f.sweep)
	if err != nil {
		return err
	}
	j, text, name, err := loadJob(f.file)
	if err != nil {
		return err
	}
	o, err := planOptionsOf(j, f)
	if err != nil {
		return err
	}
	// Resolve every swept spec first: an invalid one never creates a database.
	for _, v := range vals {
		jv, err := explore.WithSweep(j, key, v)
		if err != nil {
			return err
		}
		if _, err := newStudy(nil, jv, text, name, o); err != nil {
			return err
		}
	}
	db, err := openDB(f.db)
	if err != nil {
		return err
	}
	defer db.Close()
	out := sweepJSON{Sweep: key, Unit: explore.SweepUnit(key)}
	for _, v := range vals {
		jv, err := explore.WithSweep(j, key, v)
		if err != nil {
			return err
		}
		s, err := newStudy(db, jv, fmt.Sprintf("%s# sweep %s=%g\n", text, key, v), fmt.Sprintf("%s [%s=%g]", name, key, v), o)
		if err != nil {
			return err
		}
		p, _, err := s.run(ctx, cmd, f.asJSON)
		if err != nil {
			return err
		}
		out.Points = append(out.Points, sweepPoint{Value: v, Study: s.id, Plan: p})
	}
	base := f.plot
	if base == "" {
		base = "plan-sweep-" + key
	}
	pts := make([]report.SweepPoint, len(out.Points))
	for i, sp := range out.Points {
		pts[i] = sweepReportPoint(sp)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("plan --sweep stopped before writing its plots: %w", err)
	}
	set := &atomicfile.Set{}
	defer context.AfterFunc(ctx, set.RemoveAll)()
	files, err := report.WriteSweepPlots(base, key+" ("+out.Unit+")", pts, set.WriteBytes)
	if err != nil {
		return err
	}
	out.Plots = files
	w := cmd.OutOrStdout()
	if f.asJSON {
		return writeJSON(w, out)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "%s (%s)\tbest step\tvs production\tvs prior art\tacross sites\tchosen plan\n", key, out.Unit)
	for _, sp := range out.Points {
		p := sp.Plan
		fmt.Fprintf(tw, "%g\t%s\t%.2fx\t%.2fx\t%s\t%s\n", sp.Value, seconds(p.Best.StepTimeS), p.SpeedupVsProduction, p.SpeedupVsPriorArt, strings.Join(p.Best.CrossSite, "+"), p.Best.Candidate.String())
	}
	tw.Flush()
	fmt.Fprintf(w, "\nplots: %s\n", strings.Join(files, ", "))
	return nil
}

func sweepReportPoint(sp sweepPoint) report.SweepPoint {
	p := sp.Plan
	r := report.SweepPoint{X: sp.Value, Best: p.Best.StepTimeS, Label: fmt.Sprintf("%s %s", strings.Join(p.Best.CrossSite, "+"), p.Best.Schedule)}
	if c := p.Baselines.Production; c != nil {
		r.Production = c.StepTimeS
	}
	if c := p.Baselines.PriorArt; c != nil {
		r.PriorArt = c.StepTimeS
	}
	for _, q := range p.Pareto {
		r.Pareto = append(r.Pareto, [2]float64{q.MemoryHeadroomGiB, q.StepTimeS})
	}
	return r
}

// gridRow is one design point of `plan --grid`.
type gridRow struct {
	explore.GridPoint
	BestStepS           float64  `json:"best_step_time_s"`
	ProductionStepS     float64  `json:"production_step_time_s"`
	PriorArtStepS       float64  `json:"prior_art_step_time_s"`
	SpeedupVsProduction float64  `json:"speedup_vs_production"`
	SpeedupVsPriorArt   float64  `json:"speedup_vs_prior_art"`
	CrossSite           []string `json:"cross_site"`
	Best                string   `json:"best"`
}

// runGrid plans every point of explore.DefaultGrid (not stored as
// studies) and prints the speed-ups over both baselines.
func runGrid(ctx context.Context, cmd *cobra.Command, f *planFlags) error {
	if f.file != "" || f.sweep != "" || f.resume != 0 || f.shard != "" {
		return badInput("--grid runs its own built-in grid; it takes no -f, --sweep, --resume or --shard")
	}
	var rows []gridRow
	for _, g := range explore.DefaultGrid() {
		j := g.Job()
		o, err := planOptionsOf(j, f)
		if err != nil {
			return err
		}
		s, err := newStudy(nil, j, "", g.String(), o)
		if err != nil {
			return fmt.Errorf("%s: %w", g, err)
		}
		p, _, err := s.run(ctx, cmd, true)
		if err != nil {
			return fmt.Errorf("%s: %w", g, err)
		}
		r := gridRow{GridPoint: g, BestStepS: p.Best.StepTimeS, SpeedupVsProduction: p.SpeedupVsProduction, SpeedupVsPriorArt: p.SpeedupVsPriorArt,
			CrossSite: p.Best.CrossSite, Best: p.Best.Candidate.String()}
		if c := p.Baselines.Production; c != nil {
			r.ProductionStepS = c.StepTimeS
		}
		if c := p.Baselines.PriorArt; c != nil {
			r.PriorArtStepS = c.StepTimeS
		}
		rows = append(rows, r)
	}
	w := cmd.OutOrStdout()
	if f.asJSON {
		return writeJSON(w, rows)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "model\tGPUs\ttrunk Tb/s\tkm\tbest s\tproduction s\tprior art s\tvs production\tvs prior art\tacross sites\t\n")
	var maxP, maxA float64
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%d\t%.0f\t%g\t%.3f\t%.3f\t%.3f\t%+.1f%%\t%+.1f%%\t%s\t\n", r.Model, r.GPUs, r.CapacityGbps/1000, r.DistanceKm,
			r.BestStepS, r.ProductionStepS, r.PriorArtStepS, 100*(r.SpeedupVsProduction-1), 100*(r.SpeedupVsPriorArt-1), strings.Join(r.CrossSite, "+"))
		maxP = max(maxP, r.SpeedupVsProduction)
		maxA = max(maxA, r.SpeedupVsPriorArt)
	}
	tw.Flush()
	fmt.Fprintf(w, "\nup to %+.1f%% over production and %+.1f%% over prior art on this grid (model predictions, not measurements)\n", 100*(maxP-1), 100*(maxA-1))
	return nil
}

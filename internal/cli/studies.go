package cli

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/scaleacross/scaleacross/explore"
	"github.com/scaleacross/scaleacross/spec"
	"github.com/scaleacross/scaleacross/store"
)

func newStudiesCmd() *cobra.Command {
	var db string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "studies list|show ID|export ID|merge",
		Short: "List, show, export and merge the Explorer's stored studies",
		Long: `studies reads the study database that plan writes (--db, default
$XDG_DATA_HOME/scaleacross/studies.db).

  studies list                         every study, its status and headline
  studies show ID                      the stored plan of a finished study
  studies export ID --format csv|json  every stored candidate, ranked per space (the
                                       fastest and the Pareto front of each space;
                                       all that fit when planned with --keep all)
  studies merge --db OUT.db SHARD.db... combine the shards of one sharded plan
                                       (plan --shard i/n) into one study in OUT.db`,
	}
	cmd.PersistentFlags().StringVar(&db, "db", "", "study database (default $XDG_DATA_HOME/scaleacross/studies.db)")
	cmd.PersistentFlags().BoolVar(&asJSON, "json", false, "print JSON")

	list := &cobra.Command{
		Use:   "list",
		Short: "List every stored study: id, status, shard, model, GPUs and headline",
		Long: `list prints one row per study in the database: its id, creation time,
status (running, interrupted, complete or failed), shard (i/n for a shard of plan --shard),
model, GPU count, best step time and the speed-ups against the production and
prior-art baselines. A database that does not exist lists no studies and is
not created.`,
		Example: `  scaleacross studies list
  scaleacross studies list --db plans.db --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			d, missing, err := openDBReadOnly(db)
			if missing {
				err = nil // no database: no studies
			}
			if err != nil {
				return err
			}
			var ss []store.Study
			if d != nil {
				defer d.Close()
				ss, err = d.List()
			}
			if err != nil {
				return err
			}
			if ss == nil {
				ss = []store.Study{}
			}
			w := cmd.OutOrStdout()
			if asJSON {
				return writeJSON(w, ss)
			}
			tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
			fmt.Fprintf(tw, "ID\tCREATED\tSTATUS\tSHARD\tMODEL\tGPUS\tBEST STEP\tVS PROD\tVS PRIOR\tNAME\n")
			for _, s := range ss {
				shard := "-"
				if s.Shard.Count > 1 {
					shard = fmt.Sprintf("%d/%d", s.Shard.Index, s.Shard.Count)
				}
				best, vp, va := "-", "-", "-"
				if s.BestStepS > 0 {
					best, vp, va = seconds(s.BestStepS), fmt.Sprintf("%.2fx", s.SpeedupProd), fmt.Sprintf("%.2fx", s.SpeedupPrior)
				}
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\n", s.ID, s.Created, s.Status, shard, s.Model, s.GPUs, best, vp, va, s.Name)
			}
			return tw.Flush()
		},
	}
	show := &cobra.Command{
		Use:   "show ID",
		Short: "Print the stored plan of a finished study",
		Long: `show prints the plan of study ID as plan printed it when the study finished
(text, or the same JSON as plan --json with --json). A study that was
interrupted has no plan yet: resume it with plan --resume ID.`,
		Example: `  scaleacross studies show 1
  scaleacross studies show 3 --db plans.db --json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			d, s, err := openStudy(db, args[0])
			if err != nil {
				return err
			}
			defer d.Close()
			if s.Result == "" {
				return badInput("study %d has no result (status %s); resume it with: scaleacross plan --resume %d --db %s", s.ID, s.Status, s.ID, d.Path())
			}
			var p explore.Plan
			if err := json.Unmarshal([]byte(s.Result), &p); err != nil {
				return fmt.Errorf("study %d: stored result: %w", s.ID, err)
			}
			w := cmd.OutOrStdout()
			if asJSON {
				return writeJSON(w, planJSON{Study: s.ID, Plan: &p})
			}
			fmt.Fprintf(w, "study %d (%s, %s)\n", s.ID, s.Name, s.Created)
			return writePlanText(w, &p)
		},
	}
	var format string
	export := &cobra.Command{
		Use:   "export ID --format csv|json",
		Short: "Write every stored candidate of a study, ranked per space",
		Long: `export writes the candidates stored for study ID, ranked within each search
space: the fastest and the Pareto front of each space, or every candidate that
fits when the study was planned with --keep all.`,
		Example: `  scaleacross studies export 1 > candidates.csv
  scaleacross studies export 1 --format json --db plans.db`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if format != "csv" && format != "json" {
				return badInput("--format: want csv or json, got %q", clipArg(format))
			}
			d, s, err := openStudy(db, args[0])
			if err != nil {
				return err
			}
			defer d.Close()
			return exportStudy(cmd.Context(), cmd, d, s, format)
		},
	}
	export.Flags().StringVar(&format, "format", "csv", "csv or json")
	merge := &cobra.Command{
		Use:   "merge --db OUT.db SHARD.db...",
		Short: "Combine the shards of one sharded plan into one study",
		Long: `merge reads the studies that plan --shard i/n wrote into the SHARD databases,
checks that they are the shards of one plan, and writes one study to the --db
database whose plan equals the unsharded plan.`,
		Example: `  scaleacross plan -f job.yaml --shard 0/2 --db shard0.db
  scaleacross plan -f job.yaml --shard 1/2 --db shard1.db
  scaleacross studies merge --db merged.db shard0.db shard1.db`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return mergeStudies(ctx, cmd, db, args, asJSON)
		},
	}
	cmd.AddCommand(list, show, export, merge)
	return cmd
}

func openStudy(db, arg string) (*store.DB, store.Study, error) {
	id, err := strconv.ParseInt(arg, 10, 64)
	if err != nil || id <= 0 {
		return nil, store.Study{}, badInput("study id: want a positive integer, got %q", clipArg(arg))
	}
	d, _, err := openDBReadOnly(db)
	if err != nil {
		return nil, store.Study{}, err
	}
	s, err := d.Study(id)
	if err != nil {
		d.Close()
		return nil, store.Study{}, err
	}
	return d, s, nil
}

// exportRow is one candidate of an export.
type exportRow struct {
	Space string `json:"space"`
	Rank  int    `json:"rank"`
	explore.Record
}

func exportStudy(ctx context.Context, cmd *cobra.Command, d *store.DB, s store.Study, format string) error {
	states, err := d.States(ctx, s.ID)
	if err != nil {
		return err
	}
	var rows []exportRow
	for _, name := range []string{explore.ExplorerSpace, explore.ProductionSpace, explore.PriorArtSpace} {
		st := states[name]
		if st == nil {
			continue
		}
		recs := slices.Clone(st.Records)
		slices.SortStableFunc(recs, func(a, b explore.Record) int {
			if a.StepTimeS != b.StepTimeS {
				if a.StepTimeS < b.StepTimeS {
					return -1
				}
				return 1
			}
			return a.Index - b.Index
		})
		for i, r := range recs {
			rows = append(rows, exportRow{Space: name, Rank: i + 1, Record: r})
		}
	}
	w := cmd.OutOrStdout()
	if format == "json" {
		var plan *explore.Plan
		if s.Result != "" {
			plan = &explore.Plan{}
			if err := json.Unmarshal([]byte(s.Result), plan); err != nil {
				return fmt.Errorf("study %d: stored result: %w", s.ID, err)
			}
		}
		if rows == nil {
			rows = []exportRow{}
		}
		return writeJSON(w, struct {
			Study      store.Study   `json:"study"`
			Plan       *explore.Plan `json:"plan"`
			Candidates []exportRow   `json:"candidates"`
		}{s, plan, rows})
	}
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"space", "rank", "index", "tp", "cp", "pp", "vp", "ep", "dp", "zero", "micro_batch", "sp", "placement", "schedule", "recompute", "technology", "collective", "step_time_s", "mfu", "memory_gib"})
	for _, r := range rows {
		c := r.Candidate
		_ = cw.Write([]string{r.Space, strconv.Itoa(r.Rank), strconv.Itoa(r.Index), strconv.Itoa(c.TP), strconv.Itoa(c.CP), strconv.Itoa(c.PP), strconv.Itoa(c.VP), strconv.Itoa(c.EP), strconv.Itoa(c.DP),
			strconv.Itoa(c.Zero), strconv.Itoa(c.MicroBatch), strconv.FormatBool(c.SP), c.Placement, c.Schedule, string(c.Recompute), c.Technology, c.Collective,
			strconv.FormatFloat(r.StepTimeS, 'g', 10, 64), strconv.FormatFloat(r.MFU, 'g', 6, 64), strconv.FormatFloat(r.MemoryGiB, 'g', 6, 64)})
	}
	cw.Flush()
	return cw.Error()
}

// mergeStudies combines the complete shards of one sharded plan, found in
// the source databases, into a new study in --db.
func mergeStudies(ctx context.Context, cmd *cobra.Command, out string, sources []string, asJSON bool) error {
	if out == "" {
		return badInput("studies merge needs --db OUT.db for the merged study")
	}
	type shard struct {
		src   string
		study store.Study
	}
	groups := map[string][]shard{}
	var order []string
	for _, src := range sources {
		d, err := store.OpenReadOnly(src)
		if err != nil {
			return err
		}
		ss, err := d.List()
		d.Close()
		if err != nil {
			return err
		}
		for _, s := range ss {
			if s.Shard.Count > 1 && s.Status == store.StatusComplete {
				k := fmt.Sprintf("%s/%d", s.Hash, s.Shard.Count)
				if _, ok := groups[k]; !ok {
					order = append(order, k)
				}
				groups[k] = append(groups[k], shard{src, s})
			}
		}
	}
	var full []string
	for _, k := range order {
		g := groups[k]
		seen := map[int]bool{}
		for _, s := range g {
			seen[s.study.Shard.Index] = true
		}
		if len(seen) == g[0].study.Shard.Count {
			full = append(full, k)
		}
	}
	switch {
	case len(full) == 0:
		return badInput("no complete set of shards in %s (each shard i/n of one plan must have finished)", strings.Join(sources, ", "))
	case len(full) > 1:
		return badInput("the sources hold %d complete sharded plans; merge one at a time", len(full))
	}
	g := groups[full[0]]
	first := g[0].study
	var o planOptions
	if err := json.Unmarshal([]byte(first.Options), &o); err != nil {
		return fmt.Errorf("study %d: stored options: %w", first.ID, err)
	}
	if o.Numbering != explore.Numbering {
		return badInput("the shards of study %d were searched by an older scaleacross that numbered candidates differently; they cannot be merged: plan them again", first.ID)
	}
	j, err := spec.ParseJob([]byte(first.Spec))
	if err != nil {
		return fmt.Errorf("study %d: stored spec: %w", first.ID, err)
	}
	// One state per space and shard index (a shard stored twice counts once).
	parts := map[string][]*explore.State{}
	used := map[int]bool{}
	for _, s := range g {
		if used[s.study.Shard.Index] {
			continue
		}
		used[s.study.Shard.Index] = true
		d, err := store.OpenReadOnly(s.src)
		if err != nil {
			return err
		}
		states, err := d.States(ctx, s.study.ID)
		d.Close()
		if err != nil {
			return err
		}
		for name, st := range states {
			parts[name] = append(parts[name], st)
		}
	}
	o.Shard = explore.Shard{}
	db, err := store.Open(out)
	if err != nil {
		return err
	}
	defer db.Close()
	st, err := newStudy(db, j, first.Spec, first.Name+" (merged)", o)
	if err != nil {
		return err
	}
	var states []*explore.State
	for _, sp := range st.spaces {
		m, err := explore.MergeStates(parts[sp.Name])
		if err != nil {
			return err
		}
		if err := db.Commit(st.id, *m, m.Records); err != nil {
			return err
		}
		states = append(states, m)
	}
	if err := st.base.CheckFits(st.spaces, states); err != nil {
		_ = db.SetStatus(st.id, store.StatusFailed)
		return err
	}
	p, err := st.base.Finish(st.spaces, states, st.opt)
	if err != nil {
		return err
	}
	if err := st.storeResult(p); err != nil {
		return err
	}
	return printPlanOrShard(cmd, printOptions{asJSON: asJSON}, st, p, states)
}

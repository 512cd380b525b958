package cli

import (
	"fmt"
	"math/rand/v2"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/scaleacross/scaleacross/engine/model"
	"github.com/scaleacross/scaleacross/engine/train"
)

// defaultWeights is where the committed trained pair lives, relative to
// the repository root.
const defaultWeights = "engine/testdata/weights"

// newEngineCmd builds `scaleacross engine train|generate|bench`.
func newEngineCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "engine",
		Short: "The real CPU speculative-decoding engine (small Llama + EAGLE draft head)",
		Long: `engine trains, runs and measures a small byte-level Llama-architecture model and
its EAGLE draft head on the CPU, in pure Go: train fits both on a text corpus,
generate decodes with or without speculation (tree or chain drafts, greedy or
sampled, lossless verification), bench measures acceptance and speed-up and
writes the measured per-depth acceptance in the form infer reads.`,
	}
	cmd.AddCommand(newEngineTrainCmd(), newEngineGenerateCmd(), newEngineBenchCmd())
	return cmd
}

func newEngineTrainCmd() *cobra.Command {
	var corpus, holdout, out string
	var seed uint64
	var cfg model.Config
	var to, do train.Options
	var evalBytes int
	cmd := &cobra.Command{
		Use:   "train --corpus kjv.txt",
		Short: "Train the target model, then its EAGLE draft head on the target's features",
		Long: `train fits the target with Adam on a verse-per-line corpus as printed by the
Debian bible-kjv package (bible -f Gen1:1-Rev22:21 > kjv.txt), holding one book
out for evaluation, then freezes it and trains the EAGLE draft head to predict
the target's next feature and next-token distribution. Weights are written to
--out after every evaluation. The same --seed gives the same weights.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if corpus == "" {
				return badInput("engine train needs --corpus FILE (bible -f Gen1:1-Rev22:21 > kjv.txt, from Debian's bible-kjv-text)")
			}
			cfg.Vocab, cfg.RopeBase = 256, 10000
			if err := cfg.Validate(); err != nil {
				return badInput("%v", err)
			}
			f, err := os.Open(corpus)
			if err != nil {
				return badInput("engine train: %v", err)
			}
			defer f.Close()
			c, err := train.ParseKJV(f, holdout)
			if err != nil {
				return badInput("engine train: %v", err)
			}
			w := cmd.ErrOrStderr()
			rng := rand.New(rand.NewPCG(seed, 1))
			m, err := model.NewTarget(cfg, rng)
			if err != nil {
				return badInput("%v", err)
			}
			d, err := model.NewDraft(cfg, rng)
			if err != nil {
				return badInput("%v", err)
			}
			fmt.Fprintf(w, "corpus: %d training bytes, %d held out (%s); target %d parameters, draft %d\n",
				len(c.Train), len(c.Heldout), holdout, model.Count(m.Params()), model.Count(d.Params()))
			to.Seed, do.Seed = seed, seed
			to.Log, do.Log = w, w
			to.Checkpoint, do.Checkpoint = out, out
			to.MaxEvalBytes, do.MaxEvalBytes = evalBytes, evalBytes
			do.Workers, do.EvalEvery = to.Workers, to.EvalEvery
			t0 := time.Now()
			bpb, err := train.Target(m, c, to)
			if err != nil {
				return fmt.Errorf("engine train: %w", err)
			}
			tTarget := time.Since(t0)
			t1 := time.Now()
			st, err := train.Draft(m, d, c, do)
			if err != nil {
				return fmt.Errorf("engine train: %w", err)
			}
			tDraft := time.Since(t1)
			uni := train.UnigramBitsPerByte(c.Train, c.Heldout)
			fmt.Fprintf(cmd.OutOrStdout(), "target: %.3f bits/byte held out (%s), unigram %.3f; trained in %s\n", bpb, holdout, uni, tTarget.Round(time.Second))
			fmt.Fprintf(cmd.OutOrStdout(), "draft: feature loss %.4f, token cross-entropy %.3f, top-1 agreement %.3f held out; trained in %s\n", st.Reg, st.Cls, st.Agree, tDraft.Round(time.Second))
			fmt.Fprintf(cmd.OutOrStdout(), "weights written to %s\n", out)
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&corpus, "corpus", "", "verse-per-line corpus (output of the bible-kjv program)")
	fl.StringVar(&holdout, "holdout", "Ruth", "book held out for evaluation (its reference prefix)")
	fl.StringVar(&out, "out", defaultWeights, "directory for target.saw and draft.saw")
	fl.Uint64Var(&seed, "seed", 1, "random seed (initialisation and batches)")
	fl.IntVar(&cfg.Dim, "dim", 192, "model width")
	fl.IntVar(&cfg.Layers, "layers", 4, "decoder layers")
	fl.IntVar(&cfg.Heads, "heads", 8, "attention heads")
	fl.IntVar(&cfg.KVHeads, "kv-heads", 2, "key/value heads (grouped-query attention)")
	fl.IntVar(&cfg.FF, "ff", 512, "SwiGLU hidden width")
	fl.IntVar(&cfg.Context, "context", 256, "context length in bytes")
	fl.BoolVar(&cfg.Tied, "tied", true, "tie the LM head to the embedding")
	fl.IntVar(&to.Steps, "steps", 600, "target training steps")
	fl.IntVar(&to.Batch, "batch", 8, "sequences per step")
	fl.IntVar(&to.SeqLen, "seq", 256, "tokens per training sequence")
	fl.Float64Var(&to.LR, "lr", 3e-3, "target peak learning rate")
	fl.IntVar(&do.Steps, "draft-steps", 300, "draft training steps")
	fl.IntVar(&do.Batch, "draft-batch", 8, "draft sequences per step")
	fl.IntVar(&do.SeqLen, "draft-seq", 256, "draft tokens per sequence")
	fl.Float64Var(&do.LR, "draft-lr", 3e-3, "draft peak learning rate")
	fl.IntVar(&to.Workers, "workers", 2, "goroutines for the matrix products")
	fl.IntVar(&to.EvalEvery, "eval-every", 100, "steps between held-out evaluations and checkpoints")
	fl.IntVar(&evalBytes, "eval-bytes", 0, "held-out bytes evaluated (0: the whole book)")
	return cmd
}

func newEngineGenerateCmd() *cobra.Command { return &cobra.Command{Use: "generate"} }
func newEngineBenchCmd() *cobra.Command    { return &cobra.Command{Use: "bench"} }

package cli

import (
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"

	engdecode "github.com/scaleacross/scaleacross/engine/decode"
	"github.com/scaleacross/scaleacross/engine/model"
	"github.com/scaleacross/scaleacross/engine/tensor"
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
	var corpus, holdout, out, targetFrom string
	var seed uint64
	var cfg model.Config
	var draftFF int
	var to, do train.Options
	var evalBytes int
	cmd := &cobra.Command{
		Use:   "train --corpus kjv.txt",
		Short: "Train the target model, then its EAGLE draft head on the target's features",
		Long: `train fits the target with Adam on a verse-per-line corpus as printed by the
Debian bible-kjv package (bible -f Gen1:1-Rev22:21 > kjv.txt), holding one book
out for evaluation, then freezes it and trains the EAGLE draft head to predict
the target's next feature and next-token distribution. Weights are written to
--out after every evaluation. The same --seed gives the same weights.
--target-from DIR reads the trained target from DIR/target.saw (its shape
replaces the shape flags) and trains only the draft; the draft's initial
weights are those a whole run with the same --seed draws.`,
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
			var trained *model.Target
			if targetFrom != "" {
				var err error
				if trained, err = model.LoadTarget(targetFrom); err != nil {
					return badInput("engine train: %v", err)
				}
				cfg = trained.Cfg
			}
			// The draft is drawn after a fresh target even when the target
			// is read from a file, so that a seed gives the same draft
			// either way.
			rng := rand.New(rand.NewPCG(seed, 1))
			m, err := model.NewTarget(cfg, rng)
			if err != nil {
				return badInput("%v", err)
			}
			d, err := model.NewDraft(cfg, draftFF, rng)
			if err != nil {
				return badInput("--draft-ff: %v", err)
			}
			if trained != nil {
				m = trained
			}
			fmt.Fprintf(w, "corpus: %d training bytes, %d held out (%s); target %d parameters, draft %d\n",
				len(c.Train), len(c.Heldout), holdout, model.Count(m.Params()), model.Count(d.Params()))
			to.Seed, do.Seed = seed, seed
			to.Log, do.Log = w, w
			to.Checkpoint, do.Checkpoint = out, out
			to.MaxEvalBytes, do.MaxEvalBytes = evalBytes, evalBytes
			do.Workers, do.EvalEvery = to.Workers, to.EvalEvery
			t0 := time.Now()
			var bpb float64
			if trained == nil {
				if bpb, err = train.Target(m, c, to); err != nil {
					return fmt.Errorf("engine train: %w", err)
				}
			} else {
				if bpb, err = train.BitsPerByte(m, c.Heldout, evalBytes); err != nil {
					return fmt.Errorf("engine train: %w", err)
				}
				if err := train.SaveTarget(out, m); err != nil {
					return fmt.Errorf("engine train: %w", err)
				}
			}
			tTarget := time.Since(t0)
			t1 := time.Now()
			st, err := train.Draft(m, d, c, do)
			if err != nil {
				return fmt.Errorf("engine train: %w", err)
			}
			tDraft := time.Since(t1)
			uni := train.UnigramBitsPerByte(c.Train, c.Heldout)
			if trained == nil {
				fmt.Fprintf(cmd.OutOrStdout(), "target: %.3f bits/byte held out (%s), unigram %.3f; trained in %s\n", bpb, holdout, uni, tTarget.Round(time.Second))
			} else {
				fmt.Fprintf(cmd.OutOrStdout(), "target: %.3f bits/byte held out (%s), unigram %.3f; read from %s\n", bpb, holdout, uni, targetFrom)
			}
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
	fl.StringVar(&targetFrom, "target-from", "", "directory whose target.saw is the trained target: train only the draft")
	fl.IntVar(&draftFF, "draft-ff", 0, "the draft layer's SwiGLU hidden width (0: the target's --ff)")
	fl.IntVar(&do.Steps, "draft-steps", 300, "draft training steps")
	fl.IntVar(&do.Batch, "draft-batch", 8, "draft sequences per step")
	fl.IntVar(&do.SeqLen, "draft-seq", 256, "draft tokens per sequence")
	fl.Float64Var(&do.LR, "draft-lr", 3e-3, "draft peak learning rate")
	fl.IntVar(&to.Workers, "workers", 2, "goroutines for the matrix products")
	fl.IntVar(&to.EvalEvery, "eval-every", 100, "steps between held-out evaluations and checkpoints")
	fl.IntVar(&evalBytes, "eval-bytes", 0, "held-out bytes evaluated (0: the whole book)")
	return cmd
}

// loadEngine reads the weight pair of dir; a missing or bad file is bad
// input.
func loadEngine(dir string, needDraft bool, draftPrecision string, draftPrefill int) (*engdecode.Engine, error) {
	if draftPrecision != "bf16" && draftPrecision != "fp32" {
		return nil, badInput("--draft-precision %q unknown; want bf16 or fp32", draftPrecision)
	}
	if draftPrefill < 0 {
		return nil, badInput("--draft-prefill %d must be 0 (the whole prompt) or a positive token count", draftPrefill)
	}
	m, d, err := model.LoadPair(dir)
	if err != nil {
		var fe *model.FormatError
		if errors.As(err, &fe) {
			return nil, err
		}
		return nil, badInput("%v (train with: scaleacross engine train --corpus kjv.txt --out %s)", err, dir)
	}
	if needDraft && d == nil {
		return nil, badInput("no %s in %s: speculation needs the draft head (or use --spec none)", model.DraftFile, dir)
	}
	m.Kern = tensor.Detect(1)
	m.Prepare()
	if d != nil {
		d.Prepare(m)
		d.UseBF16(m, draftPrecision == "bf16")
	}
	return &engdecode.Engine{T: m, D: d, DraftPrefill: draftPrefill}, nil
}

func bytesToTokens(s string) []int {
	t := make([]int, len(s))
	for i := 0; i < len(s); i++ {
		t[i] = int(s[i])
	}
	return t
}

func tokensToString(t []int) string {
	b := make([]byte, len(t))
	for i, v := range t {
		b[i] = byte(v)
	}
	return string(b)
}

// generateResult is the JSON of engine generate.
type generateResult struct {
	Prompt          string  `json:"prompt"`
	Text            string  `json:"text"`
	Spec            string  `json:"spec"`
	Temperature     float64 `json:"temperature"`
	Seed            uint64  `json:"seed"`
	Tokens          int     `json:"tokens"`
	TargetPasses    int     `json:"target_passes"`
	DraftPasses     int     `json:"draft_passes"`
	AcceptedPerStep float64 `json:"accepted_tokens_per_step"`
	ElapsedS        float64 `json:"elapsed_s"`
	TokensPerS      float64 `json:"tokens_per_s"`
}

func newEngineGenerateCmd() *cobra.Command {
	var prompt, specArg, weights, draftPrec string
	var draftPrefill int
	var temp float64
	var seed uint64
	var maxTokens int
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "generate --prompt TEXT",
		Short: "Continue a prompt with the trained target, with or without speculative decoding",
		Long: `generate continues --prompt (bytes) with the target model. --spec chooses the
speculation: tree (the default 16-node tree), chain:N, a tree as root paths
such as "[[0],[1],[0,0]]", or none. Temperature 0 is greedy; speculation is
lossless, so greedy output is identical with and without it and sampled output
follows the target's distribution.

Exit codes: 2 bad input (prompt beyond the context, tree deeper than ` + "12" + ` or
larger than 64 nodes, missing or malformed weights).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if prompt == "" {
				return badInput("engine generate needs --prompt TEXT")
			}
			tr, err := engdecode.ParseSpec(specArg)
			if err != nil {
				return err
			}
			e, err := loadEngine(weights, tr != nil, draftPrec, draftPrefill)
			if err != nil {
				return err
			}
			t0 := time.Now()
			r, err := e.Generate(bytesToTokens(prompt), engdecode.Options{Tree: tr, Temperature: temp, Seed: seed, MaxTokens: maxTokens})
			if err != nil {
				return fmt.Errorf("engine generate: %w", err)
			}
			el := time.Since(t0).Seconds()
			res := generateResult{Prompt: prompt, Text: tokensToString(r.Tokens), Spec: specArg, Temperature: temp, Seed: seed,
				Tokens: len(r.Tokens), TargetPasses: r.Stats.Steps + 1, DraftPasses: r.Stats.DraftPasses,
				AcceptedPerStep: r.Stats.AcceptedPerStep(), ElapsedS: el, TokensPerS: float64(len(r.Tokens)) / el}
			if asJSON {
				return writeJSON(cmd.OutOrStdout(), res)
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "%s%s\n", prompt, res.Text)
			fmt.Fprintf(cmd.ErrOrStderr(), "%d tokens, %d target passes (prefill included), %.2f accepted tokens per step, %.0f tokens/s\n",
				res.Tokens, res.TargetPasses, res.AcceptedPerStep, res.TokensPerS)
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&prompt, "prompt", "", "text to continue")
	fl.StringVar(&specArg, "spec", "tree", "speculation: tree, chain:N, root paths, or none")
	fl.Float64Var(&temp, "temperature", 0, "sampling temperature (0: greedy)")
	fl.Uint64Var(&seed, "seed", 1, "sampling seed")
	fl.IntVar(&maxTokens, "max-tokens", 128, "tokens to generate (stops earlier when the context is full)")
	fl.StringVar(&weights, "weights", defaultWeights, "directory with target.saw and draft.saw")
	fl.StringVar(&draftPrec, "draft-precision", "bf16", "the draft head's weights: bf16 (AVX2 and AVX-512 CPUs; fp32 elsewhere) or fp32")
	fl.IntVar(&draftPrefill, "draft-prefill", engdecode.DefaultDraftPrefill, "the prompt's last tokens the draft head's prefill reads (0: the whole prompt)")
	fl.BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// benchResult is the JSON of engine bench.
type benchResult struct {
	Weights     string                `json:"weights"`
	Heldout     string                `json:"heldout"`
	Prompts     int                   `json:"prompts"`
	PromptBytes int                   `json:"prompt_bytes"`
	MaxTokens   int                   `json:"max_tokens"`
	SIMD        bool                  `json:"simd_kernel"`
	AVX512      bool                  `json:"avx512_kernel"`
	DraftBF16   bool                  `json:"draft_bf16"`
	Cases       []engdecode.BenchCase `json:"cases"`
	// Best names, per temperature, the shape with the highest wall-clock
	// speed-up in this run (timings vary from run to run).
	Best        []bestShape         `json:"best"`
	Speculative *speculativeSnippet `json:"speculative,omitempty"`
}

// bestShape is the fastest measured shape at one temperature.
type bestShape struct {
	Temperature float64 `json:"temperature"`
	Spec        string  `json:"spec"`
	Speedup     float64 `json:"speedup"`
	CPUSpeedup  float64 `json:"cpu_speedup"`
	// DecodeSpeedup is the decode phase's (the prefills excluded).
	DecodeSpeedup float64 `json:"decode_speedup"`
}

// bestShapes picks, per temperature in order of appearance, the case with
// the highest wall-clock speed-up.
func bestShapes(cases []engdecode.BenchCase) []bestShape {
	var out []bestShape
	at := map[float64]int{}
	for _, c := range cases {
		i, ok := at[c.Temperature]
		if !ok {
			at[c.Temperature] = len(out)
			out = append(out, bestShape{Temperature: c.Temperature, Spec: c.Spec, Speedup: c.Speedup, CPUSpeedup: c.CPUSpeedup, DecodeSpeedup: c.DecodeSpeedup})
			continue
		}
		if c.Speedup > out[i].Speedup {
			out[i] = bestShape{Temperature: c.Temperature, Spec: c.Spec, Speedup: c.Speedup, CPUSpeedup: c.CPUSpeedup, DecodeSpeedup: c.DecodeSpeedup}
		}
	}
	return out
}

// speculativeSnippet is the measured acceptance in the serving spec's
// speculative block, the form infer reads.
type speculativeSnippet struct {
	Method       string    `json:"method" yaml:"method"`
	DraftLayers  int       `json:"draft_layers" yaml:"draft_layers"`
	Acceptance   []float64 `json:"acceptance" yaml:"acceptance"`
	SiblingDecay float64   `json:"sibling_decay" yaml:"sibling_decay"`
}

func newEngineBenchCmd() *cobra.Command {
	var weights, heldout, specs, temps, accOut, accFrom, draftPrec, coreList string
	var prompts, promptLen, maxTokens, repeat, draftPrefill int
	var seed uint64
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure acceptance, target passes saved and wall-clock speed-up of speculative decoding",
		Long: `bench continues --prompts held-out prompts with every --specs tree shape at every
--temperatures value and plainly, and reports accepted tokens per verify step,
acceptance per depth, target passes saved, tokens/s with and without
speculation and the speed-up (wall clock and process CPU time, prefill
included; and the decode phase's, in wall clock after each prompt's first
token, the prefills excluded), then the fastest shape per temperature. Every configuration, plain decoding
included, runs at each --cores core count (2: every matrix product split
over two cores) and is reported at its fastest, so that speculation is
compared with plain decoding's fastest configuration. --draft-precision bf16 runs the draft's passes on
bfloat16 weights where the CPU has AVX2 or AVX-512. With --acceptance-out it writes the measured
per-depth acceptance of the --acceptance-from shape (at the first
temperature) as the speculative block of a serving spec, for infer.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if prompts < 1 || promptLen < 1 || maxTokens < 1 || repeat < 1 {
				return badInput("--prompts, --prompt-len, --max-tokens and --repeat must be positive")
			}
			var ts []float64
			for _, f := range strings.Split(temps, ",") {
				v, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
				if err != nil || v < 0 {
					return badInput("--temperatures: %q is not a non-negative number", f)
				}
				ts = append(ts, v)
			}
			var cores []int
			for _, f := range strings.Split(coreList, ",") {
				v, err := strconv.Atoi(strings.TrimSpace(f))
				if err != nil || (v != 1 && v != 2) {
					return badInput("--cores: %q is not 1 or 2 (want a list like 1,2)", f)
				}
				cores = append(cores, v)
			}
			sl := splitSpecs(specs)
			for _, s := range sl {
				if _, err := engdecode.ParseSpec(s); err != nil {
					return err
				}
			}
			text, err := os.ReadFile(heldout)
			if err != nil {
				return badInput("engine bench: %v", err)
			}
			if len(text) < prompts*promptLen {
				return badInput("engine bench: %s has %d bytes, fewer than %d prompts of %d", heldout, len(text), prompts, promptLen)
			}
			e, err := loadEngine(weights, true, draftPrec, draftPrefill)
			if err != nil {
				return err
			}
			var ps [][]int
			stride := len(text) / prompts
			for i := 0; i < prompts; i++ {
				ps = append(ps, bytesToTokens(string(text[i*stride:i*stride+promptLen])))
			}
			cases, err := e.Bench(engdecode.BenchOptions{Prompts: ps, Specs: sl, Temperatures: ts, MaxTokens: maxTokens, Seed: seed, Repeat: repeat, Cores: cores})
			if err != nil {
				return fmt.Errorf("engine bench: %w", err)
			}
			res := benchResult{Weights: weights, Heldout: heldout, Prompts: prompts, PromptBytes: promptLen, MaxTokens: maxTokens, SIMD: e.T.Kern.SIMD, AVX512: e.T.Kern.AVX512, DraftBF16: e.T.Kern.SIMD && draftPrec == "bf16", Cases: cases, Best: bestShapes(cases)}
			for _, c := range cases {
				if c.Spec == accFrom && c.Temperature == ts[0] && len(c.AcceptanceByDepth) > 0 {
					res.Speculative = &speculativeSnippet{Method: "eagle", DraftLayers: 1, Acceptance: round4(c.AcceptanceByDepth), SiblingDecay: roundTo(c.SiblingDecay)}
				}
			}
			if accOut != "" {
				if res.Speculative == nil {
					return badInput("--acceptance-from %q is not among the measured --specs", accFrom)
				}
				if err := writeFileAtomic(nil, accOut, func(w io.Writer) error {
					fmt.Fprintf(w, "# Measured by scaleacross engine bench: the %s draft shape at temperature %g on %d held-out prompts.\n", accFrom, ts[0], prompts)
					fmt.Fprintf(w, "# Paste into a serving spec for scaleacross infer.\n")
					return yaml.NewEncoder(w).Encode(map[string]any{"speculative": res.Speculative})
				}); err != nil {
					return err
				}
			}
			if asJSON {
				return writeJSON(cmd.OutOrStdout(), res)
			}
			return writeBenchText(cmd.OutOrStdout(), res)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&weights, "weights", defaultWeights, "directory with target.saw and draft.saw")
	fl.StringVar(&draftPrec, "draft-precision", "bf16", "the draft head's weights: bf16 (AVX2 and AVX-512 CPUs; fp32 elsewhere) or fp32")
	fl.IntVar(&draftPrefill, "draft-prefill", engdecode.DefaultDraftPrefill, "the prompt's last tokens the draft head's prefill reads (0: the whole prompt)")
	fl.StringVar(&heldout, "heldout", "engine/testdata/heldout.txt", "held-out text the prompts are cut from")
	fl.IntVar(&prompts, "prompts", 4, "prompts")
	fl.IntVar(&promptLen, "prompt-len", 64, "bytes per prompt")
	fl.IntVar(&maxTokens, "max-tokens", 96, "tokens generated per prompt")
	fl.StringVar(&specs, "specs", "chain:1;chain:2;chain:3;chain:4;tree", "tree shapes separated by ';'")
	fl.StringVar(&temps, "temperatures", "0,1", "temperatures, comma separated")
	fl.Uint64Var(&seed, "seed", 1, "sampling seed")
	fl.IntVar(&repeat, "repeat", 3, "runs per generation; the fastest is timed")
	fl.StringVar(&coreList, "cores", "1,2", "core counts to time each configuration at, comma separated (1 or 2); each is reported at its fastest")
	fl.StringVar(&accOut, "acceptance-out", "", "write the measured acceptance as a serving spec's speculative block (YAML)")
	fl.StringVar(&accFrom, "acceptance-from", "tree", "which --specs shape the written acceptance comes from")
	fl.BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func splitSpecs(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ";") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func roundTo(v float64) float64 { return math.Round(v*1e4) / 1e4 }

func round4(v []float64) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = math.Max(1e-4, roundTo(x))
	}
	return out
}

func writeBenchText(w io.Writer, r benchResult) error {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "spec\tnodes\tdepth\ttemp\taccepted/step\tpredicted\ttarget passes saved\ttok/s spec\ttok/s plain\tspeed-up\tCPU-time speed-up\tdecode-phase speed-up\tcores spec/plain\tacceptance by depth\n")
	for _, c := range r.Cases {
		acc := make([]string, len(c.AcceptanceByDepth))
		for i, a := range c.AcceptanceByDepth {
			acc[i] = strconv.FormatFloat(a, 'f', 2, 64)
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%g\t%.2f\t%.2f\t%d of %d\t%.0f\t%.0f\t%.2fx\t%.2fx\t%.2fx\t%d/%d\t%s\n", c.Spec, c.Nodes, c.Depth, c.Temperature,
			c.AcceptedPerStep, c.Predicted, c.PassesSaved, c.Stats.Tokens, c.TokensPerS, c.PlainPerS, c.Speedup, c.CPUSpeedup, c.DecodeSpeedup, c.Cores, c.PlainCores, strings.Join(acc, " "))
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("writing bench table: %w", err)
	}
	for _, b := range r.Best {
		fmt.Fprintf(w, "fastest at temperature %g: %s (%.2fx wall clock, %.2fx CPU time, prefill included; %.2fx decode phase)\n", b.Temperature, b.Spec, b.Speedup, b.CPUSpeedup, b.DecodeSpeedup)
	}
	if r.Speculative != nil {
		fmt.Fprintf(w, "measured acceptance for infer: speculative: {method: eagle, acceptance: %v, sibling_decay: %g}\n", r.Speculative.Acceptance, r.Speculative.SiblingDecay)
	}
	return nil
}

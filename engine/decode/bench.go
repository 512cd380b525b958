package decode

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/scaleacross/scaleacross/engine/tensor"
	"github.com/scaleacross/scaleacross/internal/cputime"
	"github.com/scaleacross/scaleacross/specdec"
)

// ParseSpec reads a speculation choice: "none", "chain:N", "tree" (the
// default 16-node tree) or a tree as root paths, e.g. "[[0],[1],[0,0]]".
// It returns nil for none.
func ParseSpec(s string) (*specdec.Tree, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "none" || s == "":
		return nil, nil
	case s == "tree":
		return DefaultTree(), nil
	case strings.HasPrefix(s, "chain:"):
		n, err := strconv.Atoi(strings.TrimPrefix(s, "chain:"))
		if err != nil || n < 1 {
			return nil, &InputError{fmt.Sprintf("--spec %q: chain length must be a positive integer", s)}
		}
		if n > MaxTreeDepth {
			return nil, &InputError{fmt.Sprintf("--spec %q: chain of %d exceeds the supported depth %d", s, n, MaxTreeDepth)}
		}
		return specdec.Chain(n), nil
	case strings.HasPrefix(s, "["):
		paths, err := parsePaths(s)
		if err != nil {
			return nil, &InputError{fmt.Sprintf("--spec %q: %v", s, err)}
		}
		t, err := specdec.NewTree(paths)
		if err != nil {
			return nil, &InputError{fmt.Sprintf("--spec: %v", err)}
		}
		return t, nil
	}
	return nil, &InputError{fmt.Sprintf("--spec %q unknown; want none, tree, chain:N or root paths like [[0],[1],[0,0]]", s)}
}

// parsePaths reads "[[0],[1],[0,0]]".
func parsePaths(s string) ([][]int, error) {
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, "[") || !strings.HasSuffix(s, "]") {
		return nil, fmt.Errorf("want a bracketed list of paths")
	}
	body := strings.TrimSpace(s[1 : len(s)-1])
	var paths [][]int
	for body != "" {
		if body[0] != '[' {
			return nil, fmt.Errorf("path must start with '[' at %q", body)
		}
		end := strings.IndexByte(body, ']')
		if end < 0 {
			return nil, fmt.Errorf("unclosed path at %q", body)
		}
		var p []int
		for _, f := range strings.Split(body[1:end], ",") {
			f = strings.TrimSpace(f)
			if f == "" {
				continue
			}
			v, err := strconv.Atoi(f)
			if err != nil {
				return nil, fmt.Errorf("rank %q is not an integer", f)
			}
			p = append(p, v)
		}
		paths = append(paths, p)
		body = strings.TrimLeft(body[end+1:], " ,")
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("no paths")
	}
	return paths, nil
}

// DefaultTree is the engine's default static tree of 16 nodes and depth
// 6: wide near the root, where acceptance is highest, and a top-1 spine
// below, in the spirit of the EAGLE and Sequoia trees.
func DefaultTree() *specdec.Tree {
	t, _ := specdec.NewTree([][]int{
		{0}, {1}, {2},
		{0, 0}, {0, 1}, {1, 0}, {2, 0},
		{0, 0, 0}, {0, 0, 1}, {0, 1, 0}, {1, 0, 0},
		{0, 0, 0, 0}, {0, 0, 0, 1}, {0, 0, 1, 0},
		{0, 0, 0, 0, 0},
		{0, 0, 0, 0, 0, 0},
	}) // a fixed, well-formed tree
	return t
}

// BenchCase is one measured configuration.
type BenchCase struct {
	Spec        string  `json:"spec"`
	Nodes       int     `json:"nodes"`
	Depth       int     `json:"depth"`
	Temperature float64 `json:"temperature"`
	// AcceptedPerStep is the mean tokens emitted per target verify pass.
	AcceptedPerStep float64 `json:"accepted_tokens_per_step"`
	// AcceptanceByDepth is the conditional acceptance of the top-ranked
	// candidate per depth; SiblingDecay the fitted per-rank decay.
	AcceptanceByDepth []float64 `json:"acceptance_by_depth"`
	SiblingDecay      float64   `json:"sibling_decay"`
	// Predicted is specdec's expected tokens per step for this tree from
	// the measured acceptance.
	Predicted    float64 `json:"predicted_tokens_per_step"`
	Tokens       int     `json:"tokens"`
	TargetPasses int     `json:"target_passes"`
	PassesSaved  int     `json:"target_passes_saved"`
	DraftPasses  int     `json:"draft_passes"`
	TokensPerS   float64 `json:"tokens_per_s"`
	PlainPerS    float64 `json:"plain_tokens_per_s"`
	Speedup      float64 `json:"speedup"`
	// CPUSpeedup is the speed-up in process CPU time (Linux; both cores on two), which other
	// processes on a shared machine disturb less than wall clock.
	CPUTokensPerS   float64 `json:"cpu_tokens_per_s,omitempty"`
	CPUPlainPerS    float64 `json:"cpu_plain_tokens_per_s,omitempty"`
	CPUSpeedup      float64 `json:"cpu_speedup,omitempty"`
	CPUElapsedS     float64 `json:"cpu_s,omitempty"`
	CPUPlainElapsed float64 `json:"cpu_plain_s,omitempty"`
	// DecodeTokensPerS, DecodePlainPerS and DecodeSpeedup are the
	// decode phase's: the tokens after the first of each prompt over the
	// wall-clock time after it (Result.PrefillS excluded: the target's
	// prefill, and speculation's draft prefill), at the core counts of
	// the figures above. TokensPerS and Speedup count the whole
	// generation, prefill included.
	DecodeTokensPerS float64 `json:"decode_tokens_per_s"`
	DecodePlainPerS  float64 `json:"decode_plain_tokens_per_s"`
	DecodeSpeedup    float64 `json:"decode_speedup"`
	Stats            Stats   `json:"-"`
	ElapsedS         float64 `json:"elapsed_s"`
	PlainElapsedS    float64 `json:"plain_elapsed_s"`
	// Cores and PlainCores are the core counts (of BenchOptions.Cores)
	// at which speculation and plain decoding were fastest in wall
	// clock; the speed-ups compare those two configurations.
	Cores      int `json:"cores"`
	PlainCores int `json:"plain_cores"`
}

// BenchOptions configures Bench.
type BenchOptions struct {
	Prompts      [][]int
	Specs        []string
	Temperatures []float64
	MaxTokens    int
	Seed         uint64
	// Repeat runs every generation this many times and keeps the fastest,
	// which filters out interference from other processes on the CPU.
	Repeat int
	// Cores lists the core counts to time every configuration at: 1 runs
	// on the calling core, 2 splits every packed product over a
	// tensor.Pool. Each configuration, plain decoding included, is
	// reported at its fastest core count. Empty means {1}.
	Cores []int
}

// Bench generates from every prompt with every tree and temperature, and
// without speculation at each temperature, and reports acceptance,
// target passes saved and wall-clock speed-up. Timings are wall clock:
// each generation runs Repeat times, interleaved with the other
// configurations of the same prompt so that a change of load on the
// machine hits all of them alike, and the fastest run counts. Every
// configuration runs at each of Cores' core counts, interleaved too, and
// is reported at its fastest (plain decoding included). Bench sets the
// target's kernel for each run and restores it when it returns, so it
// must not run beside other generations of the same engine. Every count
// is deterministic; the timings vary from run to run.
func (e *Engine) Bench(o BenchOptions) ([]BenchCase, error) {
	trees := make([]*specdec.Tree, len(o.Specs))
	for i, sp := range o.Specs {
		tr, err := ParseSpec(sp)
		if err != nil {
			return nil, err
		}
		trees[i] = tr
	}
	cores := o.Cores
	if len(cores) == 0 {
		cores = []int{1}
	}
	kern := e.T.Kern
	defer func() { e.T.Kern = kern }()
	var pool *tensor.Pool
	for _, n := range cores {
		if n != 1 && n != 2 {
			return nil, &InputError{fmt.Sprintf("--cores %d: want 1 or 2", n)}
		}
		if n == 2 && pool == nil {
			pool = tensor.NewPool()
			defer pool.Close()
		}
	}
	setCores := func(n int) {
		e.T.Kern = kern
		if n == 2 {
			e.T.Kern.Pool, e.T.Kern.PoolMinRows = pool, 0
		}
	}
	nc := len(o.Specs) + 1 // configuration 0 is plain decoding
	var out []BenchCase
	for _, temp := range o.Temperatures {
		cases := make([]BenchCase, len(o.Specs))
		tokens := make([]int, nc)
		elapsed := make([][]float64, nc) // [configuration][core index], summed over prompts
		cpuS := make([][]float64, nc)
		decS := make([][]float64, nc) // the decode phases
		for c := range elapsed {
			elapsed[c], cpuS[c], decS[c] = make([]float64, len(cores)), make([]float64, len(cores)), make([]float64, len(cores))
		}
		for i, p := range o.Prompts {
			seed := o.Seed + uint64(i)
			results := make([]*Result, nc)
			best := make([][]float64, nc) // [configuration][core index]
			bestCPU := make([][]float64, nc)
			bestDec := make([][]float64, nc)
			for c := range best {
				best[c], bestCPU[c], bestDec[c] = make([]float64, len(cores)), make([]float64, len(cores)), make([]float64, len(cores))
			}
			for r := 0; r < max(1, o.Repeat); r++ {
				for ci, n := range cores {
					setCores(n)
					for c := 0; c < nc; c++ {
						opt := Options{Temperature: temp, Seed: seed, MaxTokens: o.MaxTokens}
						if c > 0 {
							if trees[c-1] == nil {
								continue
							}
							opt.Tree = trees[c-1]
						}
						var res *Result
						t0 := time.Now()
						cpu, err := cpuTimed(func() (err error) {
							res, err = e.Generate(p, opt)
							return err
						})
						if err != nil {
							return nil, fmt.Errorf("bench prompt %d: %w", i, err)
						}
						el := time.Since(t0).Seconds()
						if r == 0 || el < best[c][ci] {
							best[c][ci] = el
						}
						if r == 0 || cpu < bestCPU[c][ci] {
							bestCPU[c][ci] = cpu
						}
						if dec := el - res.PrefillS; r == 0 || dec < bestDec[c][ci] {
							bestDec[c][ci] = dec
						}
						// Splitting a product by columns leaves every
						// sum's order alone, so each core count yields the
						// same tokens; the first one's are kept.
						if ci == 0 {
							results[c] = res
						}
					}
				}
			}
			for c := range best {
				for ci := range cores {
					elapsed[c][ci] += best[c][ci]
					cpuS[c][ci] += bestCPU[c][ci]
					decS[c][ci] += bestDec[c][ci]
				}
			}
			for c, res := range results {
				if res == nil {
					continue
				}
				tokens[c] += len(res.Tokens)
				if c > 0 {
					cases[c-1].Stats.Add(res.Stats)
				}
			}
		}
		fastest := func(c int) int {
			b := 0
			for ci := range cores {
				if elapsed[c][ci] < elapsed[c][b] {
					b = ci
				}
			}
			return b
		}
		pb := fastest(0)
		plainS, plainCPU, plainTok := elapsed[0][pb], cpuS[0][pb], tokens[0]
		// The decode phase emits every token but each prompt's first.
		decPlain := float64(plainTok-len(o.Prompts)) / decS[0][pb]
		for c, sp := range o.Specs {
			tr := trees[c]
			if tr == nil {
				continue
			}
			bc := cases[c]
			sb := fastest(c + 1)
			bc.ElapsedS, bc.CPUElapsedS, bc.Tokens = elapsed[c+1][sb], cpuS[c+1][sb], tokens[c+1]
			bc.Cores, bc.PlainCores = cores[sb], cores[pb]
			bc.Spec, bc.Nodes, bc.Depth, bc.Temperature = sp, tr.Size(), tr.Depth(), temp
			bc.PlainPerS, bc.PlainElapsedS = float64(plainTok)/plainS, plainS
			bc.AcceptedPerStep = bc.Stats.AcceptedPerStep()
			bc.TargetPasses = bc.Stats.Steps
			bc.PassesSaved = bc.Stats.Tokens - bc.Stats.Steps
			bc.DraftPasses = bc.Stats.DraftPasses
			bc.TokensPerS = float64(bc.Tokens) / bc.ElapsedS
			bc.Speedup = bc.TokensPerS / bc.PlainPerS
			bc.DecodePlainPerS = decPlain
			bc.DecodeTokensPerS = float64(bc.Tokens-len(o.Prompts)) / decS[c+1][sb]
			bc.DecodeSpeedup = bc.DecodeTokensPerS / decPlain
			if bc.CPUElapsedS > 0 && plainCPU > 0 {
				bc.CPUPlainElapsed = plainCPU
				bc.CPUTokensPerS = float64(bc.Tokens) / bc.CPUElapsedS
				bc.CPUPlainPerS = float64(plainTok) / plainCPU
				bc.CPUSpeedup = bc.CPUTokensPerS / bc.CPUPlainPerS
			}
			if a, err := bc.Stats.Acceptance(); err == nil {
				bc.AcceptanceByDepth, bc.SiblingDecay = a.ByDepth, a.SiblingDecay
				bc.Predicted = a.ExpectedTokens(tr)
			}
			out = append(out, bc)
		}
	}
	return out, nil
}

// cpuTimed runs f and returns the process CPU time it took (0 where the
// clock cannot be read): on two cores that includes the pool worker's,
// which spins for the whole generation. Bench runs one generation at a
// time, so nothing else of the process runs beside f but the garbage
// collector. f is not locked to an OS thread: a locked caller that
// yields while it waits for the pool's worker hands its thread over.
func cpuTimed(f func() error) (float64, error) {
	t0, ok := cputime.Process()
	err := f()
	if !ok {
		return 0, err
	}
	return cputime.Since(t0).Seconds(), err
}

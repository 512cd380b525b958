package infer

import (
	"errors"
	"fmt"

	"github.com/scaleacross/scaleacross/fault"
	"github.com/scaleacross/scaleacross/hardware"
	"github.com/scaleacross/scaleacross/model"
	"github.com/scaleacross/scaleacross/spec"
	"github.com/scaleacross/scaleacross/specdec"
)

// Job is a serving spec resolved against the catalogs: the deployment,
// the workload and, when speculation is on, the speculative decoder.
type Job struct {
	Config      *Config
	Workload    Workload
	Speculative *Speculative
}

// LoadFile reads, parses and resolves the serving spec at path (FromSpec);
// errors name the file.
func LoadFile(path string, lookupModel func(string) (*model.Model, error), lookupGPU func(string) (*hardware.GPU, error)) (*spec.Serve, *Job, error) {
	data, err := spec.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	s, err := spec.ParseServeFile(data, path)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	j, err := FromSpec(s, lookupModel, lookupGPU)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, j, nil
}

// FromSpec resolves a parsed serving spec: it looks up the model and the
// GPU, validates the deployment and builds the acceptance model and the
// draft tree. Errors are bad input naming the spec field. The command
// line's infer and the dashboard's serving page both call it.
func FromSpec(s *spec.Serve, lookupModel func(string) (*model.Model, error), lookupGPU func(string) (*hardware.GPU, error)) (*Job, error) {
	m, err := lookupModel(s.Model)
	if err != nil {
		return nil, fault.Field("model", "%v", err)
	}
	g, err := lookupGPU(s.System.GPU)
	if err != nil {
		return nil, fault.Field("system.gpu", "%v", err)
	}
	eff, err := EngineProfile(s.Engine)
	if err != nil {
		return nil, err
	}
	applyOverrides(&eff, s.EngineOverrides)
	graphs := s.CUDAGraphs == nil || *s.CUDAGraphs
	cfg := &Config{
		Model: m, GPU: g, GPUs: s.System.GPUs, TP: s.Parallel.TP, DP: s.Parallel.DP, EP: s.Parallel.EP, PP: s.Parallel.PP,
		Weights: hardware.Precision(s.Precision), KV: hardware.Precision(s.KVPrecision),
		Activations: hardware.Precision(s.ActivationPrecision), CUDAGraphs: graphs,
		Piecewise: s.CUDAGraphMode == "piecewise", Eff: eff,
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	j := &Job{Config: cfg, Workload: Workload{
		Batch: s.Workload.Batch, InputLen: s.Workload.InputLen, OutputLen: s.Workload.OutputLen, Context: s.Workload.Context}}
	if mc := m.MaxContext; mc > 0 {
		if w := s.Workload; w.Context > mc {
			return nil, fault.Field("workload.context", "%d tokens exceed %s's maximum context of %d; lower it", w.Context, m.ID, mc)
		}
		if n := j.Workload.PeakContext(); n > mc {
			return nil, fault.Field("workload", "input_len + output_len = %d tokens exceed %s's maximum context of %d; shorten them", n, m.ID, mc)
		}
	}
	if sp := s.Speculative; sp != nil && sp.Method != "none" {
		acc, err := AcceptanceOf(sp)
		if err != nil {
			return nil, err
		}
		tree, err := TreeOf(sp.Tree)
		if err != nil {
			return nil, err
		}
		field := "speculative.acceptance"
		n := len(sp.Acceptance)
		if len(sp.AcceptedLengths) > 0 {
			field, n = "speculative.accepted_lengths", len(sp.AcceptedLengths)
		}
		if n > 0 {
			// A measured acceptance covers only the depths it lists: a
			// deeper fixed tree is refused rather than extended by guess,
			// and the search for the best tree stays within them.
			if tree != nil && tree.Depth() > n {
				return nil, fault.Field(field, "lists %d depths but the tree is %d deep; give one acceptance per depth (or a shallower tree)", n, tree.Depth())
			}
			if tree == nil && sp.MaxDepth > n {
				sp = ptrTo(*sp)
				sp.MaxDepth = n
			}
		}
		j.Speculative = &Speculative{Method: specdec.Method(sp.Method), DraftLayers: sp.DraftLayers, Tree: tree,
			MaxNodes: sp.MaxNodes, MaxDepth: sp.MaxDepth, Acceptance: acc}
		if sp.DraftModel != "" {
			d, err := lookupModel(sp.DraftModel)
			if err != nil {
				return nil, fault.Field("speculative.draft_model", "%v", err)
			}
			j.Speculative.DraftModel = d
		}
		if err := j.Speculative.check(cfg); err != nil {
			return nil, err
		}
	}
	return j, nil
}

// TreeOf builds the fixed draft tree a serving spec names, or nil for
// auto (the optimiser chooses per batch size). An invalid tree is bad
// input naming speculative.tree.
func TreeOf(t spec.TreeSpec) (*specdec.Tree, error) {
	switch {
	case t.Chain > 0:
		return specdec.Chain(t.Chain), nil
	case t.Paths != nil:
		tr, err := specdec.NewTree(t.Paths)
		if err != nil {
			return nil, fault.Field("speculative.tree", "%v", err)
		}
		return tr, nil
	}
	return nil, nil
}

// AcceptanceOf returns a serving spec's acceptance model: the spec's
// accepted lengths converted to per-depth acceptance, or its per-depth
// vector, when given (measured, not assumed), else the method's
// documented default, with the spec's sibling decay when it sets one.
func AcceptanceOf(sp *spec.Speculative) (specdec.Acceptance, error) {
	var a specdec.Acceptance
	if len(sp.AcceptedLengths) > 0 {
		by, err := specdec.FromAcceptedLengths(sp.AcceptedLengths)
		if err != nil {
			return a, fault.Field("speculative.accepted_lengths", "%v", err)
		}
		a = specdec.Acceptance{ByDepth: by, SiblingDecay: specdec.DefaultSiblingDecay,
			Source: "speculative.accepted_lengths from the spec, converted to per-depth acceptance"}
	} else if len(sp.Acceptance) > 0 {
		a = specdec.Acceptance{ByDepth: append([]float64(nil), sp.Acceptance...), SiblingDecay: specdec.DefaultSiblingDecay,
			Source: "speculative.acceptance from the spec"}
	} else {
		d, err := specdec.DefaultAcceptance(specdec.Method(sp.Method))
		if err != nil {
			return a, fault.Field("speculative.method", "%v", err)
		}
		a = d
	}
	if sp.SiblingDecay != nil {
		a.SiblingDecay = *sp.SiblingDecay
	}
	if err := a.Validate(); err != nil {
		var ae *specdec.AcceptanceError
		if errors.As(err, &ae) {
			return a, fault.Field("speculative.acceptance", "%v", err)
		}
		return a, err
	}
	return a, nil
}

func ptrTo[T any](v T) *T { return &v }

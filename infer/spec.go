package infer

import (
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

// FromSpec resolves a parsed serving spec: it looks up the model and the
// GPU, validates the deployment and builds the acceptance model and the
// draft tree. Errors name the spec field (exit code 2).
func FromSpec(s *spec.Serve, lookupModel func(string) (*model.Model, error), lookupGPU func(string) (*hardware.GPU, error)) (*Job, error) {
	m, err := lookupModel(s.Model)
	if err != nil {
		return nil, spec.Errorf("model", "%v", err)
	}
	g, err := lookupGPU(s.System.GPU)
	if err != nil {
		return nil, spec.Errorf("system.gpu", "%v", err)
	}
	graphs := s.CUDAGraphs == nil || *s.CUDAGraphs
	cfg := &Config{
		Model: m, GPU: g, GPUs: s.System.GPUs, TP: s.Parallel.TP, DP: s.Parallel.DP, EP: s.Parallel.EP,
		Weights: hardware.Precision(s.Precision), KV: hardware.Precision(s.KVPrecision),
		Activations: hardware.Precision(s.ActivationPrecision), CUDAGraphs: graphs, Eff: DefaultEfficiency(),
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	j := &Job{Config: cfg, Workload: Workload{
		Batch: s.Workload.Batch, InputLen: s.Workload.InputLen, OutputLen: s.Workload.OutputLen, Context: s.Workload.Context}}
	if sp := s.Speculative; sp != nil && sp.Method != "none" {
		acc, err := sp.AcceptanceModel()
		if err != nil {
			return nil, err
		}
		tree, err := sp.Tree.Build()
		if err != nil {
			return nil, err
		}
		j.Speculative = &Speculative{Method: specdec.Method(sp.Method), DraftLayers: sp.DraftLayers, Tree: tree,
			MaxNodes: sp.MaxNodes, MaxDepth: sp.MaxDepth, Acceptance: acc}
	}
	return j, nil
}

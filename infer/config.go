package infer

import (
	"fmt"

	"github.com/scaleacross/scaleacross/fault"
	"github.com/scaleacross/scaleacross/hardware"
	"github.com/scaleacross/scaleacross/model"
)

// Config is a model served on one scale-up server.
type Config struct {
	Model *model.Model
	GPU   *hardware.GPU
	// GPUs serving one model replica; TP * DP must equal GPUs.
	GPUs int
	// TP is the attention (and dense MLP) tensor-parallel degree.
	TP int
	// DP is the attention data-parallel degree (DeepSeek-style
	// attention-DP with EP): each group of TP GPUs holds its own
	// sequences. 0 means 1.
	DP int
	// EP is the expert-parallel degree over the GPUs of a pipeline stage;
	// experts are split over EP groups and each expert tensor-parallel
	// over the stage's GPUs/EP. 0 means 1.
	EP int
	// PP is the number of pipeline stages (0 means 1), each holding
	// Layers/PP consecutive layers on GPUs/PP GPUs; stages beyond one
	// server are joined by the scale-out network.
	PP int
	// Weights, KV and Activations are the number formats. The LM head
	// and embeddings stay BF16 (FP8 serving recipes keep them unquantised).
	Weights, KV, Activations hardware.Precision
	// CUDAGraphs selects the per-kernel cost with graphs captured.
	CUDAGraphs bool
	// Piecewise, with CUDAGraphs, captures the graphs between attention
	// operations only (vLLM V1's default before v0.11, vLLM PR #25444):
	// each layer's attention runs eagerly between two graph pieces.
	Piecewise bool
	Eff       Efficiency
}

// ConfigError is bad input in a Config (exit code 2).
type ConfigError struct {
	Field string
	Msg   string
}

func (e *ConfigError) Error() string { return e.Field + ": " + e.Msg }

// Is reports the error as bad input (fault.ErrBadInput).
func (e *ConfigError) Is(target error) bool { return target == fault.ErrBadInput }

func (c *Config) dp() int { return max(c.DP, 1) }
func (c *Config) ep() int { return max(c.EP, 1) }
func (c *Config) pp() int { return max(c.PP, 1) }

// stageGPUs is the number of GPUs of one pipeline stage: tp x dp.
func (c *Config) stageGPUs() int { return c.GPUs / c.pp() }

// nodeGPUs is the number of GPUs of one scale-up domain the deployment
// uses: the whole deployment when it fits in one.
func (c *Config) nodeGPUs() int {
	if n := c.GPU.ScaleUpSize; n > 0 && c.GPUs > n {
		return n
	}
	return c.GPUs
}

// Validate checks the parallel layout and precisions.
func (c *Config) Validate() error {
	if c.Model == nil || c.GPU == nil {
		return &ConfigError{"model", "model and gpu must be set"}
	}
	if err := c.Model.Validate(); err != nil {
		return &ConfigError{"model", err.Error()}
	}
	if c.GPUs < 1 {
		return &ConfigError{"system.gpus", fmt.Sprintf("must be at least 1, got %d", c.GPUs)}
	}
	if c.TP < 1 {
		return &ConfigError{"parallel.tp", fmt.Sprintf("must be at least 1, got %d", c.TP)}
	}
	if c.pp() > c.Model.Layers {
		return &ConfigError{"parallel.pp", fmt.Sprintf("%d stages exceed the %d layers of %s", c.pp(), c.Model.Layers, c.Model.ID)}
	}
	if c.TP*c.dp()*c.pp() != c.GPUs {
		if c.pp() == 1 {
			return &ConfigError{"parallel.tp", fmt.Sprintf("tp (%d) x dp (%d) must equal system.gpus (%d)", c.TP, c.dp(), c.GPUs)}
		}
		return &ConfigError{"parallel.tp", fmt.Sprintf("tp (%d) x dp (%d) x pp (%d) must equal system.gpus (%d)", c.TP, c.dp(), c.pp(), c.GPUs)}
	}
	if node := c.GPU.ScaleUpSize; node > 0 && c.GPUs > node {
		// Several servers: tensor parallelism stays inside one, and the
		// servers are whole.
		if c.GPUs%node != 0 {
			return &ConfigError{"system.gpus", fmt.Sprintf("%d GPUs are not whole %s servers of %d", c.GPUs, c.GPU.ID, node)}
		}
		if c.TP > node {
			return &ConfigError{"parallel.tp", fmt.Sprintf("tp %d spans several %s servers of %d GPUs; keep tp within one and use pp or dp with ep across them", c.TP, c.GPU.ID, node)}
		}
		if s := c.stageGPUs(); s > node && s%node != 0 || s < node && node%s != 0 {
			return &ConfigError{"parallel.pp", fmt.Sprintf("a stage of %d GPUs does not tile %s servers of %d", s, c.GPU.ID, node)}
		}
	}
	if c.stageGPUs()%c.ep() != 0 {
		return &ConfigError{"parallel.ep", fmt.Sprintf("ep (%d) must divide the %d GPUs of a stage (system.gpus / pp)", c.ep(), c.stageGPUs())}
	}
	if c.ep() > 1 {
		if c.Model.MoE == nil {
			return &ConfigError{"parallel.ep", fmt.Sprintf("ep = %d needs a mixture-of-experts model; %s is dense", c.ep(), c.Model.ID)}
		}
		if c.Model.MoE.Experts%c.ep() != 0 {
			return &ConfigError{"parallel.ep", fmt.Sprintf("ep (%d) must divide the %d experts", c.ep(), c.Model.MoE.Experts)}
		}
	}
	if c.Model.Heads%c.TP != 0 {
		return &ConfigError{"parallel.tp", fmt.Sprintf("tp (%d) must divide the %d attention heads", c.TP, c.Model.Heads)}
	}
	for _, p := range []struct {
		field string
		v     hardware.Precision
	}{{"precision", c.Weights}, {"kv_precision", c.KV}, {"activation_precision", c.Activations}} {
		switch p.v {
		case hardware.BF16, hardware.FP16, hardware.FP8, hardware.FP4, hardware.NVFP4, hardware.MXFP8:
		case hardware.INT4:
			if p.field != "precision" {
				return &ConfigError{p.field, "int4 is a weight format (AWQ, GPTQ); want bf16, fp16, fp8, mxfp8, fp4 or nvfp4 here"}
			}
		default:
			return &ConfigError{p.field, fmt.Sprintf("%q is not a serving format (want bf16, fp16, fp8, mxfp8, fp4, nvfp4, or int4 for weights)", p.v)}
		}
	}
	if _, ok := c.GPU.PeakTFLOPS(c.computePrecision()); !ok {
		return &ConfigError{"precision", fmt.Sprintf("%s has no %s tensor cores", c.GPU.ID, c.computePrecision())}
	}
	return nil
}

// computePrecision is the format GEMMs run in: the wider of weights and
// activations (FP8 weights with BF16 activations run BF16 tensor cores).
func (c *Config) computePrecision() hardware.Precision {
	if c.Activations.BytesPerElement() >= c.Weights.BytesPerElement() {
		return c.Activations
	}
	return c.Weights
}

// peakFLOPs is the dense peak GEMMs are priced against, times the GPU's
// measured large-GEMM share against H100's (hardware.GPU.GEMMDerate), as
// training's cost.NewDevice prices it: one GEMM share for both.
func (c *Config) peakFLOPs() float64 {
	p, _ := c.GPU.PeakTFLOPS(c.computePrecision())
	return p * 1e12 * c.GPU.GEMMDerate()
}

func (c *Config) bf16FLOPs() float64 {
	p, ok := c.GPU.PeakTFLOPS(hardware.BF16)
	if !ok {
		p, _ = c.GPU.PeakTFLOPS(hardware.FP16)
	}
	return p * 1e12
}

func (c *Config) hbm() float64 { return c.GPU.HBMBandwidthGB * 1e9 * c.Eff.HBM }

func (c *Config) kernelUs() float64 {
	if c.CUDAGraphs {
		return c.Eff.KernelGraphUs
	}
	return c.Eff.KernelEagerUs
}

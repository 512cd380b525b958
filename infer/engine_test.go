package infer

import (
	"errors"
	"testing"

	"github.com/scaleacross/scaleacross/fault"
	"github.com/scaleacross/scaleacross/hardware"
	"github.com/scaleacross/scaleacross/specdec"
)

// TestTRTLLMMaverickB200 checks the trtllm profile against the
// measurement it is set from: Llama 4 Maverick on 8xB200 with EAGLE-3 and
// TensorRT-LLM at 1,038 tokens/s per user at batch 1 (NVIDIA technical
// blog, May 2025), 0.96 ms per token; within 15%. The vllm profile, whose
// fixed host time is fitted to vLLM, is far slower there.
func TestTRTLLMMaverickB200(t *testing.T) {
	run := func(engine string) *Result {
		c := config(t, "llama4-maverick", "b200", 8, hardware.FP8)
		e, err := EngineProfile(engine)
		if err != nil {
			t.Fatal(err)
		}
		c.Eff = e
		s := &Speculative{Method: specdec.EAGLE3, DraftLayers: 1, Tree: specdec.Chain(3), Acceptance: defaultAcc(t, specdec.EAGLE3)}
		r, err := Predict(c, Workload{Batch: 1, InputLen: 1000, OutputLen: 1000}, s)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	trt, vllm := run("trtllm"), run("vllm")
	t.Logf("Maverick 8xB200 EAGLE-3 batch 1: trtllm %.3f ms/token (step %.3f ms), vllm %.3f ms/token; measured 0.963", trt.TTITms, trt.SpecStepMs, vllm.TTITms)
	if d := trt.TTITms/0.963 - 1; d > 0.15 || d < -0.15 {
		t.Errorf("trtllm: %.3f ms per token, off the measured 0.963 by %+.0f%% (limit 15%%)", trt.TTITms, d*100)
	}
	if vllm.TTITms <= trt.TTITms {
		t.Errorf("vllm (%.3f ms) should be slower than trtllm (%.3f ms)", vllm.TTITms, trt.TTITms)
	}
}

// TestEngineProfiles: every named engine resolves, vllm is
// DefaultEfficiency, and an unknown engine is bad input naming the field.
func TestEngineProfiles(t *testing.T) {
	v, err := EngineProfile("vllm")
	if err != nil {
		t.Fatal(err)
	}
	d := DefaultEfficiency()
	d.Engine = "vllm"
	if v != d {
		t.Errorf("vllm profile %+v is not DefaultEfficiency %+v", v, d)
	}
	for _, n := range []string{"sglang", "trtllm", "custom", ""} {
		if _, err := EngineProfile(n); err != nil {
			t.Errorf("%q: %v", n, err)
		}
	}
	_, err = EngineProfile("tgi")
	var fe *fault.FieldError
	if !errors.Is(err, fault.ErrBadInput) || !errors.As(err, &fe) || fe.Field != "engine" {
		t.Errorf("unknown engine: %v, want bad input naming engine", err)
	}
}

package infer

import (
	"errors"
	"testing"

	"github.com/scaleacross/scaleacross/fault"
	"github.com/scaleacross/scaleacross/hardware"
)

// TestMultiNodeServing: DeepSeek-V3 in FP8 (671 GB of weights) does not
// fit one 8xH100 server but fits two, with tp 8 inside each server and
// either two pipeline stages or expert parallelism over all 16 GPUs
// across them; what crosses the servers is priced on the scale-out
// network (a faster NIC makes it faster, the within-server layout does
// not change); tp across servers is refused naming parallel.tp; a GB200
// NVL72 rack is one scale-up domain of 72 GPUs, where Llama 4 Behemoth
// fits in FP4.
func TestMultiNodeServing(t *testing.T) {
	w := Workload{Batch: 16, InputLen: 1000, OutputLen: 1000}
	one := config(t, "deepseek-v3", "h100-sxm", 8, hardware.FP8)
	if _, err := Predict(one, w, nil); !errors.Is(err, fault.ErrNoFit) {
		t.Fatalf("DeepSeek-V3 FP8 on one 8xH100 server: %v, want does not fit", err)
	}
	for _, tc := range []struct {
		name       string
		tp, dp, pp int
		ep         int
	}{{"tp 8 x pp 2", 8, 1, 2, 1}, {"dp 16 x ep 16", 1, 16, 1, 16}} {
		c := config(t, "deepseek-v3", "h100-sxm", 16, hardware.FP8)
		c.TP, c.DP, c.PP, c.EP = tc.tp, tc.dp, tc.pp, tc.ep
		r, err := Predict(c, w, nil)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if r.Servers != 2 {
			t.Errorf("%s: %d servers, want 2", tc.name, r.Servers)
		}
		g := *c.GPU
		g.NICGbps *= 4
		fast := *c
		fast.GPU = &g
		rf, err := Predict(&fast, w, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s on 2x8 H100: %.2f ms per token, %.1f GiB weights per GPU; with a 4x faster NIC %.2f ms", tc.name, r.TTITms, r.Memory.WeightsB/(1<<30), rf.TTITms)
		if rf.TTITms >= r.TTITms {
			t.Errorf("%s: a faster scale-out network does not speed the cross-server traffic up (%.3f vs %.3f ms)", tc.name, rf.TTITms, r.TTITms)
		}
	}
	c := config(t, "deepseek-v3", "h100-sxm", 16, hardware.FP8)
	var ce *ConfigError
	if err := c.Validate(); !errors.As(err, &ce) || ce.Field != "parallel.tp" || !errors.Is(err, fault.ErrBadInput) {
		t.Errorf("tp 16 over two servers: %v, want bad input naming parallel.tp", err)
	}
	rack := config(t, "llama4-behemoth", "gb200", 72, hardware.NVFP4)
	rack.TP, rack.DP, rack.EP = 8, 9, 8
	r, err := Predict(rack, Workload{Batch: 72, InputLen: 1000, OutputLen: 1000}, nil)
	if err != nil {
		t.Fatalf("Behemoth on an NVL72 rack: %v", err)
	}
	if r.Servers != 0 {
		t.Errorf("an NVL72 rack is one scale-up domain; got %d servers", r.Servers)
	}
	t.Logf("Behemoth NVFP4 on GB200 NVL72 (tp 8, dp 9, ep 8): %.2f ms per token at batch 72", r.TTITms)
}

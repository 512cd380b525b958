package cli

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
)

func TestNetJSON(t *testing.T) {
	out, errOut, code := run(t, "net", "-f", "../../examples/campus-3-buildings.yaml", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var o netOutput
	if err := json.Unmarshal([]byte(out), &o); err != nil {
		t.Fatal(err)
	}
	// 1 KiB to 4 GiB doubling is 23 sizes, for each of the 5 collectives.
	if len(o.Results) != 5*23 {
		t.Fatalf("%d rows, want %d", len(o.Results), 5*23)
	}
	if o.GroupSize != 792 {
		t.Errorf("dp group of %d, want 792", o.GroupSize)
	}
	crosses := false
	for _, l := range o.Levels {
		crosses = crosses || l.CrossesSite
	}
	if !crosses {
		t.Error("the dp group of the campus example crosses buildings but no level says so")
	}
	n := float64(o.GroupSize)
	prev := map[string]float64{}
	for _, r := range o.Results {
		if r.TimeUs <= prev[r.Op] {
			t.Errorf("%s %d B: time %v not above the smaller size's %v", r.Op, r.Bytes, r.TimeUs, prev[r.Op])
		}
		prev[r.Op] = r.TimeUs
		if r.Op == "all-reduce" {
			if want := r.AlgBWGBps * 2 * (n - 1) / n; math.Abs(r.BusBWGBps-want) > 1e-9*want {
				t.Errorf("all-reduce busbw %v, want algbw x 2(n-1)/n = %v", r.BusBWGBps, want)
			}
		}
	}
}

// A slower cross-site technology must show in the bus bandwidth of the
// group that crosses sites.
func TestNetTransport(t *testing.T) {
	busbw := func(transport string) float64 {
		out, errOut, code := run(t, "net", "-f", "../../examples/two-regions.yaml", "--dim", "pp", "--ops", "p2p", "--min", "1GiB", "--max", "1GiB", "--transport", transport, "--json")
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", transport, code, errOut)
		}
		var o netOutput
		if err := json.Unmarshal([]byte(out), &o); err != nil {
			t.Fatal(err)
		}
		return o.Results[0].BusBWGBps
	}
	xgs, tcp := busbw("spectrum-xgs"), busbw("tcp")
	if !(tcp < xgs) {
		t.Errorf("tcp over 500 km (%v GB/s) not slower than distance-aware RoCE (%v GB/s)", tcp, xgs)
	}
}

func TestNetTableAndList(t *testing.T) {
	out, errOut, code := run(t, "net", "-f", "../../examples/meta-building-24k.yaml", "--ops", "all-reduce", "--max", "4KiB")
	if code != 0 || !strings.Contains(out, "busbw") || !strings.Contains(out, "4 KiB") {
		t.Errorf("exit %d: %s%s", code, out, errOut)
	}
	out, _, code = run(t, "net", "--list")
	for _, name := range []string{"native", "roce-pfc", "roce-dcqcn", "spectrum-xgs", "ib-longhaul", "tcp"} {
		if code != 0 || !strings.Contains(out, name) {
			t.Errorf("--list lacks %s (exit %d)", name, code)
		}
	}
}

func TestNetBadInput(t *testing.T) {
	ex := "../../examples/two-regions.yaml"
	for name, tc := range map[string]struct {
		args []string
		want string
	}{
		"no file":       {[]string{"net"}, "-f job.yaml"},
		"dim":           {[]string{"net", "-f", ex, "--dim", "xp"}, "--dim"},
		"transport":     {[]string{"net", "-f", ex, "--transport", "carrier-pigeon"}, "network.transport"},
		"algorithm":     {[]string{"net", "-f", ex, "--algorithm", "butterfly"}, "network.algorithm"},
		"size":          {[]string{"net", "-f", ex, "--min", "-3"}, "--min"},
		"op":            {[]string{"net", "-f", ex, "--ops", "broadcast"}, "--ops"},
		"min above max": {[]string{"net", "-f", ex, "--min", "1GiB", "--max", "1MiB"}, "--min"},
	} {
		_, errOut, code := run(t, tc.args...)
		if code != 2 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%s: exit %d, stderr %q; want 2 naming %s", name, code, errOut, tc.want)
		}
	}
}

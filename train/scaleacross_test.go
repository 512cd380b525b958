package train

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"pgregory.net/rapid"

	"github.com/scaleacross/scaleacross/fault"
	"github.com/scaleacross/scaleacross/hardware"
	"github.com/scaleacross/scaleacross/model"
	"github.com/scaleacross/scaleacross/network"
	"github.com/scaleacross/scaleacross/spec"
	"github.com/scaleacross/scaleacross/topology"
)

// twoSites405B is a 405B-class job on 8,192 H100 in two buildings of 4,096:
// Meta-style pods of 2,048 GPUs, 1:7 between pods, and a shared trunk
// between the buildings. cross names the dimension laid across them.
func twoSites405B(cross string, capacityGbps, km float64) string {
	placement := "[tp, cp, pp, dp]"
	if cross == "pp" {
		placement = "[tp, cp, dp, pp]"
	}
	return fmt.Sprintf(`
model: llama3.1-405b
system:
  gpu: h100-sxm
  gpus: 8192
  topology:
    levels:
      - {name: node, size: 8, bandwidth_gbps: 3600, latency_us: 1}
      - {name: pod, size: 256, bandwidth_gbps: 400, latency_us: 5}
      - {name: hall, size: 2, bandwidth_gbps: 400, latency_us: 8, oversubscription: 7}
      - {name: building, size: 2, bandwidth_gbps: 400, latency_us: 20, distance_km: %g, link_capacity_gbps: %g}
placement: %s
cross_site: %s
parallel: {tp: 8, pp: 16, vp: 1, cp: 1, dp: 64, sp: true, zero: 1}
schedule: 1f1b
training: {seq_len: 8192, global_batch: 2048, micro_batch: 1, precision: bf16, recompute: none}
`, km, capacityGbps, placement, cross)
}

func eventStep(t testing.TB, yaml string) Result { return stepWith(t, yaml, Event) }

func step(t testing.TB, yaml string) Result { return stepWith(t, yaml, Analytic) }

// stepWith resolves yaml and predicts its step with engine.
func stepWith(t testing.TB, yaml string, engine func(*Config) (Result, error)) Result {
	t.Helper()
	r, err := engine(resolve(t, yaml))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// For a 405B-class job across two buildings, the best dimension to lay
// across them changes as the cross-building capacity falls. Run with -v to
// see the table (capacity x distance -> best placement, step time).
func TestCrossBuildingCrossover(t *testing.T) {
	caps := []float64{1638400, 409600, 102400, 25600, 6400, 1600, 400}
	kms := []float64{10, 100, 1000}
	var b strings.Builder
	fmt.Fprintf(&b, "\n%-14s %-8s %-10s %-10s %-6s %-10s %-10s %-6s\n", "capacity", "distance", "dp across", "pp across", "best", "event dp", "event pp", "best")
	crossovers, eventCrossovers := 0, 0
	for _, km := range kms {
		prev, eprev := "", ""
		for _, c := range caps {
			dp := step(t, twoSites405B("dp", c, km)).StepTimeS
			pp := step(t, twoSites405B("pp", c, km)).StepTimeS
			edp := eventStep(t, twoSites405B("dp", c, km)).StepTimeS
			epp := eventStep(t, twoSites405B("pp", c, km)).StepTimeS
			best, ebest := "dp", "dp"
			if pp < dp {
				best = "pp"
			}
			if epp < edp {
				ebest = "pp"
			}
			fmt.Fprintf(&b, "%9.1f Tb/s %5.0f km %8.2f s %8.2f s   %-6s %8.2f s %8.2f s   %s\n", c/1000, km, dp, pp, best, edp, epp, ebest)
			if prev != "" && best != prev {
				crossovers++
			}
			if eprev != "" && ebest != eprev {
				eventCrossovers++
			}
			prev, eprev = best, ebest
		}
	}
	t.Log(b.String())
	if crossovers == 0 || eventCrossovers == 0 {
		t.Errorf("the best dimension across the buildings never changes as capacity falls (analytic %d changes, event %d)", crossovers, eventCrossovers)
	}
}

// Scaling any level's bandwidth or link capacity up, or its latency,
// distance or loss down, never makes a step slower, for every transport,
// algorithm and placement.
func TestPropertyBetterNetworkNeverSlower(t *testing.T) {
	techs := network.TechnologyNames()
	rapid.Check(t, func(rt *rapid.T) {
		cross := rapid.SampledFrom([]string{"dp", "pp"}).Draw(rt, "cross")
		capGbps := rapid.Float64Range(100, 2e6).Draw(rt, "capacity")
		km := rapid.Float64Range(0.1, 2000).Draw(rt, "km")
		j, err := spec.ParseJob([]byte(twoSites405B(cross, capGbps, km)))
		if err != nil {
			rt.Fatal(err)
		}
		lv := j.System.Topology.Levels
		site := &lv[len(lv)-1]
		site.Transport = rapid.SampledFrom(techs).Draw(rt, "transport")
		site.Algorithm = rapid.SampledFrom([]string{"hierarchical", "ring", "tree"}).Draw(rt, "algorithm")
		site.LossRate = rapid.SampledFrom([]float64{0, 1e-7, 1e-5, 1e-3}).Draw(rt, "loss")
		j.Schedule = rapid.SampledFrom([]string{"1f1b", "gpipe", "zb-h1"}).Draw(rt, "schedule")
		zero := rapid.IntRange(0, 3).Draw(rt, "zero")
		j.Parallel.Zero = &zero
		before := eval(rt, j)
		i := rapid.IntRange(0, len(lv)-1).Draw(rt, "level")
		f := rapid.Float64Range(1, 10).Draw(rt, "factor")
		l := &lv[i]
		switch what := rapid.IntRange(0, 4).Draw(rt, "what"); what {
		case 0:
			l.BandwidthGbps *= f
		case 1:
			l.LatencyUs /= f
		case 2:
			l.DistanceKm /= f
		case 3:
			l.LossRate /= f
		case 4:
			l.LinkCapacityGbps *= f
			if l.Oversubscription > 1 {
				l.Oversubscription = max(1, l.Oversubscription/f)
			}
		}
		after := eval(rt, j)
		if after > before*(1+1e-12) {
			rt.Fatalf("step slower after improving level %d by %.2fx: %.6f s -> %.6f s", i, f, before, after)
		}
	})
}

func eval(rt *rapid.T, j *spec.Job) float64 {
	c, err := Resolve(j, model.Load, hardware.Lookup)
	if err != nil {
		rt.Fatal(err)
	}
	r, err := Analytic(c)
	if err != nil {
		rt.Fatal(err)
	}
	return r.StepTimeS
}

// The bytes reported per dimension and level add up to the analytic totals
// for every placement: tensor parallelism sends 2 x 2 x 2(t-1)/t of the
// layer activations per layer and micro-batch (all-gather and
// reduce-scatter, around attention and the MLP, forward and backward); a
// 1F1B pipeline stage sends one activation and one gradient per
// micro-batch; the data-parallel reduce-scatter and all-gather move
// 2(n-1)/n of the stage's 16-bit parameters, split across levels as the
// hierarchical algorithm does.
func TestPropertyPerLevelBytesMatchTotals(t *testing.T) {
	perms := [][]string{
		{"tp", "cp", "pp", "dp"}, {"tp", "cp", "dp", "pp"}, {"tp", "pp", "dp", "cp"},
		{"pp", "tp", "dp", "cp"}, {"dp", "tp", "cp", "pp"}, {"tp", "dp", "pp", "cp"},
	}
	rapid.Check(t, func(rt *rapid.T) {
		pl := rapid.SampledFrom(perms).Draw(rt, "placement")
		j, err := spec.ParseJob([]byte(twoSites405B("dp", 102400, 10)))
		if err != nil {
			rt.Fatal(err)
		}
		j.Placement, j.CrossSite = pl, ""
		c, err := Resolve(j, model.Load, hardware.Lookup)
		if err != nil {
			rt.Skip(err) // some orders do not tile the hierarchy
		}
		r, err := Analytic(c)
		if err != nil {
			rt.Fatal(err)
		}
		l, _ := c.Layout()
		got := map[string]float64{}
		perLevel := map[string]map[string]float64{}
		for _, x := range r.Levels {
			got[x.Dim] += x.Bytes
			if perLevel[x.Dim] == nil {
				perLevel[x.Dim] = map[string]float64{}
			}
			perLevel[x.Dim][x.Level] += x.Bytes
		}
		m := c.Model
		p := c.Parallel
		T := float64(c.Batch.SeqLen)
		mb := float64(r.MicroBatches)
		act := T * float64(m.Hidden) * 2
		// Layers on the stage that sends the most: 126 layers on 16 stages
		// with one fewer on the first and last (Llama 3 405B).
		layers := 8.0
		wantTP := mb * layers * 4 * 2 * float64(p.TP-1) / float64(p.TP) * act
		if !near(got["tp"], wantTP, 0.15) {
			rt.Errorf("%v: tp bytes %.4g, want %.4g", pl, got["tp"], wantTP)
		}
		wantPP := mb * 2 * act / float64(p.TP)
		if !near(got["pp"], wantPP, 1e-9) {
			rt.Errorf("%v: pp bytes %.4g, want %.4g", pl, got["pp"], wantPP)
		}
		// DP: reduce-scatter and all-gather of the 16-bit parameters, each
		// (n-1)/n of them in all whatever the placement; level i carries
		// 2(f_i-1)/f_i of what the levels below left.
		n := float64(p.DP * p.CP)
		params := got["dp"] / (2 * (n - 1) / n * 2)
		rem := params * 2
		for i, f := range l.Spans[topology.DP].Factors {
			if f <= 1 {
				continue
			}
			want := 2 * (float64(f) - 1) / float64(f) * rem
			name := c.Topology.Levels[i].Name
			if !near(perLevel["dp"][name], want, 1e-9) {
				rt.Errorf("%v: dp bytes at %s %.4g, want %.4g", pl, name, perLevel["dp"][name], want)
			}
			rem /= float64(f)
		}
		if params < 3e9 || params > 3.6e9 {
			rt.Errorf("%v: dp traffic implies %.3g parameters per GPU, want 405B/(tp*pp) ~ 3.2e9", pl, params)
		}
	})
}

func near(a, b, rel float64) bool { return math.Abs(a-b) <= rel*math.Abs(b) }

// No link carries more than its capacity: the GPUs of one unit that send
// across a level at once, each at its achieved bandwidth, stay within the
// site link's capacity and the uplink's oversubscribed share.
func TestPropertyNoLinkOverCapacity(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		cross := rapid.SampledFrom([]string{"dp", "pp"}).Draw(rt, "cross")
		j, err := spec.ParseJob([]byte(twoSites405B(cross, rapid.Float64Range(10, 4e6).Draw(rt, "capacity"), rapid.Float64Range(0.1, 1000).Draw(rt, "km"))))
		if err != nil {
			rt.Fatal(err)
		}
		lv := j.System.Topology.Levels
		lv[len(lv)-1].Transport = rapid.SampledFrom(network.TechnologyNames()).Draw(rt, "transport")
		lv[2].Oversubscription = rapid.Float64Range(1, 16).Draw(rt, "oversubscription")
		c, err := Resolve(j, model.Load, hardware.Lookup)
		if err != nil {
			rt.Fatal(err)
		}
		e, err := newEvaluator(c)
		if err != nil {
			rt.Fatal(err)
		}
		senders := map[topology.Dim][]float64{
			topology.DP: nil,
			topology.PP: ppSenders(c.Topology, e.span(topology.PP), c.Parallel.PP),
		}
		for d, s := range senders {
			for i, l := range c.Topology.Levels {
				if i == 0 {
					continue
				}
				unit := float64(c.Topology.Capacity(i - 1))
				n := unit
				if s != nil && s[i] > 0 && s[i] < unit {
					n = s[i]
				}
				load := e.linksOf(d)[i].BytesPerSec * n * 8 / 1e9 // Gb/s leaving one unit
				if l.LinkCapacityGbps > 0 && load > l.LinkCapacityGbps*(1+1e-12) {
					rt.Errorf("%s at %s: %.1f Gb/s over a %.1f Gb/s site link", d, l.Name, load, l.LinkCapacityGbps)
				}
				if up := unit * l.BandwidthGbps / max(l.Oversubscription, 1); load > up*(1+1e-12) {
					rt.Errorf("%s at %s: %.1f Gb/s over the %.1f Gb/s uplink", d, l.Name, load, up)
				}
			}
		}
		// The reported traffic never implies a faster rate than the link.
		r, err := Analytic(c)
		if err != nil {
			rt.Fatal(err)
		}
		for _, x := range r.Levels {
			i := levelIndex(c.Topology, x.Level)
			if x.TimeS > 0 && x.Bytes/x.TimeS > c.Topology.Levels[i].BandwidthGbps*1e9/8*(1+1e-9) {
				rt.Errorf("%s at %s: %.3g B/s above the %.3g Gb/s per-GPU line", x.Dim, x.Level, x.Bytes/x.TimeS, c.Topology.Levels[i].BandwidthGbps)
			}
		}
	})
}

func levelIndex(t topology.Topology, name string) int {
	for i, l := range t.Levels {
		if l.Name == name {
			return i
		}
	}
	return 0
}

// A pipeline whose stages sit on different hosts joined by a slow network
// (1-10 Gb/s, 0.1-50 ms) behaves as measured pipelines do: every
// micro-batch's activation crosses each stage boundary forward and its
// gradient backward, so the pipeline's communication grows with the
// micro-batch count, and once messages are large its time is the bytes
// over the bandwidth (the latency adds only per message).
func TestSlowNetworkPipeline(t *testing.T) {
	job := func(gbps, ms float64, mb int) string {
		return fmt.Sprintf(`
model: llama3.1-8b
system:
  gpu: h100-sxm
  gpus: 4
  topology:
    levels:
      - {name: host, size: 1, bandwidth_gbps: 3600, latency_us: 1}
      - {name: wan, size: 4, bandwidth_gbps: %g, latency_us: %g}
parallel: {tp: 1, pp: 4, dp: 1, sp: false, zero: 0}
schedule: 1f1b
training: {seq_len: 2048, global_batch: %d, micro_batch: 1, precision: bf16, recompute: full}
`, gbps, ms*1000, mb)
	}
	act := 2048.0 * 4096 * 2 // seq x hidden x bf16: 16 MiB per message
	eff := cost0NetworkEff(t)
	native, err := network.LookupTechnology(network.Native, "transport")
	if err != nil {
		t.Fatal(err)
	}
	for _, gbps := range []float64{1, 10} {
		for _, ms := range []float64{0.1, 1, 10, 50} {
			r8 := step(t, job(gbps, ms, 8))
			r16 := step(t, job(gbps, ms, 16))
			// What a GPU moves across the WAN: the line rate, or NCCL's
			// in-flight buffers over the round trip when that is less
			// (16 channels x 4 MiB per 100 ms is ~5.4 Gb/s at 50 ms).
			bw := math.Min(gbps*1e9/8, float64(native.Channels)*native.ChannelBufferBytes/(2*ms/1000)) * eff
			perMsg := ms/1000 + act/bw
			// 1F1B: each micro-batch pays one send forward and one backward
			// on the busiest stage.
			want8 := 8 * 2 * perMsg
			if got := r8.Breakdown.PPCommS; !near(got, want8, 0.02) {
				t.Errorf("%g Gb/s %g ms: pipeline comm %.3f s, want 8 micro-batches x 2 messages x %.3f s = %.3f s", gbps, ms, got, perMsg, want8)
			}
			if !near(r16.Breakdown.PPCommS, 2*r8.Breakdown.PPCommS, 1e-9) {
				t.Errorf("%g Gb/s %g ms: doubling micro-batches took pipeline comm from %.3f to %.3f s", gbps, ms, r8.Breakdown.PPCommS, r16.Breakdown.PPCommS)
			}
			// Bandwidth-bound: at 1 Gb/s a 16 MiB message takes ~140 ms,
			// well above the latencies up to 10 ms.
			if frac := (act / bw) / perMsg; gbps == 1 && ms <= 10 && frac < 0.9 {
				t.Errorf("%g ms: bandwidth share of a message %.2f, want > 0.9", ms, frac)
			}
			// More bandwidth never slows the pipeline down.
			if gbps == 10 && step(t, job(1, ms, 8)).StepTimeS < r8.StepTimeS {
				t.Errorf("%g ms: 1 Gb/s faster than 10 Gb/s", ms)
			}
		}
	}
}

func cost0NetworkEff(t testing.TB) float64 {
	t.Helper()
	return resolve(t, job405B).Calib.NetworkEfficiency
}

// Bad topology and placement input exits 2 and names the field.
func TestScaleAcrossBadInput(t *testing.T) {
	base := twoSites405B("dp", 102400, 10)
	for name, tc := range map[string]struct {
		from, to, field string
	}{
		"sizes do not multiply":  {"size: 256,", "size: 255,", "system.topology.levels"},
		"unknown dimension":      {"placement: [tp, cp, pp, dp]", "placement: [tp, xp, pp, dp]", "placement[1]"},
		"repeated dimension":     {"placement: [tp, cp, pp, dp]", "placement: [tp, tp, pp, dp]", "placement[1]"},
		"negative distance":      {"distance_km: 10,", "distance_km: -10,", "distance_km"},
		"zero bandwidth":         {"size: 256, bandwidth_gbps: 400", "size: 256, bandwidth_gbps: 0", "bandwidth_gbps"},
		"negative capacity":      {"link_capacity_gbps: 102400", "link_capacity_gbps: -1", "link_capacity_gbps"},
		"loss of one":            {"link_capacity_gbps: 102400}", "link_capacity_gbps: 102400, loss_rate: 1}", "loss_rate"},
		"negative loss":          {"link_capacity_gbps: 102400}", "link_capacity_gbps: 102400, loss_rate: -0.1}", "loss_rate"},
		"unknown transport":      {"link_capacity_gbps: 102400}", "link_capacity_gbps: 102400, transport: smoke-signals}", "transport"},
		"unknown algorithm":      {"link_capacity_gbps: 102400}", "link_capacity_gbps: 102400, algorithm: butterfly}", "algorithm"},
		"route stretch below 1":  {"link_capacity_gbps: 102400}", "link_capacity_gbps: 102400, route_stretch: 0.5}", "route_stretch"},
		"cross-site unknown":     {"cross_site: dp", "cross_site: zp", "cross_site"},
		"cross-site cannot span": {"cross_site: dp", "cross_site: cp", "cross_site"},
	} {
		y := strings.Replace(base, tc.from, tc.to, 1)
		if y == base {
			t.Fatalf("%s: edit %q not applied", name, tc.from)
		}
		j, err := spec.ParseJob([]byte(y))
		if err == nil {
			_, err = Resolve(j, model.Load, hardware.Lookup)
		}
		if err == nil || !errors.Is(err, fault.ErrBadInput) || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("%s: got %v, want an exit-2 error naming %s", name, err, tc.field)
		}
	}
}

// A dimension that cannot tile the level it is placed on: tp=4 on nodes
// of 6 GPUs.
func TestPlacementDoesNotFit(t *testing.T) {
	j, err := spec.ParseJob([]byte(`
model: llama3.1-405b
system:
  gpu: h100-sxm
  gpus: 24
  topology:
    levels:
      - {name: node, size: 6, bandwidth_gbps: 3600, latency_us: 1}
      - {name: cluster, size: 4, bandwidth_gbps: 400, latency_us: 5}
placement: [tp, pp, dp]
parallel: {tp: 4, pp: 2, dp: 3, sp: true, zero: 1}
schedule: 1f1b
training: {seq_len: 8192, global_batch: 6, micro_batch: 1, precision: bf16, recompute: full}
`))
	if err != nil {
		t.Fatal(err)
	}
	_, err = Resolve(j, model.Load, hardware.Lookup)
	if err == nil || !errors.Is(err, fault.ErrBadInput) || !strings.Contains(err.Error(), "placement") {
		t.Errorf("got %v, want an exit-2 error naming placement", err)
	}
}

// One analytic evaluation on the 3-building, ~100K-GPU campus must take at
// most 50 microseconds on one core.
func BenchmarkAnalyticCampus100K(b *testing.B) {
	data, err := spec.ReadFile("../examples/campus-3-buildings.yaml")
	if err != nil {
		b.Fatal(err)
	}
	c := resolve(b, string(data))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := Analytic(c); err != nil {
			b.Fatal(err)
		}
	}
	if ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N); b.N >= 1000 && ns > 50e3 {
		b.Errorf("%.1f us per analytic evaluation on the 100K-GPU campus, budget 50 us", ns/1e3)
	}
}

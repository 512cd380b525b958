package train

import (
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"testing"

	"pgregory.net/rapid"

	"github.com/scaleacross/scaleacross/fault"
	"github.com/scaleacross/scaleacross/hardware"
	"github.com/scaleacross/scaleacross/model"
	"github.com/scaleacross/scaleacross/spec"
	"github.com/scaleacross/scaleacross/topology"
)

// extreme draws a float for a field whose physical range is [lo, hi]: a
// third of the time a value at the edges (the bounds, zero where zeroOK),
// otherwise a log-uniform value inside the range. When hostile, the edges
// also hold values past them (the smallest and largest floats, the
// infinities, NaN, negative numbers), which the resolver must refuse.
func extreme(rt *rapid.T, name string, lo, hi float64, zeroOK, hostile bool) float64 {
	if rapid.IntRange(0, 2).Draw(rt, name+" edge?") == 0 {
		edges := []float64{lo, hi}
		if zeroOK {
			edges = append(edges, 0, math.Copysign(0, -1))
		}
		if hostile {
			edges = append(edges, math.SmallestNonzeroFloat64, 1e-300, math.MaxFloat64, 1e308,
				math.Inf(1), math.Inf(-1), math.NaN(), -1, hi*1.0000001)
		}
		return rapid.SampledFrom(edges).Draw(rt, name)
	}
	l := math.Log(math.Max(lo, 1e-6))
	return math.Exp(rapid.Float64Range(l, math.Log(hi)).Draw(rt, name))
}

// extremeTopology draws one to five levels whose sizes multiply to gpus
// (a power of two), each with bandwidth, latency, oversubscription,
// distance, route stretch, link capacity and loss drawn by extreme;
// sometimes a size is replaced by a huge one, whose product overflows.
func extremeTopology(rt *rapid.T, gpus int) *spec.Topology {
	n := rapid.IntRange(1, 5).Draw(rt, "levels")
	sizes := make([]int, n)
	for i := range sizes {
		sizes[i] = 1
	}
	for g := gpus; g > 1; g /= 2 {
		sizes[rapid.IntRange(0, n-1).Draw(rt, "factor at")] *= 2
	}
	if rapid.IntRange(0, 19).Draw(rt, "huge size?") == 0 {
		sizes[rapid.IntRange(0, n-1).Draw(rt, "huge at")] = rapid.SampledFrom([]int{math.MaxInt32, 1 << 30, math.MaxInt}).Draw(rt, "huge")
	}
	// One topology in three is hostile: one field of one level may take a
	// value past its physical range.
	hostileLevel, hostileField := -1, -1
	if rapid.IntRange(0, 2).Draw(rt, "hostile?") == 0 {
		hostileLevel, hostileField = rapid.IntRange(0, n-1).Draw(rt, "hostile level"), rapid.IntRange(0, 6).Draw(rt, "hostile field")
	}
	t := &spec.Topology{}
	for i, s := range sizes {
		hostile := func(f int) bool { return i == hostileLevel && f == hostileField }
		t.Levels = append(t.Levels, spec.Level{
			Name:             rapid.SampledFrom([]string{"node", "pod", "zone", "building", "region"}).Draw(rt, "name"),
			Size:             s,
			BandwidthGbps:    extreme(rt, "bandwidth", topology.MinBandwidthGbps, topology.MaxBandwidthGbps, false, hostile(0)),
			LatencyUs:        extreme(rt, "latency", 0, topology.MaxLatencyUs, true, hostile(1)),
			Oversubscription: extreme(rt, "oversubscription", 1, topology.MaxOversubscription, true, hostile(2)),
			DistanceKm:       extreme(rt, "distance", 0, topology.MaxDistanceKm, true, hostile(3)),
			RouteStretch:     extreme(rt, "stretch", 1, topology.MaxRouteStretch, true, hostile(4)),
			LinkCapacityGbps: extreme(rt, "capacity", topology.MinBandwidthGbps, topology.MaxLinkCapacityGbps, true, hostile(5)),
			LossRate:         extreme(rt, "loss", 0, topology.MaxLossRate, true, hostile(6)),
		})
	}
	return t
}

// finiteFloats reports the first float in v (walked by reflection) that
// is NaN or infinite, by its path.
func finiteFloats(v reflect.Value, path string) (string, bool) {
	switch v.Kind() {
	case reflect.Float64, reflect.Float32:
		f := v.Float()
		return path, !math.IsNaN(f) && !math.IsInf(f, 0)
	case reflect.Struct:
		for i := range v.NumField() {
			if p, ok := finiteFloats(v.Field(i), path+"."+v.Type().Field(i).Name); !ok {
				return p, false
			}
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			if p, ok := finiteFloats(v.Index(i), path+"[]"); !ok {
				return p, false
			}
		}
	case reflect.Pointer:
		if !v.IsNil() {
			return finiteFloats(v.Elem(), path)
		}
	}
	return path, true
}

// TestPredictionsFinite draws jobs over random topologies with extreme
// and non-finite values and checks that the resolver either refuses them
// as bad input or both engines give only finite numbers (and --json can
// encode the result).
func TestPredictionsFinite(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		j := jobGen().Draw(rt, "job")
		j.System.Topology = extremeTopology(rt, j.System.GPUs)
		j.CrossSite = ""
		c, err := Resolve(j, model.Load, hardware.Lookup)
		if err != nil {
			if !errors.Is(err, fault.ErrBadInput) {
				rt.Fatalf("the resolver's refusal is not bad input: %v", err)
			}
			return
		}
		engines := []struct {
			name string
			run  func(*Config) (Result, error)
		}{{EngineAnalytic, Analytic}, {EngineEvent, Event}}
		for _, e := range engines {
			r, err := e.run(c)
			if err != nil {
				if errors.Is(err, fault.ErrBadInput) {
					continue
				}
				rt.Fatalf("%s: %s: %v", e.name, describe(c), err)
			}
			if p, ok := finiteFloats(reflect.ValueOf(r), "result"); !ok {
				rt.Fatalf("%s: %s over %+v: %s is not finite", e.name, describe(c), c.Topology.Levels, p)
			}
			if !(r.StepTimeS > 0) {
				rt.Fatalf("%s: %s: step time %g", e.name, describe(c), r.StepTimeS)
			}
			if _, err := json.Marshal(r); err != nil {
				rt.Fatalf("%s: %s: JSON: %v", e.name, describe(c), err)
			}
		}
	})
}

// TestExtremeJobValuesRefused checks the resolver's bounds on the job's
// integers: each extreme value is refused as bad input naming its field,
// and none overflows into an accepted job.
func TestExtremeJobValuesRefused(t *testing.T) {
	base := func() *spec.Job {
		return &spec.Job{Model: "llama3.1-8b", System: spec.System{GPU: "h100-sxm", GPUs: 16},
			Parallel: spec.Parallel{TP: 8, PP: 2, DP: 1}, Training: spec.Training{SeqLen: 4096, GlobalBatch: 16, MicroBatch: 1}}
	}
	for _, tc := range []struct {
		name  string
		edit  func(*spec.Job)
		field string
	}{
		{"gpus", func(j *spec.Job) { j.System.GPUs = math.MaxInt }, "system.gpus"},
		{"seq_len", func(j *spec.Job) { j.Training.SeqLen = math.MaxInt }, "training.seq_len"},
		{"global_batch", func(j *spec.Job) { j.Training.GlobalBatch = math.MaxInt }, "training.global_batch"},
		{"micro_batch", func(j *spec.Job) { j.Training.MicroBatch = math.MaxInt }, "training.micro_batch"},
		{"tp", func(j *spec.Job) { j.Parallel.TP = math.MaxInt }, "parallel.tp"},
		{"cp wraps tp*pp*cp", func(j *spec.Job) { j.Parallel.CP = 1 << 62; j.Parallel.DP = 0 }, "parallel.cp"},
		{"vp", func(j *spec.Job) { j.Parallel.VP = math.MaxInt }, "parallel.vp"},
		{"dp", func(j *spec.Job) { j.Parallel.DP = 1 << 62 }, "parallel.dp"},
		{"level sizes wrap to 16", func(j *spec.Job) {
			j.System.Topology = &spec.Topology{Levels: []spec.Level{{Size: 8, BandwidthGbps: 1}, {Size: 1 << 62, BandwidthGbps: 1}, {Size: 1 << 62, BandwidthGbps: 1}}}
		}, "system.topology.levels[1].size"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			j := base()
			tc.edit(j)
			_, err := Resolve(j, model.Load, hardware.Lookup)
			var fe *fault.FieldError
			if !errors.As(err, &fe) || fe.Field != tc.field {
				t.Errorf("got %v, want a field error on %s", err, tc.field)
			}
		})
	}
}

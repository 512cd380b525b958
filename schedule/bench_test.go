package schedule

import (
	"bytes"
	"encoding/json"
	"testing"
)

// behemoth is the benchmark's shape: the largest pipeline the planner
// explores for a Behemoth-class job (pp 32, 256 micro-batches, vp 4).
var behemoth = Params{Stages: 32, MicroBatches: 256, Chunks: 4}

func benchCosts() Costs {
	c := uniform(0.25, 0.5, 0.25)
	c.P2P = func(from, to int, d Dir) Transfer {
		return Transfer{Latency: 5e-6, Bytes: 64 << 20, Bandwidth: 50e9}
	}
	return c
}

func benchSimulate(b *testing.B, k Kind, p Params, opt *Options) {
	s := mustBuild(b, k, p)
	c := benchCosts()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := Simulate(s, c, opt); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSimulate1F1B(b *testing.B) {
	benchSimulate(b, OneFOneB, Params{Stages: 32, MicroBatches: 256}, nil)
}

func BenchmarkSimulateInterleaved(b *testing.B) {
	benchSimulate(b, Interleaved, behemoth, nil)
}

// BenchmarkSimulateInterleavedEvents runs the same step on the event
// engine (the path used when links are shared or hooks are set).
func BenchmarkSimulateInterleavedEvents(b *testing.B) {
	benchSimulate(b, Interleaved, behemoth, &Options{OnOp: func(Span) {}})
}

func BenchmarkSimulateInterleavedTrace(b *testing.B) {
	benchSimulate(b, Interleaved, behemoth, &Options{Trace: true})
}

func BenchmarkBuildInterleaved(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Build(Interleaved, behemoth); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBuildDualPipeV(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Build(DualPipeV, Params{Stages: 32, MicroBatches: 256}); err != nil {
			b.Fatal(err)
		}
	}
}

// TestBehemothTraceSize checks that the timeline of the benchmark step,
// written as one JSON object per span (about what a Chrome trace event
// holds), stays under the 50 MB the issue allows.
func TestBehemothTraceSize(t *testing.T) {
	if testing.Short() {
		t.Skip("writes a ~20 MB trace")
	}
	s := mustBuild(t, Interleaved, behemoth)
	r := mustSim(t, s, benchCosts(), &Options{Trace: true})
	type event struct {
		Name  string  `json:"name"`
		Ph    string  `json:"ph"`
		Pid   int     `json:"pid"`
		Tid   int     `json:"tid"`
		Ts    float64 `json:"ts"`
		Dur   float64 `json:"dur"`
		Chunk int     `json:"chunk"`
		MB    int     `json:"mb"`
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	for _, sp := range r.Spans {
		if err := enc.Encode(event{sp.Op.Type.String(), "X", sp.Stage, int(sp.Stream), sp.Start * 1e6, (sp.End - sp.Start) * 1e6, sp.Op.Chunk, sp.Op.MicroBatch}); err != nil {
			t.Fatal(err)
		}
	}
	wantSpans := 2*32*4*256 + 2*(32*4-1)*256 // compute ops + transfers
	if len(r.Spans) != wantSpans {
		t.Errorf("%d spans, want %d", len(r.Spans), wantSpans)
	}
	if buf.Len() > 50e6 {
		t.Errorf("trace is %d bytes, over 50 MB", buf.Len())
	}
	t.Logf("%d spans, %.1f MB as JSON lines", len(r.Spans), float64(buf.Len())/1e6)
}

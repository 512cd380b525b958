package train

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/scaleacross/scaleacross/fault"
	"github.com/scaleacross/scaleacross/hardware"
	"github.com/scaleacross/scaleacross/model"
	"github.com/scaleacross/scaleacross/spec"
	"github.com/scaleacross/scaleacross/timeline"
)

// A Behemoth-class MoE on ~90K H100: pp 22 (88 assumed layers, one per
// chunk with vp 4), 242 micro-batches per step (a multiple of pp, as
// the interleaved order needs).
const jobBehemoth = `
model: llama4-behemoth
system: {gpu: h100-sxm, gpus: 90112}
parallel: {tp: 8, pp: 22, vp: 4, cp: 1, ep: 16, dp: 512, zero: 1}
schedule: interleaved-1f1b
training: {seq_len: 4096, global_batch: 123904, micro_batch: 1, precision: fp8, recompute: full}
`

const jobSmall = `
model: llama3-70b
system: {gpu: h100-sxm, gpus: 64}
parallel: {tp: 8, pp: 4, cp: 1, dp: 2, zero: 1}
schedule: 1f1b
training: {seq_len: 4096, global_batch: 16, micro_batch: 1, precision: bf16}
`

func TestEventSchedules(t *testing.T) {
	for _, tt := range []struct{ sched, par string }{
		{"gpipe", "vp: 1"}, {"1f1b", "vp: 1"}, {"interleaved-1f1b", "vp: 2"}, {"zb-h1", "vp: 1"},
		{"zb-v", "vp: 2"}, {"dualpipe", "vp: 2"}, {"latency-aware-1f1b", "vp: 1"},
	} {
		y := strings.Replace(jobSmall, "schedule: 1f1b", "schedule: "+tt.sched, 1)
		y = strings.Replace(y, "tp: 8,", "tp: 8, "+tt.par+",", 1)
		c := resolve(t, y)
		r, err := Event(c)
		if err != nil {
			t.Fatalf("%s: %v", tt.sched, err)
		}
		if d := math.Abs(r.Breakdown.Total() - r.StepTimeS); d > 1e-9 || r.StepTimeS <= 0 {
			t.Errorf("%s: breakdown %v vs step %v", tt.sched, r.Breakdown.Total(), r.StepTimeS)
		}
		t.Logf("%-20s step %.3f s bubble %.3f s", tt.sched, r.StepTimeS, r.Breakdown.BubbleS)
	}
}

// Zero-bubble ZB-H1 leaves about a third of 1F1B's bubble (Qi et al.
// 2023); the event engine must show less idle time than 1F1B.
func TestEventZeroBubbleBeats1F1B(t *testing.T) {
	one, _ := Event(resolve(t, jobSmall))
	zb, _ := Event(resolve(t, strings.Replace(jobSmall, "schedule: 1f1b", "schedule: zb-h1", 1)))
	if !(zb.Breakdown.BubbleS < 0.6*one.Breakdown.BubbleS) {
		t.Errorf("zb-h1 bubble %.3f not well below 1f1b's %.3f", zb.Breakdown.BubbleS, one.Breakdown.BubbleS)
	}
}

func TestEventBadSchedule(t *testing.T) {
	// 4 micro-batches are too few for dualpipev on 4 stages (it needs 2*pp).
	y := strings.Replace(jobSmall, "schedule: 1f1b", "schedule: dualpipe", 1)
	y = strings.Replace(y, "tp: 8,", "tp: 8, vp: 2,", 1)
	y = strings.Replace(y, "global_batch: 16", "global_batch: 8", 1)
	// Both engines refuse it alike: the resolver asks the schedule.
	j0, _ := spec.ParseJob([]byte(y))
	_, err := Resolve(j0, model.Load, hardware.Lookup)
	if err == nil || !errors.Is(err, fault.ErrBadInput) || !strings.Contains(err.Error(), "at least 8 micro-batches") {
		t.Errorf("dualpipe with too few micro-batches: err %v, want exit code 2", err)
	}
	// vp > 1 with gpipe is rejected when the spec is resolved.
	j, _ := spec.ParseJob([]byte(strings.Replace(strings.Replace(jobSmall, "schedule: 1f1b", "schedule: gpipe", 1), "tp: 8,", "tp: 8, vp: 2,", 1)))
	if _, err := Resolve(j, model.Load, hardware.Lookup); err == nil || !strings.Contains(err.Error(), "parallel.vp") {
		t.Errorf("gpipe with vp 2: %v", err)
	}
}

// traceEvent is the subset of the Trace Event Format the tests check.
type traceEvent struct {
	Ph   string   `json:"ph"`
	Name string   `json:"name"`
	Pid  *int     `json:"pid"`
	Tid  *int     `json:"tid"`
	Ts   *float64 `json:"ts"`
	Dur  *float64 `json:"dur"`
}

// The trace follows the Trace Event Format: complete events carry name,
// ph, pid, tid, ts and a non-negative dur, and each track is in time order.
func TestTraceFormat(t *testing.T) {
	_, tl, err := EventTimeline(resolve(t, jobSmall))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := timeline.WriteChromeTrace(&buf, tl.Tracks()); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		TraceEvents []traceEvent `json:"traceEvents"`
	}
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	last := map[[2]int]float64{}
	n := 0
	for _, ev := range doc.TraceEvents {
		if ev.Ph == "M" {
			continue
		}
		n++
		if ev.Ph != "X" || ev.Name == "" || ev.Pid == nil || ev.Tid == nil || ev.Ts == nil || ev.Dur == nil {
			t.Fatalf("incomplete event %+v", ev)
		}
		if *ev.Dur < 0 {
			t.Errorf("negative duration in %s", ev.Name)
		}
		k := [2]int{*ev.Pid, *ev.Tid}
		if *ev.Ts < last[k] {
			t.Errorf("track %v out of order at %s", k, ev.Name)
		}
		last[k] = *ev.Ts
	}
	if n == 0 {
		t.Fatal("no events")
	}
	var again bytes.Buffer
	_, tl2, _ := EventTimeline(resolve(t, jobSmall))
	timeline.WriteChromeTrace(&again, tl2.Tracks())
	if !bytes.Equal(buf.Bytes(), again.Bytes()) {
		t.Error("two runs wrote different traces")
	}
}

// The size bound: the trace of a Behemoth-class step stays under 50 MB.
func TestBehemothTraceSize(t *testing.T) {
	if testing.Short() {
		t.Skip("writes a ~20 MB trace")
	}
	_, tl, err := EventTimeline(resolve(t, jobBehemoth))
	if err != nil {
		t.Fatal(err)
	}
	var n countWriter
	if err := timeline.WriteChromeTrace(&n, tl.Tracks()); err != nil {
		t.Fatal(err)
	}
	t.Logf("Behemoth trace: %.1f MB", float64(n)/1e6)
	if n > 50e6 {
		t.Errorf("trace is %.1f MB, over 50 MB", float64(n)/1e6)
	}
}

type countWriter int

func (c *countWriter) Write(p []byte) (int, error) { *c += countWriter(len(p)); return len(p), nil }

func TestGanttGolden(t *testing.T) {
	_, tl, err := EventTimeline(resolve(t, strings.Replace(jobSmall, "global_batch: 16", "global_batch: 8", 1)))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := timeline.WriteGanttSVG(&buf, tl.Tracks(), 900); err != nil {
		t.Fatal(err)
	}
	golden(t, "gantt_llama3-70b.svg", buf.Bytes())
}

func BenchmarkEventBehemoth(b *testing.B) {
	c := resolve(b, jobBehemoth)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Event(c); err != nil {
			b.Fatal(err)
		}
	}
}

// The analytic closed forms and the event engine agree for every schedule
// across micro-batch counts from below the pipeline depth to well above
// it (within 10%; the steady-state formulas are exact only for large m).
func TestAnalyticTracksEventAcrossMicroBatches(t *testing.T) {
	for _, sc := range []struct{ s, vp string }{{"gpipe", "1"}, {"1f1b", "1"}, {"zb-h1", "1"}, {"zb-v", "2"}, {"interleaved-1f1b", "2"}, {"dualpipe", "2"}} {
		for _, m := range []int{1, 2, 4, 8, 16, 32} {
			if (sc.s == "interleaved-1f1b" && m%4 != 0) || (sc.s == "dualpipe" && m < 8) {
				continue // not valid for these schedules on 4 stages
			}
			y := strings.Replace(jobSmall, "schedule: 1f1b", "schedule: "+sc.s, 1)
			y = strings.Replace(y, "tp: 8,", "tp: 8, vp: "+sc.vp+",", 1)
			y = strings.Replace(y, "global_batch: 16", "global_batch: "+strconv.Itoa(2*m), 1)
			c := resolve(t, y)
			a, err := Analytic(c)
			if err != nil {
				t.Fatal(err)
			}
			e, err := Event(c)
			if err != nil {
				t.Fatalf("%s m=%d: %v", sc.s, m, err)
			}
			if d := math.Abs(a.StepTimeS-e.StepTimeS) / e.StepTimeS; d > 0.10 {
				t.Errorf("%s m=%d: analytic %.3f s vs event %.3f s (%.1f%%)", sc.s, m, a.StepTimeS, e.StepTimeS, 100*d)
			}
		}
	}
}

// TestTraceDrawsWhatIsPriced checks the rendered timeline: blocking sends
// have the duration the step model charges for them, the exposed
// parameter all-gather opens every stage when there is one, and no two
// spans of one track overlap once placed in integer nanoseconds.
func TestTraceDrawsWhatIsPriced(t *testing.T) {
	c := resolve(t, jobSmall)
	res, tl, err := EventTimeline(c)
	if err != nil {
		t.Fatal(err)
	}
	tr := tl.Tracks()
	var sends float64
	for _, s := range tr.Spans {
		if s.Category == "send" {
			if !(s.End > s.Start) {
				t.Errorf("send %q has duration %g", s.Name, s.End-s.Start)
			}
			sends++
		}
	}
	if res.Breakdown.PPCommS > 0 && sends == 0 {
		t.Errorf("pp comm %.3f s priced but no send drawn", res.Breakdown.PPCommS)
	}
	if tl.Start > 0 {
		n := 0
		for _, s := range tr.Spans {
			if s.Name == "param-gather (exposed)" && s.Start == 0 && s.End == tl.Start {
				n++
			}
		}
		if n != c.Parallel.PP {
			t.Errorf("exposed all-gather drawn on %d of %d stages", n, c.Parallel.PP)
		}
	}
	last := map[[2]int]int64{}
	spans := append([]timeline.Span(nil), tr.Spans...)
	slices.SortStableFunc(spans, func(a, b timeline.Span) int { return cmp.Compare(a.Start, b.Start) })
	for _, s := range spans {
		k := [2]int{s.Process, s.Thread}
		start, end := int64(math.Round(s.Start*1e9)), int64(math.Round(s.End*1e9))
		if e, ok := last[k]; ok && start < e {
			t.Errorf("stage %d track %d: %q starts %d ns before the previous span ends", s.Process, s.Thread, s.Name, e-start)
		}
		last[k] = max(last[k], end)
	}
}

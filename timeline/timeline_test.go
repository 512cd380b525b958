package timeline

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func sample() *Timeline {
	return &Timeline{
		Processes: map[int]string{0: "stage 0", 1: "stage 1"},
		Threads:   map[[2]int]string{{0, 0}: "compute", {1, 0}: "compute"},
		Spans: []Span{
			{Process: 1, Thread: 0, Name: "F mb0 c0", Category: "F", Start: 0.001, End: 0.002},
			{Process: 0, Thread: 0, Name: "B <x> & \"y\"", Category: "B", Start: 0.002, End: 0.004, Args: map[string]string{"b": "2", "a": "1"}},
			{Process: 0, Thread: 0, Name: "F mb0 c0", Category: "F", Start: 0, End: 0.001},
		},
	}
}

func TestChromeTraceIsOrderedJSON(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteChromeTrace(&buf, sample()); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		TraceEvents []map[string]any `json:"traceEvents"`
	}
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatalf("invalid JSON: %v\n%s", err, buf.String())
	}
	var xs []map[string]any
	for _, e := range doc.TraceEvents {
		if e["ph"] == "X" {
			xs = append(xs, e)
		}
	}
	if len(xs) != 3 {
		t.Fatalf("%d complete events, want 3", len(xs))
	}
	// Sorted by track, then time: stage 0's two spans first, in time order.
	if xs[0]["pid"].(float64) != 0 || xs[0]["ts"].(float64) != 0 || xs[1]["ts"].(float64) != 2000 || xs[2]["pid"].(float64) != 1 {
		t.Errorf("events out of order: %v", xs)
	}
	if xs[1]["dur"].(float64) != 2000 {
		t.Errorf("duration %v us, want 2000", xs[1]["dur"])
	}
}

func TestGanttEscapesAndIsDeterministic(t *testing.T) {
	var a, b bytes.Buffer
	if err := WriteGanttSVG(&a, sample(), 600); err != nil {
		t.Fatal(err)
	}
	WriteGanttSVG(&b, sample(), 600)
	if a.String() != b.String() {
		t.Error("two renderings differ")
	}
	if strings.Contains(a.String(), "<x>") || !strings.Contains(a.String(), "&lt;x&gt; &amp; &#34;y&#34;") {
		t.Error("span names are not escaped")
	}
}

func TestStageGanttOneRowPerStage(t *testing.T) {
	tl := sample()
	tl.Threads[[2]int{0, 1}] = "send activations"
	tl.Spans = append(tl.Spans, Span{Process: 0, Thread: 1, Name: "send", Category: "send", Start: 0.001, End: 0.0015})
	var a, b bytes.Buffer
	if err := WriteStageGanttSVG(&a, tl, 600); err != nil {
		t.Fatal(err)
	}
	WriteStageGanttSVG(&b, tl, 600)
	if a.String() != b.String() {
		t.Error("stage Gantt output is not deterministic")
	}
	s := a.String()
	if n := strings.Count(s, `class="stage"`); n != 2 {
		t.Errorf("%d stage rows, want 2", n)
	}
	for _, want := range []string{"forward", "backward", "send between stages", "&lt;x&gt;"} {
		if !strings.Contains(s, want) {
			t.Errorf("stage Gantt lacks %q", want)
		}
	}
}

// TestGanttHasLegend checks that the per-track Gantt chart names the
// colours of the categories it draws, and only those.
func TestGanttHasLegend(t *testing.T) {
	var b bytes.Buffer
	if err := WriteGanttSVG(&b, sample(), 600); err != nil {
		t.Fatal(err)
	}
	svg := b.String()
	if !strings.Contains(svg, `<g class="legend">`) {
		t.Fatal("no legend")
	}
	legend := svg[strings.Index(svg, `<g class="legend">`):]
	for _, s := range sample().Spans {
		for _, c := range legendOrder() {
			if c[0] == s.Category && !strings.Contains(legend, ">"+c[1]+"<") {
				t.Errorf("category %s drawn but not in the legend", s.Category)
			}
		}
	}
}

package report

import (
	"bytes"
	"testing"

	"gonum.org/v1/plot"
)

func TestSweepPlotsRender(t *testing.T) {
	pts := []SweepPoint{
		{X: 100, Best: 2, Production: 3, PriorArt: 2.5, Label: "pp 1f1b", Pareto: [][2]float64{{1, 2}, {10, 2.4}}},
		{X: 400, Best: 1.5, Production: 2, PriorArt: 0, Label: "dp zb-v", Pareto: [][2]float64{{2, 1.5}}},
	}
	steps, front, err := SweepPlots("capacity (Gb/s)", pts)
	if err != nil {
		t.Fatal(err)
	}
	svg, err := Render(steps, "svg")
	if err != nil || !bytes.HasPrefix(bytes.TrimSpace(svg), []byte("<?xml")) || !bytes.Contains(svg, []byte("prior art")) {
		t.Errorf("svg: %v, %d bytes", err, len(svg))
	}
	png, err := Render(front, "png")
	if err != nil || !bytes.HasPrefix(png, []byte("\x89PNG")) {
		t.Errorf("png: %v", err)
	}
	again, _ := Render(steps, "svg")
	if !bytes.Equal(svg, again) {
		t.Error("rendering is not deterministic")
	}
	if _, err := Render(steps, "gif"); err == nil {
		t.Error("gif accepted")
	}
	if _, _, err := SweepPlots("x", nil); err == nil {
		t.Error("no points accepted")
	}
}

func TestNumberFormats(t *testing.T) {
	for _, tc := range []struct {
		got, want string
	}{
		{Thousands(0), "0"}, {Thousands(999.4), "999"}, {Thousands(1234567), "1,234,567"}, {Thousands(-1234.6), "-1,235"},
		{Bytes(512), "512 B"}, {Bytes(1536), "1.5 KiB"}, {Bytes(3 << 30), "3.0 GiB"}, {Bytes(5 << 40), "5.0 TiB"}, {Bytes(9 << 50), "9216.0 TiB"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}

// TestSweepPlotAxesAndLabels checks the sweep plot's reading aids: a log x
// axis when the values span decades (1 to 5,000 km), a linear one
// otherwise, head room above the data for the legend, and one label per
// change of the chosen plan.
func TestSweepPlotAxesAndLabels(t *testing.T) {
	wide := []SweepPoint{{X: 1, Best: 2, Label: "a"}, {X: 50, Best: 2.2, Label: "a"}, {X: 5000, Best: 3, Production: 4, Label: "b"}}
	steps, _, err := SweepPlots("distance (km)", wide)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := steps.X.Scale.(plot.LogScale); !ok {
		t.Errorf("x scale %T for values 1..5000, want a log scale", steps.X.Scale)
	}
	if !(steps.Y.Max >= 4*1.3) {
		t.Errorf("y max %.2f leaves no room above the data (max 4) for the legend", steps.Y.Max)
	}
	svg, err := Render(steps, "svg")
	if err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(svg, []byte(">a<")); n != 1 {
		t.Errorf("label a drawn %d times, want once (it repeats at 50 km)", n)
	}
	narrow := []SweepPoint{{X: 100, Best: 2, Label: "a"}, {X: 400, Best: 1.5, Label: "b"}}
	steps, _, err = SweepPlots("capacity (Gb/s)", narrow)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := steps.X.Scale.(plot.LogScale); ok {
		t.Error("log scale for values 100..400")
	}
}

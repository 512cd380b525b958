package report

import (
	"bytes"
	"testing"
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

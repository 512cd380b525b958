package timeline

import (
	"bufio"
	"fmt"
	"html"
	"io"
	"sort"
	"strconv"
)

// legendOrder lists the span categories in the order a legend shows them,
// with their names.
func legendOrder() [6][2]string {
	return [...][2]string{
		{"F", "forward"}, {"B", "backward"}, {"W", "weight gradient"}, {"send", "send between stages"},
		{"dp", "data parallel"}, {"optimizer", "optimizer"},
	}
}

// WriteStageGanttSVG draws one row per process (pipeline stage): the
// spans of the first thread (compute) fill the upper part of the row and
// every other thread of the process gets a thin lane below it, so that a
// stage's sends and data-parallel traffic sit under the compute they
// overlap. A legend names the colours of the categories present. Each row
// is an SVG group with class "stage" and a data-stage attribute; the
// drawing has id "gantt" and a viewBox, so a page can zoom it. Output is
// deterministic.
func WriteStageGanttSVG(w io.Writer, t *Timeline, width int) error {
	spans := t.sorted()
	procs := make([]int, 0, len(t.Processes))
	for p := range t.Processes {
		procs = append(procs, p)
	}
	for _, s := range spans {
		if _, ok := t.Processes[s.Process]; !ok {
			procs = append(procs, s.Process)
		}
	}
	sort.Ints(procs)
	procs = uniqueInts(procs)
	row := map[int]int{}
	for i, p := range procs {
		row[p] = i
	}
	// Lanes: thread order within each process, the smallest thread first.
	lanes := map[[2]int]int{}
	nlanes := map[int]int{}
	threads := make([][2]int, 0)
	seen := map[[2]int]bool{}
	for _, s := range spans {
		k := [2]int{s.Process, s.Thread}
		if !seen[k] {
			seen[k] = true
			threads = append(threads, k)
		}
	}
	sort.Slice(threads, func(i, j int) bool {
		if threads[i][0] != threads[j][0] {
			return threads[i][0] < threads[j][0]
		}
		return threads[i][1] < threads[j][1]
	})
	for _, k := range threads {
		lanes[k] = nlanes[k[0]]
		nlanes[k[0]]++
	}
	var end float64
	cats := map[string]bool{}
	for _, s := range spans {
		end = max(end, s.End)
		cats[s.Category] = true
	}
	if end <= 0 {
		end = 1
	}
	const label, top, mainH, laneH, gap = 80, 30, 16, 5, 6
	rowH := func(p int) int { return mainH + laneH*max(nlanes[p]-1, 0) + gap }
	ys := make([]int, len(procs)+1)
	ys[0] = top
	for i, p := range procs {
		ys[i+1] = ys[i] + rowH(p)
	}
	plot := float64(width - label - 10)
	h := ys[len(procs)] + 50
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, `<svg xmlns="http://www.w3.org/2000/svg" id="gantt" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="11">`+"\n", width, h, width, h)
	fmt.Fprintf(bw, `<rect width="%d" height="%d" fill="white"/>`+"\n", width, h)
	fmt.Fprintf(bw, `<text x="%d" y="18">step timeline, %s ms, one row per stage</text>`+"\n", label, strconv.FormatFloat(end*1e3, 'f', 2, 64))
	byProc := map[int][]Span{}
	for _, s := range spans {
		byProc[s.Process] = append(byProc[s.Process], s)
	}
	for i, p := range procs {
		name, ok := t.Processes[p]
		if !ok {
			name = strconv.Itoa(p)
		}
		fmt.Fprintf(bw, `<g class="stage" data-stage="%d">`+"\n", p)
		fmt.Fprintf(bw, `<text x="4" y="%d">%s</text>`+"\n", ys[i]+12, html.EscapeString(name))
		for _, s := range byProc[p] {
			lane := lanes[[2]int{s.Process, s.Thread}]
			y, hh := ys[i], mainH-2
			if lane > 0 {
				y, hh = ys[i]+mainH+(lane-1)*laneH, laneH-1
			}
			x := float64(label) + s.Start/end*plot
			wd := max((s.End-s.Start)/end*plot, 0.2)
			fmt.Fprintf(bw, `<rect x="%s" y="%d" width="%s" height="%d" fill="%s"><title>%s</title></rect>`+"\n",
				strconv.FormatFloat(x, 'f', 2, 64), y, strconv.FormatFloat(wd, 'f', 2, 64), hh, colour(s.Category), html.EscapeString(s.Name))
		}
		bw.WriteString("</g>\n")
	}
	y := ys[len(procs)] + 14
	for i := 0; i <= 4; i++ {
		x := float64(label) + float64(i)/4*plot
		fmt.Fprintf(bw, `<text x="%s" y="%d" text-anchor="middle">%s ms</text>`+"\n", strconv.FormatFloat(x, 'f', 1, 64), y, strconv.FormatFloat(end*1e3*float64(i)/4, 'f', 1, 64))
	}
	writeLegend(bw, cats, label, y+12)
	bw.WriteString("</svg>\n")
	return bw.Flush()
}

// writeLegend draws, from x at height y, a swatch and name for each span
// category present in cats, in legendOrder.
func writeLegend(bw *bufio.Writer, cats map[string]bool, x, y int) {
	bw.WriteString(`<g class="legend">` + "\n")
	for _, c := range legendOrder() {
		if !cats[c[0]] && !(c[0] == "B" && cats["BW"]) {
			continue
		}
		fmt.Fprintf(bw, `<rect x="%d" y="%d" width="10" height="10" fill="%s"/><text x="%d" y="%d">%s</text>`+"\n", x, y, colour(c[0]), x+14, y+9, c[1])
		x += 24 + 7*len(c[1])
	}
	bw.WriteString("</g>\n")
}

func uniqueInts(s []int) []int {
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

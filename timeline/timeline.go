// Package timeline renders the event-level record of a training step: as
// Chrome Trace Event JSON (opens in Perfetto and chrome://tracing) and as
// an SVG Gantt chart.
package timeline

import (
	"bufio"
	"fmt"
	"html"
	"io"
	"math"
	"sort"
	"strconv"
)

// Span is one interval on one track.
type Span struct {
	// Track identifies the row: Process (a pipeline stage) and Thread (a
	// stream of that stage: compute, sends, data-parallel).
	Process, Thread int
	Name            string
	// Category groups spans for colouring and filtering (F, B, W, BW, send, dp, optimizer).
	Category   string
	Start, End float64 // seconds
	// Args are extra key/value pairs shown when the span is selected.
	Args map[string]string
}

// Timeline is a set of named tracks and their spans.
type Timeline struct {
	Processes map[int]string
	Threads   map[[2]int]string
	Spans     []Span
}

// sorted returns the spans ordered by track and start time.
func (t *Timeline) sorted() []Span {
	s := make([]Span, len(t.Spans))
	copy(s, t.Spans)
	sort.SliceStable(s, func(i, j int) bool {
		a, b := s[i], s[j]
		if a.Process != b.Process {
			return a.Process < b.Process
		}
		if a.Thread != b.Thread {
			return a.Thread < b.Thread
		}
		if a.Start != b.Start {
			return a.Start < b.Start
		}
		return a.End < b.End
	})
	return s
}

func us(s float64) string { return usNs(ns(s)) }

// ns rounds seconds to integer nanoseconds. Spans are placed in integer
// nanoseconds end to end, so that one that ends where the next begins
// never overlaps it by a rounding step.
func ns(s float64) int64 { return int64(math.Round(s * 1e9)) }

// usNs formats integer nanoseconds as microseconds with three decimals.
func usNs(n int64) string {
	sign := ""
	if n < 0 {
		sign, n = "-", -n
	}
	return fmt.Sprintf("%s%d.%03d", sign, n/1000, n%1000)
}

// WriteChromeTrace writes t in the Trace Event Format: complete events
// ("ph":"X") with microsecond timestamps, one pid per process and one tid
// per thread, named by metadata events. Output is deterministic.
func WriteChromeTrace(w io.Writer, t *Timeline) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	bw.WriteString("{\"displayTimeUnit\":\"ms\",\"traceEvents\":[\n")
	first := true
	sep := func() {
		if !first {
			bw.WriteString(",\n")
		}
		first = false
	}
	pids := make([]int, 0, len(t.Processes))
	for p := range t.Processes {
		pids = append(pids, p)
	}
	sort.Ints(pids)
	for _, p := range pids {
		sep()
		fmt.Fprintf(bw, `{"ph":"M","name":"process_name","pid":%d,"tid":0,"args":{"name":%s}}`, p, strconv.Quote(t.Processes[p]))
		sep()
		fmt.Fprintf(bw, `{"ph":"M","name":"process_sort_index","pid":%d,"tid":0,"args":{"sort_index":%d}}`, p, p)
	}
	keys := make([][2]int, 0, len(t.Threads))
	for k := range t.Threads {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i][0] != keys[j][0] {
			return keys[i][0] < keys[j][0]
		}
		return keys[i][1] < keys[j][1]
	})
	for _, k := range keys {
		sep()
		fmt.Fprintf(bw, `{"ph":"M","name":"thread_name","pid":%d,"tid":%d,"args":{"name":%s}}`, k[0], k[1], strconv.Quote(t.Threads[k]))
	}
	for _, s := range t.sorted() {
		sep()
		fmt.Fprintf(bw, `{"ph":"X","name":%s,"cat":%s,"pid":%d,"tid":%d,"ts":%s,"dur":%s`,
			strconv.Quote(s.Name), strconv.Quote(s.Category), s.Process, s.Thread, us(s.Start), usNs(ns(s.End)-ns(s.Start)))
		if len(s.Args) > 0 {
			ks := make([]string, 0, len(s.Args))
			for k := range s.Args {
				ks = append(ks, k)
			}
			sort.Strings(ks)
			bw.WriteString(`,"args":{`)
			for i, k := range ks {
				if i > 0 {
					bw.WriteByte(',')
				}
				fmt.Fprintf(bw, "%s:%s", strconv.Quote(k), strconv.Quote(s.Args[k]))
			}
			bw.WriteByte('}')
		}
		bw.WriteByte('}')
	}
	bw.WriteString("\n]}\n")
	return bw.Flush()
}

// colours per category for the Gantt chart (colour-blind-safe Okabe-Ito palette).
func colour(cat string) string {
	switch cat {
	case "F":
		return "#0072B2"
	case "B", "BW":
		return "#009E73"
	case "W":
		return "#E69F00"
	case "send":
		return "#CC79A7"
	case "dp":
		return "#D55E00"
	case "optimizer":
		return "#999999"
	}
	return "#56B4E9"
}

// WriteGanttSVG draws one row per track, spans as rectangles on a shared
// time axis, width pixels wide. Output is deterministic.
func WriteGanttSVG(w io.Writer, t *Timeline, width int) error {
	spans := t.sorted()
	type track struct{ p, th int }
	var tracks []track
	index := map[track]int{}
	var end float64
	cats := map[string]bool{}
	for _, s := range spans {
		k := track{s.Process, s.Thread}
		if _, ok := index[k]; !ok {
			index[k] = len(tracks)
			tracks = append(tracks, k)
		}
		end = max(end, s.End)
		cats[s.Category] = true
	}
	if end <= 0 {
		end = 1
	}
	const rowH, label, top = 18, 150, 30
	plot := float64(width - label - 10)
	h := top + rowH*len(tracks) + 50
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="11">`+"\n", width, h)
	fmt.Fprintf(bw, `<rect width="%d" height="%d" fill="white"/>`+"\n", width, h)
	fmt.Fprintf(bw, `<text x="%d" y="18">step timeline, %s ms</text>`+"\n", label, strconv.FormatFloat(end*1e3, 'f', 2, 64))
	for i, k := range tracks {
		name := t.Processes[k.p]
		if n, ok := t.Threads[[2]int{k.p, k.th}]; ok {
			name += " " + n
		}
		fmt.Fprintf(bw, `<text x="4" y="%d">%s</text>`+"\n", top+i*rowH+13, html.EscapeString(name))
	}
	for _, s := range spans {
		row := index[track{s.Process, s.Thread}]
		x := float64(label) + s.Start/end*plot
		wd := max((s.End-s.Start)/end*plot, 0.2)
		fmt.Fprintf(bw, `<rect x="%s" y="%d" width="%s" height="%d" fill="%s"><title>%s</title></rect>`+"\n",
			strconv.FormatFloat(x, 'f', 2, 64), top+row*rowH+2, strconv.FormatFloat(wd, 'f', 2, 64), rowH-4, colour(s.Category), html.EscapeString(s.Name))
	}
	// Time axis: five ticks.
	y := top + rowH*len(tracks) + 14
	for i := 0; i <= 4; i++ {
		x := float64(label) + float64(i)/4*plot
		fmt.Fprintf(bw, `<text x="%s" y="%d" text-anchor="middle">%s ms</text>`+"\n", strconv.FormatFloat(x, 'f', 1, 64), y, strconv.FormatFloat(end*1e3*float64(i)/4, 'f', 1, 64))
	}
	writeLegend(bw, cats, label, y+12)
	bw.WriteString("</svg>\n")
	return bw.Flush()
}

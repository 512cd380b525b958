package ui

import (
	"fmt"
	"html/template"
	"math"
	"strconv"
	"strings"

	"github.com/scaleacross/scaleacross/report"
)

// funcs are the template helpers.
func funcs() template.FuncMap {
	return template.FuncMap{
		"seconds": seconds,
		"speedup": speedup,
		"percent": func(v float64) string { return fmt.Sprintf("%.1f%%", 100*v) },
		"gib":     func(v float64) string { return fmt.Sprintf("%.1f GiB", v) },
		"bytes":   report.Bytes,
		"num":     report.Thousands,
		"fixed":   func(v float64, prec int) string { return strconv.FormatFloat(v, 'f', prec, 64) },
		"join":    strings.Join,
		"list":    func(v ...string) []string { return v },
		"float":   func(i int) float64 { return float64(i) },
	}
}

// seconds formats a duration in seconds with a unit that keeps 3-4 digits.
func seconds(s float64) string {
	switch {
	case s == 0:
		return "0"
	case math.Abs(s) < 1e-3:
		return fmt.Sprintf("%.1f us", s*1e6)
	case math.Abs(s) < 1:
		return fmt.Sprintf("%.1f ms", s*1e3)
	}
	return fmt.Sprintf("%.3f s", s)
}

// speedup formats a ratio of step times as "1.29x (+29.3%)".
func speedup(v float64) string {
	if v <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.2fx (%+.1f%%)", v, 100*(v-1))
}

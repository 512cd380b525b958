package cli

import (
	"bytes"
	"strings"
	"testing"

	"github.com/scaleacross/scaleacross/explore"
	"github.com/scaleacross/scaleacross/spec"
)

// FuzzArgs checks the command line's own parsers and a set of commands
// with fuzzed argument and flag values: nothing panics, every parser's
// refusal is a usage error (exit 2), accepted sweeps and sizes stay within
// their limits, and every command exits 0, 2 or 3 with a short message.
// The commands write nothing (no --trace, --plot or --db). Seeds: the
// hostile values of issue 12; the corpus is kept in testdata/fuzz/FuzzArgs.
func FuzzArgs(f *testing.F) {
	for _, s := range [][2]string{
		{"batch=1,2,4,...,256", "1KiB"},
		{"batch=2,3,...,9000000000000000000", "9223372036854775807"},
		{"batch=2,3,...,9223372036854775807", "4GiB"},
		{"batch=1,99999999999999999999", "9000000000GiB"},
		{"batch=...", "-3"},
		{"batch=1,2,...,", "0x10"},
		{"cross_site_bandwidth=100,1e308,NaN", "1e3K"},
		{"distance=-1,Inf", "1 KiB"},
		{"llama3.1-405b", "all-reduce,p2p"},
		{strings.Repeat("x", 5000), strings.Repeat("9", 400)},
		{"3/4", "4/4"},
		{"\x00\xff", "--help"},
	} {
		f.Add(s[0], s[1])
	}
	const job = "../../examples/two-regions.yaml"
	serve := "../../examples/serve-llama31-70b.yaml"
	f.Fuzz(func(t *testing.T, a, b string) {
		if bs, err := parseSweep(a); err == nil {
			if len(bs) == 0 || len(bs) > maxSweep {
				t.Fatalf("parseSweep(%q) gave %d values", a, len(bs))
			}
			for i, v := range bs {
				if v < 1 || v > spec.MaxBatch || (i > 0 && v <= bs[i-1]) {
					t.Fatalf("parseSweep(%q) gave %v", a, bs)
				}
			}
		} else if ExitCode(err) != ExitBadInput {
			t.Fatalf("parseSweep(%q): %v exits %d", a, err, ExitCode(err))
		}
		if v, err := parseSize(b, "--max"); err == nil && (v <= 0 || v > maxMessage) {
			t.Fatalf("parseSize(%q) = %d", b, v)
		} else if err != nil && ExitCode(err) != ExitBadInput {
			t.Fatalf("parseSize(%q): %v exits %d", b, err, ExitCode(err))
		}
		if _, err := parseOps(b); err != nil && ExitCode(err) != ExitBadInput {
			t.Fatalf("parseOps(%q): %v exits %d", b, err, ExitCode(err))
		}
		if _, vals, err := explore.ParseSweep(a); err == nil && len(vals) > maxSweep {
			t.Fatalf("explore.ParseSweep(%q) gave %d values", a, len(vals))
		} else if err != nil && ExitCode(err) != ExitBadInput {
			t.Fatalf("explore.ParseSweep(%q): %v exits %d", a, err, ExitCode(err))
		}
		if _, err := explore.ParseShard(b); err != nil && ExitCode(err) != ExitBadInput {
			t.Fatalf("explore.ParseShard(%q): %v exits %d", b, err, ExitCode(err))
		}
		for _, args := range [][]string{
			{"models", "show", a},
			{"hardware", "show", b},
			{"models", a, b},
			{a},
			{"simulate", "-f", job, "--engine", a},
			{"net", "-f", job, "--dim", "pp", "--ops", "p2p", "--min", b, "--max", b},
			{"infer", "-f", serve, "--sweep", sweepOf(a)},
		} {
			var o, e bytes.Buffer
			code := Main(args, &o, &e)
			if code != ExitOK && code != ExitBadInput && code != ExitNoFit {
				t.Fatalf("%.300q: exit %d: %.300s", args, code, e.String())
			}
			if e.Len() > 4000 || strings.Contains(e.String(), "goroutine ") {
				t.Fatalf("%.300q: stderr of %d bytes: %.300s", args, e.Len(), e.String())
			}
		}
	})
}

// sweepOf keeps fuzzed sweeps short enough to price: at most 8 batches.
func sweepOf(a string) string {
	bs, err := parseSweep(a)
	if err != nil || len(bs) <= 8 {
		return a
	}
	return "batch=1,2"
}

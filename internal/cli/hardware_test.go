package cli

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/scaleacross/scaleacross/hardware"
)

// runHardwareCLI runs the command tree and returns exit code, stdout and stderr.
func runHardwareCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestHardwareList(t *testing.T) {
	code, out, errOut := runHardwareCLI(t, "hardware")
	if code != ExitOK {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if !strings.HasPrefix(lines[0], "ID") {
		t.Errorf("first line %q, want a header", lines[0])
	}
	for _, id := range hardware.IDs() {
		if !strings.Contains(out, "\n"+id+" ") {
			t.Errorf("listing lacks a row for %s:\n%s", id, out)
		}
	}
	// The H100 row carries the calibrated dense peaks, not sparse ones.
	for _, l := range lines {
		if strings.HasPrefix(l, "h100-sxm ") {
			if !strings.Contains(l, " 989.4 ") || !strings.Contains(l, " 1978.9 ") || strings.Contains(l, "3957") {
				t.Errorf("h100 row %q lacks dense bf16/fp8 peaks", l)
			}
		}
	}
}

func TestHardwareListJSON(t *testing.T) {
	code, out, errOut := runHardwareCLI(t, "hardware", "--json")
	if code != ExitOK {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	var got []hardware.GPU
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("output is not a JSON list of GPUs: %v\n%s", err, out)
	}
	if diff := cmp.Diff(hardware.Builtin(), got); diff != "" {
		t.Errorf("JSON round trip differs from the catalog (-want +got):\n%s", diff)
	}
	// Stable key names are part of the contract.
	for _, key := range []string{`"id"`, `"peaks"`, `"memory_gb"`, `"hbm_bandwidth_gbs"`, `"scale_up_size"`,
		`"scale_up_gbs"`, `"scale_up_latency_us"`, `"nic_gbps"`, `"scale_out_latency_us"`, `"sources"`} {
		if !strings.Contains(out, key) {
			t.Errorf("JSON lacks key %s", key)
		}
	}
}

func TestHardwareShow(t *testing.T) {
	code, out, errOut := runHardwareCLI(t, "hardware", "show", "gb300")
	if code != ExitOK {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	g, err := hardware.Lookup("gb300")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range append([]string{"gb300", "72 GPUs", "peak nvfp4:", "sources:"}, g.Sources...) {
		if !strings.Contains(out, want) {
			t.Errorf("show output lacks %q:\n%s", want, out)
		}
	}
}

func TestHardwareShowJSON(t *testing.T) {
	for _, args := range [][]string{
		{"hardware", "show", "h100", "--json"},
		{"hardware", "--json", "show", "H100-SXM"},
	} {
		code, out, errOut := runHardwareCLI(t, args...)
		if code != ExitOK {
			t.Fatalf("%v: exit %d, stderr %q", args, code, errOut)
		}
		var got hardware.GPU
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatalf("%v: not JSON: %v\n%s", args, err, out)
		}
		want, _ := hardware.Lookup("h100-sxm")
		if diff := cmp.Diff(*want, got); diff != "" {
			t.Errorf("%v: (-want +got):\n%s", args, diff)
		}
	}
}

func TestHardwareBadInput(t *testing.T) {
	for _, tc := range []struct {
		args     []string
		wantErrs []string
	}{
		{[]string{"hardware", "show", "h100-sxm4"}, []string{`unknown gpu id "h100-sxm4"`, "h100-sxm"}},
		{[]string{"hardware", "show", "gb30"}, []string{"gb300"}},
		{[]string{"hardware", "show"}, []string{"exactly one GPU id"}},
		{[]string{"hardware", "show", "a", "b"}, []string{"exactly one GPU id"}},
		{[]string{"hardware", "h100-sxm"}, []string{"hardware show ID"}},
		{[]string{"hardware", "--bogus"}, []string{"bogus"}},
	} {
		code, out, errOut := runHardwareCLI(t, tc.args...)
		if code != ExitBadInput {
			t.Errorf("%v: exit %d, want %d (stderr %q)", tc.args, code, ExitBadInput, errOut)
		}
		if out != "" {
			t.Errorf("%v: wrote to stdout on error: %q", tc.args, out)
		}
		for _, want := range tc.wantErrs {
			if !strings.Contains(errOut, want) {
				t.Errorf("%v: stderr %q lacks %q", tc.args, errOut, want)
			}
		}
	}
}

func TestHardwareDeterministic(t *testing.T) {
	for _, args := range [][]string{{"hardware"}, {"hardware", "--json"}, {"hardware", "show", "mi300x"}} {
		_, a, _ := runHardwareCLI(t, args...)
		_, b, _ := runHardwareCLI(t, args...)
		if a != b {
			t.Errorf("%v: output differs between runs", args)
		}
	}
}

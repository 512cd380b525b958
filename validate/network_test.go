package validate

import (
	"encoding/csv"
	"math"
	"os"
	"strings"
	"testing"
)

// The embedded network set must stay a copy of the shared reference, row
// by row and column by column, when the shared folder is present.
func TestNetworkCopyMatchesShared(t *testing.T) {
	b, err := os.ReadFile("../../shared/reference/network-measurements.csv")
	if err != nil {
		t.Skipf("shared reference not present: %v", err)
	}
	read := func(text string) [][]string {
		recs, err := csv.NewReader(strings.NewReader(text)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		return recs
	}
	shared, embedded := read(string(b)), read(networkCSV)
	if len(shared) != len(embedded) {
		t.Fatalf("embedded network set has %d records, shared %d; copy it again", len(embedded), len(shared))
	}
	for i := range shared {
		if strings.Join(shared[i], "\x00") != strings.Join(embedded[i], "\x00") {
			t.Errorf("record %d (%s) differs from ../shared/reference; copy it again", i, shared[i][0])
		}
	}
}

// Every p2p and all-reduce row is priced, every training row is listed
// with a reason, and none is dropped.
func TestNetworkRunsEveryRow(t *testing.T) {
	rows, err := NetworkRows()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 252 {
		t.Fatalf("%d rows, want 252", len(rows))
	}
	rep, err := RunNetwork(rows, DefaultNetParams())
	if err != nil {
		t.Fatal(err)
	}
	if got := len(rep.Rows) + len(rep.Skipped); got != len(rows) {
		t.Errorf("%d priced + %d skipped != %d rows", len(rep.Rows), len(rep.Skipped), len(rows))
	}
	if len(rep.Rows) != 194+12 {
		t.Errorf("%d rows priced, want the 194 p2p and all-reduce rows and the 12 1F1B training rows", len(rep.Rows))
	}
	for _, r := range rep.Rows {
		if !(r.Predicted > 0) || math.IsInf(r.Predicted, 0) {
			t.Errorf("%s: predicted %g", r.ID, r.Predicted)
		}
	}
	for _, s := range rep.Skipped {
		if s.Reason == "" {
			t.Errorf("%s skipped without a reason", s.ID)
		}
	}
}

// The network model's accuracy per group, held at what it measures today
// (validate --network): a change that loses accuracy fails here, and one
// that gains it should tighten the bounds.
func TestNetworkAccuracy(t *testing.T) {
	rows, _ := NetworkRows()
	rep, err := RunNetwork(rows, DefaultNetParams())
	if err != nil {
		t.Fatal(err)
	}
	bound := map[string]float64{
		"all":        10.65,
		GroupP2PNCCL: 2.85,
		GroupP2PGloo: 3.40,
		GroupCloud:   16.75,
		GroupARNCCL:  4.10,
		GroupARGloo:  9.15,
		// The 1F1B rows over shaped links (fp32 on V100 at the SIMT GEMM
		// share, unfused attention and full recomputation as DS3Lab's GPT
		// layers ran, the QQP classifier head, each pipeline message paying
		// the one-way latency of a streamed send): step time 5.9%, every
		// row fast by 2-10% (the element-wise and softmax traffic of fp32
		// training is counted at 16-bit sizes), slow-down against the
		// fastest link 4.6% (issue 11 asks 15% and 10%). The re-fit with
		// the MoE permutation pricing (gemm_efficiency 0.684 -> 0.689) makes
		// these GEMM-bound rows 0.7% faster still: 6.1% and 4.7%.
		GroupTrain1F1B:     6.20,
		GroupTrainSlowdown: 4.75,
	}
	if len(rep.Groups) != len(bound) {
		t.Fatalf("%d groups, want %d", len(rep.Groups), len(bound))
	}
	for _, g := range rep.Groups {
		b, ok := bound[g.Name]
		if !ok {
			t.Errorf("unexpected group %q", g.Name)
			continue
		}
		if g.MAPE > b {
			t.Errorf("%s: MAPE %.2f%% above its bound %.2f%%", g.Name, g.MAPE, b)
		}
		t.Logf("%s: %d rows, MAPE %.2f%%, largest %.1f%%", g.Name, g.Rows, g.MAPE, g.MaxAbsError)
	}
}

// The built-in transport parameters are the grid fit's optimum.
func TestNetworkDefaultsAreFitted(t *testing.T) {
	if testing.Short() {
		t.Skip("the grid fit runs 13,776 evaluations")
	}
	rows, _ := NetworkRows()
	p, _, err := FitNetwork(rows)
	if err != nil {
		t.Fatal(err)
	}
	if d := DefaultNetParams(); p != d {
		t.Errorf("fit gives %+v, built-in %+v: update the catalog entries nccl-socket and gloo-tcp", p, d)
	}
}

func TestParseNetworkRowsErrors(t *testing.T) {
	for name, text := range map[string]string{
		"empty":          "",
		"header only":    "id,source,kind,op,model,precision,gpus,message_bytes,latency_ms,bandwidth_gbps,measured,measured_value,notes\n",
		"missing column": "id,source\na,b\n",
		"bad number":     "id,source,kind,op,model,precision,gpus,message_bytes,latency_ms,bandwidth_gbps,measured,measured_value,notes\na,s,p2p,send-recv,,,2,x,1,1,p2p_time_s,1,NCCL\n",
	} {
		if _, err := ParseNetworkRows(text); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

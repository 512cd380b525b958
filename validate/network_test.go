package validate

import (
	"encoding/csv"
	"math"
	"os"
	"strings"
	"testing"

	"github.com/scaleacross/scaleacross/train"
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
	if len(rep.Rows) != 194+12+10+10 {
		t.Errorf("%d rows priced, want the 194 p2p and all-reduce rows, the 12 1F1B, 10 GPipe+AllReduce and 10 ZeRO-3 training rows", len(rep.Rows))
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
		// The host transports carry their frames' payload (8,949 of 9,015
		// bytes, network.Technology.FrameGoodput; the cross-region paths'
		// iperf3 capacity is payload already) and NCCL's collectives run
		// on 2 ring channels; the fit keeps 2.8 start-up round trips and 5
		// send channels. Every row on AWS's unshaped default link whose
		// hosts all send and receive at once runs at the rate the set's NCCL
		// all-reduces there measure (defaultLinkGbps, 8.69 Gb/s; at the
		// nominal 10 Gb/s those 8 rows were 7-20% fast and the Gloo ones
		// 8-9% fast); the 8 NCCL rows it comes from are calibration rows
		// (GroupLinkCalib: their spread about their own mean rate, no test
		// of it), out of "all" and the NCCL group, which keeps the 24
		// shaped rows (3.68% with the 8 at 10 Gb/s).
		"all":          10.10,
		GroupP2PNCCL:   2.90,
		GroupP2PGloo:   3.05,
		GroupCloud:     16.75,
		GroupARNCCL:    0.35,
		GroupARGloo:    7.55,
		GroupLinkCalib: 4.65,
		// The 1F1B rows over shaped links (fp32 on V100 at the SIMT GEMM
		// share, unfused attention and full recomputation as DS3Lab's GPT
		// layers ran, the QQP classifier head, each pipeline message paying
		// the one-way latency of a streamed send, the links from
		// network.LinksInto as simulate builds them): step time 5.3% (5.7% after the MoE re-fit made GEMMs 0.7% faster), every
		// row fast by 1-9% (the element-wise and softmax traffic of fp32
		// training is counted at 16-bit sizes). The GPipe+AllReduce rows
		// (fp16, DS3Lab's per-tensor all-reduce after the backward, NCCL's
		// ring or tree per tensor): 13.0%, every row fast, most at the
		// fastest links (the fp16 pipeline alone is priced 11% fast
		// against DS3Lab's dp-1 table). The ZeRO-3 rows (fairscale's flat
		// root unit, fp32): 2.6%, the shaped 1-10 ms rows within 2%, the
		// default link 2-3% fast, the 50 ms rows 7% fast. The training
		// rows on AWS's default link are priced at the rate the set's
		// NCCL all-reduces measure on it (defaultLinkGbps), not the
		// nominal 10 Gb/s. Slow-down against each table's fastest link
		// over all three: 4.5% (issue 11 asks 15% and 10%; per family in
		// TestNetworkTrainingTargets).
		GroupTrain1F1B:     5.75,
		GroupTrainGPipeAR:  13.1,
		GroupTrainZeRO3:    2.65,
		GroupTrainSlowdown: 4.6,
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

// Both engines price DS3Lab's per-tensor all-reduce of the GPipe+AllReduce
// rows and fairscale's flat ZeRO-3 unit alike: the same exposed
// data-parallel time on every row, and step times within 10% where the
// links carry at least 2 Gb/s (the ZeRO-3 rows, one stage, agree on all).
// Over the 1 Gb/s links the analytic engine prices the GPipe stages'
// overlapped sends below the event engine's (0.15 s of pipeline
// communication against 1.5 s): the link-busy bound of overlapped sends
// (issue 11 item 1), not the data-parallel part.
func TestDataParallelRowsEnginesAgree(t *testing.T) {
	rows, _ := NetworkRows()
	n := 0
	for _, r := range rows {
		c, g, why := trainingConfig(r)
		if why != "" || (g != GroupTrainGPipeAR && g != GroupTrainZeRO3) {
			continue
		}
		n++
		an, err := train.Analytic(c)
		if err != nil {
			t.Fatal(err)
		}
		ev, err := train.Event(c)
		if err != nil {
			t.Fatal(err)
		}
		if d := an.Breakdown.DPCommS/ev.Breakdown.DPCommS - 1; math.Abs(d) > 1e-9 {
			t.Errorf("%s: dp comm analytic %.4f s, event %.4f s", r.ID, an.Breakdown.DPCommS, ev.Breakdown.DPCommS)
		}
		gap := an.StepTimeS/ev.StepTimeS - 1
		t.Logf("%s: analytic %.3f s, event %.3f s (%+.1f%%), dp %.3f s", r.ID, an.StepTimeS, ev.StepTimeS, 100*gap, ev.Breakdown.DPCommS)
		if (r.BandwidthGbps >= 2 || g == GroupTrainZeRO3) && math.Abs(gap) > 0.10 {
			t.Errorf("%s: analytic %.3f s and event %.3f s differ by %.1f%%", r.ID, an.StepTimeS, ev.StepTimeS, 100*gap)
		}
	}
	if n != 20 {
		t.Errorf("%d GPipe+AllReduce and ZeRO-3 rows, want 20", n)
	}
}

// Issue 11's targets on the training rows the step model expresses: step
// time MAPE at most 15% per table family, and the slow-down against each
// table's fastest link at most 10% (MAPE over each family's rows). All
// three families meet both. The ZeRO-3 family's slow-downs are within 5%
// on the shaped 1-10 ms links and 4-5% low on the 50 ms ones, whose rings
// NCCL runs on 2 channels of 4 MiB, each back a round trip and a 1 MiB
// slice later (network.Technology.RingChannels, RingSliceBytes), and
// which still come out 7% fast.
func TestNetworkTrainingTargets(t *testing.T) {
	rows, _ := NetworkRows()
	rep, err := RunNetwork(rows, DefaultNetParams())
	if err != nil {
		t.Fatal(err)
	}
	step, slow := map[string][]float64{}, map[string][]float64{}
	for _, r := range rep.Rows {
		if !strings.HasPrefix(r.Group, "training") {
			continue
		}
		step[r.Group] = append(step[r.Group], math.Abs(r.ErrorPct))
		if r.MeasuredSlowdown > 0 {
			slow[r.Group] = append(slow[r.Group], math.Abs(r.SlowdownErrPct))
		}
	}
	mean := func(v []float64) float64 {
		var s float64
		for _, x := range v {
			s += x
		}
		return s / float64(len(v))
	}
	slowBound := map[string]float64{GroupTrain1F1B: 10, GroupTrainGPipeAR: 10, GroupTrainZeRO3: 10}
	for _, g := range []string{GroupTrain1F1B, GroupTrainGPipeAR, GroupTrainZeRO3} {
		if len(step[g]) == 0 || len(slow[g]) == 0 {
			t.Errorf("%s: no rows", g)
			continue
		}
		s, d := mean(step[g]), mean(slow[g])
		t.Logf("%s: step MAPE %.1f%% over %d rows, slow-down MAPE %.1f%% over %d", g, s, len(step[g]), d, len(slow[g]))
		if s > 15 || d > slowBound[g] {
			t.Errorf("%s: step MAPE %.1f%% (target 15%%), slow-down MAPE %.1f%% (bound %.1f%%)", g, s, d, slowBound[g])
		}
	}
}

// The default link's rate comes from the set's 8 NCCL all-reduce rows on
// it: below the nominal 10 Gb/s that one direction reaches. Every row on
// that link reads one description (RowTopology): the send/recv rows the
// nominal rate, the all-reduce and training rows the measured one, and
// only the 8 NCCL rows are calibration rows.
func TestDefaultLinkFromAllReduceRows(t *testing.T) {
	g := defaultLinkGbps()
	if !(g > 7.5 && g < 10) {
		t.Errorf("default link %.3f Gb/s, want 7.5-10", g)
	}
	rows, _ := NetworkRows()
	rep, err := RunNetwork(rows, DefaultNetParams())
	if err != nil {
		t.Fatal(err)
	}
	group := map[string]string{}
	for _, x := range rep.Rows {
		group[x.ID] = x.Group
	}
	n := 0
	for _, r := range rows {
		if !r.defaultLink() {
			continue
		}
		want := g
		if r.Kind == "p2p" {
			want = r.BandwidthGbps
		}
		if got := r.RowTopology(ncclTransport).Levels[siteLevelIndex].BandwidthGbps; got != want {
			t.Errorf("%s (%s): link %g Gb/s, want %g", r.ID, r.Kind, got, want)
		}
		if lib, _ := r.library(); r.Kind == "collective" && lib == ncclTransport {
			n++
			if group[r.ID] != GroupLinkCalib {
				t.Errorf("%s: group %q, want the calibration group", r.ID, group[r.ID])
			}
		} else if group[r.ID] == GroupLinkCalib {
			t.Errorf("%s: in the calibration group", r.ID)
		}
		if r.Kind == groupTraining {
			c, _, why := trainingConfig(r)
			if why != "" {
				continue
			}
			if got := c.Topology.Levels[siteLevelIndex].BandwidthGbps; got != g {
				t.Errorf("%s: link %g Gb/s, want the measured %g", r.ID, got, g)
			}
		}
	}
	if n != 8 {
		t.Errorf("%d NCCL all-reduce rows on the default link, want 8", n)
	}
}

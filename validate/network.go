package validate

import (
	_ "embed"
	"encoding/csv"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/scaleacross/scaleacross/fault"
	"github.com/scaleacross/scaleacross/model"
	"github.com/scaleacross/scaleacross/network"
	"github.com/scaleacross/scaleacross/topology"
	"github.com/scaleacross/scaleacross/train"
)

// networkCSV is a copy of reference/network-measurements.csv (252 rows:
// NCCL and Gloo send/recv and all-reduce over tc-shaped links and between
// AWS regions, and small trainings over slow links), embedded so the tool
// stands alone; TestNetworkCopyMatchesShared keeps it equal to the shared
// file.
//
//go:embed network-measurements.csv
var networkCSV string

// Constants of the measured hosts and paths, each with its source.
const (
	// awsSingleFlowGbps is EC2's cap on one flow (5-tuple) between
	// instances outside one cluster placement group, 5 Gb/s (AWS EC2
	// documentation, "Amazon EC2 instance network bandwidth").
	awsSingleFlowGbps = 5
	// cloudVPNGbps is the capacity of the measured cross-region VPN
	// paths: the best iperf3 -P 32 figure over the VPN in the rows' notes
	// (TCP payload),
	// 1.34 Gb/s (Oregon from Ohio; BinhangYuan/tc_cluster_setting
	// results/p2p.md). The rows' bandwidth_gbps column repeats the
	// measured NCCL rate, so it cannot serve as the link.
	cloudVPNGbps = 1.34
)

// NetRow is one row of the network measurement set.
type NetRow struct {
	ID     string `json:"id"`
	Source string `json:"source"`
	// Kind is p2p, collective or training.
	Kind  string `json:"kind"`
	Op    string `json:"op"`
	Model string `json:"model,omitempty"`
	// Precision is the training precision ("unknown" when not stated).
	Precision string `json:"precision,omitempty"`
	GPUs      int    `json:"gpus"`
	// MessageBytes is the send or all-reduce buffer (0 for trainings).
	MessageBytes  float64 `json:"message_bytes,omitempty"`
	LatencyMs     float64 `json:"latency_ms"`
	BandwidthGbps float64 `json:"bandwidth_gbps"`
	// Measured names what MeasuredValue is: p2p_time_s,
	// p2p_bandwidth_gbps, collective_time_s, step_time_s, ...
	Measured      string  `json:"measured"`
	MeasuredValue float64 `json:"measured_value"`
	Notes         string  `json:"notes"`
	// The training rows' job: pipeline and data-parallel degrees, batch,
	// schedule and how replicas synchronise (zero or empty elsewhere).
	PP          int    `json:"pp,omitempty"`
	DP          int    `json:"dp,omitempty"`
	MicroBatch  int    `json:"micro_batch,omitempty"`
	GlobalBatch int    `json:"global_batch,omitempty"`
	SeqLen      int    `json:"seq_len,omitempty"`
	Schedule    string `json:"schedule,omitempty"`
	Sync        string `json:"sync,omitempty"`
}

// NetworkRows parses the embedded network measurement set.
func NetworkRows() ([]NetRow, error) { return ParseNetworkRows(networkCSV) }

// ParseNetworkRows parses a CSV with the network measurement header.
func ParseNetworkRows(text string) ([]NetRow, error) {
	recs, err := csv.NewReader(strings.NewReader(text)).ReadAll()
	if err != nil {
		return nil, fault.BadInput(fmt.Errorf("network measurements: %w", err))
	}
	if len(recs) < 2 {
		return nil, fault.BadInput(fmt.Errorf("network measurements: no rows"))
	}
	col := map[string]int{}
	for i, h := range recs[0] {
		col[h] = i
	}
	for _, need := range []string{"id", "source", "kind", "op", "model", "precision", "gpus", "message_bytes", "latency_ms", "bandwidth_gbps", "measured", "measured_value", "notes"} {
		if _, ok := col[need]; !ok {
			return nil, fault.BadInput(fmt.Errorf("network measurements: missing column %q", need))
		}
	}
	var rows []NetRow
	for n, r := range recs[1:] {
		get := func(k string) string {
			i, ok := col[k]
			if !ok {
				return ""
			}
			return strings.TrimSpace(r[i])
		}
		var perr error
		num := func(k string) float64 {
			s := get(k)
			if s == "" || s == "unknown" {
				return 0
			}
			v, err := strconv.ParseFloat(s, 64)
			if err != nil && perr == nil {
				perr = fault.BadInput(fmt.Errorf("network measurements row %d (%s): %s: %w", n+2, get("id"), k, err))
			}
			return v
		}
		row := NetRow{
			ID: get("id"), Source: get("source"), Kind: get("kind"), Op: get("op"), Model: get("model"), Precision: get("precision"),
			GPUs: int(num("gpus")), MessageBytes: num("message_bytes"), LatencyMs: num("latency_ms"),
			BandwidthGbps: num("bandwidth_gbps"), Measured: get("measured"), MeasuredValue: num("measured_value"),
			Notes: get("notes"),
			PP:    int(num("pp")), DP: int(num("dp")), MicroBatch: int(num("micro_batch")), GlobalBatch: int(num("global_batch")),
			SeqLen: int(num("seq_len")), Schedule: get("schedule"), Sync: get("sync"),
		}
		if perr != nil {
			return nil, perr
		}
		rows = append(rows, row)
	}
	return rows, nil
}

// NetParams are the fitted transport parameters (FitNetwork), with the
// built-in values in the catalog entries nccl-socket and gloo-tcp.
type NetParams struct {
	// StartupRTTs is the round trips a message loses before it flows at
	// rate, shared by both libraries (both run over Linux TCP).
	StartupRTTs float64 `json:"startup_rtts"`
	// NCCLChannels is NCCL's 4 MiB buffers in flight per peer.
	NCCLChannels int `json:"nccl_channels"`
	// GlooRingCopies is Gloo's ring all-reduce bytes over a pipelined
	// ring's.
	GlooRingCopies float64 `json:"gloo_ring_copies"`
}

// DefaultNetParams reads the built-in values from the transport catalog.
func DefaultNetParams() NetParams {
	nccl, _ := network.LookupTechnology("nccl-socket", "transport")
	gloo, _ := network.LookupTechnology("gloo-tcp", "transport")
	return NetParams{StartupRTTs: nccl.StartupRTTs, NCCLChannels: nccl.Channels, GlooRingCopies: gloo.RingCopies}
}

// transports returns the two host transports with p applied.
func (p NetParams) transports() (nccl, gloo network.Technology) {
	nccl, _ = network.LookupTechnology("nccl-socket", "transport")
	gloo, _ = network.LookupTechnology("gloo-tcp", "transport")
	nccl.StartupRTTs, nccl.Channels = p.StartupRTTs, p.NCCLChannels
	gloo.StartupRTTs, gloo.RingCopies = p.StartupRTTs, p.GlooRingCopies
	return nccl, gloo
}

// NetResult is one network row's comparison. Measured and Predicted are
// in the row's unit (Unit): seconds, or Gb/s for the cross-region rows.
type NetResult struct {
	ID        string  `json:"id"`
	Group     string  `json:"group"`
	Transport string  `json:"transport"`
	GPUs      int     `json:"gpus"`
	MiB       float64 `json:"mib"`
	LatencyMs float64 `json:"latency_ms"`
	LinkGbps  float64 `json:"link_gbps"`
	Unit      string  `json:"unit"`
	Measured  float64 `json:"measured"`
	Predicted float64 `json:"predicted"`
	ErrorPct  float64 `json:"error_pct"`
	// Limit is what bounds the predicted rate (network.Limit).
	Limit string `json:"limit"`
	// For training rows other than their table's fastest link: the step
	// time over the fastest link's, measured and predicted, and the error.
	MeasuredSlowdown  float64 `json:"measured_slowdown,omitempty"`
	PredictedSlowdown float64 `json:"predicted_slowdown,omitempty"`
	SlowdownErrPct    float64 `json:"slowdown_error_pct,omitempty"`
}

// NetReport is the comparison over the network measurement set.
type NetReport struct {
	Rows []NetResult `json:"rows"`
	// Groups holds the MAPE over all rows and per group: p2p NCCL tc, p2p
	// Gloo tc, p2p NCCL cloud regions, all-reduce NCCL tc, all-reduce Gloo
	// tc, in that order.
	Groups  []Group   `json:"groups"`
	Skipped []Skipped `json:"skipped,omitempty"`
	Params  NetParams `json:"params"`
}

// Network groups, in report order.
const (
	GroupP2PNCCL = "p2p nccl tc"
	GroupP2PGloo = "p2p gloo tc"
	GroupCloud   = "p2p nccl cloud regions"
	GroupARNCCL  = "all-reduce nccl tc"
	GroupARGloo  = "all-reduce gloo tc"
	// GroupLinkCalib holds the NCCL all-reduce rows on AWS's default link
	// (NetRow.calibratesLink): the input of that link's measured rate
	// (defaultLinkGbps), priced at it and reported apart, as calibration
	// rows, not predictions; neither the "all" group nor FitNetwork counts
	// them.
	GroupLinkCalib = "all-reduce nccl calibration"
	groupTraining  = "training"
	unitSeconds    = "s"
	unitGbps       = "Gb/s"
	bitsPerByte    = 8
	siteLevelIndex = 1
)

// NetworkGroups lists the groups in report order.
func NetworkGroups() []string {
	return []string{GroupP2PNCCL, GroupP2PGloo, GroupCloud, GroupARNCCL, GroupARGloo, GroupLinkCalib}
}

// RowTopology builds the topology a network row describes: one GPU per
// host (the notes: one V100 per p3.2xlarge), the hosts joined by a site
// level at the row's per-GPU bandwidth and one-way latency (tc netem on
// every host's egress, or the cross-region path) and the row's library
// as the level's transport. It is the one description of a row's link:
// on AWS's unshaped default link a send/recv, one direction alone, runs
// at the nominal 10 Gb/s, and traffic that runs both ways on every host
// (the all-reduce and training rows) at the rate the set measures for it
// (defaultLinkGbps).
func (r NetRow) RowTopology(transport string) topology.Topology {
	gbps := r.BandwidthGbps
	if g := defaultLinkGbps(); r.defaultLink() && r.Kind != "p2p" && g > 0 {
		// Every host sends and receives at once (a ring, a pipeline's
		// both directions, FSDP's collectives): the default link's
		// measured rate for that traffic (defaultLinkGbps).
		gbps = g
	}
	if strings.HasPrefix(r.ID, "vpn-") {
		// iperf3 reports TCP payload; the line carrying it is that over
		// the transport's frame goodput.
		gbps = cloudVPNGbps
		if t, err := network.LookupTechnology(transport, "transport"); err == nil && t.FrameGoodput > 0 {
			gbps /= t.FrameGoodput
		}
	}
	return topology.Topology{Levels: []topology.Level{
		{Name: "node", Size: 1, BandwidthGbps: gbps, LatencyUs: 0},
		{Name: "region", Size: max(r.GPUs, 2), BandwidthGbps: gbps, LatencyUs: r.LatencyMs * 1e3, Transport: transport},
	}}
}

// library says which collective library a row ran, from its notes.
func (r NetRow) library() (string, bool) {
	switch {
	case strings.Contains(r.Notes, "Gloo"):
		return "gloo-tcp", true
	case strings.Contains(r.Notes, "NCCL"):
		return "nccl-socket", true
	}
	return "", false
}

// netGroup names the row's group.
func (r NetRow) netGroup(lib string) string {
	switch {
	case r.Kind == "p2p" && strings.HasPrefix(r.ID, "vpn-"):
		return GroupCloud
	case r.Kind == "p2p" && lib == "gloo-tcp":
		return GroupP2PGloo
	case r.Kind == "p2p":
		return GroupP2PNCCL
	case lib == "gloo-tcp":
		return GroupARGloo
	}
	return GroupARNCCL
}

// RunNetwork predicts every p2p and all-reduce row with the host
// transports under p, runs the training rows the step model expresses
// (trainingResult: the catalog's transports, through the engines' own
// links) and lists the others with the reason they are not.
func RunNetwork(rows []NetRow, p NetParams) (NetReport, error) {
	nccl, gloo := p.transports()
	rep := NetReport{Params: p}
	byGroup := map[string][]Result{}
	var all []Result
	for _, r := range rows {
		if r.Kind == groupTraining {
			res, why := trainingResult(r)
			if why != "" {
				rep.Skipped = append(rep.Skipped, Skipped{ID: r.ID, Model: r.Model, Reason: why})
				continue
			}
			rep.Rows = append(rep.Rows, res)
			byGroup[res.Group] = append(byGroup[res.Group], Result{ErrorPct: res.ErrorPct})
			continue
		}
		lib, ok := r.library()
		if !ok {
			rep.Skipped = append(rep.Skipped, Skipped{ID: r.ID, Reason: "notes name neither NCCL nor Gloo"})
			continue
		}
		tech := nccl
		if lib == "gloo-tcp" {
			tech = gloo
		}
		topo := r.RowTopology(lib)
		path := network.HostPath{
			LineBytesPerSec: topo.Levels[siteLevelIndex].BandwidthGbps * 1e9 / bitsPerByte,
			RTTS:            2 * topo.OneWayLatencyS(siteLevelIndex),
			FlowBytesPerSec: awsSingleFlowGbps * 1e9 / bitsPerByte,
		}
		res := NetResult{
			ID: r.ID, Group: r.netGroup(lib), Transport: lib, GPUs: r.GPUs, MiB: r.MessageBytes / (1 << 20),
			LatencyMs: r.LatencyMs, LinkGbps: topo.Levels[siteLevelIndex].BandwidthGbps, Unit: unitSeconds, Measured: r.MeasuredValue,
		}
		flows := 0
		switch {
		case r.Kind == "p2p" && r.Op == "send-recv":
			t := tech.HostSendRecvTime(r.MessageBytes, path)
			res.Predicted = t
			if r.Measured == "p2p_bandwidth_gbps" {
				res.Unit, res.Predicted = unitGbps, r.MessageBytes*bitsPerByte/t/1e9
			}
		case r.Kind == "collective" && r.Op == "all-reduce":
			res.Predicted = tech.HostAllReduceTime(r.MessageBytes, r.GPUs, path)
			flows = tech.RingFlows
		default:
			rep.Skipped = append(rep.Skipped, Skipped{ID: r.ID, Reason: fmt.Sprintf("%s %s is not priced yet", r.Kind, r.Op)})
			continue
		}
		_, lim := tech.HostRate(path, flows)
		res.Limit = string(lim)
		if !(r.MeasuredValue > 0) || math.IsNaN(res.Predicted) || math.IsInf(res.Predicted, 0) {
			return NetReport{}, fault.BadInput(fmt.Errorf("network row %s: measured %g, predicted %g", r.ID, r.MeasuredValue, res.Predicted))
		}
		res.ErrorPct = 100 * (res.Predicted/res.Measured - 1)
		e := Result{ErrorPct: res.ErrorPct}
		if r.calibratesLink() {
			res.Group = GroupLinkCalib
		} else {
			all = append(all, e)
		}
		rep.Rows = append(rep.Rows, res)
		byGroup[res.Group] = append(byGroup[res.Group], e)
	}
	byGroup[GroupTrainSlowdown] = slowdowns(rows, rep.Rows)
	rep.Groups = append(rep.Groups, group("all", "all", all))
	for _, g := range append(NetworkGroups(), TrainingGroups()...) {
		if len(byGroup[g]) > 0 {
			rep.Groups = append(rep.Groups, group("group", g, byGroup[g]))
		}
	}
	return rep, nil
}

// trainingReason says why a training row of the network set is not run:
// what the step model still lacks for it, and whether its model is in the
// catalog.
func trainingReason(r NetRow) string {
	need := map[string]string{
		"send-recv":                 "1F1B pipeline sends overlapped with compute over a slow link (issue 11 item 1)",
		"all-reduce":                "bucketed data-parallel all-reduce overlapped with backward over slow links (issue 11 item 3)",
		"ps-push-pull":              "parameter-server push/pull (issue 11 item 3)",
		"all-gather/reduce-scatter": "ZeRO-3 parameter gathers ahead of use over slow links (issue 11 item 3)",
		"hivemind-averaging":        "hivemind averaging and a samples/s measure",
	}[r.Op]
	if need == "" {
		need = "a step model for " + r.Op
	}
	if r.Measured == "compute_utilization" {
		need = "DiLoCo outer all-reduce and a compute-utilization measure"
	}
	if _, err := model.Lookup(r.Model); err != nil {
		return fmt.Sprintf("needs %s; model %s is not in the catalog", need, r.Model)
	}
	if _, err := train.ParsePrecision(r.Precision); err != nil {
		prec := r.Precision
		if prec == "unknown" || prec == "" {
			// The DS3Lab 1F1B timings sit near their fp32 GPipe table.
			prec = "unknown (timings near fp32)"
		}
		return fmt.Sprintf("needs %s; precision %s is not a training precision of the step model", need, prec)
	}
	return "needs " + need
}

// NetworkMAPE is the MAPE over all rows of a report.
func NetworkMAPE(rep NetReport) float64 {
	if len(rep.Groups) == 0 {
		return 0
	}
	return rep.Groups[0].MAPE
}

// FitNetwork searches the three fitted transport parameters over a grid
// inside their physical ranges (start-up 0-4 round trips in steps of 0.1,
// 1-16 NCCL channels, Gloo ring copies 1-2 in steps of 0.05) for the least
// MAPE over all p2p and all-reduce rows but the link's calibration rows
// (GroupLinkCalib). The channels move only the NCCL
// rows and the ring copies only the Gloo rows, so for each start-up value
// the two are searched apart. The grid and its order are fixed, so the fit
// is deterministic; ties keep the first point.
func FitNetwork(rows []NetRow) (NetParams, NetReport, error) {
	var best NetParams
	bestSum := math.Inf(1)
	// The fit is over the p2p and all-reduce rows; the training rows only
	// report what the fitted transports predict for them.
	var netRows []NetRow
	for _, r := range rows {
		if r.Kind != groupTraining {
			netRows = append(netRows, r)
		}
	}
	errSum := func(p NetParams, transport string) (float64, error) {
		rep, err := RunNetwork(netRows, p)
		if err != nil {
			return 0, err
		}
		var sum float64
		for _, r := range rep.Rows {
			if r.Transport == transport && r.Group != GroupLinkCalib {
				sum += math.Abs(r.ErrorPct)
			}
		}
		return sum, nil
	}
	for s := 0; s <= 40; s++ {
		startup := float64(s) / 10
		p := NetParams{StartupRTTs: startup}
		nBest, gBest := math.Inf(1), math.Inf(1)
		for ch := 1; ch <= 16; ch++ {
			sum, err := errSum(NetParams{StartupRTTs: startup, NCCLChannels: ch, GlooRingCopies: 1}, "nccl-socket")
			if err != nil {
				return NetParams{}, NetReport{}, err
			}
			if sum < nBest-1e-9 {
				nBest, p.NCCLChannels = sum, ch
			}
		}
		for c := 0; c <= 20; c++ {
			copies := 1 + float64(c)/20
			sum, err := errSum(NetParams{StartupRTTs: startup, NCCLChannels: 1, GlooRingCopies: copies}, "gloo-tcp")
			if err != nil {
				return NetParams{}, NetReport{}, err
			}
			if sum < gBest-1e-9 {
				gBest, p.GlooRingCopies = sum, copies
			}
		}
		if nBest+gBest < bestSum-1e-9 {
			best, bestSum = p, nBest+gBest
		}
	}
	rep, err := RunNetwork(rows, best)
	return best, rep, err
}

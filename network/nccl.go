package network

import (
	"math"

	"github.com/scaleacross/scaleacross/topology"
)

// NCCL is NCCL's own choice per call: ring or tree, by the message size
// and the group's ranks and nodes, as its tuning model picks them
// (NCCLTuned). A level whose collectives run through NCCL with no
// NCCL_ALGO override has this algorithm; a spec names it "nccl". It is a
// description of a run, not an option the Explorer searches (Algorithms
// leaves it out).
const NCCL Algorithm = "nccl"

// Protocol is one of NCCL's wire protocols.
type Protocol string

// NCCL protocols (LL128 is enabled only over NVLink with intra-node PCI
// paths, so the tuner never offers it across a socket or RDMA network;
// NCCL src/graph/tuning.cc, protoEnable).
const (
	ProtoLL     Protocol = "LL"
	ProtoSimple Protocol = "Simple"
)

// The tuning model of NCCL 2.7-2.10 (NVIDIA/nccl@01afd20, src/graph/
// tuning.cc; the DS3Lab runs of 2022 used a PyTorch 1.10 build, which
// ships NCCL 2.10): the latency of an algorithm and protocol in us is a
// base plus a per-hop latency times the hops, inter-node hops at the NET
// figure, and its bandwidth a fraction of the bus bandwidth (channels x
// the NIC's speed). NCCL times every enabled pair as latency + bytes /
// bandwidth and runs the fastest. The figures are NCCL's estimates of
// its own software and fabric, not the run's links: a socket net plugin
// reports no latency, so neither a WAN round trip nor a tc-shaped rate
// enters the choice (reference/network.md, NCCL row).
const (
	ncclBaseLatTreeLL     = 4.4 // baseLat[Tree][LL], us
	ncclBaseLatRingLL     = 3.6 // baseLat[Ring][LL]
	ncclBaseLatRingSimple = 8.4 // baseLat[Ring][Simple]; Tree/Simple's base is 0
	ncclNetLatTreeLL      = 5.0 // hwLat[NET][Tree][LL], per inter-node hop
	ncclNetLatTreeSimple  = 50  // hwLat[NET][Tree][Simple]
	ncclNetLatRingLL      = 2.7 // hwLat[NET][Ring][LL]
	ncclNetLatRingSimple  = 9.6 // hwLat[NET][Ring][Simple]
	ncclNVLLatTreeLL      = 0.52
	ncclNVLLatTreeSimple  = 28
	ncclNVLLatRingLL      = 0.47
	ncclNVLLatRingSimple  = 3.4
	// ncclLLNodesFactor multiplies the intra-node LL latency of a
	// multi-node group ("intraLat *= 1.8").
	ncclLLNodesFactor = 1.8
	// ncclRingLLShare is ring LL's share of the bus bandwidth across nodes
	// (1/4: half of every 8-byte line is flags, and the LL path is slower).
	ncclRingLLShare = 1.0 / 4
	// ncclTreeShare and ncclTreeLLShare: a tree reaches .9 of the bus
	// bandwidth (at most 80 GB/s beyond two nodes, 110 on two), LL 1/3.8
	// of that, and its algorithm bandwidth is half the bus bandwidth.
	ncclTreeShare    = 0.9
	ncclTreeLLShare  = 1 / 3.8
	ncclTreeMaxGBps  = 80
	ncclTreeMax2GBps = 110
	// ncclRingPlateau multiplies ring Simple's latency for a multi-node
	// all-reduce of at least nRanks/16 x 64 KiB ("plateau effect of ring").
	ncclRingPlateau = 1.9
	// ncclChannels is the channels of the ring and tree graphs NCCL
	// builds for one GPU and one NIC per host; the search may also
	// duplicate them to 2. Assumption (the run's logs are not public); the
	// choice for the DS3Lab rows' tensors is the same at 1 or 2
	// (TestNCCLChoiceStableInChannels).
	ncclTunerChannels = 1
)

// ncclTreeCorrection is NCCL's correction of the tree bandwidth for
// medium sizes, by log2(bytes/64) from 0 to 21, for LL and Simple
// (treeCorrectionFactor in the same tuning.cc; 1 from 2^22 x 64 bytes).
var ncclTreeCorrection = [2][22]float64{
	{1.0, 1.0, 1.0, 1.0, .9, .8, .7, .7, .7, .7, .6, .5, .4, .4, .5, .6, .7, .8, .9, 1.0, 1.0, 1.0},
	{.9, .9, .9, .9, .9, .9, .9, .8, .7, .6, .6, .5, .5, .5, .5, .5, .5, .6, .6, .7, .8, .9},
}

// log2i is floor(log2(n)) for n >= 1, and 0 below (NCCL's log2i).
func log2i(n float64) int {
	if n < 2 {
		return 0
	}
	return int(math.Floor(math.Log2(n)))
}

// NCCLTuned is the algorithm and protocol NCCL's tuner picks for
// collective k of bytes (the user buffer) over ranks GPUs on nodes hosts,
// with busGBps the bus bandwidth it assumes per channel (the NIC speed,
// GB/s, across hosts; the NVLink speed inside one), and its estimated
// time in us. Only all-reduce has a tree; the other collectives run as a
// ring. The constants are NCCL's own (see above), so the choice follows
// NCCL's documented defaults, whatever the links really do.
func NCCLTuned(k Kind, bytes float64, ranks, nodes int, busGBps float64) (Algorithm, Protocol, float64) {
	if ranks <= 1 || k != AllReduce && k != AllGather && k != ReduceScatter {
		return Ring, ProtoSimple, 0
	}
	nodes = max(min(nodes, ranks), 1)
	n, nn := float64(ranks), float64(nodes)
	ppn := ranks / nodes
	steps, inter := 2*(n-1), 2*(nn-1)
	if k != AllReduce {
		steps, inter = n-1, nn-1
	}
	bus := ncclTunerChannels * math.Max(busGBps, 1e-9)
	logSize := log2i(bytes / 64)
	type option struct {
		a       Algorithm
		p       Protocol
		lat, bw float64 // us, GB/s
	}
	intraLL, intraSimple := ncclNVLLatRingLL, ncclNVLLatRingSimple
	if nodes > 1 {
		intraLL *= ncclLLNodesFactor
	}
	ringLL := option{Ring, ProtoLL, ncclBaseLatRingLL + (steps-inter)*intraLL + inter*ncclNetLatRingLL, bus * ncclRingLLShare * n / steps}
	ringSimple := option{Ring, ProtoSimple, ncclBaseLatRingSimple + (steps-inter)*intraSimple + inter*ncclNetLatRingSimple, bus * n / steps}
	if nodes == 1 {
		ringLL.lat = ncclBaseLatRingLL + steps*intraLL
		ringSimple.lat = ncclBaseLatRingSimple + steps*intraSimple
	}
	if k == AllReduce && nodes > 1 && bytes >= n/16*65536 {
		ringSimple.lat *= ncclRingPlateau
	}
	opts := []option{ringLL, ringSimple}
	if k == AllReduce {
		maxTree := float64(ncclTreeMaxGBps)
		if nodes <= 2 {
			maxTree = ncclTreeMax2GBps
		}
		tb := math.Min(bus*ncclTreeShare, maxTree)
		hops := float64(log2i(nn))
		intraTreeLL := ncclNVLLatTreeLL
		if nodes > 1 {
			intraTreeLL *= ncclLLNodesFactor
		}
		treeLL := option{Tree, ProtoLL, ncclBaseLatTreeLL + 2*(float64(ppn-1)*intraTreeLL+hops*ncclNetLatTreeLL), tb * ncclTreeLLShare * 0.5}
		treeSimple := option{Tree, ProtoSimple, 2 * (float64(ppn-1)*ncclNVLLatTreeSimple + hops*ncclNetLatTreeSimple), tb * 0.5}
		if logSize < len(ncclTreeCorrection[0]) {
			treeLL.bw *= ncclTreeCorrection[0][logSize]
			treeSimple.bw *= ncclTreeCorrection[1][logSize]
		}
		opts = append(opts, treeLL, treeSimple)
	}
	best, bestT := opts[0], math.Inf(1)
	for _, o := range opts {
		// bytes / (1000 * GB/s) is in us.
		if t := o.lat + bytes/(1000*o.bw); t < bestT {
			best, bestT = o, t
		}
	}
	return best.a, best.p, bestT
}

// ncclAlgorithm resolves NCCL for one call of k over span s on links: the
// tuner's pick for the group's ranks and hosts (GPUs inside the innermost
// level share a host) at the outermost level's NIC speed.
func ncclAlgorithm(k Kind, bytes float64, s topology.Span, links []Link) Algorithm {
	n := s.Size()
	perNode := 1
	if len(s.Factors) > 0 {
		perNode = max(s.Factors[0], 1)
	}
	nodes := max(n/perNode, 1)
	o := s.Outermost()
	bus := 0.0
	if o >= 0 && o < len(links) {
		bus = links[o].NICBytesPerSec
		if bus <= 0 {
			bus = links[o].BytesPerSec
		}
	}
	a, _, _ := NCCLTuned(k, bytes, n, nodes, bus/1e9)
	return a
}

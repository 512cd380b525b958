package network

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/scaleacross/scaleacross/fault"
)

// Recovery is how a transport repairs a lost packet.
type Recovery string

// Loss-recovery schemes.
const (
	// GoBackN resends every packet in flight after the lost one: the
	// RoCEv2 default on ConnectX NICs (IBTA RC transport semantics).
	GoBackN Recovery = "go-back-n"
	// Selective resends only the lost packet (TCP SACK, RFC 2018;
	// selective repeat on newer RDMA NICs).
	Selective Recovery = "selective"
)

// Control is what governs a transport's sending rate at distance.
type Control string

// Rate-control families, each limited by something different.
const (
	// ControlNone: nothing but the line rate, the windows and the loss
	// limit the sender (a short-RTT native fabric).
	ControlNone Control = "none"
	// ControlPFC: hop-by-hop lossless pause (RoCEv2 with PFC only, or
	// InfiniBand credits). A port keeps sending at full rate only while its
	// buffer can absorb what is in flight when it pauses the sender, about
	// rate x RTT; with less buffer it must pause early and its throughput
	// falls to buffer/RTT.
	ControlPFC Control = "pfc"
	// ControlAIMD: end-to-end rate control that cuts the rate on congestion
	// and probes back up (DCQCN, TCP Reno/CUBIC). A synchronised
	// additive-increase/multiplicative-decrease loop fills the pipe only when
	// the bottleneck buffer is at least the bandwidth-delay product; with
	// less, the sawtooth leaves the link idle part of the time, down to 75%
	// utilisation with no buffer (Appenzeller, Keslassy, McKeown, "Sizing
	// router buffers", SIGCOMM 2004, single-flow analysis).
	ControlAIMD Control = "aimd"
	// ControlDistanceAware: congestion control that knows the path's RTT and
	// paces to the bandwidth-delay product, so neither the switch buffer nor
	// a sawtooth limits it (NVIDIA Spectrum-XGS, 2025).
	ControlDistanceAware Control = "distance-aware"
)

// Technology is a named network-layer transport with the parameters that
// limit what it delivers over a level: line rate, in-flight windows over
// the round-trip time, switch buffer against the bandwidth-delay product,
// congestion control and loss recovery. Every field says where its value
// comes from in the catalog entry's Sources.
type Technology struct {
	Name    string `json:"name"`
	Summary string `json:"summary"`
	// Control is the rate-control family (see the Control constants).
	Control Control `json:"control"`
	// BufferBytes is the switch buffer (or link-level credit) one port can
	// give to in-flight data for ControlPFC and ControlAIMD.
	BufferBytes float64 `json:"buffer_bytes,omitempty"`
	// Flows is the number of connections, queue pairs or sockets one GPU
	// drives across the level at once.
	Flows int `json:"flows"`
	// WindowBytes caps what one flow keeps in flight (the TCP receive
	// window); 0 means no per-flow window.
	WindowBytes float64 `json:"window_bytes,omitempty"`
	// Channels and ChannelBufferBytes model the collective library on top:
	// NCCL keeps one buffer per channel in flight (NCCL_BUFFSIZE), so one
	// GPU moves at most Channels*ChannelBufferBytes per RTT.
	Channels           int     `json:"channels"`
	ChannelBufferBytes float64 `json:"channel_buffer_bytes"`
	// Spraying sends each flow's packets over every equal-cost path
	// (adaptive routing, packet spraying); without it flows are hashed
	// onto paths (ECMP) and collide.
	Spraying bool `json:"spraying"`
	// Recovery is the loss-recovery scheme.
	Recovery Recovery `json:"recovery"`
	// MTUBytes is the packet payload used by loss recovery arithmetic.
	MTUBytes float64 `json:"mtu_bytes"`
	// PortGbps is the switch port rate the buffers are sized against and
	// the rate of one equal-cost path.
	PortGbps float64 `json:"port_gbps"`
	// StartupRTTs is the round trips one message loses before it flows at
	// the transport's rate (rendezvous and the TCP window ramp); 0 for the
	// cluster fabrics, whose collectives price latency per ring step. The
	// host-pair pricing (HostSendRecvTime, HostAllReduceTime) reads it, and
	// Links carries it as Link.StartupS for a transfer on idle connections.
	StartupRTTs float64 `json:"startup_rtts,omitempty"`
	// RingFlows is the connections one rank drives at once in a ring
	// all-reduce (Gloo talks to both neighbours); 0 means Flows.
	RingFlows int `json:"ring_flows,omitempty"`
	// RingCopies is the bytes a ring all-reduce sends over those of a
	// pipelined ring, 2(n-1)/n of the buffer; 0 means 1.
	RingCopies float64 `json:"ring_copies,omitempty"`
	// RingChannels is the channels a collective's ring runs on, each
	// keeping one ChannelBufferBytes in flight per round trip; 0 means
	// Channels (the count sends and receives run on).
	RingChannels int `json:"ring_channels,omitempty"`
	// RingSliceBytes is what a ring's receiver takes in whole before it
	// hands the buffer back (NCCL's slice), so that a channel's buffer
	// comes back once per round trip plus a slice at the line rate; 0
	// means no slice term. Ring sets SliceBytes from it.
	RingSliceBytes float64 `json:"ring_slice_bytes,omitempty"`
	// SliceBytes is RingSliceBytes on the technology Ring returns (zero
	// for sends, whose fitted channel count covers it).
	SliceBytes float64 `json:"slice_bytes,omitempty"`
	// FrameGoodput is the fraction of the line rate a TCP stream carries
	// as payload on a host path whose line is the bottleneck (a tc-shaped
	// or NIC-limited Ethernet link): the segment's payload over the frame
	// the shaper counts. Links uses it in place of the collective
	// efficiency of the cluster fabrics, whose NCCL kernels, not the line,
	// set the pace; 0 means that efficiency.
	FrameGoodput float64 `json:"frame_goodput,omitempty"`
	// Sources lists where the parameters come from.
	Sources []string `json:"sources"`
}

// Constants shared by the catalog entries.
const (
	mib = 1 << 20
	// ncclBuffSize is NCCL's default per-channel buffer for the Simple
	// protocol, NCCL_BUFFSIZE = 4 MiB (NCCL environment-variable docs).
	ncclBuffSize = 4 * mib
	// ncclChannels is an assumed channel count per GPU for inter-node
	// traffic; NCCL allows up to 64 (NCCL_MAX_NCHANNELS) and picks fewer
	// by default. Assumption, not a measured value.
	ncclChannels = 16
	// shallowBuffer is an assumed per-port share of a shallow shared-buffer
	// 51.2 Tb/s switch ASIC (on the order of 100-165 MB shared by 64-128
	// ports): ~2 MB per port for PFC headroom or queueing. Assumption.
	shallowBuffer = 2e6
	// roceMTU is the common RoCEv2 payload MTU of 4096 bytes.
	roceMTU = 4096
	// tcpMSS is an Ethernet TCP segment of 1448 bytes payload (1500 MTU).
	tcpMSS = 1448
	// linuxMaxWindow is the Linux default maximum TCP receive window,
	// tcp_rmem max = 6 MiB (Linux ip-sysctl documentation).
	linuxMaxWindow = 6 * mib
	// linuxMaxWindow616 is the default from kernel 6.16 on, 32 MiB.
	linuxMaxWindow616 = 32 * mib
	// metroxReachKm is the reach at full 400G rate of an InfiniBand
	// long-haul appliance (NVIDIA MetroX-3 XC: up to 40 km); its buffer
	// is sized for that distance.
	metroxReachKm = 40
	// metaQPs is Meta's 16 flows (queue pairs) per GPU pair in the Llama 3
	// RoCE clusters (Gangidi et al., "RDMA over Ethernet for Distributed
	// AI Training at Meta Scale", SIGCOMM 2024).
	metaQPs = 16
	// linuxAdvWindow is the receive window a Linux socket advertises at
	// the default tcp_rmem max: tcp_adv_win_scale = 1 gives half the
	// buffer to the window, 6 MiB / 2 = 3 MiB (Linux ip-sysctl docs).
	linuxAdvWindow = linuxMaxWindow / 2
	// awsSockets is NCCL's socket count per peer on AWS: the socket
	// transport picks 2 threads x 8 sockets when it detects an AWS host
	// (NCCL src/transport/net_socket.cc, ncclSocketGetNsockNthread;
	// NCCL_SOCKET_NTHREADS x NCCL_NSOCKS_PERTHREAD). The measured
	// cross-region script sets 4 threads x 4 sockets, also 16.
	awsSockets = 16
	// hostStartupRTTs is fitted: the round trips a send over TCP loses
	// before it flows at rate (handshake and window ramp), fitted over the
	// 174 p2p and all-reduce rows of the network measurement set
	// (validate.FitNetwork; range 0-4 round trips).
	hostStartupRTTs = 2.8
	// ncclSocketChannels is fitted: NCCL buffers (NCCL_BUFFSIZE, 4 MiB
	// each) in flight per peer over the socket transport, fitted over the
	// same rows (validate.FitNetwork; range 1-16 channels). NCCL sets the
	// count per network peer itself unless NCCL_NCHANNELS_PER_NET_PEER
	// overrides it, and allows up to 64 channels (NCCL_MAX_NCHANNELS).
	ncclSocketChannels = 5
	// ncclRingChannels is the channels NCCL's collectives run on between
	// hosts of one GPU and one NIC each: the ring search finds one channel
	// through the host's single NIC and ncclTopoPreset duplicates every
	// channel it found ("Duplicate channels rings/trees", NVIDIA/nccl
	// src/graph/connect.cc), so a ring all-gather, reduce-scatter or
	// all-reduce keeps 2 x NCCL_BUFFSIZE in flight per neighbour. Sends and
	// receives run on NCCL's own peer-to-peer channels (ncclSocketChannels,
	// fitted).
	ncclRingChannels = 2
	// ncclRingSlice is the slice of NCCL's ring collectives, the unit a
	// receiving GPU consumes and hands back: ALLGATHER_SLICESTEPS,
	// REDUCESCATTER_SLICESTEPS and ALLREDUCE_SLICESTEPS are NCCL_STEPS/4
	// of the NCCL_STEPS = 8 steps a channel's buffer is cut into
	// (NVIDIA/nccl src/include/collectives.h, device.h), 4 MiB / 4.
	ncclRingSlice = ncclBuffSize / 4
	// awsFrameGoodput is a TCP segment's payload over the frame a shaper
	// counts on an AWS host link: EC2 instances in a VPC use a 9001-byte
	// MTU (AWS EC2 documentation, "Network maximum transmission unit (MTU)
	// for your EC2 instance": jumbo frames inside a VPC); IPv4 and TCP take
	// 40 bytes and Linux's TCP timestamps another 12 (RFC 7323; on by
	// default, net.ipv4.tcp_timestamps), a payload of 8,949 bytes; tc's
	// netem rate counts each packet from its 14-byte Ethernet header (the
	// packet's length at the root qdisc: netem's packet_overhead is what
	// "replaces the 14 byte Ethernet header", Linux commit 90b41a1cd44c,
	// "netem: add cell concept to simulate special MAC behavior"), 9,015
	// bytes. The NCCL
	// send/recv rows on shaped links bear it out: 128 MiB at 1 Gb/s in
	// 1.082 s, 134.2 MB at 0.9927 x 125 MB/s plus the start-up round trips.
	awsFrameGoodput = (9001.0 - 40 - 12) / (9001 + 14)
	// glooRingCopies is fitted: Gloo's ring all-reduce, measured on tc
	// links, moves about this many times the bytes of a pipelined ring
	// (validate.FitNetwork; range 1-2). Not explained by Gloo's source
	// yet; an empirical factor.
	glooRingCopies = 1.8
)

// Native is the name of the level's own fabric: NVLink inside a node, the
// cluster's RoCE or InfiniBand elsewhere. It is limited only by the line
// rate and NCCL's in-flight buffers, which do not bind at data-center RTTs.
const Native = "native"

// technologyNames is the catalog order.
func technologyNames() [9]string {
	return [...]string{Native, "roce-pfc", "roce-pfc-deep", "roce-dcqcn", "roce-multipath", "spectrum-xgs", "ib-longhaul", "tcp", "tcp-32m"}
}

// Technologies returns the named network-layer technologies, in a fixed
// order, with Native first.
func Technologies() []Technology {
	names := technologyNames()
	out := make([]Technology, 0, len(names))
	for _, n := range names {
		t, _ := catalog(n)
		out = append(out, t)
	}
	return out
}

// catalog builds the entry called name.
func catalog(name string) (Technology, bool) {
	// Buffer that lets a 400 Gb/s port keep full rate over the MetroX reach:
	// rate x RTT, the RTT from fiber propagation alone.
	metrox := 400e9 / 8 * 2 * metroxReachKm * 4.9e-6
	switch name {
	case Native:
		return Technology{
			Name:    Native,
			Summary: "the level's own fabric (NVLink in the node, RoCE/IB in the cluster); no window or buffer limit at short RTT",
			Control: ControlNone, Flows: metaQPs, Channels: ncclChannels, ChannelBufferBytes: ncclBuffSize,
			Spraying: true, Recovery: GoBackN, MTUBytes: roceMTU, PortGbps: 400,
			Sources: []string{"NCCL_BUFFSIZE 4 MiB default (NCCL docs)", "channels: assumption"},
		}, true
	case "roce-pfc":
		return Technology{
			Name:    "roce-pfc",
			Summary: "RoCEv2 lossless with PFC only, shallow-buffer switches: throughput capped at buffer/RTT once the buffer is below rate x RTT",
			Control: ControlPFC, BufferBytes: shallowBuffer, Flows: metaQPs, Channels: ncclChannels, ChannelBufferBytes: ncclBuffSize,
			Recovery: GoBackN, MTUBytes: roceMTU, PortGbps: 400,
			Sources: []string{"PFC only, 16 QPs per GPU pair: Meta SIGCOMM 2024 RoCE paper", "2 MB per port: assumption (shallow shared buffer)", "go-back-N: RoCEv2 RC default"},
		}, true
	case "roce-pfc-deep":
		return Technology{
			Name:    "roce-pfc-deep",
			Summary: "RoCEv2 lossless with PFC on deep-buffer (HBM) switches, as Meta's spines: 100 MB per port covers ~200 km at 400G",
			Control: ControlPFC, BufferBytes: 100e6, Flows: metaQPs, Channels: ncclChannels, ChannelBufferBytes: ncclBuffSize,
			Recovery: GoBackN, MTUBytes: roceMTU, PortGbps: 400,
			Sources: []string{"deep-buffer spines: Meta SIGCOMM 2024", "100 MB per port: assumption (GB-class HBM buffers shared by tens of ports)"},
		}, true
	case "roce-dcqcn":
		return Technology{
			Name:    "roce-dcqcn",
			Summary: "RoCEv2 with DCQCN (ECN rate control, PFC backstop): an AIMD sawtooth that needs rate x RTT of buffer to fill the pipe",
			Control: ControlAIMD, BufferBytes: shallowBuffer, Flows: metaQPs, Channels: ncclChannels, ChannelBufferBytes: ncclBuffSize,
			Recovery: GoBackN, MTUBytes: roceMTU, PortGbps: 400,
			Sources: []string{"DCQCN: Zhu et al., SIGCOMM 2015", "AIMD utilisation vs buffer/BDP: Appenzeller et al., SIGCOMM 2004", "2 MB per port: assumption"},
		}, true
	case "roce-multipath":
		return Technology{
			Name:    "roce-multipath",
			Summary: "RoCEv2 with DCQCN, packet spraying over all paths and 16 QPs per connection",
			Control: ControlAIMD, BufferBytes: shallowBuffer, Flows: metaQPs, Channels: ncclChannels, ChannelBufferBytes: ncclBuffSize,
			Spraying: true, Recovery: Selective, MTUBytes: roceMTU, PortGbps: 400,
			Sources: []string{"packet spraying with out-of-order placement needs selective repeat (Ultra Ethernet transport)", "16 QPs: Meta SIGCOMM 2024"},
		}, true
	case "spectrum-xgs":
		return Technology{
			Name:    "spectrum-xgs",
			Summary: "distance-aware congestion control (Spectrum-XGS-like): paces to the path's bandwidth-delay product, adaptive routing",
			Control: ControlDistanceAware, Flows: metaQPs, Channels: ncclChannels, ChannelBufferBytes: ncclBuffSize,
			Spraying: true, Recovery: GoBackN, MTUBytes: roceMTU, PortGbps: 800,
			Sources: []string{"800G ConnectX-8 SuperNIC ports", "NVIDIA Spectrum-XGS announcement, 2025: distance-aware algorithms, up to 1.9x NCCL all-reduce bandwidth at 10 km vs off-the-shelf Ethernet"},
		}, true
	case "ib-longhaul":
		return Technology{
			Name:    "ib-longhaul",
			Summary: "InfiniBand with a long-haul extension (MetroX-like): credit flow control with buffer for full 400G rate up to 40 km",
			Control: ControlPFC, BufferBytes: metrox, Flows: metaQPs, Channels: ncclChannels, ChannelBufferBytes: ncclBuffSize,
			Spraying: true, Recovery: GoBackN, MTUBytes: roceMTU, PortGbps: 400,
			Sources: []string{"NVIDIA MetroX-3: 400G InfiniBand up to 40 km (2022)", "credit buffer = 400 Gb/s x RTT(40 km): derived"},
		}, true
	case "tcp":
		return Technology{
			Name:    "tcp",
			Summary: "TCP sockets (NCCL socket transport between sites): per connection at most window/RTT, Mathis loss bound, many connections",
			Control: ControlAIMD, BufferBytes: shallowBuffer, Flows: 16, WindowBytes: linuxMaxWindow, Channels: ncclChannels, ChannelBufferBytes: ncclBuffSize,
			Recovery: Selective, MTUBytes: tcpMSS, PortGbps: 400,
			Sources: []string{"Linux tcp_rmem max 6 MiB (ip-sysctl docs)", "Mathis et al., CCR 1997: MSS/RTT x C/sqrt(p)", "16 sockets per GPU: assumption (NCCL_SOCKET_NTHREADS x NCCL_NSOCKS_PERTHREAD <= 64)"},
		}, true
	case "nccl-socket":
		return Technology{
			Name:    "nccl-socket",
			Summary: "NCCL's socket transport between hosts (no RDMA): 16 TCP sockets per peer, a few 4 MiB channel buffers in flight per round trip",
			Control: ControlNone, Flows: awsSockets, WindowBytes: linuxAdvWindow, Channels: ncclSocketChannels, ChannelBufferBytes: ncclBuffSize,
			Recovery: Selective, MTUBytes: tcpMSS, PortGbps: 10, StartupRTTs: hostStartupRTTs, RingChannels: ncclRingChannels, RingSliceBytes: ncclRingSlice, FrameGoodput: awsFrameGoodput,
			Sources: []string{"2 threads x 8 sockets on AWS: NCCL net_socket.cc", "window 3 MiB: Linux tcp_rmem max 6 MiB x tcp_adv_win_scale 1 (ip-sysctl docs)", "NCCL_BUFFSIZE 4 MiB (NCCL docs)", "collectives on 2 ring channels: one per NIC, duplicated (NCCL src/graph/connect.cc, ncclTopoPreset), handed back per 1 MiB slice (src/include/collectives.h)", "payload 8949 of a 9015-byte frame: AWS VPC MTU 9001 (EC2 docs), TCP timestamps (RFC 7323)", "channels per peer and startup round trips: fitted to the network measurement set (validate --network)"},
		}, true
	case "gloo-tcp":
		return Technology{
			Name:    "gloo-tcp",
			Summary: "Gloo over TCP: one connection per peer pair, at most its window per round trip; ring all-reduce talks to both neighbours",
			Control: ControlNone, Flows: 1, WindowBytes: linuxAdvWindow,
			Recovery: Selective, MTUBytes: tcpMSS, PortGbps: 10, StartupRTTs: hostStartupRTTs, RingFlows: 2, RingCopies: glooRingCopies, FrameGoodput: awsFrameGoodput,
			Sources: []string{"one pair per peer: gloo/transport/tcp", "window 3 MiB: Linux tcp_rmem max 6 MiB x tcp_adv_win_scale 1 (ip-sysctl docs)", "payload 8949 of a 9015-byte frame: AWS VPC MTU 9001 (EC2 docs), TCP timestamps (RFC 7323)", "ring copies and startup round trips: fitted to the network measurement set (validate --network)"},
		}, true
	case "tcp-32m":
		return Technology{
			Name:    "tcp-32m",
			Summary: "TCP with the 32 MiB default maximum window of Linux 6.16 and 64 connections",
			Control: ControlAIMD, BufferBytes: shallowBuffer, Flows: 64, WindowBytes: linuxMaxWindow616, Channels: 64, ChannelBufferBytes: ncclBuffSize,
			Recovery: Selective, MTUBytes: tcpMSS, PortGbps: 400,
			Sources: []string{"Linux 6.16 tcp_rmem max 32 MiB", "64 sockets and channels: NCCL maximum"},
		}, true
	}
	return Technology{}, false
}

// HostTechnologyNames returns the host-pair transports of the catalog:
// collective libraries over plain TCP between hosts, as the measured
// slow-link rows ran them. LookupTechnology finds them; the Explorer's
// list (TechnologyNames) does not offer them.
func HostTechnologyNames() []string { return []string{"nccl-socket", "gloo-tcp"} }

// TechnologyNames returns the catalog's names in order.
func TechnologyNames() []string {
	names := technologyNames()
	return append([]string(nil), names[:]...)
}

// LookupTechnology finds a technology by name; the empty name is Native.
// field names the spec field for the error message.
func LookupTechnology(name, field string) (Technology, error) {
	n := strings.ToLower(strings.TrimSpace(name))
	if n == "" {
		n = Native
	}
	if t, ok := catalog(n); ok {
		return t, nil
	}
	names := append(TechnologyNames(), HostTechnologyNames()...)
	sort.Strings(names)
	return Technology{}, fault.Field(field, "unknown transport %q; use one of %s", name, strings.Join(names, ", "))
}

// Path is what a technology runs over at one level.
type Path struct {
	// ShareBytesPerSec is the per-GPU bandwidth left after oversubscription
	// and site-link sharing.
	ShareBytesPerSec float64
	// RTTS is the round-trip time in seconds.
	RTTS float64
	// Loss is the packet loss probability.
	Loss float64
	// Flows is how many flows share the level's equal-cost links and
	// PathsGbps the capacity those flows can occupy (at most the
	// bottleneck's); with the technology's port rate it gives the number of
	// paths for ECMP collisions. Zero means no hashing penalty.
	Flows, PathsGbps float64
}

// Limit names what bounds a transport's throughput on a path.
type Limit string

// Limits.
const (
	LimitLine    Limit = "link-share"
	LimitWindow  Limit = "window/rtt"
	LimitChannel Limit = "nccl-buffer/rtt"
	LimitBuffer  Limit = "switch-buffer/rtt"
	LimitLoss    Limit = "loss"
)

// Throughput is the per-GPU bytes/s technology t delivers on path p and
// the factor that limits it most. It is never above p.ShareBytesPerSec.
func (t Technology) Throughput(p Path) (float64, Limit) {
	bw, line, limit := t.onShare(p)
	if !(bw > 0) {
		return 0, LimitLine
	}
	rtt := math.Max(p.RTTS, 1e-9)
	bdp := t.PortGbps * 1e9 / 8 * rtt
	// Windows over the RTT: a window-based transport (TCP) keeps at most
	// its window in flight per flow, and under loss at most the Mathis et
	// al. (CCR 1997) rate MSS/RTT * sqrt(3/2)/sqrt(p) per flow.
	if t.WindowBytes > 0 {
		perFlow, why := t.WindowBytes/rtt, LimitWindow
		if p.Loss > 0 {
			if m := t.MTUBytes / rtt * math.Sqrt(1.5) / math.Sqrt(p.Loss); m < perFlow {
				perFlow, why = m, LimitLoss
			}
		}
		if w := float64(max(t.Flows, 1)) * perFlow; w < bw {
			bw, limit = w, why
		}
	}
	if t.Channels > 0 && t.ChannelBufferBytes > 0 {
		// A buffer comes back a round trip after its last slice started,
		// and that slice takes at least its bytes at the line's rate.
		if c := float64(t.Channels) * t.ChannelBufferBytes / (rtt + t.SliceBytes/line); c < bw {
			bw = c
			limit = LimitChannel
		}
	}
	// Loss recovery for window-less (RDMA) transports.
	if p.Loss > 0 && t.WindowBytes == 0 {
		g := RecoveryGoodput(t.Recovery, p.Loss, math.Min(bdp, bw*rtt)/math.Max(t.MTUBytes, 1)/float64(max(t.Flows, 1)))
		bw *= g
		if limit == LimitLine && g < 0.99 {
			limit = LimitLoss
		}
	}
	return bw, limit
}

// onShare is what t makes of the bandwidth share p gives it before any
// per-flow ceiling (windows, NCCL buffers over the RTT) or loss: the
// share less the frame overhead a host stream pays (line, the rate its
// slices move at), the sawtooth or pause below a bandwidth-delay product
// of switch buffer, and ECMP collisions of p's flows. These scale the
// share, so they are the same on a shared uplink as a whole as on one
// GPU's share of it (UplinkBytesPerSec).
func (t Technology) onShare(p Path) (bw, line float64, limit Limit) {
	bw = p.ShareBytesPerSec
	if !(bw > 0) {
		return 0, 0, LimitLine
	}
	if t.FrameGoodput > 0 {
		bw *= t.FrameGoodput
	}
	line = bw
	limit = LimitLine
	rtt := math.Max(p.RTTS, 1e-9)
	bdp := t.PortGbps * 1e9 / 8 * rtt
	// Switch buffer against the bandwidth-delay product.
	switch t.Control {
	case ControlPFC:
		if f := t.BufferBytes / bdp; f < 1 {
			bw *= f
			limit = LimitBuffer
		}
	case ControlAIMD:
		if u := AIMDUtilisation(t.BufferBytes / bdp); u < 1 {
			bw *= u
			limit = LimitBuffer
		}
	}
	// ECMP hashing: the busiest path sets a collective's pace.
	if paths := p.PathsGbps / t.PortGbps; !t.Spraying && paths > 1 && p.Flows > 0 {
		bw *= ECMPEfficiency(p.Flows, paths)
	}
	return bw, line, limit
}

// Ring is t as a collective's ring runs it: on RingChannels channels
// where the transport names them, each buffer handed back per
// RingSliceBytes.
func (t Technology) Ring() Technology {
	if t.RingChannels > 0 {
		t.Channels = t.RingChannels
	}
	t.SliceBytes = t.RingSliceBytes
	return t
}

// AIMDUtilisation is the average link utilisation of a synchronised AIMD
// sender (window halved on congestion, then grown linearly) whose
// bottleneck buffer holds b bandwidth-delay products: the window swings
// between (1+b)/2 and 1+b BDPs and the link is busy min(w, 1) of the time.
// It is 0.75 with no buffer and 1 from b = 1 (Appenzeller et al. 2004).
func AIMDUtilisation(b float64) float64 {
	if b >= 1 || math.IsNaN(b) {
		return 1
	}
	b = math.Max(b, 0)
	lo, hi := (1+b)/2, 1+b
	// Mean of min(w, 1) for w uniform on [lo, hi].
	return ((1-lo*lo)/2 + (hi - 1)) / (hi - lo)
}

// ECMPEfficiency is the fraction of capacity a collective gets when flows
// equal flows are hashed onto paths equal-cost links and it finishes with
// the busiest link: mean load over the expected maximum load, with the
// balls-into-bins estimate max ~ m + sqrt(2 m ln P) for m = flows/paths
// (Raab and Steger, RANDOM 1998).
func ECMPEfficiency(flows, paths float64) float64 {
	if paths <= 1 || flows <= 0 {
		return 1
	}
	m := flows / paths
	mx := math.Max(math.Ceil(m), m+math.Sqrt(2*m*math.Log(paths)))
	return math.Min(1, m/mx)
}

// RecoveryGoodput is the fraction of sent bytes that are new data at loss
// rate p: selective repeat resends only the lost packet, 1/(1+p); go-back-N
// resends the inFlight packets behind each loss, 1/(1+p*inFlight).
func RecoveryGoodput(r Recovery, p, inFlight float64) float64 {
	if p <= 0 {
		return 1
	}
	if r == Selective {
		return 1 / (1 + p)
	}
	return 1 / (1 + p*math.Max(inFlight, 1))
}

// PFCHeadroomBytes is the buffer a lossless port needs so that no packet is
// dropped after it sends PAUSE: what arrives during one round trip of the
// link (2 x rate x one-way delay) plus two maximum-size packets in transit
// at each end. It grows linearly with distance (~5 MB at 10 km, ~50 MB at
// 100 km at 400 Gb/s; reference/network.md).
func PFCHeadroomBytes(rateGbps, oneWayS float64) float64 {
	return 2*rateGbps*1e9/8*oneWayS + 2*2*9216
}

// String formats a technology for listings.
func (t Technology) String() string { return fmt.Sprintf("%s (%s)", t.Name, t.Summary) }

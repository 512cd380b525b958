package network

import (
	"math"
	"testing"

	"github.com/scaleacross/scaleacross/topology"
)

func hostTech(t *testing.T, name string) Technology {
	t.Helper()
	tech, err := LookupTechnology(name, "transport")
	if err != nil {
		t.Fatal(err)
	}
	return tech
}

// At short RTT a send costs its bytes at the line rate; at long RTT NCCL's
// channel buffers over the RTT bound it, and one Gloo connection's window
// over the RTT bounds Gloo, each in closed form.
func TestHostSendRecvLimits(t *testing.T) {
	nccl, gloo := hostTech(t, "nccl-socket"), hostTech(t, "gloo-tcp")
	const bytes = 64 << 20
	short := HostPath{LineBytesPerSec: 1e9 / 8, RTTS: 1e-4, FlowBytesPerSec: 5e9 / 8}
	if got, want := nccl.HostSendRecvTime(bytes, short), nccl.StartupRTTs*1e-4+bytes/(nccl.FrameGoodput*1e9/8); math.Abs(got-want) > 1e-12 {
		t.Errorf("nccl short RTT: %g, want %g", got, want)
	}
	long := HostPath{LineBytesPerSec: 10e9 / 8, RTTS: 0.2, FlowBytesPerSec: 5e9 / 8}
	bw, lim := nccl.HostRate(long, 0)
	if want := float64(nccl.Channels) * ncclBuffSize / 0.2; math.Abs(bw-want) > 1e-6 || lim != LimitChannel {
		t.Errorf("nccl long RTT: %g %s, want %g %s", bw, lim, want, LimitChannel)
	}
	bw, lim = gloo.HostRate(long, 0)
	if want := float64(linuxAdvWindow) / 0.2; math.Abs(bw-want) > 1e-6 || lim != LimitWindow {
		t.Errorf("gloo long RTT: %g %s, want %g %s", bw, lim, want, LimitWindow)
	}
	// One Gloo flow is held to the cloud's single-flow cap (of frames).
	fast := HostPath{LineBytesPerSec: 10e9 / 8, RTTS: 1e-4, FlowBytesPerSec: 5e9 / 8}
	if bw, _ = gloo.HostRate(fast, 0); math.Abs(bw-gloo.FrameGoodput*5e9/8) > 1e-6 {
		t.Errorf("gloo single flow: %g, want the 5 Gb/s cap", bw)
	}
}

// A pipelined ring all-reduce whose per-step share outlasts the latency
// costs the start-up plus 2(n-1)/n of the bytes (times the ring copies)
// at the rate; faster links and shorter RTTs never slow it.
func TestHostAllReduce(t *testing.T) {
	nccl := hostTech(t, "nccl-socket")
	p := HostPath{LineBytesPerSec: 1e9 / 8, RTTS: 0.02, FlowBytesPerSec: 5e9 / 8}
	const bytes = 128 << 20
	got := nccl.HostAllReduceTime(bytes, 8, p)
	if want := nccl.StartupRTTs*0.02 + 2*7.0/8*bytes/(nccl.FrameGoodput*1e9/8); math.Abs(got-want) > 1e-9 {
		t.Errorf("ring: %g, want %g", got, want)
	}
	if nccl.HostAllReduceTime(bytes, 1, p) != 0 {
		t.Error("one rank should cost nothing")
	}
	for _, q := range []HostPath{{LineBytesPerSec: 2e9 / 8, RTTS: 0.02}, {LineBytesPerSec: 1e9 / 8, RTTS: 0.01}} {
		q.FlowBytesPerSec = p.FlowBytesPerSec
		if nccl.HostAllReduceTime(bytes, 8, q) > got {
			t.Errorf("%+v slower than %+v", q, p)
		}
	}
}

// The host transports are found by name but not offered to the Explorer.
func TestHostTechnologiesNotInExplorerList(t *testing.T) {
	for _, n := range HostTechnologyNames() {
		hostTech(t, n)
		for _, m := range TechnologyNames() {
			if m == n {
				t.Errorf("%s is in TechnologyNames", n)
			}
		}
	}
}

// A streamed pipeline message pays the one-way latency, not the start-up
// round trips of an isolated send/recv, whatever the transport.
func TestStreamedSendLatency(t *testing.T) {
	for _, name := range []string{"nccl-socket", "gloo-tcp"} {
		tech := hostTech(t, name)
		for _, rtt := range []float64{1e-4, 0.02, 0.2} {
			p := HostPath{LineBytesPerSec: 1e9 / 8, RTTS: rtt}
			if got := tech.StreamedSendLatency(p); got != rtt/2 {
				t.Errorf("%s at RTT %g: %g, want %g", name, rtt, got, rtt/2)
			}
			if iso := tech.HostSendRecvTime(0, p); !(iso > tech.StreamedSendLatency(p)) {
				t.Errorf("%s at RTT %g: an isolated empty send %g is not above the streamed latency", name, rtt, iso)
			}
		}
	}
}

// A host transport carries its frames' payload: 8,949 of 9,015 bytes on
// AWS's 9001-byte MTU. NCCL's collectives run on 2 ring channels whose
// buffers come back per 1 MiB slice, so at a 100 ms round trip a ring
// moves 2 x 4 MiB per round trip and a slice's time at the line, where
// sends, on the fitted peer channels, move more; at 20 ms neither binds a
// 1 Gb/s line.
func TestHostFramesAndRingChannels(t *testing.T) {
	nccl := hostTech(t, "nccl-socket")
	if want := 8949.0 / 9015; math.Abs(nccl.FrameGoodput-want) > 1e-12 {
		t.Errorf("frame goodput %g, want %g", nccl.FrameGoodput, want)
	}
	long := HostPath{LineBytesPerSec: 1e9 / 8, RTTS: 0.1}
	ring, lim := nccl.Ring().HostRate(long, 0)
	line := nccl.FrameGoodput * 1e9 / 8
	if want := 2.0 * ncclBuffSize / (0.1 + ncclBuffSize/4/line); math.Abs(ring-want) > 1e-6 || lim != LimitChannel {
		t.Errorf("ring at 100 ms: %g %s, want %g %s", ring, lim, want, LimitChannel)
	}
	if send, _ := nccl.HostRate(long, 0); !(send > ring) {
		t.Errorf("sends at 100 ms %g, want above the ring's %g", send, ring)
	}
	short := HostPath{LineBytesPerSec: 1e9 / 8, RTTS: 0.02}
	if r, lim := nccl.Ring().HostRate(short, 0); math.Abs(r-nccl.FrameGoodput*1e9/8) > 1e-6 || lim != LimitLine {
		t.Errorf("ring at 20 ms: %g %s, want the line's payload", r, lim)
	}
	// Links carry the ring's rate for collectives and price them with it.
	topo := topology.Topology{Levels: []topology.Level{
		{Name: "node", Size: 1, BandwidthGbps: 1},
		{Name: "region", Size: 12, BandwidthGbps: 1, LatencyUs: 50e3, Transport: "nccl-socket"},
	}}
	l := Links(topo, nil, 0.5)[1]
	if math.Abs(l.RingBytesPerSec-ring) > 1e-6 || !(l.BytesPerSec > l.RingBytesPerSec) {
		t.Errorf("link %+v: want ring %g below sends", l, ring)
	}
}

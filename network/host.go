package network

import "math"

// HostPath is a link between two hosts with one GPU each, as the measured
// slow-link experiments ran them: a line rate (tc rate or the cloud
// path's capacity), a round-trip time, and the cloud's cap on one flow.
type HostPath struct {
	// LineBytesPerSec is the host's egress rate on the path.
	LineBytesPerSec float64
	// RTTS is the round-trip time in seconds.
	RTTS float64
	// FlowBytesPerSec caps one TCP flow (a 5-tuple); 0 means no cap.
	FlowBytesPerSec float64
}

// HostRate is the bytes/s technology t delivers between two hosts on p
// when each rank drives flows connections at once (0 means t.Flows), and
// what limits it: the line, the flows' per-flow cap, their windows over
// the RTT, or NCCL's channel buffers over the RTT (Throughput).
func (t Technology) HostRate(p HostPath, flows int) (float64, Limit) {
	if flows <= 0 {
		flows = max(t.Flows, 1)
	}
	share := p.LineBytesPerSec
	if p.FlowBytesPerSec > 0 {
		share = math.Min(share, float64(flows)*p.FlowBytesPerSec)
	}
	u := t
	u.Flows = flows
	return u.Throughput(Path{ShareBytesPerSec: share, RTTS: p.RTTS})
}

// HostSendRecvTime is the time of one send/recv of bytes between two
// hosts on p: the start-up round trips plus the bytes at HostRate.
func (t Technology) HostSendRecvTime(bytes float64, p HostPath) float64 {
	bw, _ := t.HostRate(p, 0)
	return t.StartupRTTs*p.RTTS + bytes/bw
}

// HostAllReduceTime is the time of an all-reduce of bytes over n hosts in
// a ring on p. A pipelined ring whose per-step share (bytes/n) takes
// longer than the RTT to send hides the per-step latency behind the
// transfer, so the time is the start-up round trips plus the ring's
// 2(n-1)/n bytes (times RingCopies) at the rate of RingFlows connections;
// where the per-step share is shorter than the one-way latency, each of
// the 2(n-1) steps pays the difference.
func (t Technology) HostAllReduceTime(bytes float64, n int, p HostPath) float64 {
	if n <= 1 || bytes <= 0 {
		return 0
	}
	bw, _ := t.HostRate(p, t.RingFlows)
	copies := t.RingCopies
	if copies <= 0 {
		copies = 1
	}
	steps := 2 * float64(n-1)
	sent := copies * steps / float64(n) * bytes
	exposed := math.Max(0, p.RTTS/2-bytes/float64(n)/bw)
	return t.StartupRTTs*p.RTTS + sent/bw + steps*exposed
}

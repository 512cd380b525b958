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

// StreamedSendLatency is the latency one pipeline message pays between
// two hosts on p when it follows others on a warm connection to a
// receiver that has already posted its recv: the one-way propagation,
// half the RTT, after which its bytes flow at HostRate. The start-up
// round trips of HostSendRecvTime are what an isolated send/recv loses:
// NCCL's rendezvous (the sender streams only once the receiver's
// clear-to-send has crossed the link, and a recv posted together with the
// send waits for it) and the congestion window's ramp, which Linux redoes
// after an idle period longer than the retransmission timeout
// (net.ipv4.tcp_slow_start_after_idle, on by default, RFC 2861; the
// timeout is at least TCP_RTO_MIN, 200 ms). A pipeline stage that waits on
// its input has posted the recv before its peer sends, and consecutive
// micro-batches reuse the connection well within the timeout, so neither
// cost recurs per message. The DS3Lab GPT-3 Small 1F1B rows (3 stages over
// tc-shaped links, 64 micro-batches of 6 MB) bear it out: their slow-down
// against the default link matches the one-way latency per message within
// 4%, where the start-up round trips (2.8, fitted) per message
// over-predict it by up to 36%.
func (t Technology) StreamedSendLatency(p HostPath) float64 { return p.RTTS / 2 }

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
	bw, _ := t.Ring().HostRate(p, t.RingFlows)
	copies := t.RingCopies
	if copies <= 0 {
		copies = 1
	}
	steps := 2 * float64(n-1)
	sent := copies * steps / float64(n) * bytes
	exposed := math.Max(0, p.RTTS/2-bytes/float64(n)/bw)
	return t.StartupRTTs*p.RTTS + sent/bw + steps*exposed
}

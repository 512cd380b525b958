package schedule

// vMinMicroBatches is the fewest micro-batches a V schedule accepts:
// DualPipeV needs two per stage, the condition its reference
// implementation asserts (deepseek-ai/DualPipe, dualpipev.py:
// num_chunks >= num_ranks * 2); ZB-V runs any count (see buildZBV).
func vMinMicroBatches(k Kind, p int) int {
	if k == DualPipeV {
		return 2 * p
	}
	return 1
}

func (s *Schedule) buildV(k Kind) error {
	p := s.Params.Stages
	s.split = true
	s.Stages = make([][]Op, p)
	for r := 0; r < p; r++ {
		if k == ZBV {
			s.Stages[r] = zbvStage(p, s.Params.MicroBatches, r)
		} else {
			s.Stages[r] = dualPipeVStage(p, s.Params.MicroBatches, r)
		}
	}
	return nil
}

// vlist appends ops for the two chunks of one stage, numbering each
// chunk's forwards, backwards and weight passes in micro-batch order.
type vlist struct {
	ops          []Op
	f, b, w      [2]int
	deferred     []mc // W passes waiting, oldest first (DualPipeV)
	microBatches int  // ops on micro-batches >= this are dropped (ZB-V)
}

func (l *vlist) add(t OpType, mb, chunk int) {
	if mb < l.microBatches {
		l.ops = append(l.ops, Op{Type: t, MicroBatch: mb, Chunk: chunk})
	}
}

func (l *vlist) F(c int) { l.add(Forward, l.f[c], c); l.f[c]++ }

// FB runs chunk f's next forward fused with chunk b's next full backward.
func (l *vlist) FB(f, b int) {
	n := len(l.ops)
	l.F(f)
	if len(l.ops) > n {
		l.ops[n].Fused = true
	}
	l.BW(b)
}

// B runs chunk c's next input backward; W runs chunk c's next weight pass.
func (l *vlist) B(c int) { l.add(InputBackward, l.b[c], c); l.b[c]++ }
func (l *vlist) W(c int) { l.add(WeightBackward, l.w[c], c); l.w[c]++ }

// BW runs chunk c's next backward whole.
func (l *vlist) BW(c int) { l.add(FullBackward, l.b[c], c); l.b[c]++; l.w[c]++ }

// Bz runs chunk c's next input backward and queues its weight pass.
func (l *vlist) Bz(c int) {
	l.deferred = append(l.deferred, mc{l.b[c], c})
	l.B(c)
	l.w[c]++
}

// Wq runs the oldest queued weight pass.
func (l *vlist) Wq() {
	x := l.deferred[0]
	l.deferred = l.deferred[1:]
	l.add(WeightBackward, x.mb, x.chunk)
}

// zbvStage is the ZB-V order of stage r (Qi et al. 2023, section 6, as
// laid out by PyTorch's ScheduleZBVZeroBubble). With n = max(2p-1, m)
// micro-batches (extra ones are dropped at the end, which keeps the order
// valid for m < 2p-1):
//
//  1. 2(p-r)-1 forwards of chunk 0;
//  2. r times: F1, F0;
//  3. p-r times: F1, B1, W1;
//  4. steady, while chunk 1 trails chunk 0 or chunk 0 has forwards left:
//     F0 (if any left), B0, W0, F1, B1, W1;
//  5. cool-down: r times B0, B1; p-r times B0 and the oldest W0; then the
//     remaining W1, then W0.
func zbvStage(p, m, r int) []Op {
	n := max(2*p-1, m)
	l := &vlist{ops: make([]Op, 0, 6*m), microBatches: m}
	for i := 0; i < 2*(p-r)-1; i++ {
		l.F(0)
	}
	for i := 0; i < r; i++ {
		l.F(1)
		l.F(0)
	}
	for i := 0; i < p-r; i++ {
		l.F(1)
		l.B(1)
		l.W(1)
	}
	for l.f[1] < l.f[0] || l.f[0] < n {
		if l.f[0] < n {
			l.F(0)
		}
		l.B(0)
		l.W(0)
		l.F(1)
		l.B(1)
		l.W(1)
	}
	for i := 0; i < r; i++ {
		l.B(0)
		l.B(1)
	}
	for i := 0; i < p-r; i++ {
		l.B(0)
		l.W(0)
	}
	for l.w[1] < l.b[1] {
		l.W(1)
	}
	for l.w[0] < l.b[0] {
		l.W(0)
	}
	return l.ops
}

// dualPipeVStage is the DualPipeV order of stage r of p for m >= 2p
// micro-batches (DeepSeek-AI 2024, arXiv 2412.19437, section 3.2.1;
// the V form and its eight phases follow deepseek-ai/DualPipe's
// dualpipev.py). Chunk 0 is the stage's place on the way down the V,
// chunk 1 on the way back. A "zero-bubble" backward (Bz) runs B now and
// queues W; a plain backward runs BW.
//
//  1. 2(p-r-1) times F0;
//  2. r+1 times F0, F1;
//  3. p-r-1 times Bz1, W (queued), F1;
//  4. m-2p+r+1 times F0&BW1, F1&BW0, where & fuses a forward with a
//     backward (Op.Fused); the last stage runs its first F0, BW1 apart;
//  5. p-r-1 times BW1, F1&BW0;
//  6. r+1 times a backward of chunk 1 then of chunk 0, switching to Bz
//     halfway (so r+1 weight passes are queued);
//  7. p-r-1 times W (queued), Bz0;
//  8. r+1 times W (queued).
func dualPipeVStage(p, m, r int) []Op {
	l := &vlist{ops: make([]Op, 0, 6*m), microBatches: m}
	for i := 0; i < 2*(p-r-1); i++ {
		l.F(0)
	}
	for i := 0; i < r+1; i++ {
		l.F(0)
		l.F(1)
	}
	for i := 0; i < p-r-1; i++ {
		l.Bz(1)
		l.Wq()
		l.F(1)
	}
	for i := 0; i < m-2*p+r+1; i++ {
		if i == 0 && r == p-1 {
			// The turn of the V runs these two apart, which the
			// reference implementation notes shortens the bubble.
			l.F(0)
			l.BW(1)
		} else {
			l.FB(0, 1)
		}
		l.FB(1, 0)
	}
	for i := 0; i < p-r-1; i++ {
		l.BW(1)
		l.FB(1, 0)
	}
	zb := false
	back := func(c int) {
		if zb {
			l.Bz(c)
		} else {
			l.BW(c)
		}
	}
	for i := 0; i < r+1; i++ {
		if i == (r+1)/2 && r%2 == 1 {
			zb = true
		}
		back(1)
		if i == (r+1)/2 && r%2 == 0 {
			zb = true
		}
		back(0)
	}
	for i := 0; i < p-r-1; i++ {
		l.Wq()
		l.Bz(0)
	}
	for i := 0; i < r+1; i++ {
		l.Wq()
	}
	return l.ops
}

package train

import (
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"github.com/scaleacross/scaleacross/engine/model"
	"github.com/scaleacross/scaleacross/engine/tensor"
)

func log2(x float64) float64 { return math.Log2(x) }

// Adam is the Adam optimiser (Kingma and Ba) with decoupled weight decay
// on matrices and global gradient-norm clipping.
type Adam struct {
	Beta1, Beta2, Eps, WeightDecay, Clip float64
	m, v                                 [][]float32
	step                                 int
}

// NewAdam returns Adam with betas 0.9 and 0.95, clipping at norm 1.
func NewAdam(ps []*model.Param) *Adam {
	a := &Adam{Beta1: 0.9, Beta2: 0.95, Eps: 1e-8, WeightDecay: 0.01, Clip: 1}
	for _, p := range ps {
		a.m = append(a.m, make([]float32, len(p.W)))
		a.v = append(a.v, make([]float32, len(p.W)))
	}
	return a
}

// Step applies one update at learning rate lr and returns the gradient
// norm before clipping.
func (a *Adam) Step(ps []*model.Param, lr float64) float64 {
	var ss float64
	for _, p := range ps {
		for _, g := range p.G {
			ss += float64(g) * float64(g)
		}
	}
	norm := math.Sqrt(ss)
	scale := 1.0
	if a.Clip > 0 && norm > a.Clip {
		scale = a.Clip / norm
	}
	a.step++
	bc1 := 1 - math.Pow(a.Beta1, float64(a.step))
	bc2 := 1 - math.Pow(a.Beta2, float64(a.step))
	b1, b2 := float32(a.Beta1), float32(a.Beta2)
	for i, p := range ps {
		m, v := a.m[i], a.v[i]
		decay := float32(0)
		if len(p.Shape) > 1 {
			decay = float32(lr * a.WeightDecay)
		}
		for j, g := range p.G {
			g *= float32(scale)
			m[j] = b1*m[j] + (1-b1)*g
			v[j] = b2*v[j] + (1-b2)*g*g
			mh := float64(m[j]) / bc1
			vh := float64(v[j]) / bc2
			p.W[j] -= float32(lr*mh/(math.Sqrt(vh)+a.Eps)) + decay*p.W[j]
		}
	}
	return norm
}

// Options configures a training run.
type Options struct {
	Steps  int
	Batch  int // sequences per step
	SeqLen int // tokens per sequence (at most the context)
	LR     float64
	Seed   uint64
	// Workers is the goroutines the matrix products may use.
	Workers int
	// Log receives progress lines; EvalEvery steps between held-out
	// evaluations (0: only at the end).
	Log       io.Writer
	EvalEvery int
	// Checkpoint, when not empty, is the directory that receives the
	// weights at every evaluation and at the end.
	Checkpoint string
	// MaxEvalBytes bounds the held-out bytes evaluated (0: all).
	MaxEvalBytes int
}

func (o *Options) check(ctx int) error {
	switch {
	case o.Steps < 1:
		return fmt.Errorf("training steps %d must be at least 1", o.Steps)
	case o.Batch < 1:
		return fmt.Errorf("batch %d must be at least 1", o.Batch)
	case o.SeqLen < 2 || o.SeqLen > ctx:
		return fmt.Errorf("sequence length %d outside 2..%d (the context)", o.SeqLen, ctx)
	case !(o.LR > 0 && o.LR < 1):
		return fmt.Errorf("learning rate %g outside (0, 1)", o.LR)
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	return nil
}

// lrAt is linear warm-up over the first 5% of steps then cosine decay to
// a tenth of the peak.
func lrAt(peak float64, step, steps int) float64 {
	warm := max(1, steps/20)
	if step < warm {
		return peak * float64(step+1) / float64(warm)
	}
	p := float64(step-warm) / float64(max(1, steps-warm))
	return peak * (0.1 + 0.9*0.5*(1+math.Cos(math.Pi*p)))
}

// window draws a random window of n+1 bytes of data.
func window(rng *rand.Rand, data []byte, n int) []int {
	s := rng.IntN(len(data) - n - 1)
	return Tokens(data[s : s+n+1])
}

// BitsPerByte is the target's held-out cross-entropy in bits per byte
// over consecutive windows of the context, each scored from its start.
func BitsPerByte(m *model.Target, data []byte, maxBytes int) (float64, error) {
	if maxBytes > 0 && len(data) > maxBytes {
		data = data[:maxBytes]
	}
	n := m.Cfg.Context
	var sum float64
	var count int
	for s := 0; s+1 < len(data); s += n {
		e := min(len(data), s+n+1)
		if e-s < 2 {
			break
		}
		l, err := m.Loss(Tokens(data[s:e]), false)
		if err != nil {
			return 0, fmt.Errorf("held-out loss: %w", err)
		}
		sum += l * float64(e-s-1)
		count += e - s - 1
	}
	if count == 0 {
		return 0, fmt.Errorf("held-out text has fewer than 2 bytes")
	}
	return sum / float64(count) / math.Ln2, nil
}

// Target trains m on c and returns the final held-out bits per byte.
func Target(m *model.Target, c *Corpus, o Options) (float64, error) {
	if err := o.check(m.Cfg.Context); err != nil {
		return 0, err
	}
	m.Kern = tensor.Detect(o.Workers)
	rng := rand.New(rand.NewPCG(o.Seed, 0x7a12))
	ps := m.Params()
	opt := NewAdam(ps)
	start := time.Now()
	var bpb float64
	var run float64
	for step := 0; step < o.Steps; step++ {
		model.ZeroGrad(ps)
		var loss float64
		for b := 0; b < o.Batch; b++ {
			l, err := m.Loss(window(rng, c.Train, o.SeqLen), true)
			if err != nil {
				return 0, fmt.Errorf("training step %d: %w", step, err)
			}
			loss += l
		}
		for _, p := range ps {
			for i := range p.G {
				p.G[i] /= float32(o.Batch)
			}
		}
		loss /= float64(o.Batch)
		gn := opt.Step(ps, lrAt(o.LR, step, o.Steps))
		run = loss
		if step == 0 {
			run = loss
		}
		last := step == o.Steps-1
		if step%10 == 0 || last {
			el := time.Since(start).Seconds()
			fmt.Fprintf(o.Log, "target step %d/%d loss %.3f (%.2f bits/byte) grad-norm %.2f  %.0f tokens/s  %.0fs\n",
				step+1, o.Steps, run, run/math.Ln2, gn, float64((step+1)*o.Batch*o.SeqLen)/el, el)
		}
		if (o.EvalEvery > 0 && (step+1)%o.EvalEvery == 0) || last {
			var err error
			if bpb, err = BitsPerByte(m, c.Heldout, o.MaxEvalBytes); err != nil {
				return 0, err
			}
			fmt.Fprintf(o.Log, "target step %d held-out (%s) %.3f bits/byte\n", step+1, c.HeldoutName, bpb)
			if o.Checkpoint != "" {
				if err := SaveTarget(o.Checkpoint, m); err != nil {
					return 0, err
				}
			}
		}
	}
	return bpb, nil
}

// DraftStats are the draft's held-out losses.
type DraftStats struct {
	Reg, Cls, Agree float64
}

// evalDraft scores d on held-out windows of the context.
func evalDraft(m *model.Target, d *model.Draft, data []byte, maxBytes int) (DraftStats, error) {
	if maxBytes > 0 && len(data) > maxBytes {
		data = data[:maxBytes]
	}
	var s DraftStats
	n := 0
	for st := 0; st+m.Cfg.Context <= len(data); st += m.Cfg.Context {
		tok := Tokens(data[st : st+m.Cfg.Context])
		feat, logits, err := m.Features(tok)
		if err != nil {
			return s, err
		}
		r, c, a, err := d.DraftLoss(m, tok, feat, logits, false)
		if err != nil {
			return s, err
		}
		s.Reg, s.Cls, s.Agree = s.Reg+r, s.Cls+c, s.Agree+a
		n++
	}
	if n == 0 {
		return s, fmt.Errorf("held-out text shorter than one context of %d bytes", m.Cfg.Context)
	}
	s.Reg, s.Cls, s.Agree = s.Reg/float64(n), s.Cls/float64(n), s.Agree/float64(n)
	return s, nil
}

// Draft trains the EAGLE head d on the frozen target m's own features.
func Draft(m *model.Target, d *model.Draft, c *Corpus, o Options) (DraftStats, error) {
	if err := o.check(m.Cfg.Context); err != nil {
		return DraftStats{}, err
	}
	m.Kern = tensor.Detect(o.Workers)
	rng := rand.New(rand.NewPCG(o.Seed, 0xd4af7))
	ps := d.Params()
	opt := NewAdam(ps)
	start := time.Now()
	var st DraftStats
	for step := 0; step < o.Steps; step++ {
		model.ZeroGrad(ps)
		var reg, cls, agree float64
		for b := 0; b < o.Batch; b++ {
			tok := window(rng, c.Train, o.SeqLen-1)
			feat, logits, err := m.Features(tok)
			if err != nil {
				return st, fmt.Errorf("draft step %d: %w", step, err)
			}
			r, cl, a, err := d.DraftLoss(m, tok, feat, logits, true)
			if err != nil {
				return st, fmt.Errorf("draft step %d: %w", step, err)
			}
			reg, cls, agree = reg+r, cls+cl, agree+a
		}
		for _, p := range ps {
			for i := range p.G {
				p.G[i] /= float32(o.Batch)
			}
		}
		bn := float64(o.Batch)
		gn := opt.Step(ps, lrAt(o.LR, step, o.Steps))
		last := step == o.Steps-1
		if step%10 == 0 || last {
			el := time.Since(start).Seconds()
			fmt.Fprintf(o.Log, "draft step %d/%d feature-loss %.4f token-CE %.3f top-1 agreement %.3f grad-norm %.2f  %.0f tokens/s  %.0fs\n",
				step+1, o.Steps, reg/bn, cls/bn, agree/bn, gn, float64((step+1)*o.Batch*o.SeqLen)/el, el)
		}
		if (o.EvalEvery > 0 && (step+1)%o.EvalEvery == 0) || last {
			var err error
			if st, err = evalDraft(m, d, c.Heldout, o.MaxEvalBytes); err != nil {
				return st, err
			}
			fmt.Fprintf(o.Log, "draft step %d held-out (%s) feature-loss %.4f token-CE %.3f top-1 agreement %.3f\n", step+1, c.HeldoutName, st.Reg, st.Cls, st.Agree)
			if o.Checkpoint != "" {
				if err := saveDraft(o.Checkpoint, d); err != nil {
					return st, err
				}
			}
		}
	}
	return st, nil
}

func saveFile(path string, write func(io.Writer) error) error {
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	if err := write(f); err != nil {
		f.Close()
		return fmt.Errorf("checkpoint %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("checkpoint %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	return nil
}

// SaveTarget writes m to dir's target weight file (model.TargetFile),
// creating dir.
func SaveTarget(dir string, m *model.Target) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	return saveFile(filepath.Join(dir, model.TargetFile), func(w io.Writer) error { return model.WriteTarget(w, m) })
}

func saveDraft(dir string, d *model.Draft) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	return saveFile(filepath.Join(dir, model.DraftFile), func(w io.Writer) error { return model.WriteDraft(w, d) })
}

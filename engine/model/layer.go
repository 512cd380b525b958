package model

import (
	"math"

	"github.com/scaleacross/scaleacross/engine/tensor"
)

// rmsEps is the RMSNorm epsilon.
const rmsEps = 1e-5

// Layer is one pre-norm decoder layer: x + Attn(RMSNorm(x)), then
// h + SwiGLU(RMSNorm(h)).
type Layer struct {
	cfg                     Config
	rt                      *ropeTable
	AttnNorm, Wq, Wk, Wv    *Param
	Wo, MLPNorm, W1, W3, W2 *Param
	fuse                    *fusedLayer // packed stacked projections, built on first use
	low                     *lowLayer   // bfloat16 copies for the draft head (Draft.UseBF16)
}

func newLayer(cfg Config, prefix string) *Layer {
	d, kv, ff := cfg.Dim, cfg.KVDim(), cfg.FF
	return &Layer{
		cfg:      cfg,
		rt:       newRopeTable(cfg),
		AttnNorm: newParam(prefix+"attn_norm", d),
		Wq:       newParam(prefix+"wq", d, d),
		Wk:       newParam(prefix+"wk", kv, d),
		Wv:       newParam(prefix+"wv", kv, d),
		Wo:       newParam(prefix+"wo", d, d),
		MLPNorm:  newParam(prefix+"mlp_norm", d),
		W1:       newParam(prefix+"w1", ff, d),
		W3:       newParam(prefix+"w3", ff, d),
		W2:       newParam(prefix+"w2", d, ff),
	}
}

// Params lists the layer's tensors in file order.
func (l *Layer) Params() []*Param {
	return []*Param{l.AttnNorm, l.Wq, l.Wk, l.Wv, l.Wo, l.MLPNorm, l.W1, l.W3, l.W2}
}

// rmsNorm writes g ⊙ x / rms(x) for each of the m rows of x into y and
// returns the reciprocal rms of each row when inv is not nil.
func rmsNorm(y, x, g []float32, m, d int, inv []float32) {
	for t := 0; t < m; t++ {
		row := x[t*d : t*d+d]
		var ss float64
		for _, v := range row {
			ss += float64(v) * float64(v)
		}
		r := float32(1 / math.Sqrt(ss/float64(d)+rmsEps))
		if inv != nil {
			inv[t] = r
		}
		out := y[t*d : t*d+d]
		for i, v := range row {
			out[i] = v * r * g[i]
		}
	}
}

// rmsNormBack adds to dx the gradient through y = g ⊙ x·r and to dg the
// gain gradient, given dy.
func rmsNormBack(dx, dg, dy, x, g, inv []float32, m, d int) {
	for t := 0; t < m; t++ {
		xr, dyr, dxr := x[t*d:t*d+d], dy[t*d:t*d+d], dx[t*d:t*d+d]
		r := inv[t]
		var dot float32
		for i := range xr {
			dot += dyr[i] * g[i] * xr[i]
			dg[i] += dyr[i] * xr[i] * r
		}
		c := r * r * r * dot / float32(d)
		for i := range xr {
			dxr[i] += r*g[i]*dyr[i] - c*xr[i]
		}
	}
}

// ropeTable holds cos and sin of every rotary angle, position-major:
// entry pos·half+i is the angle pos·base^(-2i/hd) of pair i. cos2 and
// sin2 hold the same values twice each (entries pos·hd+2i and
// pos·hd+2i+1), the layout of tensor.Kernel.RopeScale.
type ropeTable struct {
	cos, sin   []float32
	cos2, sin2 []float32
	half       int
}

func newRopeTable(cfg Config) *ropeTable {
	half := cfg.HeadDim() / 2
	t := &ropeTable{cos: make([]float32, cfg.Context*half), sin: make([]float32, cfg.Context*half), half: half}
	for p := 0; p < cfg.Context; p++ {
		for i := 0; i < half; i++ {
			ang := float64(p) * math.Pow(cfg.RopeBase, -2*float64(i)/float64(2*half))
			t.cos[p*half+i] = float32(math.Cos(ang))
			t.sin[p*half+i] = float32(math.Sin(ang))
		}
	}
	t.cos2, t.sin2 = make([]float32, 2*len(t.cos)), make([]float32, 2*len(t.sin))
	for i, c := range t.cos {
		t.cos2[2*i], t.cos2[2*i+1] = c, c
		t.sin2[2*i], t.sin2[2*i+1] = t.sin[i], t.sin[i]
	}
	return t
}

// rope rotates each head of the m rows of x (width heads·hd) by the
// angles of positions pos (each below the context); sign -1 applies the
// inverse rotation.
func rope(x []float32, m, heads, hd int, pos []int, rt *ropeTable, sign float32) {
	ropeHeads(x, heads*hd, m, 0, heads, hd, pos, rt, sign)
}

// ropeHeads is rope on the heads h0..h1-1 of the m rows of x, row stride
// ld: the heads of one KV group, which a part of a split step rotates.
func ropeHeads(x []float32, ld, m, h0, h1, hd int, pos []int, rt *ropeTable, sign float32) {
	for t := 0; t < m; t++ {
		cs := rt.cos[pos[t]*rt.half : pos[t]*rt.half+rt.half]
		sn := rt.sin[pos[t]*rt.half : pos[t]*rt.half+rt.half]
		for h := h0; h < h1; h++ {
			row := x[t*ld+h*hd : t*ld+h*hd+hd]
			for i, c := range cs {
				s := sign * sn[i]
				a, b := row[2*i], row[2*i+1]
				row[2*i], row[2*i+1] = a*c-b*s, a*s+b*c
			}
		}
	}
}

func silu(x float32) float32 { return x / (1 + tensor.Expf(-x)) }

// linear computes y = x·Wᵀ for m rows of x on kernel kn.
func linear(kn tensor.Kernel, y, x []float32, w *Param, m int) {
	kn.MatMulT(y, x, w.W, m, w.Shape[1], w.Shape[0])
}

package model

import (
	"math"

	"github.com/scaleacross/scaleacross/engine/tensor"
)

// layerActs holds what a layer's training forward pass keeps for its
// backward pass over one causal sequence of T tokens.
type layerActs struct {
	T                 int
	x, xn1, inv1      []float32
	q, k, v           []float32 // q, k after the rotation
	p                 []float32 // attention probabilities, heads × T × T
	ao, h1, xn2, inv2 []float32
	a, b, mid         []float32
}

// forwardTrain runs the layer over the T rows of x (positions 0..T-1,
// causal) and returns the output and the saved activations.
func (l *Layer) forwardTrain(kn tensor.Kernel, x []float32, T int) ([]float32, *layerActs) {
	c := l.cfg
	d, kvd, ff, H, hd := c.Dim, c.KVDim(), c.FF, c.Heads, c.HeadDim()
	s := &layerActs{T: T, x: x}
	s.xn1, s.inv1 = make([]float32, T*d), make([]float32, T)
	rmsNorm(s.xn1, x, l.AttnNorm.W, T, d, s.inv1)
	s.q, s.k, s.v = make([]float32, T*d), make([]float32, T*kvd), make([]float32, T*kvd)
	linear(kn, s.q, s.xn1, l.Wq, T)
	linear(kn, s.k, s.xn1, l.Wk, T)
	linear(kn, s.v, s.xn1, l.Wv, T)
	pos := make([]int, T)
	for i := range pos {
		pos[i] = i
	}
	rope(s.q, T, H, hd, pos, l.rt, 1)
	rope(s.k, T, c.KVHeads, hd, pos, l.rt, 1)
	s.p, s.ao = make([]float32, H*T*T), make([]float32, T*d)
	scale := float32(1 / math.Sqrt(float64(hd)))
	group := H / c.KVHeads
	for h := 0; h < H; h++ {
		kh := h / group
		for t := 0; t < T; t++ {
			qv := s.q[t*d+h*hd : t*d+h*hd+hd]
			pr := s.p[(h*T+t)*T : (h*T+t)*T+T]
			mx := float32(math.Inf(-1))
			for u := 0; u <= t; u++ {
				sc := tensor.Dot(qv, s.k[u*kvd+kh*hd:u*kvd+kh*hd+hd]) * scale
				pr[u] = sc
				mx = max(mx, sc)
			}
			var sum float32
			for u := 0; u <= t; u++ {
				e := float32(math.Exp(float64(pr[u] - mx)))
				pr[u] = e
				sum += e
			}
			out := s.ao[t*d+h*hd : t*d+h*hd+hd]
			for u := 0; u <= t; u++ {
				pr[u] /= sum
				tensor.Axpy(pr[u], s.v[u*kvd+kh*hd:u*kvd+kh*hd+hd], out)
			}
		}
	}
	s.h1 = make([]float32, T*d)
	linear(kn, s.h1, s.ao, l.Wo, T)
	for i := range s.h1 {
		s.h1[i] += x[i]
	}
	s.xn2, s.inv2 = make([]float32, T*d), make([]float32, T)
	rmsNorm(s.xn2, s.h1, l.MLPNorm.W, T, d, s.inv2)
	s.a, s.b, s.mid = make([]float32, T*ff), make([]float32, T*ff), make([]float32, T*ff)
	linear(kn, s.a, s.xn2, l.W1, T)
	linear(kn, s.b, s.xn2, l.W3, T)
	for i := range s.mid {
		s.mid[i] = silu(s.a[i]) * s.b[i]
	}
	y := make([]float32, T*d)
	linear(kn, y, s.mid, l.W2, T)
	for i := range y {
		y[i] += s.h1[i]
	}
	return y, s
}

// linearBack accumulates the gradients of y = x·Wᵀ (x: m×in, W: out×in):
// W.G += dyᵀ·x and, when dx is not nil, dx += dy·W.
func linearBack(kn tensor.Kernel, dx, dy, x []float32, w *Param, m int) {
	out, in := w.Shape[0], w.Shape[1]
	dyT, xT := make([]float32, out*m), make([]float32, in*m)
	tensor.Transpose(dyT, dy, m, out)
	tensor.Transpose(xT, x, m, in)
	gw := make([]float32, out*in)
	kn.MatMulT(gw, dyT, xT, out, m, in)
	for i, g := range gw {
		w.G[i] += g
	}
	if dx == nil {
		return
	}
	wT := make([]float32, in*out)
	tensor.Transpose(wT, w.W, out, in)
	tmp := make([]float32, m*in)
	kn.MatMulT(tmp, dy, wT, m, out, in)
	for i, g := range tmp {
		dx[i] += g
	}
}

// backward takes the gradient dy of the layer output and returns the
// gradient of its input, accumulating the weight gradients.
func (l *Layer) backward(kn tensor.Kernel, dy []float32, s *layerActs) []float32 {
	c := l.cfg
	d, kvd, ff, H, hd, T := c.Dim, c.KVDim(), c.FF, c.Heads, c.HeadDim(), s.T
	// MLP.
	dh1 := append([]float32(nil), dy...)
	dmid := make([]float32, T*ff)
	linearBack(kn, dmid, dy, s.mid, l.W2, T)
	da, db := make([]float32, T*ff), make([]float32, T*ff)
	for i := range dmid {
		a := s.a[i]
		sg := 1 / (1 + float32(math.Exp(float64(-a))))
		da[i] = dmid[i] * s.b[i] * (sg + a*sg*(1-sg))
		db[i] = dmid[i] * a * sg
	}
	dxn2 := make([]float32, T*d)
	linearBack(kn, dxn2, da, s.xn2, l.W1, T)
	linearBack(kn, dxn2, db, s.xn2, l.W3, T)
	rmsNormBack(dh1, l.MLPNorm.G, dxn2, s.h1, l.MLPNorm.W, s.inv2, T, d)
	// Attention.
	dao := make([]float32, T*d)
	linearBack(kn, dao, dh1, s.ao, l.Wo, T)
	dq, dk, dv := make([]float32, T*d), make([]float32, T*kvd), make([]float32, T*kvd)
	scale := float32(1 / math.Sqrt(float64(hd)))
	group := H / c.KVHeads
	dp := make([]float32, T)
	for h := 0; h < H; h++ {
		kh := h / group
		for t := 0; t < T; t++ {
			pr := s.p[(h*T+t)*T : (h*T+t)*T+T]
			g := dao[t*d+h*hd : t*d+h*hd+hd]
			var dot float32
			for u := 0; u <= t; u++ {
				vu := s.v[u*kvd+kh*hd : u*kvd+kh*hd+hd]
				dp[u] = tensor.Dot(g, vu)
				dot += dp[u] * pr[u]
				tensor.Axpy(pr[u], g, dv[u*kvd+kh*hd:u*kvd+kh*hd+hd])
			}
			qv := s.q[t*d+h*hd : t*d+h*hd+hd]
			dqv := dq[t*d+h*hd : t*d+h*hd+hd]
			for u := 0; u <= t; u++ {
				ds := pr[u] * (dp[u] - dot) * scale
				if ds == 0 {
					continue
				}
				tensor.Axpy(ds, s.k[u*kvd+kh*hd:u*kvd+kh*hd+hd], dqv)
				tensor.Axpy(ds, qv, dk[u*kvd+kh*hd:u*kvd+kh*hd+hd])
			}
		}
	}
	pos := make([]int, T)
	for i := range pos {
		pos[i] = i
	}
	rope(dq, T, H, hd, pos, l.rt, -1)
	rope(dk, T, c.KVHeads, hd, pos, l.rt, -1)
	dxn1 := make([]float32, T*d)
	linearBack(kn, dxn1, dq, s.xn1, l.Wq, T)
	linearBack(kn, dxn1, dk, s.xn1, l.Wk, T)
	linearBack(kn, dxn1, dv, s.xn1, l.Wv, T)
	dx := dh1
	rmsNormBack(dx, l.AttnNorm.G, dxn1, s.x, l.AttnNorm.W, s.inv1, T, d)
	return dx
}

package tensor

// RopeScale writes to dst the heads of src, each len(cs) wide (as many
// whole heads as src holds), rotated pairwise by rotary angles and times
// scale: for each pair (a, b) at 2u, 2u+1 of a head, with c = cs[2u] and
// s = sn[2u], dst gets (a·c - b·s)·scale and (a·s + b·c)·scale, each
// product, sum and scaling rounded to float32 in that order (no fused
// multiply-add), so that the SIMD path, which computes whole vectors of
// pairs at once, gives the same bits as the scalar code. cs and sn hold
// each pair's cosine and sine twice (entries 2u and 2u+1), the layout the
// vector path multiplies by directly.
func (kn Kernel) RopeScale(dst, src, cs, sn []float32, scale float32) {
	w := len(cs)
	if w == 0 {
		return
	}
	n := len(src) / w
	if n == 0 {
		return
	}
	_ = dst[n*w-1]
	_ = sn[w-1]
	if kn.SIMD && w%8 == 0 {
		ropeScale(&dst[0], &src[0], &cs[0], &sn[0], w, n, scale)
		return
	}
	for h := 0; h < n; h++ {
		s, d := src[h*w:(h+1)*w], dst[h*w:(h+1)*w]
		for u := 0; u+1 < w; u += 2 {
			c, sv := cs[u], sn[u]
			a, b := s[u], s[u+1]
			d[u], d[u+1] = float32(a*c-b*sv)*scale, float32(a*sv+b*c)*scale
		}
	}
}

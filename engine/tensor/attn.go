package tensor

// DotRows writes out[u] = q·rows[u·ld : u·ld+len(q)] for u < n: the
// attention scores of one query against n cached keys of stride ld.
func (kn Kernel) DotRows(out, q, rows []float32, ld, n int) {
	hd := len(q)
	if n == 0 {
		return
	}
	_ = rows[(n-1)*ld+hd-1]
	_ = out[n-1]
	if kn.SIMD && hd%8 == 0 && hd > 0 {
		dotRows(&q[0], &rows[0], ld, n, hd, &out[0])
		return
	}
	for u := 0; u < n; u++ {
		out[u] = Dot(q, rows[u*ld:u*ld+hd])
	}
}

// AxpyRows adds sum_u w[u]·rows[u·ld : u·ld+len(acc)] for u < n to acc:
// the attention-weighted sum of n cached values of stride ld.
func (kn Kernel) AxpyRows(acc, w, rows []float32, ld, n int) {
	hd := len(acc)
	if n == 0 {
		return
	}
	_ = rows[(n-1)*ld+hd-1]
	_ = w[n-1]
	if kn.SIMD && hd%8 == 0 && hd > 0 {
		axpyRows(&w[0], &rows[0], ld, n, hd, &acc[0])
		return
	}
	for u := 0; u < n; u++ {
		Axpy(w[u], rows[u*ld:u*ld+hd], acc)
	}
}

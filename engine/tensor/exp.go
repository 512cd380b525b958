package tensor

import "math"

// Expf is a float32 exponential with a relative error below about
// 1e-6 + 1e-7·|x| (the float32 rounding of x·log2(e)), several times
// faster than math.Exp: e^x = 2^n · 2^f with n
// the nearest integer to x·log2(e) and 2^f, |f| <= 1/2, from a degree-6
// polynomial. Inputs below -87 return 0 and above 88 saturate, which
// the softmax and SiLU uses (arguments already shifted by their
// maximum, or activations) never reach in practice.
func Expf(x float32) float32 {
	if x < -87 {
		return 0
	}
	if x > 88 {
		x = 88
	}
	t := x * 1.44269504088896341 // log2(e)
	n := float32(math.Floor(float64(t + 0.5)))
	f := t - n // in [-0.5, 0.5]
	// 2^f = e^(f ln 2): Taylor coefficients of e^y with y = f ln 2.
	y := f * 0.693147180559945309
	p := 1 + y*(1+y*(0.5+y*(1.0/6+y*(1.0/24+y*(1.0/120+y*(1.0/720))))))
	return p * math.Float32frombits(uint32(int32(n)+127)<<23)
}

// Exp replaces every x[i] by Expf(x[i]), eight lanes at a time on the
// SIMD kernel (the same method, rounding ties to even).
func (kn Kernel) Exp(x []float32) {
	i := 0
	if kn.SIMD {
		if n8 := len(x) &^ 7; n8 > 0 {
			expVec(&x[0], n8)
			i = n8
		}
	}
	for ; i < len(x); i++ {
		x[i] = Expf(x[i])
	}
}

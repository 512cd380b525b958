package tensor

import (
	"math/rand/v2"
	"testing"
)

// TestGLUMatchesSeparatePasses checks that the SwiGLU product on the
// interleaved rows gives, bit for bit, what the stacked [W1; W3] product
// followed by SiLUMul gives, in float32 and bfloat16, on one core and
// split over a Pool.
func TestGLUMatchesSeparatePasses(t *testing.T) {
	one := Detect(1)
	if !one.SIMD {
		t.Skip("the packed kernel needs SIMD")
	}
	p := NewPool()
	defer p.Close()
	two := one
	two.Pool = p
	r := rand.New(rand.NewPCG(7, 8))
	const k = 96
	for _, ff := range []int{64, 192, 512} {
		w1, w3 := randSlice(r, ff*k), randSlice(r, ff*k)
		stacked := append(append([]float32(nil), w1...), w3...)
		inter := GLURows(w1, w3, ff, k)
		type variant struct {
			name     string
			separate func(kn Kernel, g, a []float32, m int)
			glu      func(kn Kernel, act, g, a []float32, m int)
		}
		vs := []variant{{"float32",
			func(kn Kernel, g, a []float32, m int) { kn.MatMulPacked(g, a, Pack(stacked, 2*ff, k), m) },
			func(kn Kernel, act, g, a []float32, m int) { kn.MatMulPackedGLU(act, g, a, Pack(inter, 2*ff, k), m) }}}
		if one.AVX512 {
			vs = append(vs, variant{"bfloat16",
				func(kn Kernel, g, a []float32, m int) { kn.MatMulBF16(g, a, PackBF16(stacked, 2*ff, k), m) },
				func(kn Kernel, act, g, a []float32, m int) { kn.MatMulBF16GLU(act, g, a, PackBF16(inter, 2*ff, k), m) }})
		}
		for _, v := range vs {
			for _, m := range []int{1, 2, 5, 17} {
				a := randSlice(r, m*k)
				g := make([]float32, m*2*ff)
				v.separate(one, g, a, m)
				want := make([]float32, m*ff)
				for i := 0; i < m; i++ {
					one.SiLUMul(want[i*ff:(i+1)*ff], g[i*2*ff:i*2*ff+ff], g[i*2*ff+ff:(i+1)*2*ff])
				}
				for _, kn := range []Kernel{one, two} {
					got := make([]float32, m*ff)
					v.glu(kn, got, make([]float32, m*2*ff), a, m)
					for i := range want {
						if got[i] != want[i] {
							t.Fatalf("%s ff=%d m=%d pool=%v: act[%d] = %v, want %v", v.name, ff, m, kn.Pool != nil, i, got[i], want[i])
						}
					}
				}
			}
		}
	}
}

// TestGLUChecksItsOperands checks that a split GLU product refuses an
// input or a scratch shorter than its m rows (the assembly kernels
// check no bounds, so an unchecked short operand is read or written out
// of bounds), as the one-core product does.
func TestGLUChecksItsOperands(t *testing.T) {
	one := Detect(1)
	if !one.SIMD {
		t.Skip("the packed kernel needs SIMD")
	}
	p := NewPool()
	defer p.Close()
	two := one
	two.Pool = p
	r := rand.New(rand.NewPCG(9, 10))
	const k, ff, m = 96, 512, 4
	w := Pack(GLURows(randSlice(r, ff*k), randSlice(r, ff*k), ff, k), 2*ff, k)
	var ws []*PackedBF16
	if one.AVX512 {
		ws = append(ws, PackBF16(GLURows(randSlice(r, ff*k), randSlice(r, ff*k), ff, k), 2*ff, k))
	}
	for _, short := range []string{"a", "g"} {
		a, g := randSlice(r, m*k), make([]float32, m*2*ff)
		if short == "a" {
			a = a[:len(a)-1]
		} else {
			g = g[:len(g)-1]
		}
		products := []func(){func() { two.MatMulPackedGLU(make([]float32, m*ff), g, a, w, m) }}
		for _, bw := range ws {
			products = append(products, func() { two.MatMulBF16GLU(make([]float32, m*ff), g, a, bw, m) })
		}
		for i, f := range products {
			func() {
				defer func() {
					if recover() == nil {
						t.Errorf("product %d with %s one short did not panic", i, short)
					}
				}()
				f()
			}()
		}
	}
}

package tensor

import (
	"math"
	"testing"
)

func TestExpf(t *testing.T) {
	for x := float32(-80); x < 80; x += 0.137 {
		got, want := float64(Expf(x)), math.Exp(float64(x))
		if math.Abs(got-want) > (1e-6+1e-7*math.Abs(float64(x)))*want {
			t.Fatalf("Expf(%g) = %g, want %g", x, got, want)
		}
	}
	if Expf(-100) != 0 {
		t.Fatal("Expf(-100) is not 0")
	}
}

func TestExpVectorMatchesScalar(t *testing.T) {
	var x []float32
	for v := float32(-95); v < 88; v += 0.0913 {
		x = append(x, v)
	}
	y := append([]float32(nil), x...)
	Detect(1).Exp(y)
	for i, v := range x {
		want := math.Exp(float64(v))
		if v < -87 {
			want = 0
		}
		if math.Abs(float64(y[i])-want) > (1e-6+1e-7*math.Abs(float64(v)))*want {
			t.Fatalf("Exp(%g) = %g, want %g", v, y[i], want)
		}
	}
}

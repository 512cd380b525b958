package model

import (
	"math"
	"testing"
)

func TestExpf(t *testing.T) {
	for x := float32(-80); x < 80; x += 0.137 {
		got, want := float64(expf(x)), math.Exp(float64(x))
		if math.Abs(got-want) > (1e-6+1e-7*math.Abs(float64(x)))*want {
			t.Fatalf("expf(%g) = %g, want %g", x, got, want)
		}
	}
	if expf(-100) != 0 {
		t.Fatal("expf(-100) is not 0")
	}
}

package validate

import (
	"fmt"
	"testing"

	"github.com/scaleacross/scaleacross/cost"
)

func TestPrintTmp(t *testing.T) {
	rows, err := Rows()
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Run(rows, cost.Default())
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rep.Rows {
		b := r.Breakdown
		fmt.Printf("%-28s meas %7.2f pred %7.2f err %6.1f%% mfu %.2f mem %5.1f | comp %.2f tp %.2f cp %.2f pp %.2f dp %.2f bub %.2f opt %.3f\n", r.ID, r.Measured, r.Predicted, r.ErrorPct, r.MFU, r.MemoryGiB,
			b.ComputeS, b.TPCommS, b.CPCommS, b.PPCommS, b.DPCommS, b.BubbleS, b.OptimizerS)
	}
	fmt.Printf("MAPE %.2f max %.1f\n", rep.MAPE, rep.MaxAbsError)
}

func TestFitTmp(t *testing.T) {
	rows, _ := Rows()
	p, rep, err := Fit(rows, cost.Default())
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("%+v\n", p)
	for _, r := range rep.Rows {
		fmt.Printf("%-28s meas %7.2f pred %7.2f err %6.1f%% mfu %.2f mem %5.1f\n", r.ID, r.Measured, r.Predicted, r.ErrorPct, r.MFU, r.MemoryGiB)
	}
	fmt.Printf("MAPE %.2f max %.1f\n", rep.MAPE, rep.MaxAbsError)
}

package hardware_test

import (
	"fmt"

	"github.com/scaleacross/scaleacross/hardware"
)

func ExampleLookup() {
	g, err := hardware.Lookup("h100")
	if err != nil {
		fmt.Println(err)
		return
	}
	bf16, _ := g.PeakTFLOPS(hardware.BF16)
	fmt.Println(g.ID, bf16, g.ScaleUpSize)

	_, err = hardware.Lookup("h100-pcie")
	fmt.Println(err)
	// Output:
	// h100-sxm 989.4 8
	// unknown gpu id "h100-pcie"; nearest known ids: h100-sxm, h200, h800
}

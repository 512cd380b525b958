package cli

import (
	"strings"
	"testing"

	"github.com/scaleacross/scaleacross/explore"
)

// TestPlanTextGroupsVariants checks that the text form of a plan shows
// rows of the top list that the model cannot tell apart (the same step
// time, memory and engine, differing only in recompute, transport or
// collectives) as one row with their count, keeps rows that differ in
// anything else apart, and prints the plan's notes (issue 13: near-equal
// variants filled the top 10, and notes were only in --json).
func TestPlanTextGroupsVariants(t *testing.T) {
	const base = "tp8 pp2 vp1 dp1 z1 mb1 1f1b placement=tp,dp,pp"
	row := func(rank int, s float64, mem float64, extra string) explore.Ranked {
		return explore.Ranked{Rank: rank, Config: base + " " + extra, StepTimeS: s, Engine: "event", MemoryGiB: mem}
	}
	p := &explore.Plan{
		Top: []explore.Ranked{
			row(1, 1.5, 40, "recompute=none transport=native collectives=hierarchical"),
			row(2, 1.5, 40, "recompute=selective transport=native collectives=hierarchical"),
			row(3, 1.5, 40, "recompute=none transport=tcp collectives=hierarchical"),
			row(4, 1.5, 40, "recompute=selective transport=tcp collectives=hierarchical"),
			row(5, 1.5, 41, "recompute=full transport=native collectives=hierarchical"),
			row(6, 1.6, 40, "recompute=none transport=native collectives=ring"),
		},
		Notes: []string{"prior_art: re-ranking stopped early; the engines disagree there"},
	}
	var b strings.Builder
	if err := writePlanText(&b, p); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"   1  1.500 s  (event)  " + base + " recompute=none transport=native collectives=hierarchical  (x4 variants: recompute none|selective, transport native|tcp)\n",
		"   5  1.500 s  (event)  " + base + " recompute=full transport=native collectives=hierarchical\n",
		"   6  1.600 s  (event)  " + base + " recompute=none transport=native collectives=ring\n",
		"notes\n  - prior_art: re-ranking stopped early; the engines disagree there\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("plan text lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "   2  ") || strings.Contains(out, "   4  ") {
		t.Errorf("grouped rows are still listed:\n%s", out)
	}
}

package explore

import (
	"context"
	"fmt"
	"slices"

	"github.com/scaleacross/scaleacross/fault"
)

// NoFitError reports that no candidate of the Explorer's space fits: the
// constraints admit nothing, or nothing they admit fits in memory. It
// exits with code 3 and names the tightest constraint.
type NoFitError struct {
	// Candidates is the number of candidates the constraints admit.
	Candidates int
	// MinMemoryGiB is the least memory per GPU any admitted candidate
	// needs; CapacityGiB what the GPU has.
	MinMemoryGiB, CapacityGiB float64
	// Tightest is the constraint whose removal admits the most candidates
	// that fit ("" when no single one does), with that count.
	Tightest      string
	TightestAdmit int
}

func (e *NoFitError) Error() string {
	var s string
	if e.Candidates == 0 {
		s = "no configuration satisfies the constraints"
	} else {
		s = fmt.Sprintf("none of the %d configurations the constraints admit fits in memory (the smallest needs %.1f GiB per GPU, the GPU has %.1f)", e.Candidates, e.MinMemoryGiB, e.CapacityGiB)
	}
	if e.Tightest != "" {
		return fmt.Sprintf("%s; the tightest constraint is %s: without it %d configurations fit", s, e.Tightest, e.TightestAdmit)
	}
	return s + "; no single constraint is to blame: relax several, or add GPUs"
}

// Is reports the error as a job that does not fit (fault.ErrNoFit).
func (e *NoFitError) Is(target error) bool { return target == fault.ErrNoFit }

// tightestCap bounds the candidates counted per relaxed constraint.
const tightestCap = 200000

// Tightest finds the constraint whose removal admits the most candidates
// that fit in memory, counting at most tightestCap candidates per
// constraint.
func (b *Base) Tightest() (string, int, error) {
	techs := b.techs
	cs, err := b.constraints(techs)
	if err != nil {
		return "", 0, err
	}
	var fields []string
	for _, c := range cs {
		if !slices.Contains(fields, c.field) {
			fields = append(fields, c.field)
		}
	}
	best, bestN := "", 0
	for _, f := range fields {
		s, err := b.explorerSpace(techs, f)
		if err != nil {
			return "", 0, err
		}
		n, seen := 0, 0
		s.Enumerate(b, func(_ int, c Candidate) bool {
			seen++
			if _, ok := b.fitsMemory(b.Config(c)); ok {
				n++
			}
			return seen < tightestCap
		})
		if n > bestN {
			best, bestN = f, n
		}
	}
	return best, bestN, nil
}

// Run searches the spaces and finishes the plan. When the Explorer's space
// holds nothing that fits it returns a *NoFitError.
func (b *Base) Run(ctx context.Context, spaces []*Space, opt *Options) (*Plan, []*State, error) {
	states, err := b.Search(ctx, spaces, opt)
	if err != nil {
		return nil, states, err
	}
	if !opt.Shard.Whole() {
		return nil, states, nil
	}
	if err := b.CheckFits(spaces, states); err != nil {
		return nil, states, err
	}
	p, err := b.Finish(spaces, states, opt)
	if err != nil {
		return nil, states, err
	}
	return p, states, nil
}

// CheckFits returns a *NoFitError when the Explorer's state holds no
// candidate that fits.
func (b *Base) CheckFits(spaces []*Space, states []*State) error {
	for k, st := range states {
		if st.Space != ExplorerSpace || len(st.Records) > 0 {
			continue
		}
		e := &NoFitError{Candidates: spaces[k].Count(b), MinMemoryGiB: st.MinMemoryGiB, CapacityGiB: b.Template.GPU.UsableGiB()}
		f, n, err := b.Tightest()
		if err != nil {
			return err
		}
		e.Tightest, e.TightestAdmit = f, n
		return e
	}
	return nil
}

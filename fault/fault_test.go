package fault

import (
	"errors"
	"fmt"
	"testing"
)

func TestKinds(t *testing.T) {
	base := errors.New("boom")
	for _, tc := range []struct {
		err        error
		bad, noFit bool
		text       string
	}{
		{Field("parallel.tp", "must be positive, got %d", -1), true, false, "parallel.tp: must be positive, got -1"},
		{fmt.Errorf("resolving: %w", Field("", "spec is empty")), true, false, "resolving: spec is empty"},
		{BadInput(base), true, false, "boom"},
		{NoFit(base), false, true, "boom"},
		{fmt.Errorf("x: %w", NoFit(base)), false, true, "x: boom"},
		{base, false, false, "boom"},
	} {
		if got := errors.Is(tc.err, ErrBadInput); got != tc.bad {
			t.Errorf("%v: bad input %v, want %v", tc.err, got, tc.bad)
		}
		if got := errors.Is(tc.err, ErrNoFit); got != tc.noFit {
			t.Errorf("%v: no fit %v, want %v", tc.err, got, tc.noFit)
		}
		if tc.err.Error() != tc.text {
			t.Errorf("text %q, want %q", tc.err.Error(), tc.text)
		}
	}
	if BadInput(nil) != nil || NoFit(nil) != nil {
		t.Error("nil must stay nil")
	}
	if !errors.Is(BadInput(base), base) {
		t.Error("BadInput must keep the chain")
	}
}

package specdec

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/scaleacross/scaleacross/fault"
)

func TestNewTreeRejects(t *testing.T) {
	tests := []struct {
		name  string
		paths [][]int
		want  string
	}{
		{"not prefix-closed", [][]int{{0}, {0, 1, 0}}, "not prefix-closed"},
		{"missing root child", [][]int{{1, 0}}, "not prefix-closed"},
		{"duplicate", [][]int{{0}, {0}}, "appears twice"},
		{"empty path", [][]int{{}}, "empty"},
		{"negative rank", [][]int{{-1}}, "negative"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewTree(tc.paths)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("NewTree(%v) error = %v, want it to mention %q", tc.paths, err, tc.want)
			}
			var te *TreeError
			if !errors.As(err, &te) || !errors.Is(te, fault.ErrBadInput) {
				t.Fatalf("error %v is not a TreeError with exit code 2", err)
			}
		})
	}
}

func TestTreeMaskAndPositions(t *testing.T) {
	// Root with two children; the top child has one child.
	tr, err := NewTree([][]int{{0, 0}, {1}, {0}})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([][]int{{0}, {1}, {0, 0}}, tr.Paths()); diff != "" {
		t.Errorf("canonical paths (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]int{0, 1, 1, 2}, tr.Positions()); diff != "" {
		t.Errorf("positions (-want +got):\n%s", diff)
	}
	T, F := true, false
	want := [][]bool{
		{T, F, F, F},
		{T, T, F, F},
		{T, F, T, F},
		{T, T, F, T},
	}
	if diff := cmp.Diff(want, tr.Mask()); diff != "" {
		t.Errorf("mask (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]int{2, 1}, tr.LevelWidths()); diff != "" {
		t.Errorf("level widths (-want +got):\n%s", diff)
	}
	if got := tr.Children(0); !cmp.Equal(got, []int{1, 2}) {
		t.Errorf("Children(0) = %v, want [1 2]", got)
	}
}

func TestChain(t *testing.T) {
	c := Chain(3)
	if c.Size() != 3 || c.Depth() != 3 {
		t.Fatalf("Chain(3): size %d depth %d", c.Size(), c.Depth())
	}
	if diff := cmp.Diff([][]int{{0}, {0, 0}, {0, 0, 0}}, c.Paths()); diff != "" {
		t.Errorf("chain paths (-want +got):\n%s", diff)
	}
}

package infer

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/scaleacross/scaleacross/fault"
	"github.com/scaleacross/scaleacross/spec"
)

// maverickServe is the Maverick serving example with a measured
// acceptance vector added.
func maverickServe(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile("../examples/serve-maverick-eagle.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return string(data) + "  acceptance: [0.8, 0.75, 0.7]\n"
}

func TestTreeOf(t *testing.T) {
	for _, tc := range []struct {
		tree  string
		nodes int
		bad   bool
	}{{"chain:3", 3, false}, {"[[0], [1], [0, 0]]", 3, false}, {"auto", 0, false}, {"[[0], [1, 0]]", 0, true}} {
		s, err := spec.ParseServe([]byte(strings.Replace(maverickServe(t), "tree: auto ", "tree: "+tc.tree+" ", 1)))
		if err != nil {
			t.Fatalf("tree %s: %v", tc.tree, err)
		}
		tr, err := TreeOf(s.Speculative.Tree)
		if tc.bad {
			var fe *fault.FieldError
			if !errors.As(err, &fe) || fe.Field != "speculative.tree" || !strings.Contains(err.Error(), "prefix-closed") {
				t.Errorf("tree %s: error %v, want a speculative.tree error", tc.tree, err)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if got := 0; tr != nil {
			got = tr.Size()
			if got != tc.nodes {
				t.Errorf("tree %s: %d nodes, want %d", tc.tree, got, tc.nodes)
			}
		} else if tc.nodes != 0 {
			t.Errorf("tree %s built nil", tc.tree)
		}
	}
}

func TestAcceptanceOfUsesTheSpec(t *testing.T) {
	s, err := spec.ParseServe([]byte(maverickServe(t)))
	if err != nil {
		t.Fatal(err)
	}
	a, err := AcceptanceOf(s.Speculative)
	if err != nil || a.Assumed || len(a.ByDepth) != 3 || a.ByDepth[0] != 0.8 {
		t.Errorf("spec acceptance should be used as given (not assumed): %+v, %v", a, err)
	}
}

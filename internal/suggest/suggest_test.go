package suggest

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestClosest(t *testing.T) {
	ids := []string{"h100-sxm", "h200", "a100-sxm-80g", "b200", "gb200"}
	tests := []struct {
		name string
		want []string
	}{
		{"h100", []string{"h100-sxm", "h200", "b200"}},
		{"b20", []string{"b200", "gb200", "h200"}},
		{"a100", []string{"a100-sxm-80g", "b200", "h200"}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, Closest(tt.name, ids, 3)); diff != "" {
			t.Errorf("Closest(%q) mismatch (-want +got):\n%s", tt.name, diff)
		}
	}
}

func TestDistance(t *testing.T) {
	if d := distance("kitten", "sitting"); d != 3 {
		t.Errorf("distance(kitten, sitting) = %d, want 3", d)
	}
}

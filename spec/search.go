package spec

import "fmt"

// Search holds optional constraints on the Explorer's search space
// (`scaleacross plan`). An empty list means "every valid value"; a
// max_* bound of zero means "the Explorer's default bound". Names
// (schedules, recompute policies, technologies, placement dimensions)
// are checked by the explore package, which knows the valid values.
type Search struct {
	TP []int `yaml:"tp,omitempty" json:"tp,omitempty"`
	PP []int `yaml:"pp,omitempty" json:"pp,omitempty"`
	VP []int `yaml:"vp,omitempty" json:"vp,omitempty"`
	CP []int `yaml:"cp,omitempty" json:"cp,omitempty"`
	EP []int `yaml:"ep,omitempty" json:"ep,omitempty"`
	// ETP lists the expert tensor-parallel degrees to try (each must
	// divide the candidate's tp; 0 means etp = tp).
	ETP        []int `yaml:"etp,omitempty" json:"etp,omitempty"`
	Zero       []int `yaml:"zero,omitempty" json:"zero,omitempty"`
	MicroBatch []int `yaml:"micro_batch,omitempty" json:"micro_batch,omitempty"`

	MaxTP         int `yaml:"max_tp,omitempty" json:"max_tp,omitempty"`
	MaxPP         int `yaml:"max_pp,omitempty" json:"max_pp,omitempty"`
	MaxVP         int `yaml:"max_vp,omitempty" json:"max_vp,omitempty"`
	MaxCP         int `yaml:"max_cp,omitempty" json:"max_cp,omitempty"`
	MaxEP         int `yaml:"max_ep,omitempty" json:"max_ep,omitempty"`
	MaxMicroBatch int `yaml:"max_micro_batch,omitempty" json:"max_micro_batch,omitempty"`

	Schedules []string `yaml:"schedules,omitempty" json:"schedules,omitempty"`
	Recompute []string `yaml:"recompute,omitempty" json:"recompute,omitempty"`
	// Placements lists placement orders to try, innermost first, e.g.
	// [[tp, cp, pp, dp], [tp, cp, dp, pp]].
	Placements [][]string `yaml:"placements,omitempty" json:"placements,omitempty"`
	// Technologies lists the network-layer transports to try on the
	// cross-site levels.
	Technologies []string `yaml:"technologies,omitempty" json:"technologies,omitempty"`
	// TopK is how many of the analytically best candidates are re-ranked
	// with the event-level simulation.
	TopK *int `yaml:"top_k,omitempty" json:"top_k,omitempty"`
}

// Validate checks the numeric constraints and names the offending field.
func (s *Search) Validate() error {
	if s == nil {
		return nil
	}
	lists := []struct {
		field string
		v     []int
		min   int
	}{
		{"search.tp", s.TP, 1}, {"search.pp", s.PP, 1}, {"search.vp", s.VP, 1}, {"search.cp", s.CP, 1},
		{"search.ep", s.EP, 1}, {"search.zero", s.Zero, 0}, {"search.micro_batch", s.MicroBatch, 1},
	}
	for _, l := range lists {
		for i, v := range l.v {
			if v < l.min {
				return Errorf(fmt.Sprintf("%s[%d]", l.field, i), "must be at least %d, got %d", l.min, v)
			}
			if l.field == "search.zero" && v > 3 {
				return Errorf(fmt.Sprintf("%s[%d]", l.field, i), "must be 0, 1, 2 or 3 (3 = FSDP), got %d", v)
			}
		}
	}
	bounds := []struct {
		field string
		v     int
	}{
		{"search.max_tp", s.MaxTP}, {"search.max_pp", s.MaxPP}, {"search.max_vp", s.MaxVP},
		{"search.max_cp", s.MaxCP}, {"search.max_ep", s.MaxEP}, {"search.max_micro_batch", s.MaxMicroBatch},
	}
	for _, b := range bounds {
		if b.v < 0 {
			return Errorf(b.field, "must be a positive bound (or omitted), got %d", b.v)
		}
	}
	if s.TopK != nil && *s.TopK < 0 {
		return Errorf("search.top_k", "must not be negative, got %d", *s.TopK)
	}
	return nil
}

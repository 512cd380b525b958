package parallel

import (
	"errors"
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/scaleacross/scaleacross/fault"
	"github.com/scaleacross/scaleacross/model"
)

// The published DeepSeek-V3 layouts (reference/moe.md section 2) parse to
// Megatron-Core's stages: E and one layer on the first, two layers on
// each of the next 30, and the MTP layer with the loss on the last.
func TestParseLayoutPublished(t *testing.T) {
	tests := []struct {
		text       string
		pp, layers int
		mtp, vp    int
		counts     []int
		mtpStage   int
	}{
		{"Et|(tt|)*30mL", 8, 61, 1, 4, append(append([]int{1}, repeat(2, 30)...), 0), 31},
		{"Et|(tt|)*30L", 8, 61, 0, 4, append(append([]int{1}, repeat(2, 30)...), 0), -1},
		{"Et*4|(t*4|)*14tmL", 2, 61, 1, 8, append(append([]int{4}, repeat(4, 14)...), 1), 15},
		{" E t t | t t L ", 2, 4, 0, 1, []int{2, 2}, -1},
		{"E||tttt|L", 2, 4, 0, 2, []int{0, 0, 4, 0}, -1},
		// Megatron-LM's own example (docs, pipeline layout): commas are cosmetic.
		{"Et*3|(tt|)*29,m|L", 16, 61, 1, 2, append(append([]int{3}, repeat(2, 29)...), 0, 0), 30},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			l, err := ParseLayout(tt.text)
			if err != nil {
				t.Fatal(err)
			}
			vp, err := l.Check(tt.layers, tt.mtp, tt.pp)
			if err != nil {
				t.Fatal(err)
			}
			if vp != tt.vp {
				t.Errorf("vp %d, want %d", vp, tt.vp)
			}
			if d := cmp.Diff(tt.counts, l.LayerCounts()); d != "" {
				t.Errorf("layer counts (-want +got):\n%s", d)
			}
			if got := l.MTPStage(); got != tt.mtpStage {
				t.Errorf("MTP stage %d, want %d", got, tt.mtpStage)
			}
		})
	}
}

func repeat(v, n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = v
	}
	return out
}

// Every way a layout can be wrong is refused as bad input naming
// parallel.pipeline_layout, with the rule it breaks.
func TestLayoutBadInput(t *testing.T) {
	tests := []struct {
		name, text  string
		layers, mtp int
		pp          int
		want        string
	}{
		{"t count differs", "Et|(t|)*30mL", 61, 1, 8, "has 31 decoder layers t but the model has 61"},
		{"E missing", "t|(tt|)*30mL", 61, 1, 8, "0 embeddings E"},
		{"E misplaced", "tE|(tt|)*30mL", 61, 1, 8, "E must be the first symbol"},
		{"E twice", "Et|E(tt|)*30mL", 61, 1, 8, "E must be the first symbol"},
		{"L missing", "Et|(tt|)*30m", 61, 1, 8, "0 losses L"},
		{"L misplaced", "Et|(tt|)*30Lm", 61, 1, 8, "L must be the last symbol"},
		{"stages not divisible by pp", "Et|(tt|)*29tmL", 61, 1, 8, "31 stages, not divisible by pp=8"},
		{"MTP on the first rank", "Et|tt|tm|L", 4, 1, 2, "MTP layer m on pipeline rank 0"},
		{"MTP not in the last chunk", "Et|tm|t|L", 3, 1, 2, "must sit in the rank's last chunk"},
		{"t after m", "Et|mt|tL|t", 3, 1, 4, "L must be the last symbol"},
		{"decoder after MTP", "Et|m|ttL", 3, 1, 3, "decoder layer t after an MTP layer"},
		{"m count differs", "Et|(tt|)*30L", 61, 1, 8, "has 0 MTP layers m but the model has 1"},
		{"unknown symbol", "Et|(tx|)*30mL", 61, 1, 8, "unexpected 'x'"},
		{"unclosed paren", "Et|(tt|*30mL", 61, 1, 8, "unclosed '('"},
		{"stray paren", "Et|tt)|mL", 3, 1, 3, "unopened ')'"},
		{"star without count", "Et|(tt|)*mL", 61, 1, 8, "needs a repeat count"},
		{"huge expansion", "E((((t)*1000)*1000)*1000)L", 1, 0, 1, "expands past"},
		{"deep nesting", "E" + strings.Repeat("(", 40) + "t" + strings.Repeat(")", 40) + "L", 1, 0, 1, "nested deeper"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := ParseLayout(tt.text)
			if err == nil {
				_, err = l.Check(tt.layers, tt.mtp, tt.pp)
			}
			if err == nil {
				t.Fatalf("%q accepted", tt.text)
			}
			if !errors.Is(err, fault.ErrBadInput) || !strings.Contains(err.Error(), layoutField) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want bad input naming %s and saying %q", err, layoutField, tt.want)
			}
		})
	}
}

// FuzzParseLayout: any text either parses into stages whose symbols add up
// (one E first, one L last, at most MaxLayoutSymbols) or is refused as bad
// input naming the field; nothing panics or grows without bound.
func FuzzParseLayout(f *testing.F) {
	for _, s := range []string{"Et|(tt|)*30mL", "Et|(tt|)*30L", "Et*4|(t*4|)*14tmL", "E||L", "((", "E(t|)*99999999999L", "E)L", "Et*|L"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		l, err := ParseLayout(s)
		if err != nil {
			if !errors.Is(err, fault.ErrBadInput) || !strings.Contains(err.Error(), layoutField) {
				t.Fatalf("%q: error %v is not bad input naming %s", s, err, layoutField)
			}
			return
		}
		if len(l.Stages) == 0 || !l.Stages[0].Embedding || !l.Stages[len(l.Stages)-1].Loss {
			t.Fatalf("%q: stages %+v lack E first or L last", s, l.Stages)
		}
		var n int
		for _, st := range l.Stages {
			if st.Layers < 0 || st.MTP < 0 {
				t.Fatalf("%q: negative count in %+v", s, st)
			}
			n += st.Layers + st.MTP
		}
		if n+len(l.Stages)+1 > MaxLayoutSymbols+2 {
			t.Fatalf("%q: %d symbols past the limit", s, n)
		}
		// Check must answer for any model without panicking.
		_, _ = l.Check(n, 0, 1+len(s)%8)
	})
}

// The MTP layers' parameters (a layer of the last kind, the projection
// and the embedding copy) sit on the layout's MTP stage, or on the last
// virtual stage by default, and nowhere else.
func TestMTPStageParams(t *testing.T) {
	m, err := model.Lookup("deepseek-v3")
	if err != nil {
		t.Fatal(err)
	}
	noMTP := *m
	noMTP.MTPLayers = 0
	lay, err := ParseLayout("Et|(tt|)*30mL")
	if err != nil {
		t.Fatal(err)
	}
	c := Config{TP: 2, PP: 8, VP: 4, CP: 1, EP: 64, DP: 64, Layout: lay}
	split, err := c.Split(m.Layers)
	if err != nil {
		t.Fatal(err)
	}
	d0, e0 := StageParams(&noMTP, c, split)
	d1, e1 := StageParams(m, c, split)
	for v := range d0 {
		if v == 31 {
			wantD := (float64(m.AttentionParams()+m.NormParams()+m.RouterParams()+m.SharedExpertParams()+m.MTPProjectionParams()) + float64(m.EmbeddingParams())) / 2
			wantE := float64(m.MoE.Experts) * float64(m.ExpertParams()) / 128
			if math.Abs(d1[v]-d0[v]-wantD) > 1 || math.Abs(e1[v]-e0[v]-wantE) > 1 {
				t.Errorf("MTP stage adds %.4g dense and %.4g expert parameters, want %.4g and %.4g", d1[v]-d0[v], e1[v]-e0[v], wantD, wantE)
			}
			continue
		}
		if d1[v] != d0[v] || e1[v] != e0[v] {
			t.Errorf("stage %d changed with MTP", v)
		}
	}
	if got := MTPStage(m, Config{PP: 4, VP: 2}); got != 7 {
		t.Errorf("default MTP stage %d, want the last (7)", got)
	}
}

// recompute: moe keeps only the input of an MoE block: less activation
// memory than none on MoE layers, the same on dense ones.
func TestRecomputeMoEMemory(t *testing.T) {
	m, err := model.Lookup("deepseek-v3")
	if err != nil {
		t.Fatal(err)
	}
	c := Config{TP: 2, PP: 1, VP: 1, CP: 1, EP: 8, DP: 8, SP: true}
	dense, moe := 0, m.MoE.FirstDense
	for _, tt := range []struct {
		layer int
		less  bool
	}{{dense, false}, {moe, true}} {
		none := LayerActivationBytes(m, c, tt.layer, 1, 4096, RecomputeNone, false)
		got := LayerActivationBytes(m, c, tt.layer, 1, 4096, RecomputeMoE, false)
		if tt.less != (got < none) || got > none {
			t.Errorf("layer %d: recompute moe keeps %.4g bytes, none %.4g", tt.layer, got, none)
		}
	}
	if _, err := ParseRecompute("moe"); err != nil {
		t.Error(err)
	}
}

// megatronStages expands a layout the way Megatron-Core's parse_str_to_list
// does (commas dropped, one pass of (..)*n with no nesting, then x*n, then
// a split at |) and returns each stage's symbols, so that FormatLayout's
// text is checked against the framework's reading, not only ours.
func megatronStages(t *testing.T, text string) []string {
	t.Helper()
	s := strings.ReplaceAll(text, ",", "")
	for _, re := range []*regexp.Regexp{regexp.MustCompile(`\(([^)]+)\)\*(\d+)`), regexp.MustCompile(`(.)\*(\d+)`)} {
		s = re.ReplaceAllStringFunc(s, func(m string) string {
			g := re.FindStringSubmatch(m)
			n, err := strconv.Atoi(g[2])
			if err != nil {
				t.Fatal(err)
			}
			return strings.Repeat(g[1], n)
		})
	}
	if strings.ContainsAny(s, "()*") {
		t.Fatalf("%q: Megatron's parser leaves %q", text, s)
	}
	return strings.Split(s, "|")
}

// FormatLayout writes the stage list of a split in the syntax Megatron-Core
// parses back to the same stages: the published DeepSeek-V3 layouts come
// out as published, and every default split round-trips through both our
// parser and Megatron's expansion.
func TestFormatLayout(t *testing.T) {
	ds, err := model.Lookup("deepseek-v3")
	if err != nil {
		t.Fatal(err)
	}
	llama, err := model.Lookup("llama3.1-405b")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		m      *model.Model
		pp, vp int
		want   string
	}{
		{ds, 8, 4, "Et|(tt|)*30mL"}, // the H100 recipe's layout (reference/moe.md section 2)
		{ds, 16, 1, "Et*3|(t*4|)*14ttmL"},
		{ds, 4, 4, "Et*3|(t*4|)*14ttmL"},     // 16 stages as on pp16, four chunks per rank
		{llama, 16, 1, "Et*7|(t*8|)*14t*7L"}, // Llama 3 405B: one layer fewer on the edges
		{llama, 2, 1, "Et*63|t*63L"},
	}
	for _, tt := range tests {
		c := Config{TP: 1, PP: tt.pp, VP: tt.vp, CP: 1, EP: 1, DP: 1}
		stages, err := c.StageLayout(tt.m)
		if err != nil {
			t.Fatal(err)
		}
		got := FormatLayout(stages)
		if got != tt.want {
			t.Errorf("%s pp%d vp%d: %q, want %q", tt.m.ID, tt.pp, tt.vp, got, tt.want)
		}
		back, err := ParseLayout(got)
		if err != nil {
			t.Fatalf("%q does not parse: %v", got, err)
		}
		if d := cmp.Diff(stages, back.Stages); d != "" {
			t.Errorf("%q round trip (-want +got):\n%s", got, d)
		}
		if vp, err := back.Check(tt.m.Layers, tt.m.MTPLayers, tt.pp); err != nil || vp != tt.vp {
			t.Errorf("%q: Check gives vp %d, %v; want %d", got, vp, err, tt.vp)
		}
		mg := megatronStages(t, got)
		if len(mg) != len(stages) {
			t.Fatalf("%q: Megatron reads %d stages, want %d", got, len(mg), len(stages))
		}
		for i, st := range stages {
			if n := strings.Count(mg[i], "t"); n != st.Layers || strings.Count(mg[i], "m") != st.MTP {
				t.Errorf("%q stage %d: Megatron reads %q, want %d t and %d m", got, i, mg[i], st.Layers, st.MTP)
			}
		}
	}
	// Empty stages and runs of them stay parsable by both.
	for _, text := range []string{"E||tttt|L", "E|(|)*3tttt|L", "Et|(tt|)*2t*3|t|L"} {
		l, err := ParseLayout(text)
		if err != nil {
			t.Fatal(err)
		}
		got := FormatLayout(l.Stages)
		back, err := ParseLayout(got)
		if err != nil {
			t.Fatalf("%q -> %q does not parse: %v", text, got, err)
		}
		if d := cmp.Diff(l.Stages, back.Stages); d != "" {
			t.Errorf("%q -> %q (-want +got):\n%s", text, got, d)
		}
		if n := len(megatronStages(t, got)); n != len(l.Stages) {
			t.Errorf("%q -> %q: Megatron reads %d stages, want %d", text, got, n, len(l.Stages))
		}
	}
}

package parallel

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/scaleacross/scaleacross/fault"
	"github.com/scaleacross/scaleacross/model"
)

// layoutField is the spec field a pipeline layout comes from.
const layoutField = "parallel.pipeline_layout"

// Bounds on a layout's text and its expansion: Megatron's published
// layouts are a few dozen characters and at most a few hundred symbols
// (reference/moe.md section 2), so these refuse only hostile input.
const (
	MaxLayoutText    = 4096
	MaxLayoutSymbols = 1 << 16
	maxLayoutDepth   = 32
)

// LayoutStage is one virtual stage of a pipeline layout: the decoder
// layers (t) and multi-token-prediction layers (m) it builds, and whether
// it holds the embedding (E) or the loss (L).
type LayoutStage struct {
	Layers, MTP     int
	Embedding, Loss bool
}

// PipelineLayout is a pipeline layout in Megatron-Core's syntax
// (--pipeline-model-parallel-layout, megatron/core/transformer/
// pipeline_parallel_layer_layout.py; reference/moe.md section 2): E the
// embedding, t a decoder layer, m an MTP layer, L the loss, | a stage
// boundary, x*n and (..)*n repetition. Flattened stage i runs on pipeline
// rank i mod pp as its chunk i div pp.
type PipelineLayout struct {
	Text   string
	Stages []LayoutStage
}

// ParseLayout parses a layout and checks what it can without the model:
// the symbols, E exactly once as the first symbol and L exactly once as
// the last. Errors name parallel.pipeline_layout.
func ParseLayout(text string) (*PipelineLayout, error) {
	if len(text) > MaxLayoutText {
		return nil, fault.Field(layoutField, "is %d characters, over the limit of %d", len(text), MaxLayoutText)
	}
	p := layoutParser{s: text}
	syms, err := p.seq(0)
	if err != nil {
		return nil, err
	}
	if p.i < len(p.s) {
		return nil, p.errorf("unexpected %q (an unopened ')')", p.s[p.i])
	}
	l := &PipelineLayout{Text: text, Stages: []LayoutStage{{}}}
	var nE, nL int
	for k, c := range syms {
		st := &l.Stages[len(l.Stages)-1]
		switch c {
		case '|':
			l.Stages = append(l.Stages, LayoutStage{})
		case 'E':
			nE++
			if k != 0 {
				return nil, fault.Field(layoutField, "%q: the embedding E must be the first symbol (it sits on the first stage of rank 0)", text)
			}
			st.Embedding = true
		case 'L':
			nL++
			if k != len(syms)-1 {
				return nil, fault.Field(layoutField, "%q: the loss L must be the last symbol (it sits on the last stage of the last rank)", text)
			}
			st.Loss = true
		case 't':
			st.Layers++
		case 'm':
			st.MTP++
		}
	}
	if nE != 1 {
		return nil, fault.Field(layoutField, "%q has %d embeddings E; write E exactly once, first (e.g. Et|(tt|)*30L)", text, nE)
	}
	if nL != 1 {
		return nil, fault.Field(layoutField, "%q has %d losses L; write L exactly once, last (e.g. Et|(tt|)*30L)", text, nL)
	}
	return l, nil
}

// Check checks the layout against a model of layers decoder layers and mtp
// MTP layers on pp pipeline ranks and returns the model chunks per rank it
// implies (vp = stages/pp), following Megatron-Core's rules: the stage
// count divides by pp, the t count equals the layers and the m count the
// MTP layers, MTP layers come after every decoder layer, in the last
// chunk of their rank and not on rank 0.
func (l *PipelineLayout) Check(layers, mtp, pp int) (vp int, err error) {
	n := len(l.Stages)
	if pp <= 0 || n%pp != 0 {
		return 0, fault.Field(layoutField, "%q has %d stages, not divisible by pp=%d; give pp*vp stages separated by |", l.Text, n, pp)
	}
	vp = n / pp
	var t, m int
	seenMTP := false
	for i, s := range l.Stages {
		if s.Layers > 0 && seenMTP {
			return 0, fault.Field(layoutField, "%q puts a decoder layer t after an MTP layer m (stage %d); MTP layers come after all decoder layers", l.Text, i)
		}
		if s.MTP > 0 {
			seenMTP = true
			if i%pp == 0 {
				return 0, fault.Field(layoutField, "%q puts an MTP layer m on pipeline rank 0 (stage %d); Megatron-Core does not allow MTP on the first rank", l.Text, i)
			}
			if i/pp != vp-1 {
				return 0, fault.Field(layoutField, "%q puts an MTP layer m in chunk %d of rank %d; it must sit in the rank's last chunk (%d)", l.Text, i/pp, i%pp, vp-1)
			}
		}
		t += s.Layers
		m += s.MTP
	}
	if t != layers {
		return 0, fault.Field(layoutField, "%q has %d decoder layers t but the model has %d; the t count must equal the layers", l.Text, t, layers)
	}
	if m != mtp {
		return 0, fault.Field(layoutField, "%q has %d MTP layers m but the model has %d (model_overrides.mtp_layers); make them equal", l.Text, m, mtp)
	}
	return vp, nil
}

// LayerCounts returns each stage's decoder-layer count, in pipeline order.
func (l *PipelineLayout) LayerCounts() []int {
	out := make([]int, len(l.Stages))
	for i, s := range l.Stages {
		out[i] = s.Layers
	}
	return out
}

// MTPStage is the virtual stage that holds the MTP layers, or -1.
func (l *PipelineLayout) MTPStage() int {
	for i, s := range l.Stages {
		if s.MTP > 0 {
			return i
		}
	}
	return -1
}

// String is the layout's text.
func (l *PipelineLayout) String() string { return l.Text }

// MarshalText writes the layout as its text.
func (l *PipelineLayout) MarshalText() ([]byte, error) { return []byte(l.Text), nil }

// UnmarshalText parses a layout's text.
func (l *PipelineLayout) UnmarshalText(b []byte) error {
	p, err := ParseLayout(string(b))
	if err != nil {
		return err
	}
	*l = *p
	return nil
}

// layoutParser is a recursive-descent parser over the layout grammar
//
//	seq  = { item }
//	item = atom [ "*" count ]
//	atom = "E" | "t" | "m" | "L" | "|" | "(" seq ")"
//
// with spaces and commas ignored (Megatron-Core drops its "purely
// cosmetic commas" before parsing, as in "Et*3|(tt|)*29,m|L"). It expands repetitions as it goes, refusing an
// expansion beyond MaxLayoutSymbols before building it.
type layoutParser struct {
	s string
	i int
}

func (p *layoutParser) errorf(format string, a ...any) error {
	return fault.Field(layoutField, "%q at character %d: %s; use E, t, m, L, |, (..)*n and x*n (e.g. Et|(tt|)*30mL)", p.s, p.i+1, fmt.Sprintf(format, a...))
}

func (p *layoutParser) skip() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t' || p.s[p.i] == ',') {
		p.i++
	}
}

func (p *layoutParser) seq(depth int) ([]byte, error) {
	if depth > maxLayoutDepth {
		return nil, p.errorf("parentheses nested deeper than %d", maxLayoutDepth)
	}
	var out []byte
	for {
		p.skip()
		if p.i >= len(p.s) || p.s[p.i] == ')' {
			return out, nil
		}
		var atom []byte
		switch c := p.s[p.i]; c {
		case 'E', 't', 'm', 'L', '|':
			atom = []byte{c}
			p.i++
		case '(':
			p.i++
			inner, err := p.seq(depth + 1)
			if err != nil {
				return nil, err
			}
			if p.i >= len(p.s) {
				return nil, p.errorf("unclosed '('")
			}
			p.i++ // ')'
			atom = inner
		default:
			return nil, p.errorf("unexpected %q", c)
		}
		p.skip()
		n := 1
		if p.i < len(p.s) && p.s[p.i] == '*' {
			p.i++
			p.skip()
			j := p.i
			for p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
				p.i++
			}
			if j == p.i {
				return nil, p.errorf("'*' needs a repeat count")
			}
			v, err := strconv.Atoi(p.s[j:p.i])
			if err != nil || v > MaxLayoutSymbols {
				return nil, p.errorf("repeat count %s is over the limit of %d", p.s[j:p.i], MaxLayoutSymbols)
			}
			n = v
		}
		if len(atom) > 0 && n > (MaxLayoutSymbols-len(out))/len(atom) {
			return nil, p.errorf("expands past %d symbols", MaxLayoutSymbols)
		}
		out = append(out, []byte(strings.Repeat(string(atom), n))...)
	}
}

// StageLayout returns the pp*vp virtual stages c builds for model m, in
// pipeline order: the layout's stages when one is given, else the split's
// decoder-layer counts with the embedding on the first stage, the loss on
// the last and the MTP layers on MTPStage. It is what Megatron-Core would
// be told with --pipeline-model-parallel-layout to build the same split.
func (c Config) StageLayout(m *model.Model) ([]LayoutStage, error) {
	if c.Layout != nil {
		return append([]LayoutStage(nil), c.Layout.Stages...), nil
	}
	split, err := c.Split(m.Layers)
	if err != nil {
		return nil, err
	}
	n := c.PP * c.VP
	out := make([]LayoutStage, n)
	for v := range out {
		out[v].Layers = split.Layers(v, n)
	}
	out[0].Embedding = true
	out[n-1].Loss = true
	if v := MTPStage(m, c); v >= 0 {
		out[v].MTP = m.MTPLayers
	}
	return out, nil
}

// FormatLayout writes stages in Megatron-Core's layout syntax, the form
// its parser (pipeline_parallel_layer_layout.py parse_str_to_list) reads:
// a run of two or more identical inner stages as (..|)*n, never nested
// (its pattern \(([^)]+)\)\*(\d+) expands one level only), and a stage's
// run of three or more t (or m) as t*n. DeepSeek-V3's 61 layers on pp8
// vp4 give "Et|(tt|)*30L".
func FormatLayout(stages []LayoutStage) string {
	stage := func(s LayoutStage) string {
		var b strings.Builder
		if s.Embedding {
			b.WriteByte('E')
		}
		b.WriteString(layoutRun('t', s.Layers))
		b.WriteString(layoutRun('m', s.MTP))
		if s.Loss {
			b.WriteByte('L')
		}
		return b.String()
	}
	if len(stages) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString(stage(stages[0]))
	bar := true // whether the next stage needs its boundary written
	for i := 1; i < len(stages); {
		if bar {
			b.WriteByte('|')
		}
		j := i
		for j < len(stages)-1 && stages[j] == stages[i] {
			j++
		}
		if k := j - i; k >= 2 {
			// k identical inner stages, each with the boundary after it.
			fmt.Fprintf(&b, "(%s|)*%d", stage(stages[i]), k)
			bar, i = false, j
			continue
		}
		b.WriteString(stage(stages[i]))
		bar, i = true, i+1
	}
	return b.String()
}

// layoutRun writes n copies of symbol c: none, c, cc, or c*n from three on.
func layoutRun(c byte, n int) string {
	switch {
	case n <= 0:
		return ""
	case n <= 2:
		return strings.Repeat(string(c), n)
	}
	return fmt.Sprintf("%c*%d", c, n)
}

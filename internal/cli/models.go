package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/scaleacross/scaleacross/model"
)

// modelsDefaultSeq is the sequence length `models show` reports FLOPs at
// unless --seq says otherwise.
const modelsDefaultSeq = 8192

// kvBytesPerElem is the size of one cached key or value element in bf16.
const kvBytesPerElem = 2

// newModelsCmd builds `scaleacross models [--json]` and its show command.
func newModelsCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "models",
		Short: "List the built-in model catalog",
		Long: `models lists the built-in model architectures with their total and active
(per-token) parameter counts as counted from their published dimensions.
"models show ID" prints one architecture in full: parameter breakdown, FLOPs
per token, KV-cache size and any assumed dimensions. ID may also be the path
to a Hugging Face config.json.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return badInput("%s takes no arguments, got %q; did you mean \"scaleacross models show %s\"?", cmd.CommandPath(), clipArg(args[0]), clipArg(args[0]))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			rows := modelsRows(model.Builtin())
			if asJSON {
				return modelsWriteJSON(cmd.OutOrStdout(), rows)
			}
			return modelsWriteTable(cmd.OutOrStdout(), rows)
		},
	}
	cmd.PersistentFlags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.AddCommand(newModelsShowCmd(&asJSON))
	return cmd
}

// newModelsShowCmd builds `scaleacross models show ID [--seq N]`.
func newModelsShowCmd(asJSON *bool) *cobra.Command {
	var seq int
	cmd := &cobra.Command{
		Use:   "show ID|config.json",
		Short: "Show one architecture: parameters, FLOPs per token, KV cache, assumptions",
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 1 {
				return badInput("models show takes exactly one model id or config.json path, got %d arguments; run \"scaleacross models\" for the ids", len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if seq <= 0 {
				return badInput("--seq must be a positive number of tokens, got %d", seq)
			}
			m, err := modelLoader("").Load(args[0])
			if err != nil {
				return fmt.Errorf("models show: %w", err)
			}
			d := modelsDetailOf(m, seq)
			if *asJSON {
				return modelsWriteJSON(cmd.OutOrStdout(), d)
			}
			return modelsWriteDetail(cmd.OutOrStdout(), m, d)
		},
	}
	cmd.Flags().IntVar(&seq, "seq", modelsDefaultSeq, "sequence length for FLOPs per token and the KV cache of one sequence")
	return cmd
}

// modelsRow is one line of `models --json`.
type modelsRow struct {
	ID            string `json:"id"`
	Name          string `json:"name"`
	Family        string `json:"family"`
	TotalParams   int64  `json:"total_params"`
	ActiveParams  int64  `json:"active_params"`
	Layers        int    `json:"layers"`
	Hidden        int    `json:"hidden"`
	Experts       int    `json:"experts"`
	TopK          int    `json:"top_k"`
	SharedExperts int    `json:"shared_experts"`
	MaxContext    int    `json:"max_context"`
	// Assumed is true when some dimensions are not published.
	Assumed bool `json:"assumed"`
}

func modelsRows(ms []model.Model) []modelsRow {
	rows := make([]modelsRow, len(ms))
	for i := range ms {
		m := &ms[i]
		r := modelsRow{
			ID: m.ID, Name: m.Name, Family: m.Family,
			TotalParams: m.TotalParams(), ActiveParams: m.ActiveParams(),
			Layers: m.Layers, Hidden: m.Hidden, MaxContext: m.MaxContext,
			Assumed: len(m.Assumptions) > 0,
		}
		if e := m.MoE; e != nil {
			r.Experts, r.TopK, r.SharedExperts = e.Experts, e.TopK, e.SharedExperts
		}
		rows[i] = r
	}
	return rows
}

// modelsDetail is the output of `models show --json`.
type modelsDetail struct {
	ID                    string            `json:"id"`
	Name                  string            `json:"name"`
	Family                string            `json:"family"`
	Source                string            `json:"source"`
	Architecture          *model.Model      `json:"architecture"`
	TotalParams           int64             `json:"total_params"`
	ActiveParams          int64             `json:"active_params"`
	PublishedTotalParams  float64           `json:"published_total_params,omitempty"`
	PublishedActiveParams float64           `json:"published_active_params,omitempty"`
	Breakdown             []model.Component `json:"breakdown"`
	SeqLen                int               `json:"seq_len"`
	// FLOPsPerToken is the forward pass; training is 3x forward.
	FLOPsPerToken          float64 `json:"flops_per_token"`
	AttentionFLOPsPerToken float64 `json:"attention_flops_per_token"`
	TrainingFLOPsPerToken  float64 `json:"training_flops_per_token"`
	// KVBytesPerToken is bf16 over all layers, the bound for long contexts
	// when some layers attend locally.
	KVBytesPerToken float64 `json:"kv_bytes_per_token"`
	KVBytesAtSeq    float64 `json:"kv_bytes_at_seq"`
	MaxContext      int     `json:"max_context"`
	// KVBytesFullContext is one sequence at MaxContext (0 when unknown).
	KVBytesFullContext float64  `json:"kv_bytes_full_context"`
	Assumptions        []string `json:"assumptions"`
	Notes              []string `json:"notes"`
}

func modelsDetailOf(m *model.Model, seq int) modelsDetail {
	var attn float64
	for i := 0; i < m.Layers; i++ {
		attn += m.AttentionFLOPsPerToken(i, seq)
	}
	fwd := m.FLOPsPerToken(seq)
	d := modelsDetail{
		ID: m.ID, Name: m.Name, Family: m.Family, Source: m.Source,
		Architecture:         m,
		TotalParams:          m.TotalParams(),
		ActiveParams:         m.ActiveParams(),
		PublishedTotalParams: m.PublishedTotal, PublishedActiveParams: m.PublishedActive,
		Breakdown:              m.Breakdown(),
		SeqLen:                 seq,
		FLOPsPerToken:          fwd,
		AttentionFLOPsPerToken: attn,
		TrainingFLOPsPerToken:  3 * fwd,
		KVBytesPerToken:        m.KVBytesPerToken(kvBytesPerElem),
		KVBytesAtSeq:           m.KVBytes(seq, kvBytesPerElem),
		MaxContext:             m.MaxContext,
		Assumptions:            append([]string{}, m.Assumptions...),
		Notes:                  append([]string{}, m.Notes...),
	}
	if m.MaxContext > 0 {
		d.KVBytesFullContext = m.KVBytes(m.MaxContext, kvBytesPerElem)
	}
	return d
}

// modelsWriteJSON prints v as indented JSON.
func modelsWriteJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("writing JSON: %w", err)
	}
	return nil
}

func modelsWriteTable(w io.Writer, rows []modelsRow) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tTOTAL\tACTIVE\tLAYERS\tHIDDEN\tEXPERTS")
	assumed := false
	for _, r := range rows {
		id := r.ID
		if r.Assumed {
			id += "*"
			assumed = true
		}
		experts := "-"
		if r.Experts > 0 {
			experts = fmt.Sprintf("%d top-%d", r.Experts, r.TopK)
			if r.SharedExperts > 0 {
				experts += fmt.Sprintf(" +%d shared", r.SharedExperts)
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%s\n", id, r.Name, modelsParams(float64(r.TotalParams)),
			modelsParams(float64(r.ActiveParams)), r.Layers, r.Hidden, experts)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("writing table: %w", err)
	}
	if assumed {
		if _, err := fmt.Fprintln(w, "* some dimensions are assumed, not published: see \"scaleacross models show ID\""); err != nil {
			return fmt.Errorf("writing table: %w", err)
		}
	}
	return nil
}

// modelsWriteDetail prints one architecture for people.
func modelsWriteDetail(w io.Writer, m *model.Model, d modelsDetail) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s\n", m.ID, m.Name)
	fmt.Fprintf(&b, "family: %s\nsource: %s\n", m.Family, m.Source)
	if len(m.Assumptions) > 0 {
		b.WriteString("WARNING: some dimensions are ASSUMED, not published (listed at the end)\n")
	}

	b.WriteString("\narchitecture\n")
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	for _, kv := range modelsArchitecture(m) {
		fmt.Fprintf(tw, "  %s\t%s\n", kv[0], kv[1])
	}
	tw.Flush()

	b.WriteString("\nparameters\n")
	row := func(name, total, active string) { fmt.Fprintf(&b, "  %-16s %10s %10s\n", name, total, active) }
	row("component", "total", "active")
	for _, c := range d.Breakdown {
		row(c.Name, modelsParams(float64(c.Total)), modelsParams(float64(c.Active)))
	}
	row("sum", modelsParams(float64(d.TotalParams)), modelsParams(float64(d.ActiveParams)))
	if d.PublishedTotalParams > 0 || d.PublishedActiveParams > 0 {
		row("published", modelsPublished(d.PublishedTotalParams), modelsPublished(d.PublishedActiveParams))
	}
	fmt.Fprintf(&b, "  total_params %d, active_params %d (per token, embedding and head included)\n", d.TotalParams, d.ActiveParams)

	fmt.Fprintf(&b, "\ncompute per token at sequence length %d\n", d.SeqLen)
	tw = tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  forward\t%s\t(2 per active matmul weight + causal attention)\n", modelsFLOPs(d.FLOPsPerToken))
	fmt.Fprintf(tw, "  of which attention\t%s\t(scores and values)\n", modelsFLOPs(d.AttentionFLOPsPerToken))
	fmt.Fprintf(tw, "  training\t%s\t(3 x forward, no recompute)\n", modelsFLOPs(d.TrainingFLOPsPerToken))
	tw.Flush()

	b.WriteString("\nKV cache (bf16)\n")
	tw = tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	perLayer := float64(m.KVElementsPerTokenLayer()) * kvBytesPerElem
	fmt.Fprintf(tw, "  per token per layer\t%s\n", modelsBytes(perLayer))
	bound := ""
	if m.LocalAttentionLayers() > 0 {
		bound = fmt.Sprintf("  (bound: %d local layers keep at most %d tokens)", m.LocalAttentionLayers(), m.AttentionChunk)
	}
	fmt.Fprintf(tw, "  per token, all %d layers\t%s%s\n", m.Layers, modelsBytes(d.KVBytesPerToken), bound)
	fmt.Fprintf(tw, "  one sequence of %d tokens\t%s\n", d.SeqLen, modelsBytes(d.KVBytesAtSeq))
	if d.MaxContext > 0 {
		fmt.Fprintf(tw, "  one sequence at the full context (%d tokens)\t%s\n", d.MaxContext, modelsBytes(d.KVBytesFullContext))
	} else {
		fmt.Fprintf(tw, "  one sequence at the full context\tunknown (the config gives no max_position_embeddings)\n")
	}
	tw.Flush()

	if len(m.Assumptions) > 0 {
		b.WriteString("\nASSUMED (not published):\n")
		for _, a := range m.Assumptions {
			fmt.Fprintf(&b, "  - %s\n", a)
		}
	} else {
		b.WriteString("\nassumptions: none (all dimensions from the source)\n")
	}
	if len(m.Notes) > 0 {
		b.WriteString("\nnotes:\n")
		for _, n := range m.Notes {
			fmt.Fprintf(&b, "  - %s\n", n)
		}
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("writing model: %w", err)
	}
	return nil
}

// modelsArchitecture describes the architecture as label/value lines.
func modelsArchitecture(m *model.Model) [][2]string {
	var out [][2]string
	add := func(k, format string, args ...any) { out = append(out, [2]string{k, fmt.Sprintf(format, args...)}) }

	layers := fmt.Sprintf("%d", m.Layers)
	if e := m.MoE; e != nil {
		moe := m.MoELayers()
		switch {
		case moe == m.Layers:
			layers += " (all MoE)"
		case e.Interval > 1:
			layers += fmt.Sprintf(" (%d MoE: every %s layer; %d dense)", moe, modelsOrdinal(e.Interval), m.Layers-moe)
		default:
			layers += fmt.Sprintf(" (first %d dense, then %d MoE)", m.Layers-moe, moe)
		}
	}
	add("layers", "%s", layers)
	add("hidden", "%d", m.Hidden)
	switch {
	case m.MLA != nil:
		a := m.MLA
		q := "full-rank queries"
		if a.QLoRARank > 0 {
			q = fmt.Sprintf("query rank %d", a.QLoRARank)
		}
		add("attention", "MLA: %d heads, %s, KV latent %d + RoPE key %d, head dims qk %d+%d, v %d",
			m.Heads, q, a.KVLoRARank, a.QKRopeHeadDim, a.QKNopeHeadDim, a.QKRopeHeadDim, a.VHeadDim)
	case m.KVHeads == m.Heads:
		add("attention", "MHA: %d heads x %d", m.Heads, m.HeadDim)
	case m.KVHeads == 1:
		add("attention", "MQA: %d query heads x %d, 1 KV head", m.Heads, m.HeadDim)
	default:
		add("attention", "GQA: %d query heads x %d, %d KV heads", m.Heads, m.HeadDim, m.KVHeads)
	}
	if local := m.LocalAttentionLayers(); local > 0 {
		kind := "chunked at"
		if m.SlidingWindow {
			kind = "sliding window of"
		}
		global := "no layer attends the full context"
		if m.GlobalInterval > 0 {
			global = fmt.Sprintf("every %s layer attends the full context", modelsOrdinal(m.GlobalInterval))
		}
		add("local attention", "%d of %d layers %s %d tokens; %s", local, m.Layers, kind, m.AttentionChunk, global)
	}
	var extras []string
	if m.Bias {
		extras = append(extras, "biases on all linear layers and norms")
	}
	if m.AttentionBias && !m.Bias {
		extras = append(extras, "attention biases")
	}
	if m.MLPBias && !m.Bias {
		extras = append(extras, "MLP and router biases")
	}
	if m.NormBias && !m.Bias {
		extras = append(extras, "LayerNorm biases")
	}
	if m.QKNorm {
		extras = append(extras, "per-head q/k RMSNorm")
	}
	if m.AttentionSinks {
		extras = append(extras, "learned attention sinks")
	}
	if len(extras) > 0 {
		add("extras", "%s", strings.Join(extras, ", "))
	}
	if m.Layers > m.MoELayers() {
		add("dense MLP", "%s, ffn %d", modelsActivation(m.Act), m.FFN)
	}
	if e := m.MoE; e != nil {
		s := fmt.Sprintf("%d routed experts (%s, ffn %d), top-%d", e.Experts, modelsActivation(m.Act), e.ExpertFFN, e.TopK)
		if e.SharedExperts > 0 {
			plural := ""
			if e.SharedExperts > 1 {
				plural = "s"
			}
			s += fmt.Sprintf("; %d shared expert%s (ffn %d)", e.SharedExperts, plural, e.SharedFFN)
		}
		add("MoE", "%s", s)
	}
	emb := "untied input and output embeddings"
	if m.TiedEmbeddings {
		emb = "output projection tied to the input embedding"
	}
	add("vocabulary", "%d, %s", m.Vocab, emb)
	if m.LearnedPositions > 0 {
		add("positions", "learned, %d", m.LearnedPositions)
	}
	if m.MaxContext > 0 {
		add("max context", "%d tokens", m.MaxContext)
	}
	return out
}

func modelsActivation(a model.Activation) string {
	switch a {
	case model.SwiGLU:
		return "SwiGLU"
	case model.GeLU:
		return "GeLU"
	case model.ReLU2:
		return "squared ReLU"
	case model.GeGLU:
		return "GeGLU"
	}
	return string(a)
}

func modelsOrdinal(n int) string {
	switch n {
	case 1:
		return "1st"
	case 2:
		return "2nd"
	case 3:
		return "3rd"
	}
	return fmt.Sprintf("%dth", n)
}

// modelsParams formats a parameter count with a B/T/M suffix.
func modelsParams(v float64) string {
	switch {
	case v >= 1e12:
		return fmt.Sprintf("%.3fT", v/1e12)
	case v >= 1e9:
		return fmt.Sprintf("%.2fB", v/1e9)
	case v >= 1e6:
		return fmt.Sprintf("%.2fM", v/1e6)
	case v >= 1e3:
		return fmt.Sprintf("%.1fK", v/1e3)
	}
	return fmt.Sprintf("%.0f", v)
}

// modelsPublished formats a published figure as stated (no padding
// digits), "-" when there is none.
func modelsPublished(v float64) string {
	switch {
	case v <= 0:
		return "-"
	case v >= 1e12:
		return strconv.FormatFloat(v/1e12, 'f', -1, 64) + "T"
	}
	return strconv.FormatFloat(v/1e9, 'f', -1, 64) + "B"
}

// modelsFLOPs formats FLOPs with a G/T prefix.
func modelsFLOPs(v float64) string {
	if v >= 1e12 {
		return fmt.Sprintf("%.3f TFLOP", v/1e12)
	}
	return fmt.Sprintf("%.2f GFLOP", v/1e9)
}

// modelsBytes formats a byte count in binary units.
func modelsBytes(v float64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB"}
	i := 0
	for v >= 1024 && i < len(units)-1 {
		v /= 1024
		i++
	}
	if i == 0 {
		return fmt.Sprintf("%.0f B", v)
	}
	return fmt.Sprintf("%.2f %s", v, units[i])
}

package infer

import (
	"fmt"

	"github.com/scaleacross/scaleacross/specdec"
)

// check validates the speculative configuration against the deployment:
// the method's own needs (an EAGLE depth, an MTP module, a draft model
// that shares the target's vocabulary) and chain-only methods with a
// branching tree. Errors name the spec field.
func (s *Speculative) check(c *Config) error {
	switch s.Method {
	case specdec.EAGLE, specdec.EAGLE3:
		if s.DraftLayers < 1 {
			return &ConfigError{"speculative.draft_layers", fmt.Sprintf("must be at least 1, got %d", s.DraftLayers)}
		}
	case specdec.MTP:
		if c.Model.MTPLayers == 0 {
			return &ConfigError{"speculative.method", fmt.Sprintf("mtp needs a model whose checkpoint ships multi-token-prediction modules (deepseek-v3); %s has none: use eagle3, draft or ngram", c.Model.ID)}
		}
	case specdec.Draft:
		d := s.DraftModel
		if d == nil {
			return &ConfigError{"speculative.draft_model", "method draft needs draft_model: a catalog id or a config.json path of the smaller model"}
		}
		if d.Vocab != c.Model.Vocab {
			return &ConfigError{"speculative.draft_model", fmt.Sprintf("%s has a vocabulary of %d tokens, %s of %d; a draft must share the target's tokenizer", d.ID, d.Vocab, c.Model.ID, c.Model.Vocab)}
		}
		if d.Heads%c.TP != 0 {
			return &ConfigError{"speculative.draft_model", fmt.Sprintf("%s has %d heads, which tp %d does not divide (the draft runs with the target's tp)", d.ID, d.Heads, c.TP)}
		}
	case specdec.NGram:
	default:
		return &ConfigError{"speculative.method", fmt.Sprintf("%q unknown", s.Method)}
	}
	if s.Method.ChainOnly() && s.Tree != nil && s.Tree.Size() != s.Tree.Depth() {
		return &ConfigError{"speculative.tree", fmt.Sprintf("%s drafts one token per depth; give tree: chain:N or auto, not a branching tree", s.Method)}
	}
	return nil
}

// draftAssumption states how the draft is priced.
func (s *Speculative) draftAssumption(c *Config) string {
	switch s.Method {
	case specdec.MTP:
		return fmt.Sprintf("draft: the target's MTP module (%d layer of %s at %s with its tp, ep and head), run once per chain depth", max(1, c.Model.MTPLayers), c.Model.ID, c.Weights)
	case specdec.Draft:
		return fmt.Sprintf("draft: %s at %s with the target's tp, one forward pass per drafted token", s.DraftModel.ID, c.Weights)
	case specdec.NGram:
		return fmt.Sprintf("draft: prompt lookup on the host, %.0f us per sequence per step, no GPU pass", c.Eff.NGramPerSeqUs)
	}
	return fmt.Sprintf("sibling acceptance decays by %.2f per rank (assumed); draft runs BF16 with the target's tp", s.Acceptance.SiblingDecay)
}

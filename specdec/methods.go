package specdec

// defaultChainAcceptance is the documented default acceptance of the
// chain-only methods (DefaultAcceptance).
//
// mtp: the DeepSeek-V3 technical report (arXiv 2412.19437, section 5.4.3)
// measures the acceptance of the second token, predicted by its one MTP
// module, at 85-90% across generation topics: a_1 = 0.875. Deeper depths
// run the same module on its own output (SGLang's and vLLM's MTP
// speculation with num_steps above 1), which the report does not measure.
// ASSUMPTION: they decay as the eagle3 default does, a_k = 0.875 *
// a_k(eagle3) / a_1(eagle3), since the MTP module is, like an EAGLE head,
// one transformer layer fed the target's last hidden state and the
// embedding of the token just drafted.
//
// draft: ASSUMPTION: a constant 0.7 at every depth, the i.i.d. model of
// Leviathan et al. (arXiv 2211.17192, section 3.1), whose Table 3 measures
// alpha between about 0.6 and 0.8 for drafts one to two orders of
// magnitude smaller than the target (T5-small to T5-large drafting
// T5-XXL; LaMDA 100M to 8B drafting 137B). A same-family draft such as
// Llama 3.2 1B for Llama 3.1 70B sits in that range; measure your pair
// and give speculative.accepted_lengths.
//
// ngram: ASSUMPTION for input-grounded work (summarisation, code editing,
// retrieval-augmented answers), where prompt lookup is used: the first
// looked-up token is accepted half the time, and once a copied span has
// started it continues with 0.8 per token. Open-ended chat copies far less
// from its prompt; give speculative.accepted_lengths for your traffic.
func defaultChainAcceptance(m Method) Acceptance {
	switch m {
	case MTP:
		e3, _ := DefaultAcceptance(EAGLE3)
		by := make([]float64, len(e3.ByDepth))
		for i, a := range e3.ByDepth {
			by[i] = min(1, 0.875*a/e3.ByDepth[0])
		}
		return Acceptance{ByDepth: by, SiblingDecay: DefaultSiblingDecay, Assumed: true,
			Source: "default for mtp: DeepSeek-V3 report (arXiv 2412.19437) 85-90% second-token acceptance for depth 1; deeper depths decay as the eagle3 default (assumed)"}
	case Draft:
		return Acceptance{ByDepth: []float64{0.7}, SiblingDecay: DefaultSiblingDecay, Assumed: true,
			Source: "default for draft: constant 0.7 per token (Leviathan et al., arXiv 2211.17192, Table 3: 0.6-0.8 for small same-family drafts; assumed)"}
	default:
		return Acceptance{ByDepth: []float64{0.5, 0.8}, SiblingDecay: DefaultSiblingDecay, Assumed: true,
			Source: "default for ngram: 0.5 for the first looked-up token, 0.8 per token once a copied span continues (input-grounded work; assumed)"}
	}
}

// ChainCandidates returns the chains of length 1..maxDepth with their
// expected tokens per step, the candidates of a chain-only method.
func ChainCandidates(a Acceptance, maxDepth int) []Candidate {
	out := make([]Candidate, 0, maxDepth)
	for k := 1; k <= maxDepth; k++ {
		t := Chain(k)
		out = append(out, Candidate{Tree: t, Expected: a.ExpectedTokens(t)})
	}
	return out
}

// Package specdec models speculative decoding with EAGLE-style drafts:
// per-position acceptance, the expected tokens a chain or tree yields per
// target step, a Sequoia-style search for the best tree of n nodes and
// depth at most d, the choice of tree (or no speculation) per batch size
// against a step-cost model, and the tree utilities a real engine needs:
// the tree attention mask, position ids and lossless multi-round
// speculative sampling.
//
// Notation follows DESIGN.md section 4. With per-depth acceptance
// a_1..a_g on a chain, the expected tokens per target step are
// 1 + sum_k prod_{j<=k} a_j; on a tree, one plus the sum over nodes of the
// product of acceptance along the node's path (Sequoia, arXiv 2402.12374).
package specdec

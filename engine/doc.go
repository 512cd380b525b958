// Package engine is the root of the real CPU speculative-decoding engine:
// a small Llama-architecture decoder with a hand-written backward pass, an
// EAGLE draft head trained on the target's own features, tree drafting and
// lossless tree verification with KV-cache compaction. The work is split
// into one idea per package:
//
//   - tensor: the float32 matrix kernels (row-blocked, register-tiled).
//   - model: the decoder, the draft head, the KV cache and the weight file.
//   - train: the corpus, Adam and the training loops of target and draft.
//   - decode: plain and speculative generation and their measurement.
//
// The command line is `scaleacross engine train|generate|bench`.
package engine

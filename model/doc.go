// Package model describes decoder-only transformer architectures (dense,
// mixture-of-experts with shared experts, GQA and MLA attention, chunked
// and sliding-window local attention) and counts what planning needs from
// them: parameters in total and per token, forward FLOPs per token and
// KV-cache bytes.
//
// Builtin returns the catalog of published models, each with the source
// of its dimensions; the one entry whose dimensions are not published
// (Llama 4 Behemoth) lists every assumed value in Assumptions. Lookup
// finds a catalog entry by id, ImportHF reads a Hugging Face config.json,
// and Load accepts either, as specs do.
package model

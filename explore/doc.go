// Package explore is the Explorer behind `scaleacross plan`: it searches
// placement, pipeline schedule, micro-batching, model chunking,
// recomputation, ZeRO sharding and network technology jointly for one
// training job, ranks every candidate with the analytic step model,
// re-ranks the best few with a second (event-level) engine, and compares
// the winner with two baselines searched the same way inside their own
// restricted spaces (DESIGN.md section 4):
//
//   - production: TP inside the node, data parallelism (the FSDP family,
//     ZeRO 1-3) outermost and therefore across sites, interleaved 1F1B,
//     the default transport;
//   - prior art (CrossPipe-style, USENIX ATC 2025): pipeline stages split
//     across sites (pp outermost), a non-interleaved schedule chosen for
//     latency, data-parallel traffic overlapped with compute, with
//     placement, chunking and network technology not co-optimised.
//
// The search is ordered and deterministic: candidates are enumerated in a
// fixed order and numbered, evaluated in parallel into their numbered
// slots, and sorted by step time with the number as tie-breaker, so the
// result does not depend on the worker count or on sharding. Progress is
// handed to a Sink after every batch so that a study store can commit it
// in one transaction and a later run can resume from it.
package explore

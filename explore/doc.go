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
// result does not depend on the worker count or on sharding. Placement
// orders that lay the groups out the same way are one candidate. The
// workers price one batch while the search enumerates the next; what the
// candidates of one layout and network choice share (the layout, the
// links, the memory check) is prepared once. Of the candidates that fit,
// the search keeps the fastest few thousand of each space and its Pareto
// front of step time and memory headroom (Options.Keep), which is all the
// plan reads; which ones it keeps depends only on the set evaluated. A
// candidate whose lower bound (a transport or collective variant's
// busiest-stage compute) proves the keeper would drop it is not priced
// (prune.go), which changes nothing kept. After
// every batch the newly kept records and the state are handed to a Sink,
// on a goroutine of its own, so that a study store can commit them in one
// transaction and a later run can resume from them.
package explore

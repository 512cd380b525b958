// Package schedule builds pipeline-parallel schedules as per-stage ordered
// work lists and simulates one training step of them.
//
// # Schedules
//
// Build(kind, Params) returns a Schedule: for each of pp stages, the
// ordered list of compute ops (F forward, BW whole backward, or B input
// backward and W weight backward when split) on (micro-batch, chunk)
// pairs. Work adds the sends and receives between stages. Kinds:
//
//	gpipe               all F, then all BW                 (Huang et al. 2019)
//	1f1b                warm-up, one F one BW, cool-down     (Narayanan et al. 2021)
//	interleaved-1f1b    vp chunks, Consecutive micro-batches per chunk group
//	                    (Megatron-LM; Llama 3's tunable N, depth- to breadth-first)
//	zb-h1               1F1B with W delayed into the cool-down (Qi et al. 2023)
//	zb-v                two chunks in a V, B/W split        (Qi et al. 2023)
//	dualpipev           DualPipe cut in half: V placement, fused F&B pairs
//	                    (DeepSeek-AI 2024; "dualpipe" is accepted as its name)
//	latency-aware-1f1b  1F1B/interleaved with deeper warm-up before slow
//	                    (cross-building) boundaries, capped by MaxInFlight
//
// Placement: chunk c of stage s holds virtual stage c*pp+s (interleaved)
// or s and 2pp-1-s (V shapes); see Schedule.VirtualStage. Dependencies
// (Schedule.Deps): F of virtual stage k needs F of k-1; B of k needs F of
// k and B of k+1; W of k needs B of k, all on the same micro-batch.
//
// PeakInFlight counts the micro-batch chunks whose activations a stage
// holds (F done, B not yet); PeakHeld keeps them until W. One unit is a
// chunk, i.e. 1/vp of a stage's layers.
//
// Build checks that every stage's order can run (an order that deadlocks
// is a bad-input error), and rejects parameters a kind does not accept
// (vp > 1 with gpipe, vp != 2 with the V shapes, too few micro-batches)
// with *fault.FieldError values (exit code 2) that name the field.
//
// # Simulation
//
// Simulate runs a Schedule with caller-given Costs (F, B, W time per stage
// and chunk; fused F&B time; point-to-point Transfer per stage boundary
// and direction). Each stage runs its list in order on its compute stream;
// an op starts once the stage is free and its inputs have arrived.
// Transfers overlap with compute. Without shared links the timeline is
// computed directly in one pass; with Options.Network (shared sim.Links,
// max-min fair) or Options.OnOp the same ordering logic runs on the sim
// event engine. A schedule whose orders cannot run yields a
// *DeadlockError, never a hang. The Result gives the makespan, per-stage
// busy time, the bubble fraction 1 - sum(busy)/(pp*makespan), peak
// in-flight counts and, with Options.Trace, the timeline as Spans.
package schedule

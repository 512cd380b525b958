// Package sim is a small deterministic discrete-event engine.
//
// An Engine holds a virtual clock (seconds, float64) and a queue of events
// ordered by time and, for equal times, by the order in which they were
// scheduled. Nothing in the package starts goroutines, reads the wall clock
// or draws random numbers, so the same sequence of calls always produces
// the same sequence of events.
//
// On top of the engine the package offers two kinds of resource:
//
//   - Stream: a serial FIFO executor, such as a GPU's compute stream or one
//     of its communication streams. Jobs run one after another in the order
//     they were submitted.
//   - Network and Link: links with a capacity in bytes per second shared by
//     the transfers that cross them. Whenever a transfer starts or finishes,
//     the rates of all active transfers are recomputed by progressive
//     filling, which yields the max-min fair allocation (Bertsekas and
//     Gallager, Data Networks, 2nd ed., section 6.5.2): no transfer can get
//     more without taking from one that has no more than it.
//
// MaxMinRates exposes the allocation itself for analytic use and tests.
package sim

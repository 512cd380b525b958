// Package infer is the serving step model: the time of prefill and decode
// forward passes of dense and mixture-of-experts transformers on one
// server (tensor, expert and attention-data parallel), their memory and KV
// capacity, and the latency and throughput of serving with and without
// EAGLE speculative decoding (the tree choice is package specdec's).
//
// Every pass is priced per GPU as a sum over layers of roofline terms
// (bytes over achievable HBM bandwidth against FLOPs over achievable
// tensor-core throughput), NVLink collectives in the alpha-beta model and a
// fixed cost per kernel. The constants are in Efficiency, each with its
// source or the reason for the assumption (DESIGN.md section 4).
package infer

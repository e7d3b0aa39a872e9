// Package train trains small Llama-architecture language models on the
// CPU, so that mycel ships a model it made itself rather than one
// downloaded: the devnet's, the tests' and the examples' (models/kjv).
//
// The model is the runtime's (runtime/llama): RMSNorm, rotary embeddings
// on adjacent pairs, grouped-query causal attention, SwiGLU, the output
// matrix tied to the embedding. The backward passes are written by hand
// and each is checked against finite differences (gradcheck_test.go).
// Matrix products run on the runtime's backend, whose mycel-rt/1 dot
// products give the same bits on every code path and thread count; the
// rest computes each value on one goroutine in a fixed order, with every
// product rounded before it is added (explicit float32 and float64
// conversions), so no compiler fuses a multiply-add on one architecture
// and not on another. So a run
// is a pure function of its options, seed and corpus: the same weights
// bit for bit whatever the thread count or SIMD build, and a run resumed
// from a checkpoint ends exactly where the uninterrupted one does.
//
// The optimizer is AdamW with decoupled weight decay on the matrices,
// global gradient-norm clipping and a linear warm-up then cosine
// learning rate. Batches are random windows of the token stream drawn
// from a seeded PCG whose state the checkpoint keeps. The vocabulary is
// byte-level BPE learned from the corpus (tokenizer.LearnBPE) and written
// into the GGUF file's tokenizer metadata, so the runtime tokenizes
// exactly as training did.
package train

// Package runtime is mycel's deterministic inference runtime: it loads
// GGUF models (runtime/gguf), tokenizes (runtime/tokenizer), runs
// Llama-architecture decoders (runtime/llama) on a backend of kernels
// (runtime/backend, runtime/backend/cpu) and samples (runtime/sample),
// and gives the same bits on any CPU, thread count and architecture.
//
// # Why
//
// Re-running a model is the cheapest way to check an answer, but only if
// every machine gets the same bits. mycel's runtime is deterministic by
// construction, so any provider can serve it and any auditor can check it
// by re-running it. Version names the arithmetic below; receipts carry it.
// Any change that can alter a single output bit bumps it.
//
// # The arithmetic (mycel-rt/1)
//
// All activations are float32. Every operation is IEEE 754 binary32 with
// round-to-nearest-even, and is rounded where written; multiply-adds are
// never fused (code writes float32(a*b) + c, which the Go compiler may
// not fuse, and SIMD paths use separate multiply and add instructions).
// Every backend and every code path (portable Go, SIMD, any thread count)
// computes exactly this:
//
//   - Dot(a, b) over n elements: sixteen lanes; lane l sums, in increasing
//     index order, the products of elements i ≡ l (mod 16):
//     acc[l] = acc[l] + float32(a[i]*b[i]), starting from +0. Then the
//     lanes are reduced by a fixed tree: for s = 8, 4, 2, 1, acc[i] =
//     acc[i] + acc[i+s] for i < s; the result is acc[0]. A missing tail
//     element counts as a zero product, which changes nothing.
//   - Sum(a) is Dot with products replaced by the elements themselves.
//   - F16 weights convert exactly to float32 before Dot.
//   - Q8_0 weights (blocks of 32 int8 q with a float16 scale d) multiply
//     activations quantized to blocks of 32 the same way: for a block x,
//     amax = max |x[i]|, dx = amax / 127, id = 1/dx (0 when dx is 0),
//     q[i] = round-half-away-from-zero(float32(x[i]*id)), clamped to
//     [-127, 127]; dx stays float32. A block's integer sum s = Σ qw·qx is
//     exact in int32; its contribution is float32(float32(s) * float32(dw*dx)),
//     and contributions add in block order into one float32 accumulator.
//   - Matrix products are one Dot per output element; rows are split
//     between threads, never a reduction.
//   - RMSNorm(x, w): m = Dot(x, x) / float32(n); r = the correctly
//     rounded float32 square root of float32(m + eps); inv = 1 / r;
//     out[i] = float32(float32(x[i]*inv) * w[i]).
//   - SiLU(g) = g / (1 + Exp32(-g)); SwiGLU out = float32(SiLU(g) * u).
//   - Softmax(x): m = max x; e[i] = Exp32(x[i] - m); s = Sum(e);
//     out[i] = e[i] / s.
//   - Rotary embeddings (llama.cpp's layout: adjacent pairs): for pair i
//     of a head of dimension d, f = Pow(base, -2i/d) in float64, angle =
//     float64(pos) * f, c = float32(Cos(angle)), s = float32(Sin(angle)),
//     with the runtime's own Pow, Cos and Sin (runtime/detmath);
//     x0' = float32(x0*c) - float32(x1*s), x1' = float32(x0*s) + float32(x1*c).
//   - Attention: scores[t] = float32(Dot(q, k[t]) * scale) with scale =
//     float32(1/sqrt(headDim)), Softmax over t, then out[d] sums
//     float32(p[t]*v[t][d]) in increasing t into one accumulator.
//   - Exp32, Pow, Sin and Cos are the runtime's own (runtime/detmath), made
//     of basic operations only: Go's math package uses per-architecture
//     assembly for some functions, and the compiler may fuse its
//     multiply-adds on some architectures.
//   - Sampling draws from math/rand/v2's ChaCha8 seeded from the request's
//     seed, converting raw bits to numbers with the runtime's own code;
//     sorts break ties by token id.
package runtime

// Version names the runtime's arithmetic. Receipts carry it; any change
// that can alter an output bit bumps it.
const Version = "mycel-rt/1"

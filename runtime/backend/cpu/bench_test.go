package cpu

import (
	"fmt"
	"testing"

	"github.com/mycelnet/mycel/runtime/backend"
)

// The kernel benchmarks report GFLOP/s (2·rows·cols·n per MatMul) for
// the fastest path of this build, with 1 and 2 threads. Run them in the
// default build and with GOEXPERIMENT=simd:
//
//	go test -run '^$' -bench . ./runtime/backend/cpu
//	GOEXPERIMENT=simd go test -run '^$' -bench . ./runtime/backend/cpu
//
// The baseline is OpenBLAS (DESIGN.md): sgemm at n=1024 and sgemv on the
// Q8_0 shapes, one thread.

func benchMatMul(b *testing.B, typ backend.DType, rows, cols, n int) {
	g := newGen(42)
	w := g.weight(typ, rows, cols)
	x := g.vec(n*cols, 1)
	out := make([]float32, n*rows)
	for _, threads := range []int{1, 2} {
		b.Run(fmt.Sprintf("%v/%dx%d/n=%d/threads=%d", typ, rows, cols, n, threads), func(b *testing.B) {
			be := New(threads)
			b.SetBytes(int64(len(w.Data)))
			for b.Loop() {
				be.MatMul(out, w, x, n)
			}
			b.ReportMetric(2*float64(rows)*float64(cols)*float64(n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

func BenchmarkMatMulF32(b *testing.B) {
	benchMatMul(b, backend.F32, 512, 2048, 1)
	benchMatMul(b, backend.F32, 512, 2048, 64)
	benchMatMul(b, backend.F32, 1024, 1024, 1024)
}

func BenchmarkMatMulQ8(b *testing.B) {
	benchMatMul(b, backend.Q8_0, 4096, 4096, 1)
	benchMatMul(b, backend.Q8_0, 2048, 8192, 1)
	benchMatMul(b, backend.Q8_0, 4096, 4096, 16)
}

func BenchmarkMatMulF16(b *testing.B) {
	benchMatMul(b, backend.F16, 4096, 4096, 1)
}

func BenchmarkAttention(b *testing.B) {
	g := newGen(43)
	const nHead, nKV, hd, nPos = 32, 8, 128, 2048
	q := g.vec(nHead*hd, 1)
	k := g.vec(nPos*nKV*hd, 1)
	v := g.vec(nPos*nKV*hd, 1)
	out := make([]float32, nHead*hd)
	be := New(1)
	for b.Loop() {
		be.Attention(out, q, k, v, nPos, nHead, nKV, hd)
	}
	b.ReportMetric(4*float64(nHead*nPos*hd)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

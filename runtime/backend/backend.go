package backend

import "fmt"

// DType is the element type of a weight matrix.
type DType uint8

const (
	// F32 is IEEE binary32, little-endian.
	F32 DType = iota
	// F16 is IEEE binary16, little-endian; it converts exactly to float32.
	F16
	// Q8_0 is ggml's 8-bit block format: blocks of 32 elements, each 34
	// bytes: a little-endian binary16 scale d, then 32 int8 q; element i
	// is d·q[i].
	Q8_0
)

// Q8 block geometry.
const (
	Q8Block      = 32 // elements per block
	Q8BlockBytes = 34 // bytes per block: 2 (scale) + 32 (quants)
)

func (t DType) String() string {
	switch t {
	case F32:
		return "F32"
	case F16:
		return "F16"
	case Q8_0:
		return "Q8_0"
	}
	return fmt.Sprintf("DType(%d)", uint8(t))
}

// RowBytes returns the bytes of one row of cols elements.
func (t DType) RowBytes(cols int) int {
	switch t {
	case F32:
		return 4 * cols
	case F16:
		return 2 * cols
	case Q8_0:
		return cols / Q8Block * Q8BlockBytes
	}
	return 0
}

// Weight is a Rows×Cols matrix, row-major: each row is Cols contiguous
// elements stored in Type (Q8_0: Cols/32 blocks of 34 bytes).
type Weight struct {
	Type       DType
	Rows, Cols int
	Data       []byte
}

// Check reports whether w is well formed: a known type, Cols a multiple
// of 32 for Q8_0, and Data exactly Rows rows long.
func (w *Weight) Check() error {
	switch w.Type {
	case F32, F16, Q8_0:
	default:
		return fmt.Errorf("backend: weight type %v unknown", w.Type)
	}
	if w.Rows < 0 || w.Cols < 0 {
		return fmt.Errorf("backend: weight shape %d×%d", w.Rows, w.Cols)
	}
	if w.Type == Q8_0 && w.Cols%Q8Block != 0 {
		return fmt.Errorf("backend: Q8_0 weight has %d columns, not a multiple of %d", w.Cols, Q8Block)
	}
	if want := w.Rows * w.Type.RowBytes(w.Cols); len(w.Data) != want {
		return fmt.Errorf("backend: %v weight %d×%d holds %d bytes, want %d", w.Type, w.Rows, w.Cols, len(w.Data), want)
	}
	return nil
}

// Backend runs the decoder's kernels. Each method computes exactly the
// arithmetic of mycel-rt/1 (runtime/doc.go); the reference functions of
// this package define the bits. Methods panic when slice lengths do not
// match the shapes given (a programming error, like an out-of-range
// index).
type Backend interface {
	// Name says which implementation and code path runs, such as
	// "cpu/portable" or "cpu/avx512".
	Name() string
	// Threads returns how many goroutines a call may use.
	Threads() int
	// MatMul computes, for t in [0, n) and r in [0, w.Rows),
	// out[t*w.Rows + r] = Dot(row r of w, x[t*w.Cols:(t+1)*w.Cols]); for
	// Q8_0, DotQ8 of the row with x quantized by QuantizeQ8.
	MatMul(out []float32, w *Weight, x []float32, n int)
	// Row copies row r of w, converted to float32, into out (embedding
	// lookup): exact for F32 and F16; float32(d*float32(q)) for Q8_0.
	Row(out []float32, w *Weight, r int)
	// RMSNorm normalizes each vector of len(weight) elements of x (len(x)
	// is a multiple of len(weight)) into out.
	RMSNorm(out, x, weight []float32, eps float32)
	// SwiGLU computes out[i] = float32(SiLU(gate[i]) * up[i]).
	SwiGLU(out, gate, up []float32)
	// RoPE rotates adjacent pairs of each head of x (whole heads of
	// headDim back to back) for position pos.
	RoPE(x []float32, pos int, headDim int, base float64)
	// Attention computes one position's attention: q is nHead*headDim; k
	// and v hold nPos positions of nKVHead*headDim; head h reads kv head
	// h/(nHead/nKVHead); out is nHead*headDim.
	Attention(out, q, k, v []float32, nPos, nHead, nKVHead, headDim int)
	// Add computes out[i] = a[i] + b[i].
	Add(out, a, b []float32)
}

//go:build goexperiment.simd && amd64

package cpu

import (
	"simd/archsimd"
	"unsafe"
)

// availableKernels lists the code paths this build can run on this
// processor, fastest first: AVX-512 (F, CD, BW, DQ, VL), AVX2, portable.
func availableKernels() []*kernels {
	var ks []*kernels
	if archsimd.X86.AVX512() {
		ks = append(ks, &avx512)
	}
	if archsimd.X86.AVX2() {
		ks = append(ks, &avx2)
	}
	return append(ks, &portable)
}

// BuildHint says how to get faster kernels than this build has: this
// build has them all.
func BuildHint() string { return "" }

// f32Tile computes an R×C tile of dot products of length k: rows of the
// weight at w, ldw bytes apart, times vectors at x, ldx bytes apart; out
// receives output i = r*C + c at lane tileLane[i] (where reduce8 leaves
// it). The tiles are generated (gen_tiles.go).
//
// A long dot product can be cut into pieces of k that are multiples of
// 16 (so each element keeps its lane): with flags&tileLoad the tile
// starts from the accumulators saved in st instead of +0, and with
// flags&tileSave it saves them there instead of reducing them. Saving
// and reloading a float32 is exact, so the pieces add exactly what one
// call would.
type f32Tile func(w unsafe.Pointer, ldw uintptr, x unsafe.Pointer, ldx uintptr, k int, st *tileState, flags int, out *[16]float32)

// tileState holds a tile's accumulators between pieces of k: one
// sixteen-lane accumulator per output.
type tileState [8][16]float32

const (
	tileLoad = 1 << iota
	tileSave
)

// tileLane is the lane of out that holds a tile's output i.
var tileLane = [8]int{0, 4, 8, 12, 1, 5, 9, 13}

var (
	idxLo = [8]uint64{0, 1, 4, 5, 8, 9, 12, 13}
	idxHi = [8]uint64{2, 3, 6, 7, 10, 11, 14, 15}
)

// reduce8 reduces eight sixteen-lane accumulators at once, each by the
// fixed tree of backend.Dot (every lane of the result is the same
// sequence of additions; IEEE addition is commutative), leaving
// accumulator i's result in lane tileLane[i]. Four steps, each adding
// two shuffles of a pair of vectors:
//
//	A: acc[i] + acc[i+8]   (256-bit halves; two accumulators per vector)
//	B: v8[i] + v8[i+4]     (128-bit chunks; four per vector)
//	C: v4[0]+v4[2], v4[1]+v4[3]
//	D: v2[0]+v2[1]
func reduce8(a0, a1, a2, a3, a4, a5, a6, a7 archsimd.Float32x16) archsimd.Float32x16 {
	lo := archsimd.LoadUint64x8(&idxLo)
	hi := archsimd.LoadUint64x8(&idxHi)
	e := reduceB(reduceA(a0, a1), reduceA(a2, a3), lo, hi)
	f := reduceB(reduceA(a4, a5), reduceA(a6, a7), lo, hi)
	g := reduceC(e, f)
	var z archsimd.Float32x16
	return g.SelectFromPairGrouped(0, 2, 4, 6, z).Add(g.SelectFromPairGrouped(1, 3, 5, 7, z))
}

func reduceA(a, b archsimd.Float32x16) archsimd.Float32x16 {
	return a.SetHi(b.GetLo()).Add(b.SetLo(a.GetHi()))
}

func reduceB(a, b archsimd.Float32x16, lo, hi archsimd.Uint64x8) archsimd.Float32x16 {
	a64, b64 := a.AsFloat64x8(), b.AsFloat64x8()
	return a64.ConcatPermute(b64, lo).AsFloat32x16().Add(a64.ConcatPermute(b64, hi).AsFloat32x16())
}

func reduceC(a, b archsimd.Float32x16) archsimd.Float32x16 {
	a64, b64 := a.AsInt64x8(), b.AsInt64x8()
	return a64.InterleaveLoGrouped(b64).AsFloat32x16().Add(a64.InterleaveHiGrouped(b64).AsFloat32x16())
}

// reduce256 finishes the tree of backend.Dot from its first step, eight
// lanes acc[i] + acc[i+8]: then i and i+4, i and i+2, 0 and 1.
func reduce256(v8 archsimd.Float32x8) float32 {
	v4 := v8.GetLo().Add(v8.GetHi())
	return (v4.GetElem(0) + v4.GetElem(2)) + (v4.GetElem(1) + v4.GetElem(3))
}

// tileShapes names a path's tiles and the shapes its driver uses.
type tileShapes struct {
	t *[5][3]f32Tile
	// r×c is the main shape for several x vectors; vec rows at a time
	// for one x vector. Smaller shapes finish the edges.
	r, c, vec int
}

// l1Bytes is how much of the level-1 data cache one tile's operands may
// use: the tile's weight rows stay there while x vectors pass.
const l1Bytes = 24 << 10

// matF32Tiled is the kernels.matF32 of a vector path. One x vector
// (matrix times vector) uses tall tiles down the rows. Several use the
// main tile shape: x is cut into blocks that stay in the level-2 cache
// and every row tile meets every vector of the block; when a tile's
// operands would not fit the level-1 cache, k is cut into pieces too,
// with the accumulators saved between pieces (exact, see f32Tile).
func matF32Tiled(s *tileShapes, out []float32, ldo int, w []float32, ldw int, x []float32, ldx int, rows, k, n int) {
	if rows <= 0 || n <= 0 {
		return
	}
	// The tiles read through raw pointers: check every access once here.
	if k < 0 || len(w) < (rows-1)*ldw+k || len(x) < (n-1)*ldx+k || len(out) < (n-1)*ldo+rows {
		panic("cpu: matF32 bounds")
	}
	if k == 0 {
		for t := 0; t < n; t++ {
			clear(out[t*ldo : t*ldo+rows])
		}
		return
	}
	wp := unsafe.Pointer(unsafe.SliceData(w))
	xp := unsafe.Pointer(unsafe.SliceData(x))
	lw, lx := uintptr(ldw)*4, uintptr(ldx)*4
	var res [16]float32
	if n == 1 {
		for r := 0; r < rows; r += s.vec {
			m := min(s.vec, rows-r)
			s.t[m][1](unsafe.Add(wp, uintptr(r)*lw), lw, xp, lx, k, nil, 0, &res)
			for i := 0; i < m; i++ {
				out[r+i] = res[tileLane[i]]
			}
		}
		return
	}
	// kc: the piece of k whose tile operands fit l1Bytes.
	kc := max(256, l1Bytes/(4*(s.r+s.c))) &^ 15
	tb := xBlock(min(k, kc), n)
	if k <= kc {
		for t0 := 0; t0 < n; t0 += tb {
			t1 := min(n, t0+tb)
			for r := 0; r < rows; r += s.r {
				m := min(s.r, rows-r)
				wr := unsafe.Add(wp, uintptr(r)*lw)
				for t := t0; t < t1; t += s.c {
					c := min(s.c, t1-t)
					s.t[m][c](wr, lw, unsafe.Add(xp, uintptr(t)*lx), lx, k, nil, 0, &res)
					for i := 0; i < m; i++ {
						for j := 0; j < c; j++ {
							out[(t+j)*ldo+r+i] = res[tileLane[i*c+j]]
						}
					}
				}
			}
		}
		return
	}
	// Blocks of rb rows by tb vectors, k in pieces of kc, one saved state
	// per tile of the block.
	rb := 8 * s.r
	tilesPerRow := (tb + s.c - 1) / s.c
	states := make([]tileState, rb/s.r*tilesPerRow)
	for t0 := 0; t0 < n; t0 += tb {
		t1 := min(n, t0+tb)
		for r0 := 0; r0 < rows; r0 += rb {
			r1 := min(rows, r0+rb)
			for k0 := 0; k0 < k; k0 += kc {
				kl := min(kc, k-k0)
				flags := 0
				if k0 > 0 {
					flags |= tileLoad
				}
				if k0+kl < k {
					flags |= tileSave
				}
				koff := uintptr(k0) * 4
				for r := r0; r < r1; r += s.r {
					m := min(s.r, r1-r)
					wr := unsafe.Add(wp, uintptr(r)*lw+koff)
					st := states[(r-r0)/s.r*tilesPerRow:]
					for t := t0; t < t1; t += s.c {
						c := min(s.c, t1-t)
						s.t[m][c](wr, lw, unsafe.Add(xp, uintptr(t)*lx+koff), lx, kl, &st[(t-t0)/s.c], flags, &res)
						if flags&tileSave != 0 {
							continue
						}
						for i := 0; i < m; i++ {
							for j := 0; j < c; j++ {
								out[(t+j)*ldo+r+i] = res[tileLane[i*c+j]]
							}
						}
					}
				}
			}
		}
	}
}

// loadPart16 loads len(s) <= 16 floats and zeros. (archsimd's
// LoadFloat32x16SlicePart converts the short slice to a *[16]float32,
// which -race's pointer checks reject.)
func loadPart16(s []float32) archsimd.Float32x16 {
	var buf [16]float32
	copy(buf[:], s)
	return archsimd.LoadFloat32x16(&buf)
}

func storePart16(v archsimd.Float32x16, s []float32) {
	var buf [16]float32
	v.Store(&buf)
	copy(s, buf[:])
}

func loadPart8(s []float32) archsimd.Float32x8 {
	var buf [8]float32
	copy(buf[:], s)
	return archsimd.LoadFloat32x8(&buf)
}

func storePart8(v archsimd.Float32x8, s []float32) {
	var buf [8]float32
	v.Store(&buf)
	copy(s, buf[:])
}

// dotTile returns Dot(a, b) through a 1×1 tile.
func dotTile(tile f32Tile, a, b []float32) float32 {
	if len(a) != len(b) {
		panic("cpu: dot of unequal lengths")
	}
	if len(a) == 0 {
		return 0
	}
	var res [16]float32
	tile(unsafe.Pointer(unsafe.SliceData(a)), 0, unsafe.Pointer(unsafe.SliceData(b)), 0, len(a), nil, 0, &res)
	return res[tileLane[0]]
}

package backend

import (
	"math"
	"math/rand/v2"
	"testing"
)

func randVec(r *rand.Rand, n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(r.NormFloat64())
	}
	return v
}

// dotLanes is Dot written as the rule reads: sixteen lanes, then the tree.
func dotLanes(a, b []float32) float32 {
	var acc [16]float32
	for i := range a {
		acc[i%16] = acc[i%16] + float32(a[i]*b[i])
	}
	for s := 8; s > 0; s >>= 1 {
		for i := 0; i < s; i++ {
			acc[i] = acc[i] + acc[i+s]
		}
	}
	return acc[0]
}

func sameBits(a, b float32) bool {
	return math.Float32bits(a) == math.Float32bits(b) || (a != a && b != b)
}

func TestDotRule(t *testing.T) {
	r := rand.New(rand.NewChaCha8([32]byte{1}))
	for _, n := range []int{0, 1, 2, 7, 15, 16, 17, 31, 32, 33, 100, 255, 256, 1000, 4099} {
		for k := 0; k < 20; k++ {
			a, b := randVec(r, n), randVec(r, n)
			got, want := Dot(a, b), dotLanes(a, b)
			if !sameBits(got, want) {
				t.Fatalf("n=%d: Dot = %v, lanes rule = %v", n, got, want)
			}
			// Against float64: the error of a 16-lane sum of n products
			// is below (n/16 + 4 + 1)·2^-24·Σ|a·b| (each lane adds n/16
			// roundings, the tree 4, the products 1).
			var exact, mag float64
			for i := range a {
				exact += float64(a[i]) * float64(b[i])
				mag += math.Abs(float64(a[i]) * float64(b[i]))
			}
			bound := float64(n/16+6) * 0x1p-24 * mag
			if math.Abs(float64(got)-exact) > bound {
				t.Fatalf("n=%d: Dot = %v, float64 %v, bound %g", n, got, exact, bound)
			}
		}
	}
}

func TestDotSpecial(t *testing.T) {
	inf := float32(math.Inf(1))
	nan := float32(math.NaN())
	negZero := float32(math.Copysign(0, -1))
	cases := []struct {
		a, b []float32
		want float32
	}{
		{nil, nil, 0},
		{[]float32{negZero}, []float32{1}, 0}, // +0 + -0 = +0
		{[]float32{inf, 1}, []float32{1, 1}, inf},
		{[]float32{inf, -inf}, []float32{1, 1}, inf}, // different lanes, tree adds inf + -inf
		{[]float32{1, 2}, []float32{nan, 1}, nan},
		{[]float32{0}, []float32{inf}, nan},
		{[]float32{1e-45}, []float32{1e-45}, 0},
		{[]float32{3e38, 3e38}, []float32{3e38, 1}, inf},
	}
	cases[3].want = float32(math.NaN())
	for _, c := range cases {
		got := Dot(c.a, c.b)
		if !sameBits(got, c.want) || !sameBits(got, dotLanes(c.a, c.b)) {
			t.Errorf("Dot(%v, %v) = %v, want %v", c.a, c.b, got, c.want)
		}
	}
	// The result's zero is always +0.
	if z := Dot([]float32{negZero, negZero}, []float32{1, 1}); math.Float32bits(z) != 0 {
		t.Errorf("Dot of -0 products = %v", z)
	}
}

func TestSum(t *testing.T) {
	r := rand.New(rand.NewChaCha8([32]byte{2}))
	for _, n := range []int{0, 1, 5, 16, 17, 63, 1001} {
		a := randVec(r, n)
		ones := make([]float32, n)
		for i := range ones {
			ones[i] = 1
		}
		if got, want := Sum(a), Dot(a, ones); !sameBits(got, want) {
			t.Fatalf("n=%d: Sum = %v, Dot(a, 1) = %v", n, got, want)
		}
	}
}

func TestSoftmax(t *testing.T) {
	r := rand.New(rand.NewChaCha8([32]byte{3}))
	for _, n := range []int{1, 2, 15, 17, 100, 1000} {
		x := randVec(r, n)
		for i := range x {
			x[i] *= 10
		}
		y := append([]float32(nil), x...)
		Softmax(y)
		// Against float64: relative error of a few ulps per element.
		m := math.Inf(-1)
		for _, v := range x {
			m = math.Max(m, float64(v))
		}
		var s float64
		for _, v := range x {
			s += math.Exp(float64(v) - m)
		}
		var total float64
		for i, v := range x {
			want := math.Exp(float64(v)-m) / s
			// float32(x-m) rounds by up to |x-m|·2^-24, which exp turns
			// into that relative error.
			rel := (float64(n/16)+8)*0x1p-24 + math.Abs(float64(v)-m)*0x1p-24
			if math.Abs(float64(y[i])-want) > rel*want+1e-44 {
				t.Fatalf("n=%d: softmax[%d] = %v, want %v", n, i, y[i], want)
			}
			total += float64(y[i])
		}
		if math.Abs(total-1) > float64(n)*1e-7+1e-6 {
			t.Fatalf("n=%d: softmax sums to %v", n, total)
		}
	}
	// Non-finite inputs: every output NaN.
	for _, x := range [][]float32{
		{1, float32(math.NaN()), 2},
		{float32(math.Inf(1)), 1},
		{float32(math.Inf(-1)), float32(math.Inf(-1))},
	} {
		Softmax(x)
		for i, v := range x {
			if v == v {
				t.Errorf("softmax with non-finite input: [%d] = %v, want NaN", i, v)
			}
		}
	}
	// -Inf among finite values: probability 0.
	x := []float32{float32(math.Inf(-1)), 0}
	Softmax(x)
	if x[0] != 0 || x[1] != 1 {
		t.Errorf("softmax(-Inf, 0) = %v", x)
	}
}

func TestF16ToF32(t *testing.T) {
	for h := 0; h < 1<<16; h++ {
		got := F16ToF32(uint16(h))
		// Independent decoding in float64.
		sign := 1.0
		if h&0x8000 != 0 {
			sign = -1
		}
		e := (h >> 10) & 0x1f
		m := h & 0x3ff
		var want float64
		switch {
		case e == 0x1f && m == 0:
			want = math.Inf(int(sign))
		case e == 0x1f:
			if got == got {
				t.Fatalf("F16ToF32(%#x) = %v, want NaN", h, got)
			}
			if math.Float32bits(got) != uint32(h&0x8000)<<16|0x7f800000|uint32(m)<<13 {
				t.Fatalf("F16ToF32(%#x) = %#x: NaN payload lost", h, math.Float32bits(got))
			}
			continue
		case e == 0:
			want = sign * math.Ldexp(float64(m), -24)
		default:
			want = sign * math.Ldexp(float64(m|0x400), e-25)
		}
		if float64(got) != want || math.Signbit(float64(got)) != (sign < 0) {
			t.Fatalf("F16ToF32(%#x) = %v, want %v", h, got, want)
		}
	}
}

func TestQuantizeQ8Value(t *testing.T) {
	nan := float32(math.NaN())
	for _, c := range []struct {
		v    float32
		want int8
	}{
		{0, 0}, {0.49999997, 0}, {0.5, 1}, {-0.5, -1}, {1.5, 2}, {2.5, 3}, {-2.5, -3},
		{126.49999, 126}, {126.5, 127}, {127, 127}, {127.00001, 127}, {1e9, 127}, {-1e9, -127},
		{float32(math.Inf(1)), 127}, {float32(math.Inf(-1)), -127}, {nan, 0},
		{float32(math.Copysign(0, -1)), 0}, {1e-45, 0}, {-0.7, -1},
	} {
		if got := QuantizeQ8Value(c.v); got != c.want {
			t.Errorf("QuantizeQ8Value(%v) = %d, want %d", c.v, got, c.want)
		}
	}
	// Against math.Round on a dense sweep.
	for v := float32(-130); v <= 130; v += 1.0 / 64 {
		want := math.Round(float64(v))
		want = math.Max(-127, math.Min(127, want))
		if got := QuantizeQ8Value(v); float64(got) != want {
			t.Fatalf("QuantizeQ8Value(%v) = %d, want %v", v, got, want)
		}
	}
}

func TestQuantizeQ8(t *testing.T) {
	r := rand.New(rand.NewChaCha8([32]byte{4}))
	x := randVec(r, 32*50)
	for i := 32 * 10; i < 32*11; i++ {
		x[i] = 0 // an all-zero block: d = 0, q = 0
	}
	q := make([]int8, len(x))
	d := make([]float32, len(x)/32)
	QuantizeQ8(x, q, d)
	for b := range d {
		var amax float32
		for _, v := range x[b*32 : b*32+32] {
			amax = max(amax, float32(math.Abs(float64(v))))
		}
		if d[b] != amax/127 {
			t.Fatalf("block %d: d = %v, want %v", b, d[b], amax/127)
		}
		for i := b * 32; i < b*32+32; i++ {
			// Dequantized within half a step.
			if math.Abs(float64(d[b])*float64(q[i])-float64(x[i])) > 0.5001*float64(d[b]) {
				t.Fatalf("x[%d] = %v quantized to %d·%v", i, x[i], q[i], d[b])
			}
		}
	}
	// The largest element of each block quantizes to ±127.
	x = []float32{-3, 1, 2}
	x = append(x, make([]float32, 29)...)
	q, d = make([]int8, 32), make([]float32, 1)
	QuantizeQ8(x, q, d)
	if q[0] != -127 || q[1] != 42 || q[2] != 85 {
		t.Errorf("q = %v", q[:3])
	}
	// Non-finite: a NaN or Inf poisons its block's scale only.
	x = make([]float32, 64)
	x[3] = float32(math.NaN())
	x[40] = float32(math.Inf(-1))
	x[41] = 5
	q, d = make([]int8, 64), make([]float32, 2)
	QuantizeQ8(x, q, d)
	if d[0] == d[0] || !math.IsInf(float64(d[1]), 1) {
		t.Errorf("d = %v, want NaN and +Inf", d)
	}
	for i, v := range q {
		if v != 0 {
			t.Errorf("q[%d] = %d, want 0", i, v)
		}
	}
}

// q8Row encodes float32 values as one Q8_0 row (scale = amax/127 as a
// half, rounded toward zero) for tests.
func q8Row(r *rand.Rand, cols int) []byte {
	row := make([]byte, cols/32*34)
	for b := 0; b < cols/32; b++ {
		h := uint16(0x1c00 + r.IntN(0x1800)) // scales about 2^-8 .. 2^4
		if r.IntN(2) == 0 {
			h |= 0x8000
		}
		row[b*34] = byte(h)
		row[b*34+1] = byte(h >> 8)
		for i := 0; i < 32; i++ {
			row[b*34+2+i] = byte(int8(r.IntN(255) - 127))
		}
	}
	return row
}

func TestDotQ8(t *testing.T) {
	r := rand.New(rand.NewChaCha8([32]byte{5}))
	for _, cols := range []int{32, 64, 96, 4096} {
		w := q8Row(r, cols)
		x := randVec(r, cols)
		q := make([]int8, cols)
		d := make([]float32, cols/32)
		QuantizeQ8(x, q, d)
		got := DotQ8(w, q, d)
		// Sequential block sum, written out.
		var acc float32
		var exact, mag float64
		for b := 0; b < cols/32; b++ {
			dw := F16ToF32(uint16(w[b*34]) | uint16(w[b*34+1])<<8)
			var s int32
			for i := 0; i < 32; i++ {
				qw := int8(w[b*34+2+i])
				s += int32(qw) * int32(q[b*32+i])
				exact += float64(dw) * float64(qw) * float64(d[b]) * float64(q[b*32+i])
				mag += math.Abs(float64(dw) * float64(qw) * float64(d[b]) * float64(q[b*32+i]))
			}
			acc = acc + float32(float32(s)*float32(dw*d[b]))
		}
		if !sameBits(got, acc) {
			t.Fatalf("cols=%d: DotQ8 = %v, rule = %v", cols, got, acc)
		}
		if math.Abs(float64(got)-exact) > float64(cols/32+3)*0x1p-24*mag {
			t.Fatalf("cols=%d: DotQ8 = %v, float64 %v", cols, got, exact)
		}
	}
}

func TestRoPECosSin(t *testing.T) {
	c := make([]float32, 64)
	s := make([]float32, 64)
	for _, pos := range []int{0, 1, 7, 4095, 100000} {
		RoPECosSin(c, s, pos, 128, 10000)
		for i := range c {
			angle := float64(pos) * math.Pow(10000, -float64(2*i)/128)
			if math.Abs(float64(c[i])-math.Cos(angle)) > 1e-6 || math.Abs(float64(s[i])-math.Sin(angle)) > 1e-6 {
				t.Fatalf("pos %d pair %d: %v %v, want %v %v", pos, i, c[i], s[i], math.Cos(angle), math.Sin(angle))
			}
		}
	}
	RoPECosSin(c, s, 0, 128, 10000)
	for i := range c {
		if c[i] != 1 || s[i] != 0 {
			t.Fatalf("pos 0 pair %d: %v %v", i, c[i], s[i])
		}
	}
}

func TestAttentionScale(t *testing.T) {
	for _, c := range []struct {
		d    int
		want float32
	}{{64, 0.125}, {128, 0.088388346}, {16, 0.25}, {80, 0.1118034}} {
		if got := AttentionScale(c.d); got != c.want {
			t.Errorf("AttentionScale(%d) = %v, want %v", c.d, got, c.want)
		}
	}
}

func TestWeightCheck(t *testing.T) {
	for _, c := range []struct {
		w  Weight
		ok bool
	}{
		{Weight{F32, 2, 3, make([]byte, 24)}, true},
		{Weight{F32, 2, 3, make([]byte, 20)}, false},
		{Weight{F16, 2, 3, make([]byte, 12)}, true},
		{Weight{Q8_0, 2, 64, make([]byte, 136)}, true},
		{Weight{Q8_0, 2, 48, make([]byte, 68)}, false},
		{Weight{DType(9), 1, 1, make([]byte, 4)}, false},
		{Weight{F32, -1, 3, nil}, false},
	} {
		if err := c.w.Check(); (err == nil) != c.ok {
			t.Errorf("%v %d×%d (%d bytes): Check = %v", c.w.Type, c.w.Rows, c.w.Cols, len(c.w.Data), err)
		}
	}
}

func BenchmarkDot(b *testing.B) {
	r := rand.New(rand.NewChaCha8([32]byte{6}))
	x, y := randVec(r, 4096), randVec(r, 4096)
	var s float32
	for b.Loop() {
		s += Dot(x, y)
	}
	b.ReportMetric(float64(b.N)*2*4096/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	_ = s
}

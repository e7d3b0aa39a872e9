package wasm

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"strings"
	"testing"

	wabin "github.com/tetratelabs/wabin/binary"
	wabinwasm "github.com/tetratelabs/wabin/wasm"
	"github.com/tetratelabs/wazero"
)

// command describes a small hand-assembled WASI command module. Function
// indices: fd_write (if imported) is 0, then _start, then helpers.
type command struct {
	fdWrite bool
	pages   uint32 // 0: no memory
	data    []byte // at address 0
	locals  []byte // of _start
	body    []byte // of _start, without the final end
	helpers []helper
	start   bool // the first helper is also the start function
}

type helper struct {
	typ  uint32
	body []byte
}

const (
	tVoid  = 0 // () -> ()
	tUnary = 1 // (i32) -> i32
	tFd    = 2 // (i32, i32, i32, i32) -> i32
)

func (c command) build() []byte {
	i32 := wabinwasm.ValueTypeI32
	m := &wabinwasm.Module{
		TypeSection: []*wabinwasm.FunctionType{
			{},
			{Params: []byte{i32}, Results: []byte{i32}},
			{Params: []byte{i32, i32, i32, i32}, Results: []byte{i32}},
		},
	}
	var n uint32
	if c.fdWrite {
		m.ImportSection = append(m.ImportSection, &wabinwasm.Import{
			Type: wabinwasm.ExternTypeFunc, Module: wasiModule, Name: "fd_write", DescFunc: tFd,
		})
		n++
	}
	m.FunctionSection = append(m.FunctionSection, tVoid)
	m.CodeSection = append(m.CodeSection, &wabinwasm.Code{LocalTypes: c.locals, Body: append(c.body, opEnd)})
	for _, h := range c.helpers {
		m.FunctionSection = append(m.FunctionSection, h.typ)
		m.CodeSection = append(m.CodeSection, &wabinwasm.Code{Body: append(h.body, opEnd)})
	}
	if c.start {
		s := n + 1
		m.StartSection = &s
	}
	m.ExportSection = append(m.ExportSection, &wabinwasm.Export{Type: wabinwasm.ExternTypeFunc, Name: "_start", Index: n})
	if c.pages > 0 {
		m.MemorySection = &wabinwasm.Memory{Min: c.pages}
		m.ExportSection = append(m.ExportSection, &wabinwasm.Export{Type: wabinwasm.ExternTypeMemory, Name: "memory"})
		if c.data != nil {
			m.DataSection = []*wabinwasm.DataSegment{{
				OffsetExpression: &wabinwasm.ConstantExpression{Opcode: opI32Const, Data: []byte{0}},
				Init:             c.data,
			}}
		}
	}
	return wabin.EncodeModule(m)
}

// Instruction helpers for the tables below.
func i32c(v int32) []byte    { return appendS64([]byte{opI32Const}, int64(v)) }
func cat(b ...[]byte) []byte { return bytes.Join(b, nil) }
func op(b ...byte) []byte    { return b }

// countdown is a loop that runs n times: 2 + 5n gas.
func countdown(n int32) command {
	return command{
		locals: []byte{valI32},
		body: cat(i32c(n), op(opLocalSet, 0),
			op(opLoop, blockEmpty, opLocalGet, 0), i32c(1), op(opI32Sub, opLocalTee, 0, opBrIf, 0, opEnd)),
	}
}

// writeHi writes "hi\n" with one fd_write: 4 consts + the host call +
// drop = 105 static, 10 for the iovec, 1 for the 3 bytes.
func writeHi() command {
	return command{
		fdWrite: true,
		pages:   1,
		data:    []byte{8, 0, 0, 0, 3, 0, 0, 0, 'h', 'i', '\n'}, // iovec{8, 3} at 0
		body:    cat(i32c(1), i32c(0), i32c(1), i32c(16), op(opCall, 0, 0x1a)),
	}
}

// The gas of small modules, counted by hand from the cost model.
func TestExactGas(t *testing.T) {
	big := Limits{Gas: 1 << 40, MemoryPages: 16, MaxOutputBytes: 1 << 10}
	cases := []struct {
		name    string
		mod     command
		lim     Limits
		gas     uint64
		failure string
		output  string
	}{
		{"empty", command{}, big, 0, "", ""},
		// [i32.const, local.set, loop] 2, then [local.get ... br_if] 5 a turn.
		{"countdown 10", countdown(10), big, 2 + 5*10, "", ""},
		{"countdown 1000", countdown(1000), big, 2 + 5*1000, "", ""},
		{"countdown out of gas", countdown(1000), Limits{Gas: 2000}, 2000, FailureOutOfGas, ""},
		{"exactly enough", countdown(10), Limits{Gas: 52}, 52, "", ""},
		{"one short", countdown(10), Limits{Gas: 51}, 51, FailureOutOfGas, ""},
		// block is free: [block, i32.const, br_if] 2, [nop, nop, end] never
		// runs, [i32.const, drop] 2.
		{"block", command{body: cat(op(opBlock, blockEmpty), i32c(1), op(opBrIf, 0, 0x01, 0x01, opEnd), i32c(2), op(0x1a))}, big, 4, "", ""},
		// [i32.const, if] 2, then-arm [i32.const, else] 1, [drop, end] 1.
		{"if else", command{body: cat(i32c(1), op(opIf, valI32), i32c(7), op(opElse), i32c(8), op(opEnd, 0x1a))}, big, 4, "", ""},
		// [i32.const, call, drop] 3, helper [local.get, i32.const, i32.add] 3.
		{"call", command{
			body:    cat(i32c(5), op(opCall, 1, 0x1a)),
			helpers: []helper{{tUnary, cat(op(opLocalGet, 0), i32c(1), op(opI32Add))}},
		}, big, 6, "", ""},
		// return leaves through the wrapping block: [i32.const, return] 2.
		{"return", command{
			body:    cat(i32c(5), op(opCall, 1, 0x1a)),
			helpers: []helper{{tUnary, cat(i32c(9), op(opReturn), i32c(1), i32c(2), op(opI32Add))}},
		}, big, 5, "", ""},
		// The start function runs first: [i32.const, drop] 2, then _start [i32.const, drop] 2.
		{"start function", command{body: cat(i32c(1), op(0x1a)), helpers: []helper{{tVoid, cat(i32c(1), op(0x1a))}}, start: true}, big, 4, "", ""},
		// 4 static + ceil(1000/64) = 16.
		{"memory.fill", command{pages: 1, body: cat(i32c(0), i32c(0), i32c(1000), op(opPrefixMisc, miscMemoryFill, 0))}, big, 20, "", ""},
		// 3 static + 2 pages.
		{"memory.grow", command{pages: 1, body: cat(i32c(2), op(opMemoryGrow, 0, 0x1a))}, big, 3 + 2*CostMemoryGrowPage, "", ""},
		// Refused: no charge for pages; the program goes on and succeeds.
		{"memory.grow refused", command{pages: 1, body: cat(i32c(100), op(opMemoryGrow, 0, 0x1a))}, big, 3, "", ""},
		// Refused, then a trap: the reason is the memory limit.
		{"memory.grow refused then trap", command{pages: 1, body: cat(i32c(100), op(opMemoryGrow, 0, 0x1a, opUnreachable))}, big, 4, FailureMemoryLimit, ""},
		{"initial memory over the limit", command{pages: 17}, big, 0, FailureMemoryLimit, ""},
		{"divide by zero", command{body: cat(i32c(1), i32c(0), op(0x6d, 0x1a))}, big, 4, FailureTrap + ": integer divide by zero", ""},
		{"unreachable", command{body: op(opUnreachable)}, big, 1, FailureTrap + ": unreachable", ""},
		{"out of bounds", command{pages: 1, body: cat(i32c(1<<20), op(0x28, 2, 0, 0x1a))}, big, 3, FailureTrap + ": out of bounds memory access", ""},
		// _start [call] 1, then frames of [call] 1 up to the limit; the
		// frame past it traps before it is charged.
		{"call depth", command{body: op(opCall, 1), helpers: []helper{{tVoid, op(opCall, 1)}}}, big, CallDepthLimit, FailureTrap + ": call stack exhausted", ""},
		{"fd_write", writeHi(), big, 105 + CostIOVec + 1, "", "hi\n"},
		{"fd_write over the output cap", writeHi(), Limits{Gas: 1000, MemoryPages: 1, MaxOutputBytes: 2}, 116, FailureOutputTooLarge, "hi"},
		// The host charges for the bytes after the call is paid for.
		{"fd_write out of gas in the host", writeHi(), Limits{Gas: 115, MemoryPages: 1, MaxOutputBytes: 10}, 115, FailureOutOfGas, ""},
	}
	for _, e := range executors(t) {
		for _, c := range cases {
			t.Run(e.name+"/"+c.name, func(t *testing.T) {
				r, err := e.Run(context.Background(), c.mod.build(), nil, c.lim)
				if err != nil {
					t.Fatal(err)
				}
				if r.GasUsed != c.gas || !strings.HasPrefix(r.Failure, c.failure) || (c.failure == "" && r.Failure != "") || string(r.Output) != c.output {
					t.Fatalf("got gas %d, failure %q, output %q; want %d, %q, %q", r.GasUsed, r.Failure, r.Output, c.gas, c.failure, c.output)
				}
			})
		}
	}
}

// Instrument is a pure function of its input.
func TestInstrumentStable(t *testing.T) {
	in := writeHi().build()
	orig := bytes.Clone(in)
	a, err := Instrument(in)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Instrument(in)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) || !bytes.Equal(in, orig) {
		t.Fatal("Instrument is not a pure function of its input")
	}
}

func TestInstrumentRefuses(t *testing.T) {
	withImport := func(module, name string) []byte {
		m := &wabinwasm.Module{
			TypeSection:     []*wabinwasm.FunctionType{{}},
			ImportSection:   []*wabinwasm.Import{{Type: wabinwasm.ExternTypeFunc, Module: module, Name: name}},
			FunctionSection: []uint32{0},
			CodeSection:     []*wabinwasm.Code{{Body: []byte{opEnd}}},
			ExportSection:   []*wabinwasm.Export{{Type: wabinwasm.ExternTypeFunc, Name: "_start", Index: 1}},
		}
		return wabin.EncodeModule(m)
	}
	noStart := command{}.build()
	noStart = bytes.Replace(noStart, []byte("_start"), []byte("_stark"), 1)
	simd := command{body: cat(op(opPrefixSIMD, 0x0c), make([]byte, 16), op(0x1a))}.build()
	cases := []struct {
		name   string
		module []byte
		reason string
	}{
		{"empty", nil, "bad magic"},
		{"text", []byte("(module)"), "bad magic"},
		{"truncated", command{}.build()[:20], "unexpected end"},
		{"env import", withImport("env", "f"), "may import only"},
		{"mycel import", withImport("mycel", "gas"), "may import only"},
		{"no _start", noStart, "no _start"},
		{"simd", simd, "SIMD"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Instrument(c.module)
			if err == nil || !strings.Contains(err.Error(), c.reason) {
				t.Fatalf("got %v, want an error with %q", err, c.reason)
			}
		})
	}
}

// nanProgram stores the bits of float results, NaNs among them, from
// address 64 on and writes them to stdout.
func nanProgram() (command, []uint64) {
	f64 := func(v float64) []byte {
		return binary.LittleEndian.AppendUint64([]byte{opF64Const}, math.Float64bits(v))
	}
	f64b := func(bits uint64) []byte { return binary.LittleEndian.AppendUint64([]byte{opF64Const}, bits) }
	f32b := func(bits uint32) []byte { return binary.LittleEndian.AppendUint32([]byte{opF32Const}, bits) }
	const (
		canon64 = 0x7ff8000000000000
		canon32 = 0x7fc00000
		snan64  = 0x7ff4000000000001 // signalling, with a payload
		nnan64  = 0xfff8000000000005 // negative, with a payload
		snan32  = 0x7fa00001
	)
	inf := math.Inf(1)
	type exp struct {
		code []byte
		f32  bool
		want uint64
	}
	exps := []exp{
		{cat(f64(inf), f64(inf), op(0xa1)), false, canon64},                   // sub
		{cat(f64(0), f64(0), op(0xa3)), false, canon64},                       // div
		{cat(f64(inf), f64(0), op(0xa2)), false, canon64},                     // mul
		{cat(f64(-1), op(0x9f)), false, canon64},                              // sqrt
		{cat(f64b(snan64), f64(1), op(0xa0)), false, canon64},                 // add
		{cat(f64b(snan64), f64(1), op(0xa4)), false, canon64},                 // min
		{cat(f64(1), f64b(nnan64), op(0xa5)), false, canon64},                 // max
		{cat(f64b(nnan64), op(0x9c)), false, canon64},                         // floor
		{cat(f64b(nnan64), op(0x9b)), false, canon64},                         // ceil
		{cat(f64b(snan64), op(0x9d)), false, canon64},                         // trunc
		{cat(f64b(snan64), op(0x9e)), false, canon64},                         // nearest
		{cat(f32b(snan32), op(opF64PromoteF32)), false, canon64},              // promote
		{cat(f64(inf), f64(inf), op(0xa1, 0x9a)), false, 0xfff8000000000000},  // neg of a canonical NaN: a bit operation
		{cat(f64b(snan64), op(0x99)), false, snan64},                          // abs: exact
		{cat(f64(1.5), f64(2.25), op(0xa0)), false, math.Float64bits(3.75)},   // not a NaN: untouched
		{cat(f64(math.Copysign(0, -1)), f64(0), op(0xa4)), false, 1 << 63},    // min(-0, 0) = -0
		{cat(f32b(0x7f800000), f32b(0x7f800000), op(0x93)), true, canon32},    // f32 sub
		{cat(f32b(snan32), f32b(0x3f800000), op(0x92)), true, canon32},        // f32 add
		{cat(f32b(0xbf800000), op(0x91)), true, canon32},                      // f32 sqrt
		{cat(f32b(snan32), f32b(0x3f800000), op(0x97)), true, canon32},        // f32 max
		{cat(f64b(snan64), op(opF32DemoteF64)), true, canon32},                // demote
		{cat(f32b(0x3fc00000), f32b(0x40100000), op(0x94)), true, 0x40580000}, // 1.5*2.25 = 3.375
	}
	// iovec{64, 8*len} at 0.
	data := binary.LittleEndian.AppendUint32(nil, 64)
	data = binary.LittleEndian.AppendUint32(data, uint32(8*len(exps)))
	var body []byte
	var want []uint64
	for i, e := range exps {
		body = append(body, i32c(int32(64+8*i))...)
		body = append(body, e.code...)
		if e.f32 {
			body = append(body, 0xbc, 0xad, 0x37, 3, 0) // i32.reinterpret, i64.extend_u, i64.store
		} else {
			body = append(body, 0xbd, 0x37, 3, 0) // i64.reinterpret, i64.store
		}
		want = append(want, e.want)
	}
	body = append(body, cat(i32c(1), i32c(0), i32c(1), i32c(16), op(opCall, 0, 0x1a))...)
	return command{fdWrite: true, pages: 1, data: data, body: body}, want
}

func words(b []byte) []uint64 {
	var w []uint64
	for len(b) >= 8 {
		w = append(w, binary.LittleEndian.Uint64(b))
		b = b[8:]
	}
	return w
}

// Every NaN a float instruction produces comes out canonical, with the
// compiler and the interpreter alike; other values are untouched.
func TestNaNCanonical(t *testing.T) {
	prog, want := nanProgram()
	module := prog.build()
	for _, e := range executors(t) {
		r, err := e.Run(context.Background(), module, nil, Limits{Gas: 1 << 20, MemoryPages: 1, MaxOutputBytes: 1 << 10})
		if err != nil || r.Failure != "" {
			t.Fatalf("%s: %v %q", e.name, err, r.Failure)
		}
		got := words(r.Output)
		for i := range want {
			if i >= len(got) || got[i] != want[i] {
				t.Errorf("%s: result %d: got %#x, want %#x", e.name, i, got[i], want[i])
			}
		}
	}

	// For the record: what wazero gives without the instrumentation on
	// this machine. (Not asserted: it depends on the processor.)
	for _, interp := range []bool{false, true} {
		ctx := context.Background()
		cfg := wazero.NewRuntimeConfig()
		if interp {
			cfg = wazero.NewRuntimeConfigInterpreter()
		}
		rt := wazero.NewRuntimeWithConfig(ctx, cfg)
		raw := prog
		raw.fdWrite = false
		raw.body = raw.body[:len(raw.body)-len(cat(i32c(1), i32c(0), i32c(1), i32c(16), op(opCall, 0, 0x1a)))]
		mod, err := rt.Instantiate(ctx, raw.build())
		if err != nil {
			t.Fatal(err)
		}
		mem, _ := mod.Memory().Read(64, uint32(8*len(want)))
		var differ []string
		for i, w := range words(mem) {
			if w != want[i] {
				differ = append(differ, fmt.Sprintf("#%d=%#x", i, w))
			}
		}
		t.Logf("uninstrumented, interpreter=%v: %d of %d results differ from canonical: %v", interp, len(differ), len(want), differ)
		_ = rt.Close(ctx)
	}
}

// A recursive function whose frames are large (many values live across
// the call) still stops at the instrumentation's limit, on both engines,
// before either engine's own stack runs out.
func TestFatFrames(t *testing.T) {
	const live = 5000
	// helper(x) = 0 + 1 + ... + (live-1) + helper(x), the constants all
	// live across the call: about 3 body bytes each, so each frame counts
	// 2 or more units.
	var body []byte
	for i := 0; i < live; i++ {
		body = append(body, i32c(int32(i))...)
	}
	body = append(body, opLocalGet, 0, opCall, 1)
	for i := 0; i < live; i++ {
		body = append(body, opI32Add)
	}
	mod := command{body: cat(i32c(0), op(opCall, 1, 0x1a)), helpers: []helper{{tUnary, body}}}
	module := mod.build()
	var first Result
	for i, e := range executors(t) {
		r, err := e.Run(context.Background(), module, nil, Limits{Gas: 1 << 40})
		if err != nil {
			t.Fatal(err)
		}
		if r.Failure != FailureTrap+": call stack exhausted" {
			t.Fatalf("%s: %s", e.name, summary(r))
		}
		if i == 0 {
			first = r
		} else if r.GasUsed != first.GasUsed {
			t.Fatalf("gas %d on %s, %d on the first", r.GasUsed, e.name, first.GasUsed)
		}
	}
}

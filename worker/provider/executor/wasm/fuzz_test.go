package wasm

import (
	"bytes"
	"context"
	"errors"
	"testing"

	wabin "github.com/tetratelabs/wabin/binary"
	wabinwasm "github.com/tetratelabs/wabin/wasm"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

// kitchenSink exercises the instructions and sections the rewriter treats
// specially: ref.func and table.set, a multi-value block, call_indirect
// through a table filled by an element segment (function indices move by
// one in the rewrite), br_table, return, memory.copy, memory.init and
// data.drop (with a data count section), memory.grow, typed select and a
// float operation. _start traps unless every step gives what it should.
func kitchenSink() []byte {
	i32 := wabinwasm.ValueTypeI32
	helper := uint32(1)
	body := cat(
		i32c(0), op(opRefFunc, 1, opTableSet, 0), // table[0] = helper, again
		op(opBlock, 3), i32c(20), i32c(22), op(opEnd, opI32Add), // 42
		i32c(0), op(opCallIndirect, tUnary, 0), // helper(42) = 43
		op(opLocalSet, 0),
		op(opBlock, blockEmpty, opBlock, blockEmpty, opLocalGet, 0), i32c(43), op(opI32Sub),
		op(opBrTable, 1, 1, 0, opEnd, opUnreachable, opEnd),
		i32c(100), op(opLocalGet, 0, 0x36, 2, 0), // store 43 at 100
		i32c(200), i32c(100), i32c(4), op(opPrefixMisc, miscMemoryCopy, 0, 0),
		i32c(300), i32c(0), i32c(4), op(opPrefixMisc, miscMemoryInit, 0, 0, opPrefixMisc, miscDataDrop, 0),
		i32c(1), op(opMemoryGrow, 0, 0x1a),
		i32c(200), op(0x28, 2, 0), i32c(300), op(0x28, 2, 0, 0x46), // load(200) == load(300)
		op(opIf, valI32), op(opLocalGet, 0), op(opElse), i32c(0), op(opEnd), // 43
		i32c(7), i32c(1), op(opSelectTyped, 1, valI32), // 43
		op(0xb7, opF64Const, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f, 0xa0, 0xaa), // i32(f64(43) + 1) = 44
		i32c(44), op(0x47, opIf, blockEmpty, opUnreachable, opEnd), // i32.ne
	)
	m := &wabinwasm.Module{
		TypeSection: []*wabinwasm.FunctionType{
			{},
			{Params: []byte{i32}, Results: []byte{i32}},
			{Params: []byte{i32, i32, i32, i32}, Results: []byte{i32}},
			{Results: []byte{i32, i32}},
		},
		FunctionSection: []uint32{tVoid, tUnary},
		TableSection:    []*wabinwasm.Table{{Min: 1, Type: wabinwasm.RefTypeFuncref}},
		MemorySection:   &wabinwasm.Memory{Min: 1},
		ExportSection: []*wabinwasm.Export{
			{Type: wabinwasm.ExternTypeFunc, Name: "_start", Index: 0},
			{Type: wabinwasm.ExternTypeMemory, Name: "memory"},
		},
		ElementSection: []*wabinwasm.ElementSegment{{
			OffsetExpr: &wabinwasm.ConstantExpression{Opcode: opI32Const, Data: []byte{0}},
			Init:       []*wabinwasm.Index{&helper},
			Type:       wabinwasm.RefTypeFuncref,
		}},
		CodeSection: []*wabinwasm.Code{
			{LocalTypes: []byte{i32}, Body: append(body, opEnd)},
			{Body: cat(op(opLocalGet, 0), i32c(1), op(opI32Add, opReturn, opEnd))},
		},
		DataSection: []*wabinwasm.DataSegment{{Init: []byte{43, 0, 0, 0}}}, // passive
	}
	return withDataCount(wabin.EncodeModule(m), 1)
}

// withDataCount inserts a data count section before the code section,
// which wabin does not encode.
func withDataCount(b []byte, n byte) []byte {
	r := &reader{b: b, off: 8}
	for !r.done() {
		start := r.off
		id := r.byte()
		r.bytes(r.u32())
		if id == secCode {
			return cat(b[:start], []byte{secDataCount, 1, n}, b[start:])
		}
	}
	return b
}

func TestKitchenSink(t *testing.T) {
	module := kitchenSink()
	var gas []uint64
	for _, e := range executors(t) {
		r, err := e.Run(context.Background(), module, nil, Limits{Gas: 1 << 20, MemoryPages: 4})
		if err != nil || r.Failure != "" {
			t.Fatalf("%s: %v %s", e.name, err, summary(r))
		}
		gas = append(gas, r.GasUsed)
	}
	if gas[0] != gas[1] {
		t.Fatalf("gas differs between engines: %v", gas)
	}
}

// FuzzInstrument: no input makes Instrument panic or change its input;
// it is a pure function; and whenever the input is a module wazero
// accepts and Instrument accepts it too, the result is one wazero accepts.
func FuzzInstrument(f *testing.F) {
	prog, _ := nanProgram()
	for _, seed := range [][]byte{
		nil,
		[]byte("\x00asm\x01\x00\x00\x00"),
		command{}.build(),
		countdown(3).build(),
		writeHi().build(),
		prog.build(),
		kitchenSink(),
		command{body: op(opCall, 1), helpers: []helper{{tVoid, op(opCall, 1)}}}.build(),
		command{pages: 1, body: cat(i32c(0), i32c(0), i32c(1000), op(opPrefixMisc, miscMemoryFill, 0))}.build(),
		command{body: op(0x01), helpers: []helper{{tVoid, cat(i32c(1), op(0x1a))}}, start: true}.build(),
	} {
		f.Add(seed)
	}
	ctx := context.Background()
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigInterpreter().
		WithCoreFeatures(api.CoreFeaturesV2&^api.CoreFeatureSIMD))
	f.Cleanup(func() { _ = rt.Close(ctx) })
	f.Fuzz(func(t *testing.T, in []byte) {
		orig := bytes.Clone(in)
		out, err := Instrument(in)
		if !bytes.Equal(in, orig) {
			t.Fatal("Instrument modified its input")
		}
		if err != nil {
			if !errors.Is(err, ErrInvalidModule) {
				t.Fatalf("error %v does not wrap ErrInvalidModule", err)
			}
			return
		}
		if again, _ := Instrument(in); !bytes.Equal(out, again) {
			t.Fatal("Instrument gave two different outputs")
		}
		c, err := rt.CompileModule(ctx, in)
		if err != nil {
			return
		}
		_ = c.Close(ctx)
		c, err = rt.CompileModule(ctx, out)
		if err != nil {
			t.Fatalf("wazero accepts the module but not its instrumented form: %v", err)
		}
		_ = c.Close(ctx)
	})
}

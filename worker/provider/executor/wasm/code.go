package wasm

import (
	"errors"
	"fmt"
)

// Opcodes the instrumentation reads or writes.
const (
	opUnreachable   = 0x00
	opNop           = 0x01
	opBlock         = 0x02
	opLoop          = 0x03
	opIf            = 0x04
	opElse          = 0x05
	opEnd           = 0x0b
	opBr            = 0x0c
	opBrIf          = 0x0d
	opBrTable       = 0x0e
	opReturn        = 0x0f
	opCall          = 0x10
	opCallIndirect  = 0x11
	opSelect        = 0x1b
	opSelectTyped   = 0x1c
	opLocalGet      = 0x20
	opLocalSet      = 0x21
	opLocalTee      = 0x22
	opGlobalGet     = 0x23
	opGlobalSet     = 0x24
	opTableGet      = 0x25
	opTableSet      = 0x26
	opMemorySize    = 0x3f
	opMemoryGrow    = 0x40
	opI32Const      = 0x41
	opI64Const      = 0x42
	opF32Const      = 0x43
	opF64Const      = 0x44
	opI32GtU        = 0x4b
	opI64LtS        = 0x53
	opI64GtS        = 0x55
	opI64GtU        = 0x56
	opF32Eq         = 0x5b
	opF64Eq         = 0x61
	opI32Add        = 0x6a
	opI32Sub        = 0x6b
	opI32Or         = 0x72
	opI64Add        = 0x7c
	opI64Sub        = 0x7d
	opI64Mul        = 0x7e
	opI64ShrU       = 0x88
	opI64ExtendI32U = 0xad
	opF32DemoteF64  = 0xb6
	opF64PromoteF32 = 0xbb
	opRefNull       = 0xd0
	opRefIsNull     = 0xd1
	opRefFunc       = 0xd2
	opPrefixMisc    = 0xfc
	opPrefixSIMD    = 0xfd

	blockEmpty = 0x40
)

// Sub-opcodes after opPrefixMisc.
const (
	miscMemoryInit = 8
	miscDataDrop   = 9
	miscMemoryCopy = 10
	miscMemoryFill = 11
	miscTableInit  = 12
	miscElemDrop   = 13
	miscTableCopy  = 14
	miscTableGrow  = 15
	miscTableSize  = 16
	miscTableFill  = 17
)

// instr is one decoded instruction of a function body.
type instr struct {
	op         byte
	sub        uint32 // sub-opcode after opPrefixMisc
	start, end int    // its bytes in the body
	arg        uint32 // call: function index; return: enclosing blocks
}

// funcRewriter instruments one function.
type funcRewriter struct {
	m               *module
	g               globalIndexes
	fn              addedFuncs
	params, results []byte
	addedTypes      *[]funcType

	// Scratch locals, allocated after the function's own.
	nextLocal         uint32
	newLocals         []byte
	tmpI64, tmpI32    uint32
	tmpI32b           uint32
	tmpF32, tmpF64    uint32
	needI32b, needF32 bool
	needF64           bool
}

// canonicalises reports whether an instruction's result may be a NaN whose
// bits differ between machines, and of which type.
func canonicalises(op byte) (byte, bool) {
	switch {
	case op >= 0x8d && op <= 0x97, op == opF32DemoteF64: // f32 ceil..max, demote
		return valF32, true
	case op >= 0x9b && op <= 0xa5, op == opF64PromoteF32: // f64 ceil..max, promote
		return valF64, true
	}
	return 0, false
}

// bulkCharge is the dynamic charge of a bulk instruction: the length
// operand on top of the stack, divided by unit (rounding up), times mul.
func bulkCharge(sub uint32) (unit, mul uint64, ok bool) {
	switch sub {
	case miscMemoryInit, miscMemoryCopy, miscMemoryFill:
		return CostBulkMemoryBytesPerUnit, 1, true
	case miscTableInit, miscTableCopy, miscTableGrow, miscTableFill:
		return 1, CostTableElement, true
	}
	return 0, 0, false
}

// endsSegment reports whether control may leave the straight line after
// an instruction, or arrive just after it from elsewhere: the metering
// points.
func endsSegment(op byte) bool {
	switch op {
	case opLoop, opIf, opElse, opEnd, opBr, opBrIf, opBrTable, opReturn, opUnreachable:
		return true
	}
	return false
}

func (f *funcRewriter) cost(in instr) uint64 {
	switch in.op {
	case opBlock, opLoop, opElse, opEnd, opNop:
		return 0 // structure, not work
	case opCall:
		if in.arg < uint32(len(f.m.imports)) {
			return CostHostCall
		}
	case opCallIndirect:
		return CostCallIndirect
	}
	return CostInstruction
}

// decode splits a body into instructions and checks the nesting; wazero
// validates everything else.
func (f *funcRewriter) decode(r *reader) ([]instr, error) {
	var out []instr
	depth := uint32(0)
	numFuncs := uint32(len(f.m.imports) + len(f.m.funcs))
	for r.err == nil {
		if r.off >= len(r.b) {
			return nil, errors.New("body does not end with end")
		}
		// Two statements: the order of r.off and r.byte() within one
		// expression is unspecified.
		in := instr{start: r.off}
		in.op = r.byte()
		switch in.op {
		case opBlock, opLoop, opIf:
			blockType(r)
			depth++
		case opEnd:
			if depth == 0 {
				in.end = r.off
				out = append(out, in)
				if r.off != len(r.b) {
					return nil, errors.New("bytes after the final end")
				}
				return out, nil
			}
			depth--
		case opBr, opBrIf:
			r.u32()
		case opBrTable:
			n := r.count(1)
			for i := uint32(0); i <= n && r.err == nil; i++ {
				r.u32()
			}
		case opReturn:
			in.arg = depth
		case opCall:
			in.arg = r.u32()
			if r.err == nil && in.arg >= numFuncs {
				return nil, fmt.Errorf("call of function %d out of range", in.arg)
			}
		case opCallIndirect:
			r.u32()
			r.u32()
		case opSelectTyped:
			n := r.count(1)
			for i := uint32(0); i < n; i++ {
				valueType(r)
			}
		case opLocalGet, opLocalSet, opLocalTee, opGlobalGet, opGlobalSet, opTableGet, opTableSet:
			r.u32()
		case opMemorySize, opMemoryGrow:
			if r.byte() != 0 {
				r.fail(errors.New("memory index must be 0"))
			}
			if in.op == opMemoryGrow && f.fn.grow == noFunc {
				return nil, errors.New("memory.grow without a memory")
			}
		case opI32Const:
			r.skipLEB(5)
		case 0x28, 0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f, 0x30, 0x31, 0x32, 0x33, 0x34, 0x35,
			0x36, 0x37, 0x38, 0x39, 0x3a, 0x3b, 0x3c, 0x3d, 0x3e: // loads and stores: align, offset
			r.u32()
			r.u32()
		case opI64Const:
			r.skipLEB(10)
		case opF32Const:
			r.bytes(4)
		case opF64Const:
			r.bytes(8)
		case opRefNull:
			r.byte()
		case opRefFunc:
			in.arg = r.u32()
			if r.err == nil && in.arg < uint32(len(f.m.imports)) {
				return nil, fmt.Errorf("reference to imported function %d", in.arg)
			}
			if r.err == nil && in.arg >= numFuncs {
				return nil, fmt.Errorf("ref.func of function %d out of range", in.arg)
			}
		case opPrefixMisc:
			in.sub = r.u32()
			switch in.sub {
			case 0, 1, 2, 3, 4, 5, 6, 7: // saturating truncation
			case miscMemoryInit:
				r.u32()
				r.byte()
			case miscDataDrop, miscElemDrop, miscTableGrow, miscTableSize, miscTableFill:
				r.u32()
			case miscMemoryCopy:
				r.byte()
				r.byte()
			case miscMemoryFill:
				r.byte()
			case miscTableInit, miscTableCopy:
				r.u32()
				r.u32()
			default:
				return nil, fmt.Errorf("unknown opcode 0xfc %d", in.sub)
			}
		case opPrefixSIMD:
			return nil, errors.New("SIMD instructions are not supported")
		default:
			if !plainOpcode(in.op) {
				return nil, fmt.Errorf("unknown opcode %#x", in.op)
			}
		}
		in.end = r.off
		out = append(out, in)
	}
	return nil, r.err
}

// plainOpcode reports the opcodes without immediates.
func plainOpcode(op byte) bool {
	switch {
	case op == opUnreachable, op == opNop, op == opElse, op == opReturn:
		return true
	case op == 0x1a, op == opSelect: // drop, select
		return true
	case op >= 0x45 && op <= 0xc4: // numeric instructions
		return true
	case op == opRefIsNull:
		return true
	}
	return false
}

// blockType skips a block type: empty, a value type or a type index.
func blockType(r *reader) {
	if r.off < len(r.b) {
		switch r.b[r.off] {
		case blockEmpty, valI32, valI64, valF32, valF64, valFuncref, valExternref:
			r.off++
			return
		case valV128:
			r.fail(errors.New("SIMD (v128) is not supported"))
			return
		}
	}
	r.skipLEB(5) // s33 type index
}

func (f *funcRewriter) local(t byte) uint32 {
	i := f.nextLocal
	f.nextLocal++
	f.newLocals = append(f.newLocals, t)
	return i
}

// rewrite instruments one code entry (locals and body).
func (f *funcRewriter) rewrite(code []byte) ([]byte, error) {
	r := &reader{b: code}
	groups := r.count(2)
	localsStart := r.off
	total := uint64(len(f.params))
	for i := uint32(0); i < groups && r.err == nil; i++ {
		total += uint64(r.u32())
		valueType(r)
		if total > MaxLocals {
			return nil, fmt.Errorf("more than %d locals", MaxLocals)
		}
	}
	if r.err != nil {
		return nil, fmt.Errorf("locals: %w", r.err)
	}
	localGroups := code[localsStart:r.off]
	bodyStart := r.off
	body := &reader{b: code[bodyStart:]}
	ins, err := f.decode(body)
	if err != nil {
		return nil, err
	}

	f.nextLocal = uint32(total)
	f.tmpI64 = f.local(valI64)
	f.tmpI32 = f.local(valI32)
	for _, in := range ins {
		if t, ok := canonicalises(in.op); ok {
			f.needF32 = f.needF32 || t == valF32
			f.needF64 = f.needF64 || t == valF64
		}
		if in.op == opCall {
			if _, ok := f.m.hostCharges[in.arg]; ok {
				f.needI32b = true
			}
		}
	}
	if f.needI32b {
		f.tmpI32b = f.local(valI32)
	}
	if f.needF32 {
		f.tmpF32 = f.local(valF32)
	}
	if f.needF64 {
		f.tmpF64 = f.local(valF64)
	}

	// Segment costs: each metering point charges for the instructions up
	// to and including the next one after which control may leave.
	segCost := make([]uint64, len(ins))
	segStart := 0
	for i, in := range ins {
		segCost[segStart] += f.cost(in)
		if endsSegment(in.op) {
			segStart = i + 1
		}
	}

	weight := 1 + (total+uint64(len(code)-bodyStart))/FrameUnitSize

	// Locals: the original groups, then one group per scratch local.
	out := appendU32(nil, groups+uint32(len(f.newLocals)))
	out = append(out, localGroups...)
	for _, t := range f.newLocals {
		out = append(out, 1, t)
	}

	// Entry: count the frame against the call-depth limit.
	out = append(out, opGlobalGet)
	out = appendU32(out, f.g.depth)
	out = append(out, opI32Const)
	out = appendS64(out, int64(weight))
	out = append(out, opI32Add, opLocalTee)
	out = appendU32(out, f.tmpI32)
	out = append(out, opGlobalSet)
	out = appendU32(out, f.g.depth)
	out = append(out, opLocalGet)
	out = appendU32(out, f.tmpI32)
	out = append(out, opI32Const)
	out = appendS64(out, CallDepthLimit)
	out = append(out, opI32GtU, opIf, blockEmpty)
	out = f.setFlag(out, flagCallDepth)
	out = append(out, opUnreachable, opEnd)

	// The body runs in a block with the function's results, so that
	// every way out of it (return, a branch to the function's label, the
	// end) passes the exit code below.
	out = append(out, opBlock)
	out, err = f.blockTypeOf(out)
	if err != nil {
		return nil, err
	}
	b := body.b
	for i, in := range ins {
		if c := segCost[i]; c > 0 && (i == 0 || endsSegment(ins[i-1].op)) {
			out = f.charge(out, c)
		}
		last := i == len(ins)-1
		switch {
		case last:
			out = append(out, opEnd) // closes the wrapping block
		case in.op == opReturn:
			out = append(out, opBr)
			out = appendU32(out, in.arg)
		case in.op == opMemoryGrow:
			out = append(out, opCall)
			out = appendU32(out, f.fn.grow)
		case in.op == opRefFunc:
			out = append(out, opRefFunc)
			out = appendU32(out, f.m.remap(in.arg))
		case in.op == opPrefixMisc:
			if unit, mul, ok := bulkCharge(in.sub); ok {
				out = append(out, opLocalSet)
				out = appendU32(out, f.tmpI32)
				out = f.chargeDynamic(out, f.tmpI32, unit, mul)
				out = append(out, opLocalGet)
				out = appendU32(out, f.tmpI32)
			}
			out = append(out, b[in.start:in.end]...)
		case in.op == opCall:
			if hc, ok := f.m.hostCharges[in.arg]; ok {
				// (fd, iovs, count, result): charge for count.
				out = append(out, opLocalSet)
				out = appendU32(out, f.tmpI32b)
				out = append(out, opLocalTee)
				out = appendU32(out, f.tmpI32)
				out = f.chargeDynamic(out, f.tmpI32, 1, hc.perItem)
				out = append(out, opLocalGet)
				out = appendU32(out, f.tmpI32b)
			}
			out = append(out, opCall)
			out = appendU32(out, f.m.remap(in.arg))
		default:
			out = append(out, b[in.start:in.end]...)
		}
		if t, ok := canonicalises(in.op); ok {
			out = f.canonicalise(out, t)
		}
	}
	// Exit: release the frame, then the function's own end.
	out = append(out, opGlobalGet)
	out = appendU32(out, f.g.depth)
	out = append(out, opI32Const)
	out = appendS64(out, int64(weight))
	out = append(out, opI32Sub, opGlobalSet)
	out = appendU32(out, f.g.depth)
	out = append(out, opEnd)
	return out, nil
}

func (f *funcRewriter) blockTypeOf(out []byte) ([]byte, error) {
	switch len(f.results) {
	case 0:
		return append(out, blockEmpty), nil
	case 1:
		return append(out, f.results[0]), nil
	}
	idx := f.m.typeIndex(funcType{results: f.results}, f.addedTypes)
	return appendS64(out, int64(idx)), nil
}

func (f *funcRewriter) setFlag(out []byte, flag byte) []byte {
	out = append(out, opGlobalGet)
	out = appendU32(out, f.g.flags)
	out = append(out, opI32Const, flag, opI32Or, opGlobalSet)
	return appendU32(out, f.g.flags)
}

// charge subtracts a static cost from the gas global and traps once it is
// below zero. The trap is an unreachable the executor recognises by the
// negative gas.
func (f *funcRewriter) charge(out []byte, c uint64) []byte {
	out = append(out, opGlobalGet)
	out = appendU32(out, f.g.gas)
	out = append(out, opI64Const)
	out = appendS64(out, int64(c))
	out = append(out, opI64Sub)
	return f.storeGas(out)
}

// chargeDynamic charges ceil(local/unit)*mul, local being an i32 scratch
// holding an operand of the instruction that follows.
func (f *funcRewriter) chargeDynamic(out []byte, local uint32, unit, mul uint64) []byte {
	out = append(out, opGlobalGet)
	out = appendU32(out, f.g.gas)
	out = append(out, opLocalGet)
	out = appendU32(out, local)
	out = append(out, opI64ExtendI32U)
	if unit > 1 {
		// unit is a power of two.
		shift := 0
		for uint64(1)<<shift < unit {
			shift++
		}
		out = append(out, opI64Const)
		out = appendS64(out, int64(unit-1))
		out = append(out, opI64Add, opI64Const)
		out = appendS64(out, int64(shift))
		out = append(out, opI64ShrU)
	}
	if mul > 1 {
		out = append(out, opI64Const)
		out = appendS64(out, int64(mul))
		out = append(out, opI64Mul)
	}
	out = append(out, opI64Sub)
	return f.storeGas(out)
}

// storeGas stores the new gas on the stack and takes the slow path when
// it is below the next checkpoint (which is 0 once the gas is under
// checkpointInterval, so exhaustion always takes it).
func (f *funcRewriter) storeGas(out []byte) []byte {
	out = append(out, opLocalTee)
	out = appendU32(out, f.tmpI64)
	out = append(out, opGlobalSet)
	out = appendU32(out, f.g.gas)
	out = append(out, opLocalGet)
	out = appendU32(out, f.tmpI64)
	out = append(out, opGlobalGet)
	out = appendU32(out, f.g.next)
	out = append(out, opI64LtS, opIf, blockEmpty, opCall)
	out = appendU32(out, f.fn.slow)
	return append(out, opEnd)
}

// canonicalise replaces a NaN on top of the stack with the canonical
// quiet NaN of its type, leaving any other value alone.
func (f *funcRewriter) canonicalise(out []byte, t byte) []byte {
	tmp, eq := f.tmpF32, byte(opF32Eq)
	nan := []byte{opF32Const, 0x00, 0x00, 0xc0, 0x7f} // 0x7fc00000
	if t == valF64 {
		tmp, eq = f.tmpF64, opF64Eq
		nan = []byte{opF64Const, 0, 0, 0, 0, 0, 0, 0xf8, 0x7f} // 0x7ff8000000000000
	}
	out = append(out, opLocalTee)
	out = appendU32(out, tmp)
	out = append(out, nan...)
	out = append(out, opLocalGet)
	out = appendU32(out, tmp)
	out = append(out, opLocalGet)
	out = appendU32(out, tmp)
	// select keeps the value when it equals itself, i.e. is not a NaN.
	return append(out, eq, opSelect)
}

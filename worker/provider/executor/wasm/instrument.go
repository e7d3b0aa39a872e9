package wasm

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"strings"
)

// Names the instrumentation adds to a module's exports. A module that
// already exports a name with this prefix is refused.
const (
	reservedPrefix    = "mycel."
	exportGas         = "mycel.gas"          // i64: gas left; negative once exhausted
	exportMemoryPages = "mycel.memory_pages" // i32: the run's page limit
	exportFlags       = "mycel.flags"        // i32: flag* bits
	exportStart       = "mycel.start"        // the module's own start function, if any
)

// The host function the instrumentation imports. The metering calls it
// every checkpointInterval gas; it returns to Go, which lets the Go
// runtime preempt the goroutine (compiled WebAssembly cannot be preempted
// otherwise, and would hold up every stop-the-world of the process) and
// the executor stop a run whose deadline has passed.
const (
	hostModule         = "mycel"
	hostCheckpoint     = "checkpoint"
	checkpointInterval = 1 << 21
)

// Bits of the flags global.
const (
	flagGrowRefused = 1 // memory.grow asked for more than the run's page limit
	flagCallDepth   = 2 // CallDepthLimit was reached
)

// wasiModule is the only module a job may import from.
const wasiModule = "wasi_snapshot_preview1"

// Section ids.
const (
	secCustom    = 0
	secType      = 1
	secImport    = 2
	secFunction  = 3
	secTable     = 4
	secMemory    = 5
	secGlobal    = 6
	secExport    = 7
	secStart     = 8
	secElement   = 9
	secCode      = 10
	secData      = 11
	secDataCount = 12
)

// sectionRank orders the non-custom sections as the binary format
// requires; 0 for an unknown id.
func sectionRank(id byte) int {
	switch id {
	case secType, secImport, secFunction, secTable, secMemory, secGlobal, secExport, secStart, secElement:
		return int(id)
	case secDataCount:
		return 10
	case secCode:
		return 11
	case secData:
		return 12
	}
	return 0
}

// Value types.
const (
	valI32       = 0x7f
	valI64       = 0x7e
	valF32       = 0x7d
	valF64       = 0x7c
	valV128      = 0x7b
	valFuncref   = 0x70
	valExternref = 0x6f
)

// The module header: magic number and version 1.
const header = "\x00asm\x01\x00\x00\x00"

// ErrInvalidModule is wrapped by every error Instrument returns.
var ErrInvalidModule = errors.New("invalid module")

type section struct {
	id   byte
	body []byte
}

type funcType struct {
	params, results []byte
}

func (t funcType) equal(u funcType) bool {
	return bytes.Equal(t.params, u.params) && bytes.Equal(t.results, u.results)
}

func (t funcType) encode() []byte {
	b := []byte{0x60}
	b = appendU32(b, uint32(len(t.params)))
	b = append(b, t.params...)
	b = appendU32(b, uint32(len(t.results)))
	return append(b, t.results...)
}

// hostCharge is a dynamic charge at the call sites of a WASI function,
// proportional to one of its arguments.
type hostCharge struct {
	perItem uint64
}

// module is what the instrumentation needs to know about a module; the
// sections it does not change travel through byte for byte.
type module struct {
	sections []section

	types       []funcType
	imports     []uint32 // type index of each imported function
	hostCharges map[uint32]hostCharge
	funcs       []uint32 // type index of each defined function
	hasMemory   bool
	memoryMin   uint32
	globals     uint32
	exports     []export
	start       *uint32
	codes       [][]byte // each function's locals and body

	// For the sections the instrumentation appends to: the entries after
	// the vector count, function indices already remapped.
	typeTail, importTail, funcTail, globalTail []byte
	// The element section, function indices remapped.
	elements []byte
}

// remap gives a function's index in the instrumented module, where the
// checkpoint import comes after the module's own imports.
func (m *module) remap(f uint32) uint32 {
	if f < uint32(len(m.imports)) {
		return f
	}
	return f + 1
}

// copier copies what a reader reads, with function indices remapped.
type copier struct {
	r    *reader
	m    *module
	out  []byte
	mark int
}

// funcIndex reads a function index, refusing imported functions (which
// must not reach a table, where calls would skip the call-site charges),
// and writes it remapped.
func (c *copier) funcIndex() {
	c.out = append(c.out, c.r.b[c.mark:c.r.off]...)
	f := c.r.u32()
	if c.r.err == nil && f < uint32(len(c.m.imports)) {
		c.r.fail(fmt.Errorf("reference to imported function %d", f))
	}
	c.out = appendU32(c.out, c.m.remap(f))
	c.mark = c.r.off
}

func (c *copier) finish() []byte {
	c.out = append(c.out, c.r.b[c.mark:c.r.off]...)
	c.mark = c.r.off
	return c.out
}

type export struct {
	name  string
	kind  byte
	index uint32
}

// ModuleInfo is what the executor needs to know about an instrumented
// module.
type moduleInfo struct {
	memoryMin uint32 // initial pages
	hasStart  bool   // exportStart must run before _start
}

// Instrument rewrites a module to count gas, enforce the run's memory and
// call-depth limits and canonicalise NaNs, as doc.go describes. It is a
// pure function: the same input bytes give the same output bytes. It
// adds one import (mycel.checkpoint, after the module's own), so defined
// functions move up by one index; the table, memory, data count and data
// sections and the custom sections other than "name" (whose function
// indices would be stale; it only serves stack traces) are copied
// unchanged.
func Instrument(module []byte) ([]byte, error) {
	out, _, err := instrument(module)
	return out, err
}

func instrument(b []byte) ([]byte, moduleInfo, error) {
	m, err := parseModule(b)
	if err != nil {
		return nil, moduleInfo{}, fmt.Errorf("%w: %v", ErrInvalidModule, err)
	}
	out, err := m.rewrite()
	if err != nil {
		return nil, moduleInfo{}, fmt.Errorf("%w: %v", ErrInvalidModule, err)
	}
	return out, moduleInfo{memoryMin: m.memoryMin, hasStart: m.start != nil}, nil
}

func parseModule(b []byte) (*module, error) {
	r := &reader{b: b}
	if string(r.bytes(4)) != header[:4] {
		return nil, errors.New("not WebAssembly (bad magic number)")
	}
	if string(r.bytes(4)) != header[4:] {
		return nil, errors.New("unsupported WebAssembly version")
	}
	m := &module{}
	last := 0
	for !r.done() {
		id := r.byte()
		size := r.u32()
		body := r.bytes(size)
		if r.err != nil {
			return nil, fmt.Errorf("section header: %w", r.err)
		}
		if id == secCustom {
			cr := &reader{b: body}
			if cr.name() == "name" && cr.err == nil {
				continue
			}
		} else {
			if sectionRank(id) == 0 {
				return nil, fmt.Errorf("unknown section id %d", id)
			}
			if sectionRank(id) <= last {
				return nil, fmt.Errorf("section %d out of order or repeated", id)
			}
			last = sectionRank(id)
			if err := m.parseSection(id, body); err != nil {
				return nil, fmt.Errorf("section %d: %w", id, err)
			}
		}
		m.sections = append(m.sections, section{id: id, body: body})
	}
	if r.err != nil {
		return nil, r.err
	}
	if len(m.codes) != len(m.funcs) {
		return nil, fmt.Errorf("%d functions but %d bodies", len(m.funcs), len(m.codes))
	}
	var hasStartExport bool
	for _, e := range m.exports {
		if e.name == "_start" && e.kind == 0 {
			if err := m.checkNullary(e.index); err != nil {
				return nil, fmt.Errorf("_start: %w", err)
			}
			hasStartExport = true
		}
	}
	if !hasStartExport {
		return nil, errors.New("no _start function exported (a job is a WASI command)")
	}
	if m.start != nil {
		if err := m.checkNullary(*m.start); err != nil {
			return nil, fmt.Errorf("start function: %w", err)
		}
	}
	return m, nil
}

// checkNullary checks that a function the executor calls takes and
// returns nothing.
func (m *module) checkNullary(f uint32) error {
	var t uint32
	switch n := uint32(len(m.imports)); {
	case f < n:
		t = m.imports[f]
	case f-n < uint32(len(m.funcs)):
		t = m.funcs[f-n]
	default:
		return fmt.Errorf("function %d out of range", f)
	}
	if ft := m.types[t]; len(ft.params) != 0 || len(ft.results) != 0 {
		return fmt.Errorf("function %d must take and return nothing", f)
	}
	return nil
}

func (m *module) parseSection(id byte, body []byte) error {
	r := &reader{b: body}
	switch id {
	case secType:
		n := r.count(3)
		tail := r.off
		for i := uint32(0); i < n && r.err == nil; i++ {
			if r.byte() != 0x60 {
				r.fail(errors.New("type is not a function type"))
				break
			}
			var t funcType
			t.params = valueTypes(r)
			t.results = valueTypes(r)
			m.types = append(m.types, t)
		}
		m.typeTail = body[tail:]
	case secImport:
		n := r.count(4)
		m.importTail = body[r.off:]
		for i := uint32(0); i < n && r.err == nil; i++ {
			mod, name, kind := r.name(), r.name(), r.byte()
			if r.err != nil {
				break
			}
			if mod != wasiModule || kind != 0 {
				return fmt.Errorf("import %q %q (kind %d): a job may import only functions of %s", mod, name, kind, wasiModule)
			}
			t := r.u32()
			if r.err == nil && t >= uint32(len(m.types)) {
				return fmt.Errorf("import %q: type %d out of range", name, t)
			}
			idx := uint32(len(m.imports))
			m.imports = append(m.imports, t)
			if r.err == nil {
				m.noteHostCharge(idx, name, t)
			}
		}
	case secFunction:
		n := r.count(1)
		tail := r.off
		for i := uint32(0); i < n && r.err == nil; i++ {
			t := r.u32()
			if r.err == nil && t >= uint32(len(m.types)) {
				return fmt.Errorf("function %d: type %d out of range", i, t)
			}
			m.funcs = append(m.funcs, t)
		}
		m.funcTail = body[tail:]
	case secMemory:
		n := r.count(2)
		if n > 1 {
			return errors.New("more than one memory")
		}
		if n == 1 {
			m.hasMemory = true
			switch flags := r.byte(); flags {
			case 0:
				m.memoryMin = r.u32()
			case 1:
				m.memoryMin = r.u32()
				r.u32()
			default:
				return fmt.Errorf("unsupported memory limits flags %#x", flags)
			}
		}
	case secGlobal:
		n := r.count(3)
		c := &copier{r: r, m: m, mark: r.off}
		for i := uint32(0); i < n && r.err == nil; i++ {
			valueType(r)
			if mut := r.byte(); mut > 1 {
				return fmt.Errorf("global %d: bad mutability %d", i, mut)
			}
			constExpr(c)
		}
		m.globals = n
		m.globalTail = c.finish()
	case secExport:
		n := r.count(3)
		for i := uint32(0); i < n && r.err == nil; i++ {
			e := export{name: r.name(), kind: r.byte(), index: r.u32()}
			if strings.HasPrefix(e.name, reservedPrefix) {
				return fmt.Errorf("export %q uses the reserved prefix %q", e.name, reservedPrefix)
			}
			m.exports = append(m.exports, e)
		}
	case secStart:
		s := r.u32()
		m.start = &s
	case secElement:
		c := &copier{r: r, m: m}
		elements(c)
		m.elements = c.finish()
	case secCode:
		n := r.count(2)
		for i := uint32(0); i < n && r.err == nil; i++ {
			size := r.u32()
			m.codes = append(m.codes, r.bytes(size))
		}
	default:
		// Table, data count and data sections travel unchanged; wazero
		// validates them.
		return nil
	}
	if r.err != nil {
		return r.err
	}
	if r.off != len(body) {
		return fmt.Errorf("%d bytes left over", len(body)-r.off)
	}
	return nil
}

// noteHostCharge records the WASI functions whose host work grows with an
// argument, so that their call sites charge for it. The argument is the
// third of four i32 parameters in each case.
func (m *module) noteHostCharge(idx uint32, name string, t uint32) {
	var per uint64
	switch name {
	case "fd_read", "fd_write":
		per = CostIOVec
	case "poll_oneoff":
		per = CostPollSubscription
	default:
		return
	}
	want := funcType{params: []byte{valI32, valI32, valI32, valI32}, results: []byte{valI32}}
	if !m.types[t].equal(want) {
		return // wazero refuses the import at instantiation anyway
	}
	if m.hostCharges == nil {
		m.hostCharges = map[uint32]hostCharge{}
	}
	m.hostCharges[idx] = hostCharge{perItem: per}
}

func valueType(r *reader) byte {
	v := r.byte()
	switch v {
	case valI32, valI64, valF32, valF64, valFuncref, valExternref:
	case valV128:
		r.fail(errors.New("SIMD (v128) is not supported"))
	default:
		r.fail(fmt.Errorf("unknown value type %#x", v))
	}
	return v
}

func valueTypes(r *reader) []byte {
	n := r.count(1)
	start := r.off
	for i := uint32(0); i < n && r.err == nil; i++ {
		valueType(r)
	}
	if r.err != nil {
		return nil
	}
	return r.b[start:r.off]
}

// constExpr reads a constant expression: one instruction, then end.
func constExpr(c *copier) {
	r := c.r
	switch op := r.byte(); op {
	case opI32Const:
		r.skipLEB(5)
	case opI64Const:
		r.skipLEB(10)
	case opF32Const:
		r.bytes(4)
	case opF64Const:
		r.bytes(8)
	case opGlobalGet:
		r.u32()
	case opRefNull:
		r.byte()
	case opRefFunc:
		c.funcIndex()
	default:
		r.fail(fmt.Errorf("unsupported constant expression opcode %#x", op))
	}
	if r.byte() != opEnd {
		r.fail(errors.New("constant expression longer than one instruction"))
	}
}

// elements walks the element section.
func elements(c *copier) {
	r := c.r
	n := r.count(2)
	for i := uint32(0); i < n && r.err == nil; i++ {
		flags := r.u32()
		if flags > 7 {
			r.fail(fmt.Errorf("element segment %d: bad flags %d", i, flags))
			return
		}
		if flags == 2 || flags == 6 {
			r.u32() // table index
		}
		if flags&1 == 0 {
			constExpr(c) // offset of an active segment
		}
		if flags&4 == 0 {
			if flags&3 != 0 {
				if kind := r.byte(); kind != 0 {
					r.fail(fmt.Errorf("element segment %d: bad element kind %d", i, kind))
				}
			}
			k := r.count(1)
			for j := uint32(0); j < k && r.err == nil; j++ {
				c.funcIndex()
			}
			continue
		}
		if flags&3 != 0 {
			r.byte() // reference type
		}
		k := r.count(2)
		for j := uint32(0); j < k && r.err == nil; j++ {
			constExpr(c)
		}
	}
}

// typeIndex returns the index of a function type, appending it when the
// module has none equal.
func (m *module) typeIndex(t funcType, added *[]funcType) uint32 {
	for i, u := range m.types {
		if u.equal(t) {
			return uint32(i)
		}
	}
	for i, u := range *added {
		if u.equal(t) {
			return uint32(len(m.types) + i)
		}
	}
	*added = append(*added, t)
	return uint32(len(m.types) + len(*added) - 1)
}

// rewrite produces the instrumented module.
func (m *module) rewrite() ([]byte, error) {
	var addedTypes []funcType
	numImports := uint32(len(m.imports))
	g := globalsOf(m.globals)
	voidType := m.typeIndex(funcType{}, &addedTypes)

	// Added functions, after the module's own: the slow path of the
	// metering, then the memory.grow replacement.
	fn := addedFuncs{checkpoint: numImports, slow: numImports + 1 + uint32(len(m.funcs)), grow: noFunc}
	addedFuncTypes := []uint32{voidType}
	if m.hasMemory {
		fn.grow = fn.slow + 1
		addedFuncTypes = append(addedFuncTypes, m.typeIndex(funcType{params: []byte{valI32}, results: []byte{valI32}}, &addedTypes))
	}

	// Code.
	code := appendU32(nil, uint32(len(m.codes)+len(addedFuncTypes)))
	for i, c := range m.codes {
		ft := m.types[m.funcs[i]]
		fr := funcRewriter{
			m: m, g: g, fn: fn, params: ft.params, results: ft.results,
			addedTypes: &addedTypes,
		}
		body, err := fr.rewrite(c)
		if err != nil {
			return nil, fmt.Errorf("function %d: %w", numImports+uint32(i), err)
		}
		code = appendU32(code, uint32(len(body)))
		code = append(code, body...)
	}
	for _, body := range [][]byte{slowPath(g, fn), growHelper(g, fn)} {
		if body == nil {
			continue
		}
		code = appendU32(code, uint32(len(body)))
		code = append(code, body...)
	}

	// Types, imports, functions, globals: the original entries, then the
	// added ones.
	types := appendU32(nil, uint32(len(m.types)+len(addedTypes)))
	types = append(types, m.typeTail...)
	for _, t := range addedTypes {
		types = append(types, t.encode()...)
	}
	imports := appendU32(nil, numImports+1)
	imports = append(imports, m.importTail...)
	imports = appendName(imports, hostModule)
	imports = appendName(imports, hostCheckpoint)
	imports = append(imports, 0) // function
	imports = appendU32(imports, voidType)
	funcs := appendU32(nil, uint32(len(m.funcs)+len(addedFuncTypes)))
	funcs = append(funcs, m.funcTail...)
	for _, t := range addedFuncTypes {
		funcs = appendU32(funcs, t)
	}
	globals := appendU32(nil, m.globals+numGlobals)
	globals = append(globals, m.globalTail...)
	for _, ag := range addedGlobals() {
		globals = append(globals, ag.typ, 1) // mutable
		if ag.typ == valI64 {
			globals = appendS64(append(globals, opI64Const), ag.init)
		} else {
			globals = appendS64(append(globals, opI32Const), ag.init)
		}
		globals = append(globals, opEnd)
	}

	// Exports: all of them again, function indices remapped.
	all := append([]export{}, m.exports...)
	all = append(all,
		export{name: exportGas, kind: 3, index: g.gas},
		export{name: exportMemoryPages, kind: 3, index: g.memoryPages},
		export{name: exportFlags, kind: 3, index: g.flags},
	)
	if m.start != nil {
		// The start function runs at instantiation, before the host can
		// set the budget, so it becomes an export the executor calls.
		all = append(all, export{name: exportStart, kind: 0, index: *m.start})
	}
	exports := appendU32(nil, uint32(len(all)))
	for _, e := range all {
		exports = appendName(exports, e.name)
		exports = append(exports, e.kind)
		if e.kind == 0 {
			e.index = m.remap(e.index)
		}
		exports = appendU32(exports, e.index)
	}

	replaced := map[byte][]byte{
		secType: types, secImport: imports, secFunction: funcs, secGlobal: globals,
		secExport: exports, secElement: m.elements, secCode: code,
	}
	if m.elements == nil {
		delete(replaced, secElement)
	}
	order := []byte{secType, secImport, secFunction, secGlobal, secExport, secElement, secCode}
	var out []section
	for _, s := range m.sections {
		if s.id == secStart {
			continue
		}
		if s.id != secCustom {
			// Insert the sections the module lacked before the first
			// one that follows them.
			for _, id := range order {
				if b, ok := replaced[id]; ok && sectionRank(id) < sectionRank(s.id) {
					out = append(out, section{id: id, body: b})
					delete(replaced, id)
				}
			}
		}
		if b, ok := replaced[s.id]; ok {
			s.body = b
			delete(replaced, s.id)
		}
		out = append(out, s)
	}
	for _, id := range order {
		if b, ok := replaced[id]; ok {
			out = append(out, section{id: id, body: b})
		}
	}

	res := []byte(header)
	for _, s := range out {
		res = append(res, s.id)
		res = appendU32(res, uint32(len(s.body)))
		res = append(res, s.body...)
	}
	return res, nil
}

// noFunc marks an absent function index.
const noFunc = ^uint32(0)

// addedFuncs are the indices of the functions the instrumentation adds.
type addedFuncs struct {
	checkpoint uint32 // the imported host function
	slow       uint32 // the metering's slow path
	grow       uint32 // replaces memory.grow; noFunc without a memory
}

// numGlobals is how many globals the instrumentation adds.
const numGlobals = 5

// addedGlobals are the globals the instrumentation adds, after the
// module's own, in globalIndexes order.
func addedGlobals() [numGlobals]struct {
	typ  byte
	init int64
} {
	return [numGlobals]struct {
		typ  byte
		init int64
	}{
		{valI64, 0},             // gas left
		{valI32, 0},             // the run's memory limit, pages
		{valI32, 0},             // flag* bits
		{valI32, 0},             // call depth, frame units
		{valI64, math.MaxInt64}, // gas level of the next checkpoint: the first charge takes the slow path
	}
}

type globalIndexes struct {
	gas, memoryPages, flags, depth, next uint32
}

func globalsOf(existing uint32) globalIndexes {
	return globalIndexes{gas: existing, memoryPages: existing + 1, flags: existing + 2, depth: existing + 3, next: existing + 4}
}

// slowPath is the function the metering calls when the gas left falls
// below the next checkpoint: it traps when the gas is exhausted, sets
// the next checkpoint checkpointInterval lower (but not below zero, so
// that exhaustion still comes here) and calls the host.
func slowPath(g globalIndexes, fn addedFuncs) []byte {
	b := []byte{1, 1, valI64} // one i64 local
	b = append(b, opGlobalGet)
	b = appendU32(b, g.gas)
	b = append(b, opI64Const, 0, opI64LtS, opIf, blockEmpty, opUnreachable, opEnd, opGlobalGet)
	b = appendU32(b, g.gas)
	b = append(b, opI64Const)
	b = appendS64(b, checkpointInterval)
	b = append(b, opI64Sub, opLocalTee, 0, opI64Const, 0, opLocalGet, 0, opI64Const, 0, opI64GtS, opSelect, opGlobalSet)
	b = appendU32(b, g.next)
	b = append(b, opCall)
	b = appendU32(b, fn.checkpoint)
	return append(b, opEnd)
}

// growHelper is the body of the function that replaces memory.grow: it
// refuses a grow past the run's page limit (recording that in the flags)
// and charges for the pages it adds.
func growHelper(g globalIndexes, fn addedFuncs) []byte {
	if fn.grow == noFunc {
		return nil
	}
	b := []byte{0} // no locals
	b = append(b,
		opMemorySize, 0, opI64ExtendI32U, opLocalGet, 0, opI64ExtendI32U, opI64Add,
		opGlobalGet)
	b = appendU32(b, g.memoryPages)
	b = append(b, opI64ExtendI32U, opI64GtU, opIf, valI32, opGlobalGet)
	b = appendU32(b, g.flags)
	b = append(b, opI32Const, flagGrowRefused, opI32Or, opGlobalSet)
	b = appendU32(b, g.flags)
	b = append(b, opI32Const, 0x7f, opElse, opGlobalGet) // i32.const -1
	b = appendU32(b, g.gas)
	b = append(b, opLocalGet, 0, opI64ExtendI32U, opI64Const)
	b = appendS64(b, CostMemoryGrowPage)
	b = append(b, opI64Mul, opI64Sub, opGlobalSet)
	b = appendU32(b, g.gas)
	b = append(b, opGlobalGet)
	b = appendU32(b, g.gas)
	b = append(b, opGlobalGet)
	b = appendU32(b, g.next)
	b = append(b, opI64LtS, opIf, blockEmpty, opCall)
	b = appendU32(b, fn.slow)
	b = append(b, opEnd, opLocalGet, 0, opMemoryGrow, 0, opEnd, opEnd)
	return b
}

package wasm

import (
	"fmt"
	"strings"
)

// Version names the metering, canonicalisation and host rules below. Two
// executors with the same Version give the same Result for the same module,
// input and limits; change it whenever a change alters a gas count, an
// output bit or a failure reason.
const Version = "mycel-wasm/1"

// The cost model. Gas is charged in whole units; every figure here is part
// of Version.
const (
	// CostInstruction is the charge of an ordinary instruction. block,
	// loop, else, end and nop are structure, not work, and are free:
	// compilers turn them into nothing, and Go's WebAssembly, which nests
	// dozens of blocks per function, would otherwise pay for them on
	// every jump.
	CostInstruction = 1
	// CostCallIndirect is the charge of call_indirect (table lookup and
	// signature check).
	CostCallIndirect = 5
	// CostHostCall is the charge of a call to a WASI function, on top of
	// the per-item and per-byte charges below.
	CostHostCall = 100
	// CostIOVec is charged per iovec passed to fd_read or fd_write.
	CostIOVec = 10
	// CostPollSubscription is charged per subscription passed to
	// poll_oneoff.
	CostPollSubscription = 50
	// CostIOBytesPerUnit: stdin read, stdout or stderr written costs 1 gas
	// per this many bytes, rounded up per transfer.
	CostIOBytesPerUnit = 16
	// CostRandomBytesPerUnit: random_get costs 1 gas per this many bytes,
	// rounded up per call.
	CostRandomBytesPerUnit = 8
	// CostMemoryGrowPage is charged per 64 KiB page that memory.grow adds
	// (nothing when the grow is refused).
	CostMemoryGrowPage = 1024
	// CostBulkMemoryBytesPerUnit: memory.copy, memory.fill and memory.init
	// cost 1 gas per this many bytes of their length operand, rounded up,
	// charged before the operation runs.
	CostBulkMemoryBytesPerUnit = 64
	// CostTableElement is charged per element of table.grow, table.fill,
	// table.copy and table.init.
	CostTableElement = 1
)

// The limits the instrumentation enforces so that every engine stops a
// job at the same point.
const (
	// CallDepthLimit bounds the sum of the frame units of the active
	// calls. wazero's interpreter stops at 2,000 frames (host calls
	// included) and its compiler at a 400 MB stack; this limit is reached
	// first on both, every frame counting at least one unit.
	CallDepthLimit = 1800
	// FrameUnitSize: a function's frame counts 1 + (params + locals +
	// body bytes) / FrameUnitSize units. A compiled frame holds at most
	// about one 8-byte slot per local and per body byte, so the active
	// frames stay under 1800 * 8192 * 8 bytes (118 MB), well inside the
	// compiler's stack, however large the functions.
	FrameUnitSize = 8192
	// MaxLocals bounds the locals of one function.
	MaxLocals = 50000
)

// CostTable describes the cost model in words, for documentation and for
// clients that want to estimate a budget.
func CostTable() string {
	rows := []struct {
		what string
		cost string
	}{
		{"instruction (block, loop, else, end, nop: free)", fmt.Sprint(CostInstruction)},
		{"call_indirect", fmt.Sprint(CostCallIndirect)},
		{"call of a WASI function", fmt.Sprint(CostHostCall)},
		{"fd_read, fd_write: per iovec", fmt.Sprint(CostIOVec)},
		{"poll_oneoff: per subscription", fmt.Sprint(CostPollSubscription)},
		{"stdin, stdout, stderr bytes", fmt.Sprintf("1 per %d, rounded up per transfer", CostIOBytesPerUnit)},
		{"random_get bytes", fmt.Sprintf("1 per %d, rounded up per call", CostRandomBytesPerUnit)},
		{"memory.grow: per page added", fmt.Sprint(CostMemoryGrowPage)},
		{"memory.copy, memory.fill, memory.init bytes", fmt.Sprintf("1 per %d, rounded up", CostBulkMemoryBytesPerUnit)},
		{"table.grow, table.fill, table.copy, table.init: per element", fmt.Sprint(CostTableElement)},
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s gas schedule\n", Version)
	for _, r := range rows {
		fmt.Fprintf(&b, "  %-60s %s\n", r.what, r.cost)
	}
	fmt.Fprintf(&b, "  %-60s %d frame units, a frame being 1 + (params+locals+body bytes)/%d\n", "call depth limit", CallDepthLimit, FrameUnitSize)
	return b.String()
}

// Package wasm is the provider's WebAssembly executor: it runs a job's
// WASI command module on wazero with deterministic gas metering, so that
// anyone re-running the same module on the same input under the same
// Limits gets the same Result (Output, GasUsed, ExitCode, Failure) bit for
// bit, with wazero's compiler or its interpreter, on amd64 or arm64. That
// is what lets the network check a result by re-execution. The rules
// below are named by Version; any change to them that alters a gas count,
// an output bit or a failure reason must change Version.
//
// # The job's world
//
// A job is a WASI preview 1 command: it exports _start, may import only
// functions of wasi_snapshot_preview1 (the instrumentation adds the one
// mycel import itself), and sees
//   - stdin: the job's input; stdout: its output, capped at
//     Limits.MaxOutputBytes; stderr: kept up to 4 KiB for the client;
//   - argv ["job"], no environment variables, no preopened directories
//     (so no filesystem at all) and no sockets;
//   - a virtual clock: the wall clock starts at 2024-01-01T00:00:00Z and
//     the monotonic clock at 0; both read one timeline that moves 1 µs
//     per reading (so a program polling for time to pass ends) and jumps
//     forward over every sleep without sleeping (poll_oneoff returns at
//     once); sched_yield returns at once;
//   - random_get: SHA-256 in counter mode, block i = SHA-256("mycel-wasm/1
//     random_get" || SHA-256(input) || uint64be(i)): the same input always
//     gives the same bytes, and Go programs' map order and hash seeds with
//     them.
//
// wazero's own defaults are also deterministic (fake clocks moving 1 ms
// per reading from 2022-01-01, a fixed-seed random source), but the
// executor sets every one explicitly so that no change of default can
// alter a result.
//
// # Metering
//
// wazero has no fuel, so Instrument rewrites the module: it adds a
// mutable i64 global holding the gas left (exported as "mycel.gas"; the
// executor sets it to Limits.Gas after instantiation and before any guest
// code runs: a module's own start function becomes the export
// "mycel.start", which the executor calls first). A metering point sits
// at the entry of every function and right after every instruction where
// control may leave the straight line or arrive from elsewhere (loop, if,
// else, end, br, br_if, br_table, return, unreachable); it charges, in
// advance, the static cost of the instructions up to and including the
// next such instruction: a basic block. When the counter would go below
// zero the run traps there (see Checkpoints below), so GasUsed is
// Limits.Gas on out_of_gas, and
// otherwise Limits.Gas minus what is left. Costs that depend on operands
// (bulk memory and table operations, memory.grow, WASI iovec and
// subscription counts) are charged by code inserted before the
// instruction, from its runtime operand; bytes the host moves (stdin,
// stdout, stderr, random_get) are charged by the host from the same
// counter. The schedule is in costs.go and CostTable: 1 per instruction,
// block, loop, else, end and nop free, more for calls of WASI functions,
// call_indirect and the operations above. The instrumentation code itself
// is not charged. A Limits.Gas above 1<<63-1 is treated as
// 1<<63-1.
//
// # Other limits enforced by the instrumentation
//
//   - Memory: memory.grow is replaced by a call to an added function that
//     refuses (returns -1) any grow past Limits.MemoryPages and records it;
//     a run that then traps or exits non-zero fails with memory_limit. A
//     module whose initial memory exceeds the limit fails with
//     memory_limit before it runs. The limit is a global set per run, so
//     one compiled module serves every limit (wazero's own
//     WithMemoryLimitPages acts at compile time and is set to 65536).
//   - Call depth: each function adds its frame units (1 + (params, locals
//     and body bytes)/8192) to a depth global on entry and subtracts them on
//     every way out (the body is wrapped in a block and return becomes a
//     branch to it); past CallDepthLimit (1800) the run traps with "trap:
//     call stack exhausted". Without it the interpreter (2,000 frames) and
//     the compiler (a 400 MB stack) would overflow at different depths.
//
// # Floating point
//
// WebAssembly arithmetic is exact IEEE 754 except for the bits of NaN
// results, which differ between x86 and ARM and between wazero's two
// engines. After every instruction that can produce a NaN from non-NaN
// operands or pass a NaN payload through (f32/f64 add, sub, mul, div,
// sqrt, min, max, ceil, floor, trunc, nearest, f32.demote_f64,
// f64.promote_f32) the instrumentation replaces any NaN by the canonical
// quiet NaN: 0x7fc00000 for f32, 0x7ff8000000000000 for f64. The other
// float instructions are exact bit operations (abs, neg, copysign, loads,
// stores, constants, reinterpretations), are exact conversions (from
// integers) or trap or saturate by the specification (to integers);
// comparisons return integers. SIMD, whose float lanes would need the same
// treatment, is refused. So nothing in a module's computation remains
// non-portable.
//
// # What is refused (invalid_module)
//
// Anything that is not a WebAssembly 2.0 module without SIMD; imports
// other than wasi_snapshot_preview1 functions; imported functions placed
// in tables or taken with ref.func (they would skip the call-site charges);
// more than 50,000 locals in a function; no _start export; exports named
// "mycel.*"; anything wazero cannot compile or instantiate.
//
// # Checkpoints and the timeout
//
// The metering compares the gas left with a second global, the next
// checkpoint, rather than with zero. When the gas falls below it, an
// added function traps if the gas is exhausted and otherwise moves the
// checkpoint 2^21 gas lower (not below zero) and calls the one import the
// instrumentation adds, mycel.checkpoint. That host function returns at
// once unless the run's context is done (Limits.Timeout passed, or the
// caller cancelled), in which case it ends the run. Returning to Go there
// is also what lets the Go runtime preempt the goroutine: compiled
// WebAssembly cannot be preempted, and a job that never returned to Go
// would hold up every stop-the-world of the provider's process. wazero's
// own mechanism (WithCloseOnContextDone) calls out at every loop
// iteration instead, which made metered Go programs four times slower;
// it is off. Checkpoints sit at gas levels fixed by the budget, so they
// change no result; only whether a run times out depends on the clock.
// Adding the import moves every defined function up one index; the
// rewrite renumbers calls, ref.func, element segments, exports and the
// start function, and drops the "name" section (it only labels stack
// traces).
//
// # What is not deterministic
//
// Only FailureTimeout: GasUsed and Output are then whatever the run had
// reached. Callers treat a timeout as the
// provider's problem, never as the job's result. A host that cannot
// allocate the memory a job is allowed fails in the Go runtime, which is
// likewise the provider's problem.
package wasm

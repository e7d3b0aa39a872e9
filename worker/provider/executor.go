package provider

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mycelnet/mycel/chain/compute"
	"github.com/mycelnet/mycel/inference"
	rt "github.com/mycelnet/mycel/runtime"
	"github.com/mycelnet/mycel/types"
	rtexec "github.com/mycelnet/mycel/worker/provider/executor/runtime"

	"github.com/mycelnet/mycel/worker/provider/executor/wasm"
)

// Limits bound one run.
type Limits struct {
	Gas            uint64
	MemoryBytes    uint64
	MaxOutputBytes uint64
	Timeout        time.Duration
}

// Outcome is what a run produced. A job that failed on its own (out of
// gas, a trap, a bad module) has a Failure; the provider is still paid for
// its metered gas.
type Outcome struct {
	Output  []byte
	Stderr  []byte
	GasUsed uint64
	Failure string
}

// Executor runs one kind of job. Run returns an error only when the
// executor itself failed; the job's own failures are in the Outcome.
type Executor interface {
	Run(ctx context.Context, program, input []byte, lim Limits) (Outcome, error)
}

// WasmExecutor runs WebAssembly jobs with deterministic metering.
type WasmExecutor struct{ E *wasm.Executor }

var _ Executor = WasmExecutor{}

// Runtime names the executor's frozen version.
func (WasmExecutor) Runtime() string { return wasm.Version }

// Run implements Executor.
func (w WasmExecutor) Run(ctx context.Context, program, input []byte, lim Limits) (Outcome, error) {
	pages := lim.MemoryBytes / 65536
	if pages == 0 || pages > wasm.MaxMemoryPages {
		pages = wasm.MaxMemoryPages
	}
	r, err := w.E.Run(ctx, program, input, wasm.Limits{
		Gas: lim.Gas, MemoryPages: uint32(pages), MaxOutputBytes: int64(lim.MaxOutputBytes), Timeout: lim.Timeout,
	})
	if err != nil {
		return Outcome{}, err
	}
	return Outcome{Output: r.Output, Stderr: r.Stderr, GasUsed: r.GasUsed, Failure: r.Failure}, nil
}

// InferenceExecutor runs inference jobs (compute.KindInference) with the
// built-in runtime: the program is the model file, the input an
// inference.Request as JSON, the output an InferenceOutput as JSON.
//
// Gas is the work of the forward passes: 2 × the model's weights per token
// (its floating-point operations), for the prompt and every generated
// token. A request whose prompt and max_tokens could need more than the
// job's gas limit fails as out_of_gas before it runs.
type InferenceExecutor struct{ E *rtexec.Engine }

var _ Executor = InferenceExecutor{}

// Runtime names the executor's frozen version.
func (InferenceExecutor) Runtime() string { return rt.Version }

// InferenceOutput is an inference job's output.
type InferenceOutput struct {
	Text             string     `json:"text"`
	FinishReason     string     `json:"finish_reason"`
	PromptTokens     int        `json:"prompt_tokens"`
	CompletionTokens int        `json:"completion_tokens"`
	Runtime          string     `json:"runtime"`
	Model            types.Hash `json:"model"`
	Request          types.Hash `json:"request"`
	Output           types.Hash `json:"output"`
	Seed             uint64     `json:"seed"`
}

// Run implements Executor.
func (x InferenceExecutor) Run(ctx context.Context, program, input []byte, lim Limits) (Outcome, error) {
	h := types.SumHash(program)
	m, ok := x.E.Model(h)
	if !ok {
		if _, err := x.E.Add(program, ""); err != nil {
			return Outcome{Failure: "bad_model: " + err.Error()}, nil
		}
		m, _ = x.E.Model(h)
	}
	var req inference.Request
	if err := json.Unmarshal(input, &req); err != nil {
		return Outcome{Failure: "bad_input: the input is not an inference request: " + err.Error()}, nil
	}
	if req.Model.IsZero() {
		req.Model = h
	}
	if req.Model != h {
		return Outcome{Failure: fmt.Sprintf("bad_input: the request names model %s, the job's program is %s", req.Model, h)}, nil
	}
	if err := req.Check(); err != nil {
		return Outcome{Failure: "bad_input: " + err.Error()}, nil
	}
	perToken := 2 * uint64(m.Params())
	prompt := req.Prompt
	if len(req.Messages) > 0 {
		prompt = inference.Render("plain", req.Messages)
	}
	bound := m.Context
	if req.MaxTokens > 0 {
		bound = min(bound, len(m.Tok.Encode(prompt, true))+req.MaxTokens)
	}
	if need := uint64(bound) * perToken; need > lim.Gas {
		return Outcome{Failure: fmt.Sprintf("out_of_gas: up to %d tokens of %d gas each need %d, the limit is %d", bound, perToken, need, lim.Gas)}, nil
	}
	runCtx, cancel := context.WithCancel(ctx)
	if lim.Timeout > 0 {
		runCtx, cancel = context.WithTimeout(ctx, lim.Timeout)
	}
	defer cancel()
	var text strings.Builder
	final, err := x.E.Run(runCtx, req, func(ev inference.Event) error { text.WriteString(ev.Text); return nil })
	if err != nil {
		var ie *inference.Error
		if errors.As(err, &ie) {
			return Outcome{Failure: "bad_input: " + ie.Error()}, nil
		}
		if ctx.Err() != nil {
			return Outcome{}, ctx.Err()
		}
		return Outcome{}, err
	}
	out, _ := json.Marshal(InferenceOutput{Text: text.String(), FinishReason: final.Finish, PromptTokens: final.PromptTokens,
		CompletionTokens: final.CompletionTokens, Runtime: final.Receipt.Runtime, Model: h, Request: final.Receipt.Request,
		Output: final.Receipt.Output, Seed: req.Seed})
	gas := uint64(final.PromptTokens+final.CompletionTokens) * perToken
	if gas > lim.Gas {
		return Outcome{GasUsed: lim.Gas, Failure: fmt.Sprintf("out_of_gas: %d tokens of %d gas each, the limit is %d", final.PromptTokens+final.CompletionTokens, perToken, lim.Gas)}, nil
	}
	if lim.MaxOutputBytes > 0 && uint64(len(out)) > lim.MaxOutputBytes {
		return Outcome{GasUsed: gas, Failure: fmt.Sprintf("output_too_large: %d bytes, the limit is %d", len(out), lim.MaxOutputBytes)}, nil
	}
	return Outcome{Output: out, GasUsed: gas}, nil
}

// CheckExecutor runs a referee's check of a disputed inference receipt
// (compute.KindCheck): the program is the model the receipt names, the
// input the dispute's inference.Evidence as JSON, and the output the
// verdict, which the chain reads from the run's on-chain result. Gas is
// the forward passes' work, as for inference jobs.
type CheckExecutor struct{ E *rtexec.Engine }

var _ Executor = CheckExecutor{}

// Runtime names the executor's frozen version.
func (CheckExecutor) Runtime() string { return rt.Version }

// Run implements Executor.
func (x CheckExecutor) Run(ctx context.Context, program, input []byte, lim Limits) (Outcome, error) {
	h := types.SumHash(program)
	m, ok := x.E.Model(h)
	if !ok {
		if _, err := x.E.Add(program, ""); err != nil {
			// Not a model this runtime loads: the validators decide.
			return Outcome{Output: []byte(compute.VerdictUnavailable)}, nil
		}
		m, _ = x.E.Model(h)
	}
	var ev inference.Evidence
	if err := json.Unmarshal(input, &ev); err != nil {
		return Outcome{Output: []byte(compute.VerdictInvalid)}, nil
	}
	if err := ev.Check(); err != nil || ev.Receipt.Model != h {
		return Outcome{Output: []byte(compute.VerdictInvalid)}, nil
	}
	c, err := x.E.CheckReceipt(ctx, ev.Receipt, ev.Request, ev.Text)
	if err != nil {
		var ie *inference.Error
		if errors.As(err, &ie) {
			// The request cannot run here (too long for the context, ...):
			// nothing this runtime can say.
			return Outcome{Output: []byte(compute.VerdictUnavailable)}, nil
		}
		if ctx.Err() != nil {
			return Outcome{}, ctx.Err()
		}
		return Outcome{}, err
	}
	gas := uint64(c.Tokens) * 2 * uint64(m.Params())
	if gas > lim.Gas {
		return Outcome{GasUsed: lim.Gas, Failure: fmt.Sprintf("out_of_gas: %d tokens need %d gas, the limit is %d", c.Tokens, gas, lim.Gas)}, nil
	}
	return Outcome{Output: []byte(c.Verdict), GasUsed: gas}, nil
}

package cli

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/mycelnet/mycel/chain/compute"
	"github.com/mycelnet/mycel/chain/tx"
	"github.com/mycelnet/mycel/client"
	"github.com/mycelnet/mycel/inference"
	"github.com/mycelnet/mycel/types"
)

func (e *env) jobCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "job", Short: "Submit compute jobs and follow them"}
	var f txFlags
	var wasmPath, inputPath, maxPrice, outPath string
	var gas, memMB, gpuMem uint64
	var cores uint
	var gpu, wait bool
	var deadline int64
	var modelRef, prompt string
	var onChain bool
	var inf inference.Request
	var verifyMode, auditRate string
	var redundancy uint32
	submit := &cobra.Command{
		Use:   "submit (--wasm PROGRAM.wasm [--input FILE] | --model HASH|FILE --prompt TEXT) --max-price AMOUNT --from KEY",
		Short: "Submit a WebAssembly or inference job with its maximum price escrowed",
		Long: `Upload a WebAssembly program (WASI preview 1: it reads its input on stdin and
writes its output on stdout) and its input to the node's blob store, then submit
a job with --max-price escrowed. The job runs on whatever provider meets its
capabilities at the lowest price; the provider is paid for the metered work,
never more than the maximum, and the rest comes back. With --wait the command
follows the job and prints its output (or writes it to --out).

With --model and --prompt the job is inference with the built-in deterministic
runtime: the model is a registered model's sha256 (or a GGUF file, uploaded
first), the input the request (--max-tokens, --temperature, --top-k, --top-p,
--seed; greedy by default). Its gas is the forward passes' work, 2 × the
model's weights per token; the output is JSON with the text.

With --on-chain the input travels in the transaction and the provider must
reveal the output itself, which the chain checks against its commitment, keeps
in state with the job and announces in a job_result event (base64): an
inference requested by a transaction, for agents and contracts that need the
answer on chain.

--verify chooses how much assurance the job buys (docs/verification.md):
redundant runs it on --redundancy providers (default 3) that commit their
results before any reveals, and any disagreement is settled by re-execution on
drawn referees (--max-price is escrowed per provider); optimistic runs it on
one provider audited with probability --audit-rate (0.01 to 1) after it
commits, and open to fraud proofs (mycel job challenge) for a window after it
reveals (--max-price is escrowed twice: the second covers an audit and comes
back if none is drawn).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if (wasmPath == "") == (modelRef == "") {
				return fmt.Errorf("give --wasm PROGRAM.wasm, or --model HASH|FILE with --prompt TEXT")
			}
			key, err := e.signer()
			if err != nil {
				return err
			}
			price, err := types.ParseAmount(maxPrice)
			if err != nil {
				return fmt.Errorf("--max-price: %w", err)
			}
			c := e.client()
			kind, programHash, input, err := e.jobProgram(ctx, c, key.Private, wasmPath, inputPath, modelRef, prompt, inf)
			if err != nil {
				return err
			}
			var inputHash types.Hash
			if !onChain {
				in, err := c.PutBlob(ctx, input, key.Private)
				if err != nil {
					return fmt.Errorf("upload the input: %w", err)
				}
				inputHash = in.SHA256
			} else if len(input) > compute.MaxInlineBytes {
				return fmt.Errorf("--on-chain: the input is %d bytes, at most %d travel in a transaction", len(input), compute.MaxInlineBytes)
			}
			m := compute.MsgSubmitJob{Kind: kind, Program: programHash, Input: inputHash, MaxPrice: price,
				GasLimit: gas, DeadlineBlocks: deadline, Redundancy: 1,
				Req: compute.Requirements{Cores: uint32(cores), MemoryMB: memMB}}
			if err := verifyOptions(&m, verifyMode, redundancy, auditRate); err != nil {
				return err
			}
			if gpu || gpuMem > 0 {
				m.Req.Accel, m.Req.AccelMemoryMB = compute.AccelGPU, gpuMem
			}
			if onChain {
				m.Inline, m.OnChain = input, true
			}
			sub := f
			sub.async = false
			r, err := e.submit(ctx, &sub, []tx.Msg{{Kind: compute.KindSubmitJob, Body: m.Encode()}}, "submit job")
			if err != nil {
				return err
			}
			idStr, ok := client.Event(r, "job_submitted", "id")
			if !ok {
				return fmt.Errorf("transaction %s has no job_submitted event", r.Hash)
			}
			id, _ := strconv.ParseUint(idStr, 10, 64)
			if !wait {
				return e.print(map[string]any{"id": idStr, "tx": r.Hash, "height": r.Height}, func(w io.Writer) {
					fmt.Fprintf(w, "job %s submitted in block %d; follow it with: mycel job status %s\n", idStr, r.Height, idStr)
				})
			}
			e.progress("job %s submitted in block %d", idStr, r.Height)
			j, err := e.follow(ctx, c, id)
			if err != nil {
				return err
			}
			return e.printResult(ctx, c, j, outPath)
		},
	}
	fl := submit.Flags()
	fl.StringVar(&wasmPath, "wasm", "", "the WebAssembly program (WASI preview 1)")
	fl.StringVar(&modelRef, "model", "", "an inference job: the model's sha256, or a GGUF file to upload")
	fl.StringVar(&prompt, "prompt", "", "the inference job's prompt")
	fl.IntVar(&inf.MaxTokens, "max-tokens", 64, "the inference job's tokens to generate at most")
	fl.Float32Var(&inf.Temperature, "temperature", 0, "the inference job's sampling temperature (0: greedy)")
	fl.IntVar(&inf.TopK, "top-k", 0, "the inference job's top-k (0: all)")
	fl.Float32Var(&inf.TopP, "top-p", 0, "the inference job's top-p (0: all)")
	fl.Uint64Var(&inf.Seed, "seed", 0, "the inference job's sampling seed")
	fl.StringVar(&verifyMode, "verify", "none", "verification: none, redundant (several providers, re-execution on disagreement) or optimistic (one provider, random audits, fraud proofs)")
	fl.Uint32Var(&redundancy, "redundancy", 0, "with --verify redundant: how many providers run the job (default 3)")
	fl.StringVar(&auditRate, "audit-rate", "", "with --verify optimistic: the probability of an audit, 0.01 to 1 (or a percentage such as 10%)")
	fl.BoolVar(&onChain, "on-chain", false, "carry the input in the transaction and have the result written into chain state (each at most 4096 bytes), announced by a job_result event")
	fl.StringVar(&inputPath, "input", "", "a file given to the program on stdin (default: nothing)")
	fl.StringVar(&maxPrice, "max-price", "", "the most the job may cost; escrowed now, the rest refunded")
	fl.Uint64Var(&gas, "gas", 10_000_000_000, "the metered instruction budget")
	fl.UintVar(&cores, "cores", 1, "CPU cores the job needs")
	fl.Uint64Var(&memMB, "memory", 256, "memory the job needs, in MB (its WebAssembly memory limit)")
	fl.BoolVar(&gpu, "gpu", false, "the job needs a GPU")
	fl.Uint64Var(&gpuMem, "gpu-memory", 0, "GPU memory the job needs, in MB")
	fl.Int64Var(&deadline, "deadline", 0, "blocks from assignment to result (default: the chain's)")
	fl.BoolVar(&wait, "wait", false, "follow the job and print its output")
	fl.StringVar(&outPath, "out", "", "with --wait, write the output to this file instead of stdout")
	f.register(submit)
	_ = submit.MarkFlagRequired("max-price")

	status := &cobra.Command{
		Use:   "status ID",
		Short: "Show where a job stands",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseJobID(args[0])
			if err != nil {
				return err
			}
			j, err := e.client().Job(cmd.Context(), id)
			if err != nil {
				return err
			}
			return e.print(j, func(w io.Writer) { printJob(w, j) })
		},
	}
	var resOut string
	result := &cobra.Command{
		Use:   "result ID [--out FILE]",
		Short: "Fetch a finished job's output (stdout, or --out FILE)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseJobID(args[0])
			if err != nil {
				return err
			}
			c := e.client()
			j, err := c.Job(cmd.Context(), id)
			if err != nil {
				return err
			}
			return e.printResult(cmd.Context(), c, j, resOut)
		},
	}
	result.Flags().StringVar(&resOut, "out", "", "write the output to this file")

	var mine bool
	var byClient, byProvider, state string
	list := &cobra.Command{
		Use:   "list [--mine --from KEY] [--client X] [--provider X] [--state S]",
		Short: "List jobs",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var q client.JobQuery
			q.State = state
			if mine {
				k, err := e.signer()
				if err != nil {
					return err
				}
				q.Client = &k.Address
			}
			for _, x := range []struct {
				s   string
				dst **types.Address
			}{{byClient, &q.Client}, {byProvider, &q.Provider}} {
				if x.s != "" {
					a, err := e.resolveAddress(x.s)
					if err != nil {
						return err
					}
					*x.dst = &a
				}
			}
			js, err := e.client().Jobs(cmd.Context(), q)
			if err != nil {
				return err
			}
			return e.print(js, func(w io.Writer) {
				if len(js) == 0 {
					fmt.Fprintln(w, "no jobs")
					return
				}
				tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
				fmt.Fprintf(tw, "ID\tSTATE\tCLIENT\tPROVIDER\tGAS\tPAID\tSUBMITTED\n")
				for _, j := range js {
					prov := "-"
					if !j.Provider.IsZero() {
						prov = j.Provider.String()
					}
					fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d\t%s\t%d\n", j.ID, j.State, j.Client, prov, j.GasUsed, j.Paid, j.Submitted)
				}
				tw.Flush()
			})
		},
	}
	list.Flags().BoolVar(&mine, "mine", false, "only the jobs of --from")
	list.Flags().StringVar(&byClient, "client", "", "only this client's jobs (address or key)")
	list.Flags().StringVar(&byProvider, "provider", "", "only the open jobs of this provider")
	list.Flags().StringVar(&state, "state", "", "only jobs in this state (queued, assigned, committed, revealed, succeeded, failed, cancelled)")

	var cf txFlags
	cancel := &cobra.Command{
		Use:   "cancel ID --from KEY",
		Short: "Cancel a job that has no committed result, and get its escrow back",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseJobID(args[0])
			if err != nil {
				return err
			}
			return e.broadcast(cmd.Context(), &cf, []tx.Msg{{Kind: compute.KindCancelJob, Body: compute.MsgJob{ID: id}.Encode()}}, fmt.Sprintf("cancel job %d", id))
		},
	}
	cf.register(cancel)

	var chf txFlags
	var bond string
	challenge := &cobra.Command{
		Use:   "challenge ID --bond AMOUNT --from KEY",
		Short: "Make a fraud proof against an optimistic job's revealed result",
		Long: `Claim that re-executing an optimistic job gives a different result than the
one its provider revealed (and signed). The claim is settled by re-execution on
drawn referees: if they side with the provider the bond is lost (half burned,
half to the referees); if not, the provider is slashed, the bond comes back
and the challenger shares the slash's reporter reward with the referees. A
challenge is made in the window after the result is revealed (mycel job
verification ID shows it).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseJobID(args[0])
			if err != nil {
				return err
			}
			b, err := types.ParseAmount(bond)
			if err != nil {
				return fmt.Errorf("--bond: %w", err)
			}
			m := compute.MsgChallenge{Job: id, Bond: b}
			return e.broadcast(cmd.Context(), &chf, []tx.Msg{{Kind: compute.KindChallenge, Body: m.Encode()}}, fmt.Sprintf("challenge job %d", id))
		},
	}
	challenge.Flags().StringVar(&bond, "bond", "1myc", "the bond, lost if re-execution agrees with the provider")
	chf.register(challenge)

	verification := &cobra.Command{
		Use:   "verification ID",
		Short: "Show a verified job's runs, referees, claims and verdict",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseJobID(args[0])
			if err != nil {
				return err
			}
			c := e.client()
			g, err := c.Verification(cmd.Context(), id)
			if err != nil {
				return err
			}
			var rs []*compute.Job
			for _, rid := range append(append([]uint64(nil), g.Members...), g.Referees...) {
				r, err := c.Job(cmd.Context(), rid)
				if err != nil {
					return err
				}
				rs = append(rs, r)
			}
			return e.print(map[string]any{"verification": g, "runs": rs}, func(w io.Writer) { printGroup(w, g, rs) })
		},
	}
	cmd.AddCommand(submit, status, result, list, cancel, challenge, verification)
	return cmd
}

func printGroup(w io.Writer, g *compute.Group, rs []*compute.Job) {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "job\t%d, %s verification\n", g.ID, g.Mode)
	fmt.Fprintf(tw, "phase\t%s\n", g.Phase)
	if g.Mode == compute.VerifyOptimistic {
		fmt.Fprintf(tw, "audit\trate %s, drawn %v, audited %v\n", g.AuditRate, g.Drawn, g.Audited)
	}
	if g.Phase == compute.PhaseChallenge {
		fmt.Fprintf(tw, "challenge window\tuntil height %d (mycel job challenge %d)\n", g.FinalAt, g.ID)
	}
	if !g.Challenger.IsZero() {
		fmt.Fprintf(tw, "challenger\t%s\n", g.Challenger)
	}
	if g.Outcome != "" {
		fmt.Fprintf(tw, "outcome\t%s\n", g.Outcome)
	}
	if !g.Output.IsZero() {
		fmt.Fprintf(tw, "output\t%s\n", g.Output)
	}
	tw.Flush()
	tw = tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "RUN\tROLE\tPROVIDER\tSTATE\tOUTPUT\tPAID\tREASON\n")
	for _, r := range rs {
		out := "-"
		if !r.Output.IsZero() {
			out = r.Output.String()[:12]
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.Role, r.Provider, r.State, out, r.Paid, r.Reason)
	}
	tw.Flush()
}

func parseJobID(s string) (uint64, error) {
	id, err := strconv.ParseUint(s, 10, 64)
	if err != nil || id == 0 {
		return 0, fmt.Errorf("job id %q: want a positive number (see mycel job list)", s)
	}
	return id, nil
}

// follow shows a job's progress on stderr until it finishes.
func (e *env) follow(ctx context.Context, c *client.Client, id uint64) (*compute.Job, error) {
	last := ""
	for {
		j, err := c.Job(ctx, id)
		if err != nil {
			return nil, err
		}
		if j.Group != 0 {
			return e.followGroup(ctx, c, j)
		}
		line := j.State.String()
		switch j.State {
		case compute.Assigned, compute.Committed:
			line += " to " + j.Provider.String()
		case compute.Revealed:
			line += fmt.Sprintf(" (%d gas); waiting for validators to fetch the output", j.GasUsed)
		}
		if line != last {
			e.progress("  job %d %s", id, line)
			last = line
		}
		if j.State.Finished() {
			return j, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("stopped following job %d; see it with: mycel job status %d", id, id)
		case <-time.After(300 * time.Millisecond):
		}
	}
}

// followGroup follows a verified job until its group has a verdict, and
// returns the run whose result stands (or the first run, failed, when
// the group failed).
func (e *env) followGroup(ctx context.Context, c *client.Client, j *compute.Job) (*compute.Job, error) {
	last := ""
	for {
		g, err := c.Verification(ctx, j.ID)
		if err != nil {
			return nil, err
		}
		line := g.Phase.String()
		switch g.Phase {
		case compute.PhaseRefereeing:
			line += fmt.Sprintf(" (round %d, %d referees)", g.Round, g.RoundSize)
		case compute.PhaseChallenge:
			line += fmt.Sprintf(" (open to fraud proofs until height %d)", g.FinalAt)
		case compute.PhaseSettled, compute.PhaseFailed:
			line += ": " + g.Outcome
		}
		if line != last {
			e.progress("  job %d (%s) %s", g.ID, g.Mode, line)
			last = line
		}
		if g.Finished() {
			for _, id := range append(append([]uint64(nil), g.Members...), g.Referees...) {
				r, err := c.Job(ctx, id)
				if err != nil {
					return nil, err
				}
				if g.Phase == compute.PhaseSettled && r.State == compute.Succeeded && r.Output == g.Output {
					return r, nil
				}
			}
			return c.Job(ctx, g.ID)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("stopped following job %d; see it with: mycel job verification %d", g.ID, g.ID)
		case <-time.After(300 * time.Millisecond):
		}
	}
}

// verifyOptions sets a job's verification mode from the flags.
func verifyOptions(m *compute.MsgSubmitJob, mode string, redundancy uint32, rate string) error {
	v, err := compute.ParseVerifyMode(mode)
	if err != nil {
		return fmt.Errorf("--verify: %w", err)
	}
	m.Verify = uint8(v)
	switch v {
	case compute.VerifyNone:
		if redundancy > 1 || rate != "" {
			return fmt.Errorf("--redundancy and --audit-rate need --verify redundant or --verify optimistic")
		}
	case compute.VerifyRedundant:
		if rate != "" {
			return fmt.Errorf("--audit-rate is for --verify optimistic")
		}
		m.Redundancy = 3
		if redundancy > 0 {
			m.Redundancy = redundancy
		}
	case compute.VerifyOptimistic:
		if redundancy > 1 {
			return fmt.Errorf("--redundancy is for --verify redundant; an optimistic job runs on one provider")
		}
		if rate == "" {
			return fmt.Errorf("--verify optimistic needs --audit-rate (for example 0.1)")
		}
		f, err := parseRate(rate)
		if err != nil {
			return fmt.Errorf("--audit-rate: %w", err)
		}
		m.Redundancy, m.AuditRate = 0, f
	}
	return nil
}

// parseRate reads a probability as a decimal (0.1) or a percentage (10%).
func parseRate(s string) (types.Fraction, error) {
	scale := 1.0
	if strings.HasSuffix(s, "%") {
		s, scale = strings.TrimSuffix(s, "%"), 0.01
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v*scale < 0 || v*scale > 1 {
		return 0, fmt.Errorf("%q: want a probability between 0 and 1, such as 0.1 or 10%%", s)
	}
	return types.Fraction(math.Round(v * scale * types.FractionOne)), nil
}

// printResult prints a finished job's output, or explains why there is
// none.
func (e *env) printResult(ctx context.Context, c *client.Client, j *compute.Job, out string) error {
	switch j.State {
	case compute.Succeeded:
	case compute.Failed, compute.Cancelled:
		if e.output == "json" {
			_ = e.print(j, func(io.Writer) {})
		}
		return fmt.Errorf("job %d %s: %s (paid %s, refunded %s)", j.ID, j.State, j.Reason, j.Paid, j.Refunded)
	default:
		return fmt.Errorf("job %d is %s: no result yet (mycel job status %d)", j.ID, j.State, j.ID)
	}
	var data []byte
	if j.OnChain {
		data = j.Result // in chain state: nothing to fetch
	} else if j.Output != compute.EmptyHash {
		var err error
		if data, err = c.GetBlob(ctx, j.Output); err != nil {
			return fmt.Errorf("fetch the output of job %d: %w", j.ID, err)
		}
	}
	e.progress("job %d succeeded: %d gas at %s/CU, paid %s, refunded %s", j.ID, j.GasUsed, j.Price, j.Paid, j.Refunded)
	if out != "" {
		if err := os.WriteFile(out, data, 0o644); err != nil {
			return err
		}
		return e.print(j, func(w io.Writer) { fmt.Fprintf(w, "wrote %d bytes to %s\n", len(data), out) })
	}
	if e.output == "json" {
		return e.print(map[string]any{"job": j, "output": string(data)}, nil)
	}
	if j.Kind == compute.KindInference {
		// The answer's text; the whole JSON (tokens, hashes) with -o json.
		var out struct{ Text string }
		if json.Unmarshal(data, &out) == nil {
			_, err := fmt.Fprintln(e.stdout, out.Text)
			return err
		}
	}
	_, err := e.stdout.Write(data)
	return err
}

func printJob(w io.Writer, j *compute.Job) {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "job\t%d (%s)\n", j.ID, j.Kind)
	fmt.Fprintf(tw, "state\t%s\n", j.State)
	fmt.Fprintf(tw, "client\t%s\n", j.Client)
	fmt.Fprintf(tw, "program, input\t%s, %s\n", j.Program, j.Input)
	fmt.Fprintf(tw, "needs\t%d cores, %d MB%s\n", j.Req.Cores, j.Req.MemoryMB, map[bool]string{true: ", a GPU", false: ""}[j.Req.Accel == compute.AccelGPU])
	fmt.Fprintf(tw, "max price\t%s (escrow left %s), gas limit %d\n", j.MaxPrice, j.Escrow, j.GasLimit)
	fmt.Fprintf(tw, "submitted\tat height %d\n", j.Submitted)
	if !j.Provider.IsZero() {
		fmt.Fprintf(tw, "provider\t%s at %s/CU, assigned at height %d, deadline %d\n", j.Provider, j.Price, j.AssignedAt, j.Deadline)
	}
	if j.State >= compute.Revealed {
		fmt.Fprintf(tw, "result\t%d gas, output %s (%d bytes)\n", j.GasUsed, j.Output, j.OutputSize)
	}
	if j.RunFailure != "" {
		fmt.Fprintf(tw, "failure\t%s\n", j.RunFailure)
	}
	if j.State.Finished() {
		fmt.Fprintf(tw, "settled\tat height %d: paid %s, refunded %s\n", j.Finished, j.Paid, j.Refunded)
	}
	if j.Reason != "" {
		fmt.Fprintf(tw, "reason\t%s\n", j.Reason)
	}
	if j.Attempts > 0 {
		fmt.Fprintf(tw, "missed by\t%d provider(s)\n", j.Attempts)
	}
	tw.Flush()
}

// jobProgram uploads what a job runs and returns its kind, the program's
// hash and the input: a WebAssembly program and its input file, or a
// model (a registered hash, or a file uploaded now) and an inference
// request.
func (e *env) jobProgram(ctx context.Context, c *client.Client, key ed25519.PrivateKey, wasmPath, inputPath, modelRef, prompt string, req inference.Request) (compute.Kind, types.Hash, []byte, error) {
	if wasmPath != "" {
		program, err := readFile("--wasm", wasmPath)
		if err != nil {
			return 0, types.Hash{}, nil, err
		}
		input, err := readFile("--input", inputPath)
		if err != nil {
			return 0, types.Hash{}, nil, err
		}
		e.progress("uploading the program (%d bytes) and the input (%d bytes) ...", len(program), len(input))
		prog, err := c.PutBlob(ctx, program, key)
		if err != nil {
			return 0, types.Hash{}, nil, fmt.Errorf("upload %s: %w", wasmPath, err)
		}
		return compute.KindWasm, prog.SHA256, input, nil
	}
	if prompt == "" {
		return 0, types.Hash{}, nil, fmt.Errorf("an inference job needs --prompt TEXT")
	}
	h, err := types.ParseHash(modelRef)
	if err != nil {
		file, ferr := readFile("--model", modelRef)
		if ferr != nil {
			return 0, types.Hash{}, nil, fmt.Errorf("--model %s is neither a model's sha256 nor a file: %w", modelRef, ferr)
		}
		e.progress("uploading the model (%d bytes) ...", len(file))
		b, err := c.PutBlob(ctx, file, key)
		if err != nil {
			return 0, types.Hash{}, nil, fmt.Errorf("upload %s: %w", modelRef, err)
		}
		h = b.SHA256
	}
	req.Model, req.Prompt = h, prompt
	if err := req.Check(); err != nil {
		return 0, types.Hash{}, nil, err
	}
	input, _ := json.Marshal(req)
	return compute.KindInference, h, input, nil
}

package cli

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/mycelnet/mycel/internal/bench"
)

func (e *env) benchCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "bench", Short: "Run mycel's benchmarks, each against its baseline in the same run"}
	var o bench.LedgerOptions
	ledger := &cobra.Command{
		Use:   "ledger",
		Short: "Signed transfers committed per second through a whole node, against CometBFT's kvstore",
		Long: `Measure signed transfers committed per second through a whole mycel node
(CheckTx with signature checks, FinalizeBlock, Commit to Pebble with the Merkle
tree), then CometBFT's kvstore example application under the same consensus
settings and submission path, and print both and their ratio.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Progress = e.stderr
			r, err := bench.Ledger(cmd.Context(), o)
			if err != nil {
				return err
			}
			return e.print(r, func(w io.Writer) {
				fmt.Fprintf(w, "ledger: %s\n", r.Settings)
				fmt.Fprintf(w, "  mycel    %8.0f signed transfers/s  (%d in %.2fs, %d blocks)\n", r.Mycel.PerSecond, r.Mycel.Txs, r.Mycel.Seconds, r.Mycel.Blocks)
				fmt.Fprintf(w, "  kvstore  %8.0f tx/s                (%d in %.2fs, %d blocks)\n", r.KVStore.PerSecond, r.KVStore.Txs, r.KVStore.Seconds, r.KVStore.Blocks)
				fmt.Fprintf(w, "  ratio    %.2f (mycel / kvstore)\n", r.Ratio)
			})
		},
	}
	ledger.Flags().IntVar(&o.Txs, "txs", 20000, "transactions each side commits")
	ledger.Flags().IntVar(&o.Accounts, "accounts", 200, "concurrent senders")
	ledger.Flags().StringVar(&o.Path, "path", "rpc", "how transactions reach each node: rpc (CometBFT's RPC over HTTP, as clients send them) or local (in process, no HTTP)")
	ledger.Flags().DurationVar(&o.BlockTime, "block-time", 100*time.Millisecond, "CometBFT's timeout_commit for both sides")
	cmd.AddCommand(ledger, e.benchSchedulerCmd(), e.benchWasmCmd(), e.benchJobCmd(), e.benchRuntimeCmd(), e.benchTrainCmd(), e.benchGatewayCmd(), e.benchVerifyCmd())
	cmd.AddCommand(e.benchPaychCmd())
	cmd.AddCommand(e.benchAgentsCmd())
	return cmd
}

func (e *env) benchSchedulerCmd() *cobra.Command {
	var o bench.SchedulerOptions
	var sizes []int
	cmd := &cobra.Command{
		Use:   "scheduler",
		Short: "Jobs matched per second by the end-block scheduler at 1,000, 10,000 and 100,000 providers, against a linear scan",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Progress, o.Sizes = e.stderr, sizes
			r, err := bench.Scheduler(cmd.Context(), o)
			if err != nil {
				return err
			}
			return e.print(r, func(w io.Writer) {
				fmt.Fprintf(w, "scheduler: %s\n", r.Settings)
				tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
				fmt.Fprintf(tw, "  PROVIDERS\tMATCHED\tEND BLOCK\tJOBS/S\tGROWTH/JOB\tLINEAR SCAN\n")
				for _, s := range r.Sizes {
					growth := "-"
					if s.Growth > 0 {
						growth = fmt.Sprintf("×%.2f", s.Growth)
					}
					fmt.Fprintf(tw, "  %d\t%d\t%.1f ms\t%.0f\t%s\t%.1f ms\n", s.Providers, s.Matched, s.EndBlockSeconds*1e3, s.JobsPerSecond, growth, s.NaiveSeconds*1e3)
				}
				tw.Flush()
				fmt.Fprintf(w, "  ratio    %.2f (linear scan / scheduler, at the largest size)\n", r.Ratio)
			})
		},
	}
	cmd.Flags().IntSliceVar(&sizes, "providers", []int{1000, 10000, 100000}, "provider counts to measure")
	cmd.Flags().IntVar(&o.Jobs, "jobs", 2000, "queued jobs matched in the measured end-block step")
	return cmd
}

func (e *env) benchWasmCmd() *cobra.Command {
	var o bench.WasmOptions
	cmd := &cobra.Command{
		Use:   "wasm",
		Short: "The same kernel (matrix multiply, SHA-256) as metered WebAssembly and as native Go",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Progress = e.stderr
			r, err := bench.Wasm(cmd.Context(), o)
			if err != nil {
				return err
			}
			return e.print(r, func(w io.Writer) {
				fmt.Fprintf(w, "wasm: %s\n", r.Settings)
				fmt.Fprintf(w, "  metered wasm  %.4f s  (%d gas, %.0f Mgas/s; ×%.2f the same module unmetered)\n", r.WasmSeconds, r.Gas, r.GasPerSecond/1e6, r.MeteringOverhead)
				fmt.Fprintf(w, "  native Go     %.4f s\n", r.NativeSeconds)
				fmt.Fprintf(w, "  ratio         %.2f (native time / metered wasm time)\n", r.Ratio)
			})
		},
	}
	return cmd
}

func (e *env) benchJobCmd() *cobra.Command {
	var o bench.JobOptions
	cmd := &cobra.Command{
		Use:   "job",
		Short: "Submit-to-result latency of a small job on a devnet, in blocks and seconds",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Progress = e.stderr
			r, err := bench.JobLatency(cmd.Context(), o)
			if err != nil {
				return err
			}
			return e.print(r, func(w io.Writer) {
				fmt.Fprintf(w, "job: %s\n", r.Settings)
				fmt.Fprintf(w, "  median latency  %.2f s, %d blocks (%d runs)\n", r.MedianSeconds, r.MedianBlocks, len(r.Runs))
				fmt.Fprintf(w, "  local run       %.4f s (the same job on this machine's executor)\n", r.LocalSeconds)
				fmt.Fprintf(w, "  ratio           %.3f (local / network)\n", r.Ratio)
			})
		},
	}
	cmd.Flags().IntVar(&o.Runs, "runs", 5, "jobs to time")
	cmd.Flags().DurationVar(&o.BlockTime, "block-time", time.Second, "the devnet's timeout_commit")
	return cmd
}

func (e *env) benchRuntimeCmd() *cobra.Command {
	var o bench.RuntimeOptions
	cmd := &cobra.Command{
		Use:   "runtime",
		Short: "Tokens per second of a generated ~100M-parameter Q8_0 model, and the kernels against OpenBLAS on one core",
		Long: `Generate a ~100M-parameter Llama model in Q8_0, run a prompt and generate
tokens with mycel's deterministic runtime, then time the F32 matrix multiply
and the Q8_0 matrix-vector kernels on one thread beside OpenBLAS's sgemm and
sgemv (Debian's numpy, /usr/bin/python3, one OpenBLAS thread) on the same
shapes. The ratio is mycel's GFLOP/s over OpenBLAS's for the 1024³ sgemm.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Progress = e.stderr
			r, err := bench.Runtime(cmd.Context(), o)
			if err != nil {
				return err
			}
			return e.print(r, func(w io.Writer) {
				fmt.Fprintf(w, "runtime: %s, %.0fM parameters, Q8_0, %s, %d threads\n", r.Model, float64(r.Parameters)/1e6, r.Backend, r.Threads)
				fmt.Fprintf(w, "  prompt      %6.1f tokens/s (%d tokens)\n", r.PromptPerSec, r.Options.PromptTokens)
				fmt.Fprintf(w, "  generation  %6.1f tokens/s (%d tokens)\n", r.GenPerSec, r.Options.GenTokens)
				tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
				fmt.Fprintf(tw, "  KERNEL (1 thread)\tSHAPE m×k×n\tGFLOP/S\tOPENBLAS\tRATIO\n")
				for _, k := range r.Kernels {
					fmt.Fprintf(tw, "  %s\t%s\t%.1f\t%.1f\t%.2f\n", k.Op, k.Shape, k.GFLOPS, k.OpenBLAS, k.Ratio)
				}
				tw.Flush()
				if r.BaselineError != "" {
					fmt.Fprintf(w, "  baseline not measured: %s\n", r.BaselineError)
				} else {
					fmt.Fprintf(w, "  ratio       %.2f (F32 matmul / OpenBLAS sgemm, 1024³); Q8_0 matvec / sgemv %.2f\n", r.Ratio, r.MatVecRatio)
				}
				if r.Hint != "" {
					fmt.Fprintf(w, "  note: %s\n", r.Hint)
				}
			})
		},
	}
	cmd.Flags().IntVar(&o.Threads, "threads", 0, "threads for the model's tokens per second (0: all cores)")
	cmd.Flags().IntVar(&o.PromptTokens, "prompt-tokens", 128, "prompt length")
	cmd.Flags().IntVar(&o.GenTokens, "gen-tokens", 64, "tokens to generate")
	return cmd
}

func (e *env) benchTrainCmd() *cobra.Command {
	var o bench.TrainOptions
	cmd := &cobra.Command{
		Use:   "train",
		Short: "Training tokens per second and forward-backward GFLOP/s, against OpenBLAS on the same matrix products",
		Long: `Time training steps of a model of the KJV model's shape (4M parameters,
8×256 tokens per step) on a random token stream, then time OpenBLAS's sgemm
(Debian's numpy, /usr/bin/python3, as many threads) on the matrix products of
one step. GFLOP/s counts the model's floating-point operations per step (6 per
weight per token, plus causal attention); the ratio is the trainer's whole step
against OpenBLAS's products alone.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Progress = e.stderr
			r, err := bench.Train(cmd.Context(), o)
			if err != nil {
				return err
			}
			return e.print(r, func(w io.Writer) {
				fmt.Fprintf(w, "train: %s, %.1fM parameters, %d tokens per step, %s, %d threads\n", r.Model, float64(r.Parameters)/1e6, r.TokensPerStep, r.Backend, r.Threads)
				fmt.Fprintf(w, "  step         %.3f s\n", r.StepSeconds)
				fmt.Fprintf(w, "  tokens/s     %.0f\n", r.TokensPerSec)
				fmt.Fprintf(w, "  fwd-bwd      %.1f GFLOP/s\n", r.GFLOPS)
				if r.BaselineError != "" {
					fmt.Fprintf(w, "  baseline not measured: %s\n", r.BaselineError)
				} else {
					fmt.Fprintf(w, "  OpenBLAS     %.1f GFLOP/s on the same matrix products\n", r.OpenBLASGFLOPS)
					fmt.Fprintf(w, "  ratio        %.2f\n", r.Ratio)
				}
				if r.Hint != "" {
					fmt.Fprintf(w, "  note: %s\n", r.Hint)
				}
			})
		},
	}
	cmd.Flags().IntVar(&o.Threads, "threads", 0, "threads for the trainer and for OpenBLAS (0: all cores)")
	cmd.Flags().IntVar(&o.Steps, "steps", 5, "timed steps (after one warm-up step)")
	return cmd
}

func (e *env) benchGatewayCmd() *cobra.Command {
	var o bench.GatewayOptions
	cmd := &cobra.Command{
		Use:   "gateway",
		Short: "The latency the OpenAI-compatible gateway adds over calling the runtime directly",
		Long: `Start a devnet whose built-in provider serves mycel's model, then time the same
completion (greedy, --gen-tokens tokens) through POST /v1/completions and on an
engine of the same model in this process, interleaved, and print the medians.
The ratio is direct over gateway (1 means the gateway adds nothing). --model 100m
times a generated 125M-parameter Llama instead, which the provider serves beside
mycel-kjv: the gateway's cost is about the same, the answer 20 times longer.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Progress = e.stderr
			r, err := bench.Gateway(cmd.Context(), o)
			if err != nil {
				return err
			}
			return e.print(r, func(w io.Writer) {
				fmt.Fprintf(w, "gateway: %s (%.1fM parameters), %d generated tokens, median of %d\n", r.Model, float64(r.Parameters)/1e6, r.Options.GenTokens, r.Options.Runs)
				fmt.Fprintf(w, "  direct      %.1f ms\n", 1000*r.DirectSeconds)
				fmt.Fprintf(w, "  gateway     %.1f ms (%+.2f ms, %+.1f%%: the median of the pairs' differences)\n", 1000*r.GatewaySeconds, 1000*r.AddedSeconds, 100*r.Overhead)
				fmt.Fprintf(w, "  ratio       %.3f\n", r.Ratio)
			})
		},
	}
	cmd.Flags().IntVar(&o.Runs, "runs", 0, "requests each way (default 150 for kjv, 30 for 100m)")
	cmd.Flags().IntVar(&o.GenTokens, "gen-tokens", 32, "tokens to generate per request")
	cmd.Flags().StringVar(&o.Model, "model", "kjv", "the model timed: kjv (mycel-kjv, 4M parameters) or 100m (a generated 125M-parameter Llama)")
	return cmd
}

func (e *env) benchVerifyCmd() *cobra.Command {
	var o bench.VerifyOptions
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "What verification costs and catches, redundant and optimistic, against adversarial providers",
		Long: `Simulate the verification protocol with the real compute, bank and stake
modules on an in-memory chain: honest providers beside one of each cheating
strategy (a liar, a liar on 30% of its runs, random bytes, a copier, a silent
provider, a colluding pair, a cheaper model, a lazy auditor), a banned cheater
replaced by a fresh one, a client submitting --jobs jobs in each mode. For each
mode it prints the verification gas over the useful gas (overhead), the blocks
from submission to the final result, the faults proven on the runs where a
provider committed a wrong result (detection) beside the theory's rate (1 in
redundant mode; p + (1-p)·w in optimistic mode with audit rate p and a watcher
re-executing a fraction w of unaudited results), and honest providers slashed,
which must be 0. The ratio is measured detection over the theory's, in the mode
where it is lowest: higher is better, 1 is the theory holding.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Progress = e.stderr
			r, err := bench.Verify(cmd.Context(), o)
			if err != nil {
				return err
			}
			return e.print(r, func(w io.Writer) {
				fmt.Fprintf(w, "verify: %s\n", r.Settings)
				fmt.Fprintf(w, "  providers: %s\n", strings.Join(r.Population, ", "))
				tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
				fmt.Fprintf(tw, "  MODE\tOVERHEAD (NO DISPUTES)\tBLOCKS TO FINAL (P90)\tDETECTION\tTHEORY\tLIES\tCAUGHT\tWRONG ACCEPTED\tVERIFIER LIES CAUGHT\tHONEST SLASHED\n")
				for _, m := range []string{"redundant", "optimistic"} {
					rep := r.Modes[m]
					fmt.Fprintf(tw, "  %s\t%.3f (%.3g)\t%.0f (%.0f)\t%.3f\t%.3f ± %.3f\t%d\t%d\t%d of %d\t%d of %d\t%d\n", m, rep.Overhead, rep.ExpectedOverhead,
						rep.BlocksToFinal, rep.BlocksToFinalP90, rep.DetectionRate, rep.ExpectedDetectionRate, rep.DetectionStdErr,
						rep.Lies, rep.Caught, rep.WrongAccepted, rep.Jobs, rep.VerifierCaught, rep.VerifierLies, rep.HonestSlashed)
				}
				tw.Flush()
				fmt.Fprintf(w, "  ratio    %.2f (measured detection / theory, lowest mode; %.1f s)\n", r.Ratio, r.Seconds)
			})
		},
	}
	cmd.Flags().IntVar(&o.Jobs, "jobs", 2000, "jobs the client submits in each mode")
	cmd.Flags().IntVar(&o.Honest, "honest", 24, "honest providers beside the cheaters")
	cmd.Flags().IntVar(&o.Evasive, "evasive", 0, "providers that withhold a lie's reveal when they see it checked")
	cmd.Flags().Uint32Var(&o.Redundancy, "redundancy", 3, "providers of a redundant job")
	cmd.Flags().Float64Var(&o.AuditRate, "audit-rate", 0.1, "audit rate of an optimistic job")
	cmd.Flags().Float64Var(&o.Watch, "watch", 0, "fraction of unaudited optimistic results a watcher re-executes and challenges when wrong")
	cmd.Flags().Uint64Var(&o.Seed, "seed", 1, "seed of the beacon and the cheaters' coins")
	return cmd
}

func (e *env) benchPaychCmd() *cobra.Command {
	var o bench.PaychOptions
	cmd := &cobra.Command{
		Use:   "paych",
		Short: "Vouchers verified per second against raw Ed25519, the latency a payment adds to a request, the cost of a redeem",
		Long: `Check vouchers offline as a provider does (paywallet: the signature and the lane
rules) on one core, alternating rounds with the raw Ed25519 verification of the
same signed bytes (ZIP 215, as consensus verifies; Go's crypto/ed25519 too, for
reference); time durable accepts (fsynced) one at a time and from 64 streams
sharing fsyncs; start a devnet with two providers of mycel-kjv alike but for the
price and time the same completion unpaid and paid (the Go client's
PayingTransport) through the gateway, interleaved; and redeem the paid lane's
voucher for its fee and size. The ratio is vouchers per second over raw Ed25519
verifications per second (1: the lane rules cost nothing beside the signature).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Progress = e.stderr
			r, err := bench.Paych(cmd.Context(), o)
			if err != nil {
				return err
			}
			return e.print(r, func(w io.Writer) {
				fmt.Fprintf(w, "paych: one core; %d requests each way of %d generated tokens\n", r.Options.Requests, r.Options.GenTokens)
				fmt.Fprintf(w, "  vouchers checked   %8.0f /s  (signature and lane rules, no fsync)\n", r.VouchersPerSecond)
				fmt.Fprintf(w, "  raw Ed25519        %8.0f /s  (ZIP 215, the same bytes; crypto/ed25519: %.0f /s)\n", r.Ed25519PerSecond, r.StdlibPerSecond)
				fmt.Fprintf(w, "  durable accepts    %8.0f /s  one at a time; %.0f /s from 64 streams (%d fsyncs for %d)\n",
					r.AcceptsPerSecond, r.GroupAcceptsPerSecond, r.GroupSyncs, r.GroupAccepts)
				fmt.Fprintf(w, "  request unpaid     %8.1f ms\n", 1000*r.UnpaidSeconds)
				fmt.Fprintf(w, "  request paid       %8.1f ms  (%+.2f ms, %+.1f%%: the median of the pairs' differences)\n", 1000*r.PaidSeconds, 1000*r.AddedSeconds, 100*r.Overhead)
				fmt.Fprintf(w, "  payment work       %8.2f ms  alone, one step after another (%.1f%% of the unpaid request; an upper bound: the provider's fsync overlaps generation)\n",
					1000*r.PaymentWorkSeconds, 100*r.WorkOverhead)
				fmt.Fprintf(w, "  redeem on chain    %s fee, %d bytes (a voucher: %d bytes, %d in its header)\n", r.RedeemFee, r.RedeemBytes, r.VoucherBytes, r.HeaderBytes)
				fmt.Fprintf(w, "  ratio              %.2f (vouchers / raw Ed25519, the median of %d rounds)\n", r.Ratio, r.Options.Rounds)
			})
		},
	}
	cmd.Flags().IntVar(&o.Vouchers, "vouchers", 1000, "vouchers per verification round")
	cmd.Flags().IntVar(&o.Rounds, "rounds", 21, "verification rounds, alternating with the raw signature checks (the ratio is their median)")
	cmd.Flags().IntVar(&o.Accepts, "accepts", 200, "durable accepts one at a time (and an eighth of it per stream, from 64)")
	cmd.Flags().IntVar(&o.Requests, "requests", 150, "requests each way, paid and unpaid")
	cmd.Flags().IntVar(&o.GenTokens, "gen-tokens", 32, "tokens to generate per request")
	return cmd
}

func (e *env) benchAgentsCmd() *cobra.Command {
	var o bench.AgentsOptions
	var messaging bool
	cmd := &cobra.Command{
		Use:   "agents",
		Short: "Discovery queries over 100,000 agents against a linear scan, and an agent call's round trip against a raw HTTP POST",
		Long: `Register --agents agents (names, descriptions, skills and tags drawn from a fixed
vocabulary by a seeded generator; spread deposits and prices) by signed
transactions through the application on Pebble, 5,000 a block, and build the
discovery index from chain state as a node does on its first query
(app.AgentsChangedSince, then the index). Then time the first page of 20 of
--queries skill, tag and free-text queries on a linear scan of the same records
(tokenized once) doing the same match and ranking with discovery's own
tokenizer and score, and on the index, in turn: the index warm (its queries
again and again for 20 ms, as on a node answering queries all the time) and
cold (right after the scan filled the caches). The two must return the same
agents, or the command fails. Then, on an in-process devnet, register three
agents with the SDK and time --calls calls of --payload bytes of text from one
to an agent on its own host (direct) and to one behind the node's mailbox,
beside a raw HTTP POST on loopback carrying the direct exchange's request and
answer sizes, the three in turn (medians).

The ratio is the scan's time over the warm index's, the geometric mean over
the three query kinds: higher is better.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Progress, o.NoMessaging = e.stderr, !messaging
			r, err := bench.Agents(cmd.Context(), o)
			if err != nil {
				return err
			}
			return e.print(r, func(w io.Writer) {
				fmt.Fprintf(w, "agents: %s\n", r.Settings)
				fmt.Fprintf(w, "  registered   %d agents in %d blocks: %.2f s (%.0f/s, FinalizeBlock and Commit)\n", r.Agents, r.Blocks, r.RegisterSeconds, r.RegisterPerSecond)
				fmt.Fprintf(w, "  index build  %.2f s from chain state (%.2f s reading it)\n", r.BuildSeconds, r.ReadSeconds)
				tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
				fmt.Fprintf(tw, "  QUERY\tMATCHED (MEAN)\tINDEX\tINDEX AFTER THE SCAN\tLINEAR SCAN\tRATIO\n")
				for _, q := range r.Queries {
					fmt.Fprintf(tw, "  %s\t%.0f\t%s\t%s\t%s\t%.0f\n", q.Kind, q.Matched, benchDur(q.IndexSeconds), benchDur(q.IndexColdSeconds), benchDur(q.ScanSeconds), q.Ratio)
				}
				tw.Flush()
				if m := r.Messaging; m != nil {
					fmt.Fprintf(w, "  calls (%d-byte text: %d-byte request, %d-byte answer; median of %d)\n", r.Options.Payload, m.RequestBytes, m.AnswerBytes, m.Calls)
					fmt.Fprintf(w, "    raw HTTP POST  %s\n", benchDur(m.RawSeconds))
					fmt.Fprintf(w, "    direct         %s  (×%.1f raw)\n", benchDur(m.DirectSeconds), m.DirectOverRaw)
					fmt.Fprintf(w, "    mailbox        %s  (×%.1f raw)\n", benchDur(m.MailboxSeconds), m.MailboxOverRaw)
				}
				fmt.Fprintf(w, "  ratio    %.0f (linear scan / index, geometric mean of the three query kinds; higher is better)\n", r.Ratio)
			})
		},
	}
	cmd.Flags().IntVar(&o.Agents, "agents", 100_000, "agents to register and index")
	cmd.Flags().IntVar(&o.Queries, "queries", 10, "queries of each kind (skill, tag, free text)")
	cmd.Flags().IntVar(&o.Reps, "reps", 11, "times each kind's queries run on the index and on the scan (the median counts)")
	cmd.Flags().IntVar(&o.Calls, "calls", 200, "calls each way: direct, through the mailbox and raw")
	cmd.Flags().BoolVar(&messaging, "messaging", true, "time the calls (false: discovery only)")
	cmd.Flags().IntVar(&o.Payload, "payload", 256, "bytes of text a call carries")
	cmd.Flags().Uint64Var(&o.Seed, "seed", 1, "seed of the records and the queries")
	return cmd
}

// benchDur prints seconds with three significant digits in a fitting unit.
func benchDur(s float64) string {
	d := time.Duration(s * float64(time.Second))
	switch {
	case d < time.Millisecond:
		return fmt.Sprintf("%.3g µs", s*1e6)
	case d < time.Second:
		return fmt.Sprintf("%.3g ms", s*1e3)
	}
	return fmt.Sprintf("%.3g s", s)
}

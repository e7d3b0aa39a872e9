package cli

import (
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	rt "github.com/mycelnet/mycel/runtime"
	"github.com/mycelnet/mycel/runtime/backend/cpu"
	"github.com/mycelnet/mycel/runtime/gguf"
	"github.com/mycelnet/mycel/runtime/llama"
	"github.com/mycelnet/mycel/runtime/sample"
	"github.com/mycelnet/mycel/runtime/synth"
)

func (e *env) modelCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "model", Short: "Train, inspect, run, register and verify GGUF models with mycel's deterministic runtime"}
	inspect := &cobra.Command{
		Use:   "inspect FILE.gguf",
		Short: "Show a GGUF file's metadata, tensors and sizes",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f, file, err := gguf.Open(args[0])
			if err != nil {
				return err
			}
			defer file.Close()
			return e.print(inspectJSON(f), func(w io.Writer) { printInspect(w, f) })
		},
	}
	var prompt string
	var maxTokens, threads, topK int
	var temp, topP float32
	var seed uint64
	var stops []string
	run := &cobra.Command{
		Use:   "run FILE.gguf --prompt TEXT",
		Short: "Generate text locally, streamed to the terminal, with tokens per second",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			be := cpu.New(threads)
			start := time.Now()
			m, err := llama.Load(args[0], be)
			if err != nil {
				return err
			}
			e.progress("loaded %s: %d layers, %d dim, %d heads (%d KV), vocab %d, %.1fM parameters, in %s; %s on %s, %d threads",
				args[0], m.Layers, m.Dim, m.Heads, m.KVHeads, m.Vocab, float64(m.Params())/1e6, time.Since(start).Round(time.Millisecond),
				rt.Version, be.Name(), be.Threads())
			if h := cpu.BuildHint(); h != "" {
				e.progress("note: %s", h)
			}
			ids := m.Tok.Encode(prompt, true)
			req := llama.Request{Prompt: ids, MaxTokens: maxTokens, Stop: stops,
				Sample: sample.Params{Temperature: temp, TopK: topK, TopP: topP, Seed: seed}}
			if len(ids)+req.MaxTokens > m.Context {
				req.MaxTokens = max(m.Context-len(ids), 0)
			}
			res, err := m.Generate(cmd.Context(), req, func(s llama.Step) error {
				if e.output != "json" {
					_, err := io.WriteString(e.stdout, s.Text)
					return err
				}
				return nil
			})
			if err != nil && cmd.Context().Err() == nil {
				return err
			}
			gen := len(res.Tokens)
			promptRate := float64(len(ids)) / res.PromptTime.Seconds()
			var genRate float64
			if gen > 0 && res.GenTime > 0 {
				genRate = float64(gen) / res.GenTime.Seconds()
			}
			if e.output == "json" {
				return e.print(map[string]any{"text": res.Text, "tokens": res.Tokens, "finish_reason": res.Finish,
					"prompt_tokens": len(ids), "completion_tokens": gen, "prompt_tokens_per_second": promptRate,
					"tokens_per_second": genRate, "runtime": rt.Version, "model_sha256": fmt.Sprintf("%x", m.Hash)}, nil)
			}
			fmt.Fprintln(e.stdout)
			e.progress("%d prompt tokens (%.0f tokens/s), %d generated (%.1f tokens/s), finish: %s", len(ids), promptRate, gen, genRate, res.Finish)
			return nil
		},
	}
	f := run.Flags()
	f.StringVar(&prompt, "prompt", "", "the prompt")
	f.IntVar(&maxTokens, "max-tokens", 128, "tokens to generate at most")
	f.Float32Var(&temp, "temperature", 0, "sampling temperature (0: greedy)")
	f.IntVar(&topK, "top-k", 0, "keep the K most likely tokens (0: all)")
	f.Float32Var(&topP, "top-p", 0, "keep the most likely tokens up to this probability (0: all)")
	f.Uint64Var(&seed, "seed", 0, "the seed of the sampler's randomness")
	f.StringArrayVar(&stops, "stop", nil, "stop at this string (repeatable)")
	f.IntVar(&threads, "threads", 0, "threads (0: all cores); the output is the same for any number")
	_ = run.MarkFlagRequired("prompt")
	cmd.AddCommand(inspect, run, e.modelSynthCmd(), e.modelTrainCmd(), e.modelEvalCmd(), e.modelVerifyReceiptCmd(),
		e.modelAddCmd(), e.modelListCmd(), e.modelShowCmd(), e.modelUpdateCmd(), e.modelTransferCmd())
	return cmd
}

func (e *env) modelSynthCmd() *cobra.Command {
	s := synth.Spec{Name: "synth", Seed: 1}
	var typ string
	cmd := &cobra.Command{
		Use:   "synth OUT.gguf",
		Short: "Write a Llama model with random weights and a byte-level tokenizer, to try the runtime without downloading one",
		Long: `Write a Llama-architecture GGUF model with seeded random weights and a GPT-2
byte-level tokenizer. Its text is gibberish, but its shape, file layout and
cost per token are a real model's: tests and benchmarks use it, and so can you
to try "mycel model run" and providers' inference without a download.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			switch strings.ToUpper(typ) {
			case "F32":
				s.Type = gguf.F32
			case "F16":
				s.Type = gguf.F16
			case "Q8_0":
				s.Type = gguf.Q8_0
			default:
				return fmt.Errorf("--type %q: use F32, F16 or Q8_0", typ)
			}
			if err := s.Check(); err != nil {
				return err
			}
			f, err := os.Create(args[0])
			if err != nil {
				return err
			}
			if err := synth.Write(f, s); err != nil {
				f.Close()
				return fmt.Errorf("write %s: %w", args[0], err)
			}
			if err := f.Close(); err != nil {
				return err
			}
			st, err := os.Stat(args[0])
			if err != nil {
				return err
			}
			out := map[string]any{"path": args[0], "bytes": st.Size(), "parameters": s.Params(), "type": s.Type.String()}
			return e.print(out, func(w io.Writer) {
				fmt.Fprintf(w, "wrote %s: %.1fM parameters, %s, %d bytes\n", args[0], float64(s.Params())/1e6, s.Type, st.Size())
			})
		},
	}
	f := cmd.Flags()
	f.IntVar(&s.Vocab, "vocab", 1024, "vocabulary size (at least 259)")
	f.IntVar(&s.Dim, "dim", 256, "embedding dimension")
	f.IntVar(&s.Layers, "layers", 4, "decoder layers")
	f.IntVar(&s.FFN, "ffn", 768, "feed-forward dimension")
	f.IntVar(&s.Heads, "heads", 8, "attention heads")
	f.IntVar(&s.KVHeads, "kv-heads", 2, "key/value heads (grouped-query attention)")
	f.IntVar(&s.Context, "context", 512, "context length")
	f.StringVar(&typ, "type", "Q8_0", "matrix type: F32, F16 or Q8_0")
	f.Uint64Var(&s.Seed, "seed", 1, "seed of the weights")
	return cmd
}

func inspectJSON(f *gguf.File) map[string]any {
	meta := map[string]any{}
	for _, kv := range f.KV {
		meta[kv.Key] = valueSummary(kv.Value, 8)
	}
	var tensors []map[string]any
	for _, t := range f.Tensors {
		b, err := t.Bytes()
		entry := map[string]any{"name": t.Name, "dims": t.Dims, "type": t.Type.String(), "offset": t.Offset}
		if err == nil {
			entry["bytes"] = b
		}
		tensors = append(tensors, entry)
	}
	return map[string]any{"version": f.Version, "alignment": f.Alignment, "size": f.Size, "metadata": meta, "tensors": tensors}
}

// valueSummary shows a metadata value, with long arrays cut to their
// first items and their length.
func valueSummary(v gguf.Value, n int) any {
	if s, ok := v.String(); ok {
		return s
	}
	if b, ok := v.Bool(); ok {
		return b
	}
	if u, ok := v.Uint64(); ok {
		return u
	}
	if i, ok := v.Int64(); ok {
		return i
	}
	if fl, ok := v.Float64(); ok {
		return fl
	}
	if ss, ok := v.Strings(); ok {
		if len(ss) > n {
			return map[string]any{"length": len(ss), "first": ss[:n]}
		}
		return ss
	}
	if fs, ok := v.Float32s(); ok {
		if len(fs) > n {
			return map[string]any{"length": len(fs), "first": fs[:n]}
		}
		return fs
	}
	if is, ok := v.Int32s(); ok {
		if len(is) > n {
			return map[string]any{"length": len(is), "first": is[:n]}
		}
		return is
	}
	return fmt.Sprintf("array of %d", v.Len())
}

func printInspect(w io.Writer, f *gguf.File) {
	fmt.Fprintf(w, "GGUF version %d, %d bytes, alignment %d, %d metadata keys, %d tensors\n\n", f.Version, f.Size, f.Alignment, len(f.KV), len(f.Tensors))
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	for _, kv := range f.KV {
		v := fmt.Sprint(valueSummary(kv.Value, 6))
		if len(v) > 100 {
			v = v[:100] + "…"
		}
		fmt.Fprintf(tw, "%s\t%s\n", kv.Key, v)
	}
	tw.Flush()
	fmt.Fprintln(w)
	byType := map[string]uint64{}
	var total uint64
	tw = tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "TENSOR\tTYPE\tDIMS\tBYTES\n")
	for _, t := range f.Tensors {
		b, err := t.Bytes()
		size := fmt.Sprint(b)
		if err != nil {
			size = "?"
		}
		dims := make([]string, len(t.Dims))
		for i, d := range t.Dims {
			dims[i] = fmt.Sprint(d)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", t.Name, t.Type, strings.Join(dims, "×"), size)
		byType[t.Type.String()] += t.Elements()
		total += t.Elements()
	}
	tw.Flush()
	var names []string
	for n := range byType {
		names = append(names, n)
	}
	sort.Strings(names)
	fmt.Fprintf(w, "\n%.1fM parameters:", float64(total)/1e6)
	for _, n := range names {
		fmt.Fprintf(w, " %s %.1fM", n, float64(byType[n])/1e6)
	}
	fmt.Fprintln(w)
}

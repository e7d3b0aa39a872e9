package cli

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/mycelnet/mycel/runtime/backend/cpu"
	"github.com/mycelnet/mycel/runtime/gguf"
	"github.com/mycelnet/mycel/runtime/llama"
	"github.com/mycelnet/mycel/train"
)

func (e *env) modelTrainCmd() *cobra.Command {
	o := train.DefaultOptions()
	var corpus, heldout, out, ckpt, typ, name string
	var threads, saveEvery int
	var resume bool
	cmd := &cobra.Command{
		Use:   "train --corpus TEXT --out MODEL.gguf",
		Short: "Train a small Llama model from a text file: BPE vocabulary, AdamW, checkpoints, GGUF output",
		Long: `Train a Llama-architecture model (grouped-query attention, SwiGLU, RMSNorm,
rotary embeddings, output tied to the embedding) on a plain text file, on the
CPU, and write it as GGUF for "mycel model run" and providers.

The run learns a byte-level BPE vocabulary from the corpus, then trains with
AdamW on random windows of the token stream. The same options and seed give the
same weights bit for bit, whatever the thread count. Progress (loss, tokens per
second, time left) goes to stderr; a checkpoint is saved every --save-every
steps and on Ctrl-C, and --resume continues it exactly.

Build with GOEXPERIMENT=simd for the fast matrix kernels (about 10x faster).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if ckpt == "" {
				ckpt = out + ".ckpt"
			}
			q, err := parseType(typ)
			if err != nil {
				return err
			}
			if threads <= 0 {
				threads = runtime.NumCPU()
			}
			// Find out now, not after an hour of training, that the
			// output and the checkpoint cannot be written.
			for _, dir := range []string{filepath.Dir(out), filepath.Dir(ckpt)} {
				if err := os.MkdirAll(dir, 0o755); err != nil {
					return fmt.Errorf("output directory: %w", err)
				}
				probe, err := os.CreateTemp(dir, ".mycel-write-check-*")
				if err != nil {
					return fmt.Errorf("cannot write in %s: %w", dir, err)
				}
				probe.Close()
				os.Remove(probe.Name())
			}
			text, err := os.ReadFile(corpus)
			if err != nil {
				return fmt.Errorf("read corpus: %w", err)
			}
			var vocab train.Vocab
			_, statErr := os.Stat(ckpt)
			switch {
			case statErr == nil && !resume:
				return fmt.Errorf("checkpoint %s exists: pass --resume to continue that run, or remove it to start over", ckpt)
			case statErr != nil && resume:
				return fmt.Errorf("--resume: no checkpoint at %s", ckpt)
			case resume:
				if vocab, err = train.CheckpointVocab(ckpt); err != nil {
					return err
				}
				e.progress("resuming from %s", ckpt)
			default:
				start := time.Now()
				vocab, err = train.LearnVocab(string(text), o.Vocab, nil)
				if err != nil {
					return err
				}
				e.progress("learned a BPE vocabulary of %d tokens (%d merges) from %s (%d bytes) in %s",
					vocab.Size(), len(vocab.Merges), corpus, len(text), time.Since(start).Round(time.Millisecond))
				o.Vocab = vocab.Size()
			}
			tok, err := vocab.Tokenizer()
			if err != nil {
				return err
			}
			data := tok.Encode(string(text), false)
			e.progress("corpus: %d tokens (%.2f bytes per token)", len(data), float64(len(text))/float64(len(data)))
			var tr *train.Trainer
			if resume {
				tr, err = train.Resume(ckpt, data, threads)
			} else {
				tr, err = train.New(o, vocab, data, threads)
			}
			if err != nil {
				return err
			}
			c := tr.Opts.Config
			e.progress("model: %d layers, dim %d, %d heads (%d KV), FFN %d, context %d, vocab %d: %.2fM parameters; %d steps of %d×%d tokens from step %d; %s, %d threads",
				c.Layers, c.Dim, c.Heads, c.KVHeads, c.FFN, c.Context, c.Vocab, float64(c.Params())/1e6,
				tr.Opts.Steps, tr.Opts.Batch, c.Context, tr.Step, cpu.New(1).Name(), threads)
			if h := cpu.BuildHint(); h != "" {
				e.progress("note: %s", h)
			}
			start := time.Now()
			startStep := tr.Step
			var last train.Progress
			report := func(p train.Progress) {
				last = p
				if p.Step%10 == 0 || p.Step == p.Steps || p.Step == startStep+1 {
					e.progress("step %d/%d  loss %.3f  lr %.2e  grad %.2f  %.0f tok/s  %.1f GFLOP/s  left %s",
						p.Step, p.Steps, p.Loss, p.LR, p.GradNorm, p.TokensPerSec,
						p.TokensPerSec*float64(tr.Flops())/float64(tr.Opts.Batch*c.Context)/1e9, p.Left.Round(time.Second))
				}
			}
			err = tr.Run(cmd.Context(), report, saveEvery, func() error { return tr.SaveCheckpoint(ckpt) })
			if errors.Is(err, context.Canceled) {
				return fmt.Errorf("interrupted at step %d; saved %s: run the same command with --resume to continue", tr.Step, ckpt)
			}
			if err != nil {
				return err
			}
			res := map[string]any{"steps": tr.Step, "tokens_trained": tr.Tokens, "final_batch_loss": last.Loss,
				"seconds": time.Since(start).Seconds(), "parameters": c.Params(), "checkpoint": ckpt}
			if tr.Step > startStep {
				res["tokens_per_second"] = last.TokensPerSec
			}
			var extra []gguf.KV
			if heldout != "" {
				ht, err := os.ReadFile(heldout)
				if err != nil {
					return fmt.Errorf("read held-out text: %w", err)
				}
				hd := tok.Encode(string(ht), false)
				loss, n, err := tr.Eval(hd, 0)
				if err != nil {
					return err
				}
				uni := train.UnigramLoss(data, hd, c.Vocab)
				res["heldout_tokens"], res["heldout_loss"], res["heldout_unigram_loss"] = n, loss, uni
				e.progress("held-out loss %.3f nats/token over %d tokens; unigram model of the corpus %.3f", loss, n, uni)
				extra = append(extra, gguf.KV{Key: "mycel.train.heldout_loss", Value: gguf.Float32(float32(loss))})
			}
			sum := sha256.Sum256(text)
			extra = append(extra,
				gguf.KV{Key: "general.description", Value: gguf.Str(fmt.Sprintf("trained by mycel model train on %s", strings.TrimSpace(corpusName(corpus))))},
				gguf.KV{Key: "mycel.train.corpus_sha256", Value: gguf.Str(fmt.Sprintf("%x", sum))},
				gguf.KV{Key: "mycel.train.steps", Value: gguf.Uint64(uint64(tr.Step))},
				gguf.KV{Key: "mycel.train.tokens", Value: gguf.Uint64(uint64(tr.Tokens))},
				gguf.KV{Key: "mycel.train.seed", Value: gguf.Uint64(tr.Opts.Seed)},
			)
			if err := writeFile(out, func(w io.Writer) error { return tr.WriteModel(w, name, q, extra) }); err != nil {
				return err
			}
			fsum, err := fileSHA256(out)
			if err != nil {
				return err
			}
			res["model"], res["model_sha256"], res["type"] = out, fsum, q.String()
			return e.print(res, func(w io.Writer) {
				fmt.Fprintf(w, "wrote %s (%s, sha256 %s)\n", out, q, fsum)
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&corpus, "corpus", "", "the training text (UTF-8)")
	f.StringVar(&heldout, "heldout", "", "text kept out of training, to report the model's loss on")
	f.StringVar(&out, "out", "", "the GGUF file to write")
	f.StringVar(&ckpt, "checkpoint", "", "checkpoint file (default: OUT.ckpt)")
	f.BoolVar(&resume, "resume", false, "continue the run saved in the checkpoint")
	f.IntVar(&saveEvery, "save-every", 100, "save a checkpoint every N steps (and on Ctrl-C)")
	f.StringVar(&typ, "type", "Q8_0", "matrix type of the output: F32, F16 or Q8_0")
	f.StringVar(&name, "name", "mycel-model", "general.name of the model")
	f.IntVar(&threads, "threads", 0, "threads (0: all cores); the weights are the same for any number")
	f.IntVar(&o.Vocab, "vocab", o.Vocab, "vocabulary size to learn, end-of-text token included")
	f.IntVar(&o.Dim, "dim", o.Dim, "embedding dimension")
	f.IntVar(&o.Layers, "layers", o.Layers, "decoder layers")
	f.IntVar(&o.Heads, "heads", o.Heads, "attention heads")
	f.IntVar(&o.KVHeads, "kv-heads", o.KVHeads, "key/value heads (grouped-query attention)")
	f.IntVar(&o.FFN, "ffn", o.FFN, "feed-forward dimension")
	f.IntVar(&o.Context, "context", o.Context, "sequence length trained on, and the model's context length")
	f.IntVar(&o.Batch, "batch", o.Batch, "sequences per step")
	f.IntVar(&o.Steps, "steps", o.Steps, "optimizer steps")
	f.Float64Var(&o.LR, "lr", o.LR, "peak learning rate (cosine decay to a tenth after warm-up)")
	f.IntVar(&o.Warmup, "warmup", o.Warmup, "warm-up steps")
	f.Float64Var(&o.WeightDecay, "weight-decay", o.WeightDecay, "AdamW weight decay")
	f.Uint64Var(&o.Seed, "seed", o.Seed, "seed of the weights and of the batches")
	_ = cmd.MarkFlagRequired("corpus")
	_ = cmd.MarkFlagRequired("out")
	return cmd
}

func corpusName(path string) string {
	return path[strings.LastIndex(path, "/")+1:]
}

func parseType(s string) (gguf.Type, error) {
	switch strings.ToUpper(s) {
	case "F32":
		return gguf.F32, nil
	case "F16":
		return gguf.F16, nil
	case "Q8_0":
		return gguf.Q8_0, nil
	}
	return 0, fmt.Errorf("--type %q: use F32, F16 or Q8_0", s)
}

// writeFile writes path through write, removing it if write fails.
func writeFile(path string, write func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		os.Remove(path)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Close()
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return fmt.Sprintf("%x", h.Sum(nil)), nil
}

func (e *env) modelEvalCmd() *cobra.Command {
	var text string
	var threads, maxTokens int
	cmd := &cobra.Command{
		Use:   "eval MODEL.gguf --text FILE",
		Short: "Measure a model's next-token loss on a text, beside the best unigram model of that text",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			m, err := llama.Load(args[0], cpu.New(threads))
			if err != nil {
				return err
			}
			b, err := os.ReadFile(text)
			if err != nil {
				return err
			}
			ids := m.Tok.Encode(string(b), false)
			start := time.Now()
			loss, n, err := train.ModelLoss(cmd.Context(), m, ids, maxTokens)
			if err != nil {
				return err
			}
			uni := train.UnigramEntropy(ids[1 : n+1])
			res := map[string]any{"model": args[0], "tokens": n, "loss": loss, "unigram_entropy": uni,
				"margin": uni - loss, "seconds": time.Since(start).Seconds()}
			return e.print(res, func(w io.Writer) {
				fmt.Fprintf(w, "loss %.3f nats/token over %d tokens; unigram entropy of the text %.3f; margin %.3f\n", loss, n, uni, uni-loss)
			})
		},
	}
	cmd.Flags().StringVar(&text, "text", "", "the text to evaluate on")
	cmd.Flags().IntVar(&threads, "threads", 0, "threads (0: all cores)")
	cmd.Flags().IntVar(&maxTokens, "max-tokens", 0, "evaluate about this many tokens at most (0: all)")
	_ = cmd.MarkFlagRequired("text")
	return cmd
}

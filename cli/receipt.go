package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/mycelnet/mycel/inference"
	"github.com/mycelnet/mycel/runtime/backend/cpu"
	rtexec "github.com/mycelnet/mycel/worker/provider/executor/runtime"
)

// answerFile is what verify-receipt reads: a gateway answer, chat or
// completion, non-streamed (or its last stream chunk with the text put
// back).
type answerFile struct {
	Receipt *inference.Receipt `json:"mycel_receipt"`
	Request *inference.Request `json:"mycel_request"`
	Choices []struct {
		Text    *string `json:"text"`
		Message *struct {
			Content *string `json:"content"`
		} `json:"message"`
	} `json:"choices"`
}

func (e *env) modelVerifyReceiptCmd() *cobra.Command {
	var modelPath string
	var threads int
	cmd := &cobra.Command{
		Use:   "verify-receipt ANSWER.json --model FILE.gguf",
		Short: "Check an inference answer's signed receipt by running the request again",
		Long: `Read an answer of the gateway (the JSON body of /v1/chat/completions or
/v1/completions, which carries mycel_receipt and mycel_request; "-" reads
stdin), check the provider's signature, that the receipt signs this request and
this answer's text, then run the request again with the built-in runtime on the
model file and check that the output is the same, bit for bit. Exits non-zero
when the receipt does not hold.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var b []byte
			var err error
			if args[0] == "-" {
				b, err = io.ReadAll(os.Stdin)
			} else {
				b, err = os.ReadFile(args[0])
			}
			if err != nil {
				return err
			}
			var a answerFile
			if err := json.Unmarshal(b, &a); err != nil {
				return fmt.Errorf("%s is not a gateway answer: %w", args[0], err)
			}
			if a.Receipt == nil || a.Request == nil {
				return fmt.Errorf("%s has no mycel_receipt and mycel_request: save the whole JSON body of a non-streamed answer", args[0])
			}
			res, err := verifyReceipt(cmd.Context(), a, modelPath, threads)
			if err != nil {
				return err
			}
			return e.print(res, func(w io.Writer) {
				fmt.Fprintf(w, "receipt holds: provider %s ran %s on model %s (seed %d); re-execution gave the same output (sha256 %s)\n",
					a.Receipt.Provider, a.Receipt.Runtime, a.Receipt.Model, a.Receipt.Seed, a.Receipt.Output)
			})
		},
	}
	cmd.Flags().StringVar(&modelPath, "model", "", "the model file the receipt names (checked by its sha256)")
	cmd.Flags().IntVar(&threads, "threads", 0, "threads (0: all cores); the result is the same for any number")
	_ = cmd.MarkFlagRequired("model")
	return cmd
}

// verifyReceipt checks everything a receipt claims, re-running the request.
func verifyReceipt(ctx context.Context, a answerFile, modelPath string, threads int) (map[string]any, error) {
	r := a.Receipt
	fail := func(format string, args ...any) (map[string]any, error) {
		return nil, fmt.Errorf("receipt does not hold: "+format, args...)
	}
	if err := r.Verify(); err != nil {
		return fail("%v", err)
	}
	if h := a.Request.Hash(); h != r.Request {
		return fail("it signs request %s, but mycel_request hashes to %s", r.Request, h)
	}
	if a.Request.Seed != r.Seed || a.Request.Model != r.Model {
		return fail("the request's seed or model differs from the receipt's")
	}
	if len(a.Choices) == 1 {
		var text *string
		if a.Choices[0].Text != nil {
			text = a.Choices[0].Text
		} else if a.Choices[0].Message != nil {
			text = a.Choices[0].Message.Content
		}
		if text != nil && inference.OutputHash(*text) != r.Output {
			return fail("the answer's text hashes to %s, not to the output %s the provider signed", inference.OutputHash(*text), r.Output)
		}
	}
	if !r.Deterministic {
		return fail("runtime %q is not deterministic: its answers cannot be checked by re-running (dispute them instead)", r.Runtime)
	}
	engine := rtexec.New(cpu.New(threads))
	info, err := engine.AddFile(modelPath, "")
	if err != nil {
		return nil, err
	}
	if info.Hash != r.Model {
		return nil, fmt.Errorf("%s has sha256 %s, but the receipt names model %s: give the model file it names", modelPath, info.Hash, r.Model)
	}
	if info.Engine != r.Runtime {
		return fail("it names runtime %s; this mycel runs %s, which may compute other bits", r.Runtime, info.Engine)
	}
	final, err := engine.Run(ctx, *a.Request, nil)
	if err != nil {
		return nil, fmt.Errorf("re-run the request: %w", err)
	}
	if final.Receipt.Output != r.Output {
		return fail("re-execution produced output %s, the provider signed %s", final.Receipt.Output, r.Output)
	}
	return map[string]any{"valid": true, "provider": r.Provider, "runtime": r.Runtime, "model": r.Model,
		"request": r.Request, "output": r.Output, "seed": r.Seed}, nil
}

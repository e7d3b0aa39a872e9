package e2e

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/mycelnet/mycel/inference"
	"github.com/mycelnet/mycel/models"
	"github.com/mycelnet/mycel/types"
)

// answer is the part of a gateway answer the test reads beside what the
// official client parses.
type answer struct {
	Receipt inference.Receipt `json:"mycel_receipt"`
	Request inference.Request `json:"mycel_request"`
}

// The devnet serves its own model out of the box, and the official Go
// client of the OpenAI API uses it: models, chat and completions, streamed
// and not, the usual errors; a second provider process serves the same
// file, and the same request and seed give the same text and output hash
// from both; receipts verify by re-execution, and a tampered one does not.
func TestGatewayOpenAI(t *testing.T) {
	home, c, rpc, _ := devnetWithProvider(t)
	ctx := t.Context()
	oc := openai.NewClient(option.WithBaseURL(c.URL()+"/v1"), option.WithAPIKey("unused"), option.WithMaxRetries(0))

	// The built-in provider announces its model within a poll.
	var list []openai.Model
	var err error
	deadline := time.Now().Add(30 * time.Second)
	for len(list) == 0 && time.Now().Before(deadline) {
		page, err := oc.Models.List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		list = page.Data
		if len(list) == 0 {
			time.Sleep(200 * time.Millisecond)
		}
	}
	if len(list) != 1 || list[0].ID != models.KJVName || list[0].Object != "model" {
		t.Fatalf("models: %+v", list)
	}
	// It is registered on chain from genesis, and its file is in the
	// node's blob store under the registered hash.
	var detail struct {
		Mycel inference.ModelDetail `json:"mycel"`
	}
	if err := json.Unmarshal([]byte(list[0].RawJSON()), &detail); err != nil {
		t.Fatal(err)
	}
	if !detail.Mycel.Registered || detail.Mycel.License != models.KJVLicense || detail.Mycel.Hash != types.Hash(sha256.Sum256(models.KJV())).String() {
		t.Fatalf("model detail %+v", detail.Mycel)
	}
	var blob []byte
	for i := 0; i < 50; i++ {
		if blob, err = c.GetBlob(ctx, sha256.Sum256(models.KJV())); err == nil {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if !bytes.Equal(blob, models.KJV()) {
		t.Fatalf("the model's blob: %d bytes, %v", len(blob), err)
	}

	// Non-streamed chat.
	params := openai.ChatCompletionNewParams{
		Model:       models.KJVName,
		Messages:    []openai.ChatCompletionMessageParamUnion{openai.UserMessage("And God said")},
		MaxTokens:   openai.Int(32),
		Temperature: openai.Float(0.8),
		Seed:        openai.Int(7),
	}
	var raw *http.Response
	chat, err := oc.Chat.Completions.New(ctx, params, option.WithResponseInto(&raw))
	if err != nil {
		t.Fatal(err)
	}
	text := chat.Choices[0].Message.Content
	if text == "" || chat.Object != "chat.completion" || chat.Usage.CompletionTokens == 0 || chat.Usage.PromptTokens == 0 ||
		chat.Usage.TotalTokens != chat.Usage.PromptTokens+chat.Usage.CompletionTokens {
		t.Fatalf("chat completion: %+v", chat)
	}
	if fr := chat.Choices[0].FinishReason; fr != "length" && fr != "stop" {
		t.Fatalf("finish reason %q", fr)
	}
	t.Logf("chat: %q", text)
	var first answer
	if err := json.Unmarshal([]byte(chat.RawJSON()), &first); err != nil {
		t.Fatal(err)
	}
	hdr, err := inference.ParseReceiptHeader(raw.Header.Get(inference.HeaderReceipt))
	if err != nil {
		t.Fatalf("receipt header: %v", err)
	}
	if err := hdr.Verify(); err != nil || hdr.Output != first.Receipt.Output || hdr.Output != inference.OutputHash(text) {
		t.Fatalf("receipt header %+v (verify: %v) does not match the body's %+v", hdr, err, first.Receipt)
	}

	// The same request streamed: the same text, piece by piece.
	stream := oc.Chat.Completions.NewStreaming(ctx, params)
	var streamed strings.Builder
	var acc openai.ChatCompletionAccumulator
	var last answer
	chunks := 0
	for stream.Next() {
		ch := stream.Current()
		acc.AddChunk(ch)
		if len(ch.Choices) > 0 {
			streamed.WriteString(ch.Choices[0].Delta.Content)
		}
		if strings.Contains(ch.RawJSON(), "mycel_receipt") {
			if err := json.Unmarshal([]byte(ch.RawJSON()), &last); err != nil {
				t.Fatal(err)
			}
		}
		chunks++
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	if streamed.String() != text || chunks < 3 || last.Receipt.Output != first.Receipt.Output {
		t.Fatalf("streamed %q in %d chunks (receipt output %s); non-streamed %q (%s)", streamed.String(), chunks, last.Receipt.Output, text, first.Receipt.Output)
	}

	// A completion, streamed and not.
	cparams := openai.CompletionNewParams{
		Model:     openai.CompletionNewParamsModel(models.KJVName),
		Prompt:    openai.CompletionNewParamsPromptUnion{OfString: openai.String("In the beginning")},
		MaxTokens: openai.Int(16), Temperature: openai.Float(0), Seed: openai.Int(1),
	}
	comp, err := oc.Completions.New(ctx, cparams)
	if err != nil {
		t.Fatal(err)
	}
	if comp.Object != "text_completion" || comp.Choices[0].Text == "" || comp.Usage.CompletionTokens == 0 {
		t.Fatalf("completion: %+v", comp)
	}
	cs := oc.Completions.NewStreaming(ctx, cparams)
	var ctext strings.Builder
	for cs.Next() {
		if ch := cs.Current(); len(ch.Choices) > 0 {
			ctext.WriteString(ch.Choices[0].Text)
		}
	}
	if err := cs.Err(); err != nil || ctext.String() != comp.Choices[0].Text {
		t.Fatalf("streamed completion %q (%v), non-streamed %q", ctext.String(), err, comp.Choices[0].Text)
	}

	// Errors the client understands: an unknown model is a 404.
	_, err = oc.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{Model: "no-such-model",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi")}})
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 404 || apiErr.Code != "model_not_found" {
		t.Fatalf("unknown model: %v", err)
	}
	_, err = oc.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{Model: models.KJVName, MaxTokens: openai.Int(100000),
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi")}})
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 400 || apiErr.Code != "context_length_exceeded" {
		t.Fatalf("too many tokens: %v", err)
	}

	// A second provider process serves the same model: requests alternate
	// between the two, and every answer is the same text with the same
	// output hash.
	modelFile := filepath.Join(t.TempDir(), "kjv.gguf")
	if err := os.WriteFile(modelFile, models.KJV(), 0o644); err != nil {
		t.Fatal(err)
	}
	run(t, false, "keys", "add", "prov2", "--home", home)
	run(t, false, "--home", home, "tx", "send", "prov2", "100myc", "--from", "bob")
	// It names the model by its registered hash and fetches the file from
	// the node's blob store, and it has a "public" address: the node posts
	// its requests straight there, where the built-in provider's come
	// through its long polls.
	start(t, "provider", "run", "--home", home, "--from", "prov2", "--slots", "1",
		"--serve-model", types.Hash(sha256.Sum256(models.KJV())).String()+"="+models.KJVName, "--listen", "127.0.0.1:0")
	providers := map[types.Address]bool{}
	for i := 0; i < 40 && len(providers) < 2; i++ {
		again, err := oc.Chat.Completions.New(ctx, params)
		if err != nil {
			t.Fatal(err)
		}
		var a answer
		if err := json.Unmarshal([]byte(again.RawJSON()), &a); err != nil {
			t.Fatal(err)
		}
		if again.Choices[0].Message.Content != text || a.Receipt.Output != first.Receipt.Output {
			t.Fatalf("provider %s answered %q, the first %q", a.Receipt.Provider, again.Choices[0].Message.Content, text)
		}
		providers[a.Receipt.Provider] = true
		if len(providers) < 2 {
			time.Sleep(300 * time.Millisecond)
		}
	}
	if len(providers) != 2 {
		t.Fatalf("answers came from %d providers, want both", len(providers))
	}

	// Inference as a network job: assigned, run by a provider, committed,
	// revealed and paid like any job, and the same text as running the
	// model locally.
	var job struct {
		Job    struct{ Kind, State string }
		Output string
	}
	runJSON(t, &job, "job", "submit", "--home", home, "--model", types.Hash(sha256.Sum256(models.KJV())).String(),
		"--prompt", "In the beginning", "--max-tokens", "16", "--max-price", "1myc", "--from", "alice", "--wait")
	var jobOut struct {
		Text             string
		CompletionTokens int `json:"completion_tokens"`
		Runtime          string
	}
	if err := json.Unmarshal([]byte(job.Output), &jobOut); err != nil || job.Job.Kind != "inference" || job.Job.State != "succeeded" {
		t.Fatalf("inference job: %+v (%v)", job, err)
	}
	var local struct{ Text string }
	runJSON(t, &local, "model", "run", modelFile, "--prompt", "In the beginning", "--max-tokens", "16")
	if jobOut.Text != local.Text || jobOut.CompletionTokens != 16 || jobOut.Runtime != "mycel-rt/1" {
		t.Fatalf("the inference job answered %+v; locally %q", jobOut, local.Text)
	}

	// An inference requested by a transaction, its answer written into
	// chain state and announced by an event.
	var onChain struct {
		Job struct {
			ID     string
			State  string
			Result []byte
		}
	}
	runJSON(t, &onChain, "job", "submit", "--home", home, "--model", types.Hash(sha256.Sum256(models.KJV())).String(),
		"--prompt", "In the beginning", "--max-tokens", "16", "--on-chain", "--max-price", "1myc", "--from", "alice", "--wait")
	var stateOut struct{ Text string }
	if err := json.Unmarshal(onChain.Job.Result, &stateOut); err != nil || stateOut.Text != local.Text || onChain.Job.State != "succeeded" {
		t.Fatalf("on-chain result %q (%v), state %s; want the text %q", onChain.Job.Result, err, onChain.Job.State, local.Text)
	}
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/tx_search?query=%s", rpc, url.QueryEscape(`"job_result.id='`+onChain.Job.ID+`'"`)))
	if err != nil {
		t.Fatal(err)
	}
	var search struct {
		Result struct {
			Txs []struct {
				TxResult struct {
					Events []struct {
						Type       string
						Attributes []struct{ Key, Value string }
					}
				} `json:"tx_result"`
			}
		}
	}
	err = json.NewDecoder(resp.Body).Decode(&search)
	resp.Body.Close()
	found := false
	for _, tx := range search.Result.Txs {
		for _, ev := range tx.TxResult.Events {
			for _, a := range ev.Attributes {
				if ev.Type == "job_result" && a.Key == "result" && a.Value == base64.StdEncoding.EncodeToString(onChain.Job.Result) {
					found = true
				}
			}
		}
	}
	if err != nil || !found {
		t.Fatalf("no job_result event with the result for job %s: %+v (%v)", onChain.Job.ID, search, err)
	}

	// The receipt verifies by re-execution; tampered, it does not.
	answerFile := filepath.Join(t.TempDir(), "answer.json")
	if err := os.WriteFile(answerFile, []byte(chat.RawJSON()), 0o644); err != nil {
		t.Fatal(err)
	}
	out, _ := run(t, false, "model", "verify-receipt", answerFile, "--model", modelFile)
	if !strings.Contains(out, "receipt holds") {
		t.Fatalf("verify-receipt: %s", out)
	}
	for name, tamper := range map[string]func(m map[string]any){
		"text": func(m map[string]any) {
			m["choices"].([]any)[0].(map[string]any)["message"].(map[string]any)["content"] = text + " amen"
		},
		"seed":   func(m map[string]any) { m["mycel_request"].(map[string]any)["seed"] = 8 },
		"output": func(m map[string]any) { m["mycel_receipt"].(map[string]any)["output"] = types.Hash{1}.String() },
	} {
		var m map[string]any
		if err := json.Unmarshal([]byte(chat.RawJSON()), &m); err != nil {
			t.Fatal(err)
		}
		tamper(m)
		b, _ := json.Marshal(m)
		bad := filepath.Join(t.TempDir(), name+".json")
		if err := os.WriteFile(bad, b, 0o644); err != nil {
			t.Fatal(err)
		}
		_, stderr := run(t, true, "model", "verify-receipt", bad, "--model", modelFile)
		if !strings.Contains(stderr, "receipt does not hold") {
			t.Errorf("tampered %s: %s", name, stderr)
		}
	}
}

// The openai executor, against a real OpenAI-compatible server: a provider
// of one devnet serves a model of a second devnet's gateway. Its answers
// are the remote runtime's, marked not deterministic, and verify-receipt
// says they cannot be checked by re-running.
func TestGatewayOpenAIExecutor(t *testing.T) {
	home, c, _, _ := devnetWithProvider(t)
	_, remote, _, _ := devnetWithProvider(t)
	ctx := t.Context()
	waitModel := func(base, id string) {
		t.Helper()
		oc := openai.NewClient(option.WithBaseURL(base+"/v1"), option.WithAPIKey("unused"), option.WithMaxRetries(0))
		for i := 0; i < 150; i++ {
			if m, err := oc.Models.Get(ctx, id); err == nil && m.ID == id {
				return
			}
			time.Sleep(200 * time.Millisecond)
		}
		t.Fatalf("%s never served %s", base, id)
	}
	waitModel(remote.URL(), models.KJVName)
	run(t, false, "keys", "add", "bridge", "--home", home)
	run(t, false, "--home", home, "tx", "send", "bridge", "100myc", "--from", "bob")
	start(t, "provider", "run", "--home", home, "--from", "bridge", "--slots", "1",
		"--openai-url", remote.URL()+"/v1", "--openai-model", models.KJVName+"=kjv-remote")
	waitModel(c.URL(), "kjv-remote")

	oc := openai.NewClient(option.WithBaseURL(c.URL()+"/v1"), option.WithAPIKey("unused"), option.WithMaxRetries(0))
	params := openai.ChatCompletionNewParams{Model: "kjv-remote", MaxTokens: openai.Int(24), Temperature: openai.Float(0.7), Seed: openai.Int(11),
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("And the LORD spake")}}
	viaBridge, err := oc.Chat.Completions.New(ctx, params)
	if err != nil {
		t.Fatal(err)
	}
	var a answer
	if err := json.Unmarshal([]byte(viaBridge.RawJSON()), &a); err != nil {
		t.Fatal(err)
	}
	if a.Receipt.Deterministic || !strings.HasPrefix(a.Receipt.Runtime, "openai:") || a.Receipt.Verify() != nil {
		t.Fatalf("receipt %+v", a.Receipt)
	}
	// The remote engine is mycel's runtime, so the text is what the local
	// built-in provider says to the same request.
	params.Model = models.KJVName
	local, err := oc.Chat.Completions.New(ctx, params)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := viaBridge.Choices[0].Message.Content, local.Choices[0].Message.Content; got != want || got == "" {
		t.Fatalf("through the openai executor %q, locally %q", got, want)
	}
	// Streamed through the bridge too.
	stream := oc.Chat.Completions.NewStreaming(ctx, openai.ChatCompletionNewParams{Model: "kjv-remote", MaxTokens: openai.Int(24),
		Temperature: openai.Float(0.7), Seed: openai.Int(11), Messages: params.Messages})
	var streamed strings.Builder
	for stream.Next() {
		if ch := stream.Current(); len(ch.Choices) > 0 {
			streamed.WriteString(ch.Choices[0].Delta.Content)
		}
	}
	if err := stream.Err(); err != nil || streamed.String() != viaBridge.Choices[0].Message.Content {
		t.Fatalf("streamed %q (%v)", streamed.String(), err)
	}
	file := filepath.Join(t.TempDir(), "answer.json")
	if err := os.WriteFile(file, []byte(viaBridge.RawJSON()), 0o644); err != nil {
		t.Fatal(err)
	}
	modelFile := filepath.Join(t.TempDir(), "kjv.gguf")
	if err := os.WriteFile(modelFile, models.KJV(), 0o644); err != nil {
		t.Fatal(err)
	}
	_, stderr := run(t, true, "model", "verify-receipt", file, "--model", modelFile)
	if !strings.Contains(stderr, "not deterministic") {
		t.Fatalf("verify-receipt of an external engine's answer: %s", stderr)
	}
}

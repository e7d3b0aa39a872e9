package runtime

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/mycelnet/mycel/chain/compute"
	"github.com/mycelnet/mycel/inference"
	"github.com/mycelnet/mycel/models"
	"github.com/mycelnet/mycel/runtime/backend/cpu"
	"github.com/mycelnet/mycel/runtime/gguf"
	"github.com/mycelnet/mycel/runtime/synth"
)

// A receipt checked by re-execution (the deterministic runtime) and by
// re-scoring (an external engine's answer): the model's own answer holds
// or is plausible; a wrong output hash differs; another runtime version
// cannot be judged here; another model's answer is implausible.
func TestCheckReceipt(t *testing.T) {
	file := tinyModel(t)
	e := New(cpu.New(1))
	info, err := e.Add(file, "")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	req := inference.Request{Model: info.Hash, Prompt: "abc", MaxTokens: 20}
	var text bytes.Buffer
	f, err := e.Run(ctx, req, func(ev inference.Event) error { text.WriteString(ev.Text); return nil })
	if err != nil {
		t.Fatal(err)
	}
	r := f.Receipt

	// Another model (other weights) answering the same request.
	var other bytes.Buffer
	if err := synth.Write(&other, synth.Spec{Name: "other", Vocab: 300, Dim: 32, Layers: 2, FFN: 64, Heads: 4, KVHeads: 2,
		Context: 32, Type: gguf.F32, Seed: 2}); err != nil {
		t.Fatal(err)
	}
	e2 := New(cpu.New(1))
	oinfo, err := e2.Add(other.Bytes(), "")
	if err != nil {
		t.Fatal(err)
	}
	oreq := req
	oreq.Model = oinfo.Hash
	var otext bytes.Buffer
	if _, err := e2.Run(ctx, oreq, func(ev inference.Event) error { otext.WriteString(ev.Text); return nil }); err != nil {
		t.Fatal(err)
	}

	external := r
	external.Runtime, external.Deterministic = "openai:llama.cpp", false
	cheaper := external
	cheaper.Output = inference.OutputHash(otext.String())
	tampered := r
	tampered.Output = inference.OutputHash("something else")
	later := r
	later.Runtime = "mycel-rt/2"
	for _, c := range []struct {
		name    string
		receipt inference.Receipt
		text    string
		want    string
	}{
		{"re-executed, holds", r, text.String(), compute.VerdictHolds},
		{"re-executed, differs", tampered, "something else", compute.VerdictDiffers},
		{"another runtime version", later, text.String(), compute.VerdictUnavailable},
		{"re-scored, the same model", external, text.String(), compute.VerdictPlausible},
		{"re-scored, another model", cheaper, otext.String(), compute.VerdictImplausible},
	} {
		got, err := e.CheckReceipt(ctx, c.receipt, req, c.text)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got.Verdict != c.want {
			t.Errorf("%s: verdict %s (ranks %v), want %s", c.name, got.Verdict, got.Ranks, c.want)
		}
		if got.Tokens == 0 && c.want != compute.VerdictUnavailable {
			t.Errorf("%s: no tokens counted for gas", c.name)
		}
	}
}

// An answer made of replaced bytes is no way around re-scoring: each
// one is scored as the byte the model likes best there, which for
// mycel-kjv's English is nowhere near its best tokens.
func TestRescoreReplacedBytes(t *testing.T) {
	e := New(cpu.New(1))
	info, err := e.Add(models.KJV(), "")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	req := inference.Request{Model: info.Hash, Prompt: "And it came to pass", MaxTokens: 16}
	f, err := e.Run(ctx, req, nil)
	if err != nil {
		t.Fatal(err)
	}
	var text strings.Builder
	if _, err := e.Run(ctx, req, func(ev inference.Event) error { text.WriteString(ev.Text); return nil }); err != nil {
		t.Fatal(err)
	}
	external := f.Receipt
	external.Runtime, external.Deterministic = "openai:llama.cpp", false
	for _, c := range []struct {
		name, text, want string
	}{
		{"the model's answer", text.String(), compute.VerdictPlausible},
		{"replaced bytes only", strings.Repeat("\uFFFD", 16), compute.VerdictImplausible},
		{"the answer, a replaced byte in every word", strings.ReplaceAll(text.String(), " ", " \uFFFD"), compute.VerdictImplausible},
	} {
		got, err := e.CheckReceipt(ctx, external, req, c.text)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got.Verdict != c.want {
			t.Errorf("%s: verdict %s (ranks %v), want %s", c.name, got.Verdict, got.Ranks, c.want)
		}
	}
}

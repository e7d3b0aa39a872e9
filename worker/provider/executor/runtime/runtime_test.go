package runtime

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/mycelnet/mycel/inference"
	"github.com/mycelnet/mycel/runtime/backend/cpu"
	"github.com/mycelnet/mycel/runtime/gguf"
	"github.com/mycelnet/mycel/runtime/synth"
	"github.com/mycelnet/mycel/types"
)

func tinyModel(t *testing.T) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := synth.Write(&b, synth.Spec{Name: "tiny", Vocab: 300, Dim: 32, Layers: 2, FFN: 64, Heads: 4, KVHeads: 2,
		Context: 32, Type: gguf.F32, Seed: 1}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestEngine(t *testing.T) {
	file := tinyModel(t)
	e := New(cpu.New(2))
	info, err := e.Add(file, "")
	if err != nil {
		t.Fatal(err)
	}
	if info.ID != "tiny" || info.Hash != types.SumHash(file) || info.Context != 32 || !info.Deterministic {
		t.Fatalf("info %+v", info)
	}
	req := inference.Request{Model: info.Hash, Prompt: "abc", MaxTokens: 8, Temperature: 0.9, TopP: 1, Seed: 3}
	var streamed bytes.Buffer
	f1, err := e.Run(context.Background(), req, func(ev inference.Event) error { streamed.WriteString(ev.Text); return nil })
	if err != nil {
		t.Fatal(err)
	}
	// Another engine (other threads) gives the same bits, receipt fields
	// included; the streamed text is what the receipt hashes.
	e2 := New(cpu.New(1))
	if _, err := e2.Add(file, "x"); err != nil {
		t.Fatal(err)
	}
	f2, err := e2.Run(context.Background(), req, nil)
	if err != nil {
		t.Fatal(err)
	}
	if f1.Receipt.Output != f2.Receipt.Output || f1.Receipt.Request != f2.Receipt.Request || f1.CompletionTokens != 8 || f1.Finish != "length" {
		t.Fatalf("runs differ or wrong: %+v / %+v", f1, f2)
	}
	if inference.OutputHash(streamed.String()) != f1.Receipt.Output || f1.Receipt.Request != req.Hash() {
		t.Fatal("the receipt does not hash the streamed text or the request")
	}
	// The receipt hashes the text as a client receives it, through JSON,
	// also when the model's byte tokens split UTF-8 characters (which
	// this model's mostly byte-level vocabulary does often).
	split := 0
	for seed := range uint64(8) {
		req := inference.Request{Model: info.Hash, Prompt: "abc", MaxTokens: 24, Temperature: 1.5, TopP: 1, Seed: seed}
		var received strings.Builder
		f, err := e.Run(context.Background(), req, func(ev inference.Event) error {
			b, err := json.Marshal(ev)
			if err != nil {
				return err
			}
			var got inference.Event
			if err := json.Unmarshal(b, &got); err != nil {
				return err
			}
			received.WriteString(got.Text)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if inference.OutputHash(received.String()) != f.Receipt.Output {
			t.Fatalf("seed %d: the receipt does not hash the text received, %q", seed, received.String())
		}
		if strings.ContainsRune(received.String(), utf8.RuneError) {
			split++
		}
	}
	if split == 0 {
		t.Fatal("no run generated a byte outside a UTF-8 character: the check above checked nothing")
	}

	for name, bad := range map[string]inference.Request{
		"unknown model": {Model: types.Hash{1}, Prompt: "abc"},
		"too long":      {Model: info.Hash, Prompt: "abc", MaxTokens: 40},
		"no prompt":     {Model: info.Hash},
	} {
		_, err := e.Run(context.Background(), bad, nil)
		var ie *inference.Error
		if !errors.As(err, &ie) || ie.Status/100 != 4 {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := e.Add([]byte("not gguf"), ""); err == nil {
		t.Error("a file that is not GGUF was loaded")
	}
}

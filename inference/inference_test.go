package inference

import (
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/mycelnet/mycel/types"
)

func TestReceiptSignVerify(t *testing.T) {
	_, key, _ := ed25519.GenerateKey(nil)
	r := Receipt{Runtime: "mycel-rt/1", Deterministic: true, Model: types.Hash{1}, Request: types.Hash{2}, Output: OutputHash("amen"), Seed: 7}
	r.Sign(key)
	if err := r.Verify(); err != nil {
		t.Fatal(err)
	}
	back, err := ParseReceiptHeader(r.Header())
	if err != nil || back.Verify() != nil || back.Output != r.Output {
		t.Fatalf("header round trip: %+v, %v", back, err)
	}
	_, other, _ := ed25519.GenerateKey(nil)
	for name, tamper := range map[string]func(*Receipt){
		"output":        func(r *Receipt) { r.Output = types.Hash{9} },
		"seed":          func(r *Receipt) { r.Seed++ },
		"runtime":       func(r *Receipt) { r.Runtime = "mycel-rt/2" },
		"deterministic": func(r *Receipt) { r.Deterministic = false },
		"provider":      func(r *Receipt) { r.Provider = types.Address{1} },
		"key":           func(r *Receipt) { r.PubKey = HexBytes(other.Public().(ed25519.PublicKey)) },
		"version":       func(r *Receipt) { r.Version = "mycel-receipt/0" },
	} {
		bad := r
		tamper(&bad)
		if err := bad.Verify(); !errors.Is(err, ErrBadReceipt) {
			t.Errorf("tampered %s: %v", name, err)
		}
	}
	if _, err := ParseReceiptHeader("%%%"); !errors.Is(err, ErrBadReceipt) {
		t.Errorf("garbled header: %v", err)
	}
}

func TestRequestHashIsCanonical(t *testing.T) {
	a := Request{Model: types.Hash{1}, Prompt: "x", Temperature: 0.8, TopP: 1, Seed: 3}
	b := a
	if a.Hash() != b.Hash() {
		t.Fatal("equal requests hash differently")
	}
	b.Seed = 4
	if a.Hash() == b.Hash() {
		t.Fatal("the seed does not change the hash")
	}
}

func TestNormalize(t *testing.T) {
	draw := func() uint64 { return 42 }
	cases := []struct {
		name, body string
		chat       bool
		param      string // "" means valid
		check      func(*testing.T, Request)
	}{
		{"chat defaults", `{"model":"m","messages":[{"role":"user","content":"hi"}]}`, true, "", func(t *testing.T, r Request) {
			if r.Temperature != 1 || r.TopP != 1 || r.Seed != 42 || r.MaxTokens != 0 || len(r.Messages) != 1 {
				t.Errorf("%+v", r)
			}
		}},
		{"parts and stop string", `{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]}],"stop":"\n","seed":5,"max_completion_tokens":9}`, true, "", func(t *testing.T, r Request) {
			if r.Messages[0].Content != "ab" || len(r.Stop) != 1 || r.Stop[0] != "\n" || r.Seed != 5 || r.MaxTokens != 9 {
				t.Errorf("%+v", r)
			}
		}},
		{"null stop", `{"model":"m","prompt":"p","stop":null}`, false, "", func(t *testing.T, r Request) {
			if r.Stop != nil {
				t.Errorf("stop %q", r.Stop)
			}
		}},
		{"n", `{"model":"m","messages":[{"role":"user","content":"hi"}],"n":2}`, true, "n", nil},
		{"top_logprobs", `{"model":"m","messages":[{"role":"user","content":"hi"}],"logprobs":true,"top_logprobs":3}`, true, "top_logprobs", nil},
		{"role", `{"model":"m","messages":[{"role":"robot","content":"hi"}]}`, true, "messages[0].role", nil},
		{"temperature", `{"model":"m","prompt":"p","temperature":3}`, false, "temperature", nil},
		{"max_tokens", `{"model":"m","prompt":"p","max_tokens":0}`, false, "max_tokens", nil},
		{"echo", `{"model":"m","prompt":"p","echo":true}`, false, "echo", nil},
		{"empty prompt", `{"model":"m","prompt":""}`, false, "prompt", nil},
		{"empty messages", `{"model":"m","messages":[]}`, true, "messages", nil},
		{"stops", `{"model":"m","prompt":"p","stop":["a","b","c","d","e"]}`, false, "stop", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var r Request
			var e *Error
			if c.chat {
				var req ChatRequest
				if err := json.Unmarshal([]byte(c.body), &req); err != nil {
					t.Fatal(err)
				}
				r, e = req.Normalize(types.Hash{1}, draw)
			} else {
				var req CompletionRequest
				if err := json.Unmarshal([]byte(c.body), &req); err != nil {
					t.Fatal(err)
				}
				r, e = req.Normalize(types.Hash{1}, draw)
			}
			switch {
			case c.param == "" && e != nil:
				t.Fatalf("refused: %v", e)
			case c.param != "" && (e == nil || e.Param != c.param || e.Status != 400):
				t.Fatalf("got %+v, want a 400 about %s", e, c.param)
			case c.check != nil:
				c.check(t, r)
			}
		})
	}
}

func TestRender(t *testing.T) {
	msgs := []Message{{Role: "system", Content: "be brief"}, {Role: "user", Content: "hi"}}
	if got := Render("plain", msgs); got != "be brief\nhi" {
		t.Errorf("plain: %q", got)
	}
	if got := Render(ChatFormat("{% ... <|im_start|> ... %}"), msgs); !strings.HasSuffix(got, "<|im_start|>assistant\n") || !strings.Contains(got, "<|im_start|>user\nhi<|im_end|>") {
		t.Errorf("chatml: %q", got)
	}
	if got := Render(ChatFormat("<|start_header_id|>"), msgs); !strings.HasPrefix(got, "<|begin_of_text|>") {
		t.Errorf("llama3: %q", got)
	}
}

func FuzzChatRequest(f *testing.F) {
	f.Add([]byte(`{"model":"m","messages":[{"role":"user","content":"hi"}],"stop":["a"],"seed":1}`))
	f.Add([]byte(`{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"x"}]}]}`))
	f.Add([]byte(`{"messages":null,"stop":null,"temperature":-1}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var req ChatRequest
		if json.Unmarshal(b, &req) != nil {
			return
		}
		r, e := req.Normalize(types.Hash{}, func() uint64 { return 1 })
		if e == nil {
			if err := r.Check(); err != nil {
				t.Fatalf("normalized request fails its check: %v", err)
			}
			_ = r.Hash()
		} else if e.Status != 400 || e.Message == "" {
			t.Fatalf("error %+v", e)
		}
	})
}

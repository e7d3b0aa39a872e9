package cli

import (
	"strings"
	"testing"

	"github.com/mycelnet/mycel/runtime/gguf"
)

// A GGUF file's general.name becomes a registry name: kept when valid,
// else with spaces as dashes and other characters dropped.
func TestNameFromGGUF(t *testing.T) {
	for _, tc := range []struct {
		general string
		want    string
		err     string
	}{
		{"synth", "synth", ""},
		{"mycel/kjv-small:q8_0", "mycel/kjv-small:q8_0", ""},
		{"Llama 3.1 8B Instruct", "Llama-3.1-8B-Instruct", ""},
		{"  (Beta) Mistral 7B™ ", "Beta-Mistral-7B", ""},
		{strings.Repeat("long ", 20), strings.Repeat("long-", 12) + "long", ""},
		{"", "", "no general.name"},
		{"日本語", "", "makes no valid model name"},
	} {
		f := &gguf.File{}
		if tc.general != "" {
			f.KV = []gguf.KV{{Key: "general.name", Value: gguf.Str(tc.general)}}
		}
		got, err := nameFromGGUF(f)
		if got != tc.want || (err == nil) != (tc.err == "") || err != nil && !strings.Contains(err.Error(), tc.err) {
			t.Errorf("general.name %q: %q, %v; want %q, %q", tc.general, got, err, tc.want, tc.err)
		}
	}
}

package gguf

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/mycelnet/mycel/internal/crosstest"
)

const installJS = "cd runtime/gguf/testdata/js && npm ci"

// jsOutput is what testdata/js/check.mjs prints.
type jsOutput struct {
	Reader           string `json:"reader"`
	Version          uint32 `json:"version"`
	TensorCount      string `json:"tensorCount"`
	KVCount          string `json:"kvCount"`
	LittleEndian     bool   `json:"littleEndian"`
	TensorDataOffset string `json:"tensorDataOffset"`
	KV               []struct {
		Key     string     `json:"key"`
		Type    ValueType  `json:"type"`
		SubType *ValueType `json:"subType"`
		Value   jsValue    `json:"value"`
	} `json:"kv"`
	Tensors []struct {
		Name   string   `json:"name"`
		NDims  int      `json:"nDims"`
		Shape  []string `json:"shape"`
		DType  Type     `json:"dtype"`
		Offset string   `json:"offset"`
	} `json:"tensors"`
}

// jsValue is a metadata value as check.mjs tags it: exactly one field is
// set, naming the JavaScript type the value arrived as.
type jsValue struct {
	BigInt *string    `json:"bigint"`
	Number *string    `json:"number"`
	Bool   *bool      `json:"bool"`
	String *string    `json:"string"`
	Array  *[]jsValue `json:"array"`
}

// TestAgainstHuggingFaceReader writes files and has an independent
// reader, npm's @huggingface/gguf, read them; every key, value type,
// value, tensor name, shape, type and offset must agree with Read.
func TestAgainstHuggingFaceReader(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		crosstest.NeedTool(t, "node is not installed; install Node.js 20 or later, then run: "+installJS)
	}
	if _, err := os.Stat("testdata/js/node_modules/@huggingface/gguf/package.json"); err != nil {
		crosstest.NeedTool(t, "@huggingface/gguf is not installed; run: "+installJS)
	}
	// Every string here is valid UTF-8: the JavaScript reader decodes
	// strings with TextDecoder, which replaces invalid bytes with U+FFFD,
	// where Read keeps the bytes as they are. Files Read refuses (a
	// misaligned offset, overlapping data, a bool byte of 2) are not
	// compared either: that reader checks none of it.
	withAlign := append([]KV{{"general.alignment", Uint32(64)}}, sampleKV()...)
	files := []struct {
		name string
		data []byte
	}{
		{"sample", writeBytes(t, sampleKV(), sampleTensors())},
		{"alignment 64", writeBytes(t, withAlign, sampleTensors())},
		{"metadata only", writeBytes(t, sampleKV(), nil)},
		{"version 2 by hand", newFile(2, 2, 2).
			kv("general.architecture", ValueString).str("llama").
			kv("tokenizer.ggml.merges", ValueArray).u32(uint32(ValueString)).u64(2).str("a b").str("ab c").
			tensor("a", []uint64{4, 2}, F16, 0).
			tensor("b", []uint64{32, 1, 1, 2}, Q8_0, 32).
			pad(32).zeros(32).zeros(68).bytes()},
	}
	// mycel's own model, as committed: a real tokenizer's worth of
	// metadata and Q8_0 tensors.
	kjv, err := os.ReadFile("../../models/kjv/kjv.gguf")
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, struct {
		name string
		data []byte
	}{"models/kjv/kjv.gguf", kjv})
	dir := t.TempDir()
	paths := make([]string, len(files))
	for i, file := range files {
		paths[i] = filepath.Join(dir, fmt.Sprintf("%d.gguf", i))
		if err := os.WriteFile(paths[i], file.data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, append([]string{"check.mjs"}, paths...)...)
	cmd.Dir = "testdata/js"
	out, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("node check.mjs: %v\n%s", err, stderr)
	}
	var js []jsOutput
	if err := json.Unmarshal(out, &js); err != nil || len(js) != len(files) {
		t.Fatalf("parsing check.mjs output (%d results for %d files): %v\n%s", len(js), len(files), err, out)
	}
	t.Logf("compared with %s", js[0].Reader)
	for i, file := range files {
		t.Run(file.name, func(t *testing.T) {
			f, fh, err := Open(paths[i])
			if err != nil {
				t.Fatal(err)
			}
			fh.Close()
			compareWithJS(t, f, &js[i])
		})
	}
}

func compareWithJS(t *testing.T, f *File, js *jsOutput) {
	t.Helper()
	if js.Version != f.Version || !js.LittleEndian ||
		js.TensorCount != strconv.Itoa(len(f.Tensors)) || js.KVCount != strconv.Itoa(len(f.KV)) ||
		js.TensorDataOffset != strconv.FormatUint(f.DataOffset, 10) {
		t.Errorf("header: js has version %d, %s tensors, %s pairs, data at %s (little-endian %v); Read has %d, %d, %d, %d",
			js.Version, js.TensorCount, js.KVCount, js.TensorDataOffset, js.LittleEndian, f.Version, len(f.Tensors), len(f.KV), f.DataOffset)
	}
	// check.mjs drops the parser's own version, tensor_count and kv_count
	// entries from the metadata, so the rest must be the file's pairs, in
	// file order.
	if len(js.KV) != len(f.KV) {
		t.Fatalf("js has %d pairs, Read %d", len(js.KV), len(f.KV))
	}
	for i, kv := range f.KV {
		j := js.KV[i]
		if j.Key != kv.Key || j.Type != kv.Value.Type() {
			t.Errorf("pair %d: js has %q of type %v, Read %q of type %v", i, j.Key, j.Type, kv.Key, kv.Value.Type())
			continue
		}
		// The reader reports the element type of top-level arrays only;
		// nested arrays' element types are checked through their values.
		et, isArray := kv.Value.ArrayType()
		if isArray != (j.SubType != nil) || (isArray && *j.SubType != et) {
			t.Errorf("key %q: js has element type %v, Read %v", kv.Key, j.SubType, et)
		}
		if err := compareValue(kv.Value, j.Value); err != nil {
			t.Errorf("key %q: %v", kv.Key, err)
		}
	}
	if len(js.Tensors) != len(f.Tensors) {
		t.Fatalf("js has %d tensors, Read %d", len(js.Tensors), len(f.Tensors))
	}
	for i, ti := range f.Tensors {
		j := js.Tensors[i]
		// Both readers give dimensions as stored, ne[0] (the innermost)
		// first; neither reverses them into row-major order as gguf-py's
		// reader does for numpy. Shapes are BigInt in JavaScript, so they
		// arrive as decimal text.
		shapeOK := j.NDims == len(ti.Dims) && len(j.Shape) == len(ti.Dims)
		for k := 0; shapeOK && k < len(ti.Dims); k++ {
			shapeOK = j.Shape[k] == strconv.FormatUint(ti.Dims[k], 10)
		}
		if j.Name != ti.Name || !shapeOK || j.DType != ti.Type || j.Offset != strconv.FormatUint(ti.Offset, 10) {
			t.Errorf("tensor %d: js has %q %v %v at %s; Read has %q %v %v at %d", i, j.Name, j.Shape, j.DType, j.Offset, ti.Name, ti.Dims, ti.Type, ti.Offset)
		}
	}
}

// compareValue compares a Value with what the JavaScript reader made of it.
func compareValue(v Value, j jsValue) error {
	switch t := v.Type(); t {
	case ValueUint64, ValueInt64:
		// A JavaScript number is a float64 and cannot hold every 64-bit
		// integer, so the reader gives 64-bit integers, and only those, as
		// BigInt. Requiring exactly that catches a 64-bit value read
		// through a float64.
		if j.BigInt == nil {
			return fmt.Errorf("a %v did not arrive as a BigInt: %+v", t, j)
		}
		var want string
		if t == ValueUint64 {
			u, _ := v.Uint64()
			want = strconv.FormatUint(u, 10)
		} else {
			n, _ := v.Int64()
			want = strconv.FormatInt(n, 10)
		}
		if *j.BigInt != want {
			return fmt.Errorf("js %s, Read %s", *j.BigInt, want)
		}
	case ValueUint8, ValueInt8, ValueUint16, ValueInt16, ValueUint32, ValueInt32:
		// These fit a float64 exactly, so JavaScript gives plain numbers.
		if j.Number == nil {
			return fmt.Errorf("a %v did not arrive as a number: %+v", t, j)
		}
		n, _ := v.Int64()
		if *j.Number != strconv.FormatInt(n, 10) {
			return fmt.Errorf("js %s, Read %d", *j.Number, n)
		}
	case ValueFloat32, ValueFloat64:
		// JavaScript widens a float32 to float64 exactly and String()
		// prints the shortest text that reads back as the same float64,
		// so the bits compare exactly, the sign of zero included. A NaN
		// prints as "NaN" whatever its payload: only NaN-ness compares.
		if j.Number == nil {
			return fmt.Errorf("a %v did not arrive as a number: %+v", t, j)
		}
		got, err := strconv.ParseFloat(*j.Number, 64)
		if err != nil {
			return err
		}
		want, _ := v.Float64()
		if math.IsNaN(want) != math.IsNaN(got) || (!math.IsNaN(want) && math.Float64bits(got) != math.Float64bits(want)) {
			return fmt.Errorf("js %s, Read %v", *j.Number, want)
		}
	case ValueBool:
		b, _ := v.Bool()
		if j.Bool == nil || *j.Bool != b {
			return fmt.Errorf("js %+v, Read %v", j, b)
		}
	case ValueString:
		s, _ := v.String()
		if j.String == nil || *j.String != s {
			return fmt.Errorf("js %+v, Read %q", j, s)
		}
	case ValueArray:
		vs, _ := v.Values()
		if j.Array == nil || len(*j.Array) != len(vs) {
			return fmt.Errorf("js %+v, Read an array of %d", j, len(vs))
		}
		for i, e := range vs {
			if err := compareValue(e, (*j.Array)[i]); err != nil {
				return fmt.Errorf("element %d: %w", i, err)
			}
		}
	default:
		return fmt.Errorf("value of type %v", t)
	}
	return nil
}

// TestCompareValueCatchesDifferences makes sure the cross-check can fail:
// each JavaScript value here differs from the Value in one way.
func TestCompareValueCatchesDifferences(t *testing.T) {
	text := func(s string) *string { return &s }
	arr := func(vs ...jsValue) *[]jsValue { return &vs }
	yes := true
	tests := []struct {
		name string
		v    Value
		js   jsValue
		same bool
	}{
		{"uint64 as BigInt", Uint64(math.MaxUint64), jsValue{BigInt: text("18446744073709551615")}, true},
		{"uint64 through a float64", Uint64(1<<53 + 1), jsValue{Number: text("9007199254740992")}, false},
		{"int64 off by one", Int64(-5), jsValue{BigInt: text("-4")}, false},
		{"uint32 as BigInt", Uint32(5), jsValue{BigInt: text("5")}, false},
		{"int8", Int8(-5), jsValue{Number: text("-5")}, true},
		{"float32 widened", Float32(0.1), jsValue{Number: text("0.10000000149011612")}, true},
		{"float32 read as float64", Float32(0.1), jsValue{Number: text("0.1")}, false},
		{"negative zero", Float32(float32(math.Copysign(0, -1))), jsValue{Number: text("0")}, false},
		{"NaN", Float64(math.NaN()), jsValue{Number: text("NaN")}, true},
		{"infinity", Float64(math.Inf(-1)), jsValue{Number: text("-Infinity")}, true},
		{"bool", Bool(false), jsValue{Bool: &yes}, false},
		{"string", Str("▁a"), jsValue{String: text("▁a")}, true},
		{"string differs", Str("a"), jsValue{String: text("b")}, false},
		{"array", StrArray([]string{"a"}), jsValue{Array: arr(jsValue{String: text("a")})}, true},
		{"array too long", StrArray([]string{"a"}), jsValue{Array: arr(jsValue{String: text("a")}, jsValue{String: text("b")})}, false},
		{"nested element differs", Array(ValueArray, []Value{Uint32Array([]uint32{1})}),
			jsValue{Array: arr(jsValue{Array: arr(jsValue{Number: text("2")})})}, false},
	}
	for _, tt := range tests {
		err := compareValue(tt.v, tt.js)
		if (err == nil) != tt.same {
			t.Errorf("%s: compareValue = %v, want same = %v", tt.name, err, tt.same)
		}
	}
}

package model_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/mycelnet/mycel/chain/exec"
	"github.com/mycelnet/mycel/chain/model"
	"github.com/mycelnet/mycel/chain/store"
	"github.com/mycelnet/mycel/internal/chaintest"
	"github.com/mycelnet/mycel/types"
)

func hashOf(name string) types.Hash { return types.SumHash([]byte("model file " + name)) }

// registry is chaintest.State with two models: "base", registered by
// alice at height 2, and "tuned", derived from it by bob at height 3.
func registry(t testing.TB) *store.MemDB {
	db := chaintest.State(t)
	steps := []struct {
		who  string
		h    int64
		body []byte
	}{
		{"alice", 2, model.MsgRegisterModel{Hash: hashOf("base"), Name: "base", Format: model.FormatGGUF, Size: 1000, License: "MIT"}.Encode()},
		{"bob", 3, model.MsgRegisterModel{Hash: hashOf("tuned"), Name: "tuned", Format: model.FormatGGUF, Size: 1000, Parent: hashOf("base")}.Encode()},
	}
	for _, s := range steps {
		c := store.NewCache(db)
		if err := model.HandleRegisterModel(exec.New(c, chaintest.Block(s.h)), chaintest.Addr(s.who), s.body); err != nil {
			t.Fatal(err)
		}
		db.Apply(c.Changes())
	}
	return db
}

// apply runs a handler in a branch of db at height 4 and checks the
// invariants; it returns the branch and the events.
func apply(t *testing.T, db *store.MemDB, h func(exec.Ctx, types.Address, []byte) error, who types.Address, body []byte) (*store.Cache, []types.Event, error) {
	t.Helper()
	c := store.NewCache(db)
	ctx := exec.New(c, chaintest.Block(4))
	err := h(ctx, who, body)
	if err == nil {
		if ierr := model.CheckInvariant(c); ierr != nil {
			t.Fatalf("invariant: %v", ierr)
		}
		chaintest.CheckInvariants(t, c)
	}
	return c, ctx.Events(), err
}

func TestValidateName(t *testing.T) {
	for _, tc := range []struct {
		name string
		ok   bool
	}{
		{"llama-3-8b", true},
		{"mycel/kjv-small:q8_0", true},
		{"Model.v2", true},
		{"7b", true},
		{strings.Repeat("a", 64), true},
		{"", false},
		{strings.Repeat("a", 65), false},
		{" padded", false},
		{"padded ", false},
		{"two words", false},
		{"-leading-dash", false},
		{".hidden", false},
		{"/rooted", false},
		{"query?x=1", false},
		{"percent%20", false},
		{"tab\there", false},
		{"naïve", false},
	} {
		err := model.ValidateName(tc.name)
		if (err == nil) != tc.ok {
			t.Errorf("ValidateName(%q) = %v, want ok=%v", tc.name, err, tc.ok)
		}
		if err != nil && !errors.Is(err, model.ErrInvalidName) {
			t.Errorf("ValidateName(%q): %v is not ErrInvalidName", tc.name, err)
		}
	}
}

func TestValidateLicenseAndDescription(t *testing.T) {
	for _, tc := range []struct {
		license string
		err     error
	}{
		{"", nil}, {"MIT", nil}, {"Apache-2.0 OR MIT", nil}, {strings.Repeat("x", 64), nil},
		{strings.Repeat("x", 65), model.ErrInvalidLicense}, {" MIT", model.ErrInvalidLicense},
		{"MIT ", model.ErrInvalidLicense}, {"MIT\n", model.ErrInvalidLicense}, {"licénce", model.ErrInvalidLicense},
	} {
		if err := model.ValidateLicense(tc.license); !errors.Is(err, tc.err) {
			t.Errorf("ValidateLicense(%q) = %v, want %v", tc.license, err, tc.err)
		}
	}
	for _, tc := range []struct {
		desc string
		err  error
	}{
		{"", nil}, {"A small Llama trained on the King James Bible.", nil}, {"Ünïcödé is fine ✓", nil},
		{strings.Repeat("x", 256), nil}, {strings.Repeat("x", 257), model.ErrInvalidDescription},
		{"line\nbreak", model.ErrInvalidDescription}, {"bad \xff utf-8", model.ErrInvalidDescription},
		{"c1 control \u0085", model.ErrInvalidDescription}, {"del \x7f", model.ErrInvalidDescription},
	} {
		if err := model.ValidateDescription(tc.desc); !errors.Is(err, tc.err) {
			t.Errorf("ValidateDescription(%q) = %v, want %v", tc.desc, err, tc.err)
		}
	}
}

func TestFormats(t *testing.T) {
	for _, name := range []string{"gguf", "wasm", "onnx", "safetensors"} {
		f, err := model.ParseFormat(name)
		if err != nil || f.String() != name {
			t.Errorf("ParseFormat(%q) = %v, %v", name, f, err)
		}
	}
	for _, name := range []string{"", "GGUF", "pt", "format(1)"} {
		if _, err := model.ParseFormat(name); !errors.Is(err, model.ErrInvalidFormat) {
			t.Errorf("ParseFormat(%q): %v", name, err)
		}
	}
}

func TestRegister(t *testing.T) {
	ok := model.MsgRegisterModel{Hash: hashOf("new"), Name: "new", Format: model.FormatGGUF, Size: 42, License: "Apache-2.0",
		Description: "a new model"}
	with := func(f func(*model.MsgRegisterModel)) []byte {
		m := ok
		f(&m)
		return m.Encode()
	}
	for _, tc := range []struct {
		name string
		body []byte
		err  error
	}{
		{"ok", ok.Encode(), nil},
		{"with a parent", with(func(m *model.MsgRegisterModel) { m.Parent = hashOf("tuned") }), nil},
		{"same name as another owner's model", with(func(m *model.MsgRegisterModel) { m.Name = "base" }), nil},
		{"every format", with(func(m *model.MsgRegisterModel) { m.Format = model.FormatSafetensors }), nil},
		{"hash registered", with(func(m *model.MsgRegisterModel) { m.Hash = hashOf("base") }), model.ErrModelExists},
		{"unknown parent", with(func(m *model.MsgRegisterModel) { m.Parent = hashOf("nowhere") }), model.ErrUnknownParent},
		{"own parent", with(func(m *model.MsgRegisterModel) { m.Parent = m.Hash }), model.ErrUnknownParent},
		{"zero hash", with(func(m *model.MsgRegisterModel) { m.Hash = types.Hash{} }), model.ErrInvalidHash},
		{"no name", with(func(m *model.MsgRegisterModel) { m.Name = "" }), model.ErrInvalidName},
		{"long name", with(func(m *model.MsgRegisterModel) { m.Name = strings.Repeat("n", 65) }), model.ErrInvalidName},
		{"name with a space", with(func(m *model.MsgRegisterModel) { m.Name = "my model" }), model.ErrInvalidName},
		{"no format", with(func(m *model.MsgRegisterModel) { m.Format = 0 }), model.ErrInvalidFormat},
		{"unknown format", with(func(m *model.MsgRegisterModel) { m.Format = 9 }), model.ErrInvalidFormat},
		{"empty file", with(func(m *model.MsgRegisterModel) { m.Size = 0 }), model.ErrInvalidSize},
		{"long license", with(func(m *model.MsgRegisterModel) { m.License = strings.Repeat("l", 65) }), model.ErrInvalidLicense},
		{"long description", with(func(m *model.MsgRegisterModel) { m.Description = strings.Repeat("d", 257) }), model.ErrInvalidDescription},
		{"too long to decode", with(func(m *model.MsgRegisterModel) { m.Description = strings.Repeat("d", 2000) }), model.ErrMalformed},
		{"truncated", ok.Encode()[:40], model.ErrMalformed},
		{"trailing bytes", append(ok.Encode(), 0), model.ErrMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := registry(t)
			c, evs, err := apply(t, db, model.HandleRegisterModel, chaintest.Addr("carol"), tc.body)
			if !errors.Is(err, tc.err) {
				t.Fatalf("err %v, want %v", err, tc.err)
			}
			if err != nil {
				return
			}
			m, _ := model.DecodeMsgRegisterModel(tc.body)
			got := model.Get(c, m.Hash)
			want := model.Model{Hash: m.Hash, Owner: chaintest.Addr("carol"), Name: m.Name, Format: m.Format, Size: m.Size,
				License: m.License, Parent: m.Parent, Description: m.Description, Registered: 4}
			if got == nil || *got != want {
				t.Fatalf("record %+v, want %+v", got, want)
			}
			if len(evs) != 1 || evs[0].Type != "model_registered" {
				t.Fatalf("events %v", evs)
			}
			if h, _ := evs[0].Get("hash"); h != m.Hash.String() {
				t.Fatalf("event hash %s", h)
			}
		})
	}
}

func TestUpdate(t *testing.T) {
	base := hashOf("base")
	for _, tc := range []struct {
		name string
		who  string
		msg  model.MsgUpdateModel
		err  error
	}{
		{"rename", "alice", model.MsgUpdateModel{Hash: base, Name: "base-v2", License: "MIT"}, nil},
		{"relicense and describe", "alice", model.MsgUpdateModel{Hash: base, Name: "base", License: "CC-BY-4.0", Description: "now described"}, nil},
		{"clear the license", "alice", model.MsgUpdateModel{Hash: base, Name: "base"}, nil},
		{"not the owner", "bob", model.MsgUpdateModel{Hash: base, Name: "mine"}, model.ErrNotOwner},
		{"unknown model", "alice", model.MsgUpdateModel{Hash: hashOf("nowhere"), Name: "x"}, model.ErrUnknownModel},
		{"bad name", "alice", model.MsgUpdateModel{Hash: base, Name: "bad name"}, model.ErrInvalidName},
		{"bad license", "alice", model.MsgUpdateModel{Hash: base, Name: "base", License: "\x00"}, model.ErrInvalidLicense},
		{"bad description", "alice", model.MsgUpdateModel{Hash: base, Name: "base", Description: "\x1b[31m"}, model.ErrInvalidDescription},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := registry(t)
			before := *model.Get(db, base)
			c, evs, err := apply(t, db, model.HandleUpdateModel, chaintest.Addr(tc.who), tc.msg.Encode())
			if !errors.Is(err, tc.err) {
				t.Fatalf("err %v, want %v", err, tc.err)
			}
			if err != nil {
				return
			}
			got := *model.Get(c, base)
			want := before
			want.Name, want.License, want.Description = tc.msg.Name, tc.msg.License, tc.msg.Description
			if got != want {
				t.Fatalf("after update %+v, want %+v (hash, owner, format, size, parent and height never change)", got, want)
			}
			if len(evs) != 1 || evs[0].Type != "model_updated" {
				t.Fatalf("events %v", evs)
			}
			if ms, _ := model.List(c, model.Filter{Name: tc.msg.Name}); len(ms) != 1 || ms[0].Hash != base {
				t.Fatalf("by new name: %v", ms)
			}
		})
	}
}

func TestTransfer(t *testing.T) {
	base := hashOf("base")
	for _, tc := range []struct {
		name string
		who  string
		msg  model.MsgTransferModel
		err  error
	}{
		{"to bob", "alice", model.MsgTransferModel{Hash: base, NewOwner: chaintest.Addr("bob")}, nil},
		{"to an address without an account", "alice", model.MsgTransferModel{Hash: base, NewOwner: chaintest.Addr("nobody")}, nil},
		{"not the owner", "bob", model.MsgTransferModel{Hash: base, NewOwner: chaintest.Addr("bob")}, model.ErrNotOwner},
		{"unknown model", "alice", model.MsgTransferModel{Hash: hashOf("nowhere"), NewOwner: chaintest.Addr("bob")}, model.ErrUnknownModel},
		{"to the zero address", "alice", model.MsgTransferModel{Hash: base}, model.ErrInvalidOwner},
		{"to the owner", "alice", model.MsgTransferModel{Hash: base, NewOwner: chaintest.Addr("alice")}, model.ErrInvalidOwner},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := registry(t)
			c, evs, err := apply(t, db, model.HandleTransferModel, chaintest.Addr(tc.who), tc.msg.Encode())
			if !errors.Is(err, tc.err) {
				t.Fatalf("err %v, want %v", err, tc.err)
			}
			if err != nil {
				return
			}
			if got := model.Get(c, base).Owner; got != tc.msg.NewOwner {
				t.Fatalf("owner %s, want %s", got, tc.msg.NewOwner)
			}
			ms, _ := model.List(c, model.Filter{Owner: &tc.msg.NewOwner})
			if len(byOwner(ms, tc.msg.NewOwner)) != len(ms) || !strings.Contains(hashes(ms, map[types.Hash]string{base: "base"}), "base") {
				t.Fatalf("new owner's models: %v", ms)
			}
			alice := chaintest.Addr("alice")
			if ms, _ := model.List(c, model.Filter{Owner: &alice}); len(ms) != 0 {
				t.Fatalf("alice still lists %v", ms)
			}
			if len(evs) != 1 || evs[0].Type != "model_transferred" {
				t.Fatalf("events %v", evs)
			}
			if p, _ := evs[0].Get("previous_owner"); p != alice.String() {
				t.Fatalf("previous owner %s", p)
			}
			// The new owner may now update it, the old one may not.
			up := model.MsgUpdateModel{Hash: base, Name: "renamed"}.Encode()
			if err := model.HandleUpdateModel(exec.New(c, chaintest.Block(5)), alice, up); !errors.Is(err, model.ErrNotOwner) {
				t.Fatalf("old owner updated: %v", err)
			}
			if err := model.HandleUpdateModel(exec.New(c, chaintest.Block(5)), tc.msg.NewOwner, up); err != nil {
				t.Fatalf("new owner: %v", err)
			}
		})
	}
}

// hashes names the models of a listing by their names in the test.
func hashes(ms []*model.Model, names map[types.Hash]string) string {
	var out []string
	for _, m := range ms {
		out = append(out, names[m.Hash])
	}
	return strings.Join(out, " ")
}

func TestListPages(t *testing.T) {
	db := chaintest.State(t)
	names := map[types.Hash]string{}
	// Ten models: even ones named "shared", odd ones "m1", "m3", ...;
	// alice registers the first five, bob the rest, one a block.
	for i := 0; i < 10; i++ {
		label := fmt.Sprint("m", i)
		names[hashOf(label)] = label
		name, who := label, "alice"
		if i%2 == 0 {
			name = "shared"
		}
		if i >= 5 {
			who = "bob"
		}
		c := store.NewCache(db)
		body := model.MsgRegisterModel{Hash: hashOf(label), Name: name, Format: model.FormatGGUF, Size: 1}.Encode()
		if err := model.HandleRegisterModel(exec.New(c, chaintest.Block(int64(10-i))), chaintest.Addr(who), body); err != nil {
			t.Fatal(err)
		}
		db.Apply(c.Changes())
	}
	// pages walks a listing three at a time.
	pages := func(f model.Filter) string {
		f.Limit = 3
		var all []string
		for {
			ms, err := model.List(db, f)
			if err != nil {
				t.Fatal(err)
			}
			if len(ms) == 0 {
				return strings.Join(all, " | ")
			}
			all = append(all, hashes(ms, names))
			f.After = ms[len(ms)-1].Hash
		}
	}
	var byHash []*model.Model
	model.Each(db, func(m *model.Model) bool { byHash = append(byHash, m); return true })
	alice, bob := chaintest.Addr("alice"), chaintest.Addr("bob")
	for _, tc := range []struct {
		name string
		f    model.Filter
		want string
	}{
		{"all, in hash order", model.Filter{}, hashes(byHash[:3], names) + " | " + hashes(byHash[3:6], names) + " | " +
			hashes(byHash[6:9], names) + " | " + hashes(byHash[9:], names)},
		// Registered at heights 10, 8, 6, 4, 2 for m0, m2, ... m8.
		{"by name, in registration order", model.Filter{Name: "shared"}, "m8 m6 m4 | m2 m0"},
		{"by name and owner", model.Filter{Name: "shared", Owner: &alice}, "m4 m2 m0"},
		{"by a unique name", model.Filter{Name: "m3"}, "m3"},
		{"by an unknown name", model.Filter{Name: "m"}, ""},
		{"by a name too long to exist", model.Filter{Name: strings.Repeat("x", 300)}, ""},
		{"by owner", model.Filter{Owner: &bob}, hashes(byOwner(byHash, bob)[:3], names) + " | " + hashes(byOwner(byHash, bob)[3:], names)},
	} {
		if got := pages(tc.f); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
	if _, err := model.List(db, model.Filter{Name: "shared", After: hashOf("m1")}); !errors.Is(err, model.ErrInvalidQuery) {
		t.Fatalf("a cursor of another name: %v", err)
	}
	if ms, _ := model.List(db, model.Filter{}); len(ms) != 10 {
		t.Fatalf("default limit listed %d", len(ms))
	}
}

func byOwner(ms []*model.Model, a types.Address) []*model.Model {
	var out []*model.Model
	for _, m := range ms {
		if m.Owner == a {
			out = append(out, m)
		}
	}
	return out
}

func TestGenesis(t *testing.T) {
	// The owner has no account: genesis models need none.
	owner := chaintest.Addr("mycel-foundation")
	root := model.Model{Hash: hashOf("root"), Owner: owner, Name: "mycel/kjv-small", Format: model.FormatGGUF, Size: 12345,
		License: "MIT", Description: "mycel's own model"}
	child := model.Model{Hash: hashOf("child"), Owner: owner, Name: "mycel/kjv-small:q8_0", Format: model.FormatGGUF, Size: 999,
		Parent: root.Hash}
	grandchild := model.Model{Hash: hashOf("grandchild"), Owner: chaintest.Addr("alice"), Name: "tuned", Format: model.FormatWasm, Size: 1,
		Parent: child.Hash, Registered: 7}
	for _, tc := range []struct {
		name   string
		models []model.Model
		err    string
	}{
		{"empty", nil, ""},
		{"a provenance chain", []model.Model{root, child, grandchild}, ""},
		{"child before parent", []model.Model{child, root}, "parent model not registered"},
		{"twice", []model.Model{root, root}, "model already registered"},
		{"bad name", []model.Model{{Hash: hashOf("x"), Owner: owner, Name: "bad name", Format: model.FormatGGUF, Size: 1}}, "invalid model name"},
		{"no owner", []model.Model{{Hash: hashOf("x"), Name: "x", Format: model.FormatGGUF, Size: 1}}, "invalid owner"},
		{"no format", []model.Model{{Hash: hashOf("x"), Owner: owner, Name: "x", Size: 1}}, "invalid model format"},
		{"negative height", []model.Model{{Hash: hashOf("x"), Owner: owner, Name: "x", Format: model.FormatGGUF, Size: 1, Registered: -1}}, "negative"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := chaintest.State(t)
			c := store.NewCache(db)
			err := model.InitGenesis(c, model.Genesis{Models: tc.models})
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if err := model.CheckInvariant(c); err != nil {
				t.Fatal(err)
			}
			for _, m := range tc.models {
				if got := model.Get(c, m.Hash); got == nil || *got != m {
					t.Fatalf("%s: %+v, want %+v", m.Name, got, m)
				}
			}
			// Export lists parents first, so importing it rebuilds the
			// same state.
			g := model.ExportGenesis(c)
			if len(g.Models) != len(tc.models) {
				t.Fatalf("exported %d models, want %d", len(g.Models), len(tc.models))
			}
			c2 := store.NewCache(chaintest.State(t))
			if err := model.InitGenesis(c2, g); err != nil {
				t.Fatalf("import the export: %v", err)
			}
			if a, b := fmt.Sprint(c.Changes()), fmt.Sprint(c2.Changes()); a != b {
				t.Fatalf("import of the export differs:\n%s\n%s", a, b)
			}
		})
	}
}

func TestInvariantCatchesCorruption(t *testing.T) {
	for _, tc := range []struct {
		name    string
		corrupt func(kv store.KV)
	}{
		{"a stray name entry", func(kv store.KV) { kv.Set(append([]byte("model/n/\x04base"), make([]byte, 40)...), []byte{}) }},
		{"a lost owner entry", func(kv store.KV) {
			a := chaintest.Addr("alice")
			h := hashOf("base")
			kv.Delete(append(append([]byte("model/o/"), a[:]...), h[:]...))
		}},
		{"a lost parent", func(kv store.KV) { h := hashOf("base"); kv.Delete(append([]byte("model/m/"), h[:]...)) }},
		{"a garbled record", func(kv store.KV) { h := hashOf("tuned"); kv.Set(append([]byte("model/m/"), h[:]...), []byte{1, 2, 3}) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := registry(t)
			if err := model.CheckInvariant(db); err != nil {
				t.Fatal(err)
			}
			c := store.NewCache(db)
			tc.corrupt(c)
			if err := model.CheckInvariant(c); err == nil {
				t.Fatal("invariant missed it")
			}
		})
	}
}

// Every decoder's successful parse re-encodes to the same bytes: the
// encoding is canonical, so a message has one transaction hash.
func FuzzDecode(f *testing.F) {
	for _, s := range seeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if m, err := model.DecodeMsgRegisterModel(b); err == nil && string(m.Encode()) != string(b) {
			t.Fatalf("register: %x re-encodes to %x", b, m.Encode())
		}
		if m, err := model.DecodeMsgUpdateModel(b); err == nil && string(m.Encode()) != string(b) {
			t.Fatalf("update: %x re-encodes to %x", b, m.Encode())
		}
		if m, err := model.DecodeMsgTransferModel(b); err == nil && string(m.Encode()) != string(b) {
			t.Fatalf("transfer: %x re-encodes to %x", b, m.Encode())
		}
	})
}

func seeds() [][]byte {
	return [][]byte{
		model.MsgRegisterModel{Hash: hashOf("new"), Name: "new", Format: model.FormatGGUF, Size: 42, License: "MIT", Description: "d"}.Encode(),
		model.MsgRegisterModel{Hash: hashOf("new"), Name: "child", Format: model.FormatONNX, Size: 1, Parent: hashOf("base")}.Encode(),
		model.MsgRegisterModel{Hash: hashOf("base"), Name: "dup", Format: model.FormatGGUF, Size: 1}.Encode(),
		model.MsgUpdateModel{Hash: hashOf("base"), Name: "renamed", License: "Apache-2.0"}.Encode(),
		model.MsgUpdateModel{Hash: hashOf("tuned"), Name: "tuned-v2"}.Encode(),
		model.MsgTransferModel{Hash: hashOf("base"), NewOwner: chaintest.Addr("bob")}.Encode(),
		model.MsgTransferModel{Hash: hashOf("tuned"), NewOwner: chaintest.Addr("alice")}.Encode(),
		{1, 2, 3},
	}
}

// checked adds the registry's invariant to a handler for the fuzzers.
func checked(h chaintest.Handler) chaintest.Handler {
	return func(ctx exec.Ctx, signer types.Address, body []byte) error {
		if err := h(ctx, signer, body); err != nil {
			return err
		}
		if err := model.CheckInvariant(ctx.KV); err != nil {
			panic(err)
		}
		return nil
	}
}

func fuzzHandler(f *testing.F, h chaintest.Handler) {
	signers := []types.Address{chaintest.Addr("alice"), chaintest.Addr("bob"), chaintest.Addr("carol"), chaintest.Addr("nobody")}
	chaintest.FuzzHandlerWith(f, registry, signers, checked(h), seeds()...)
}

func FuzzRegister(f *testing.F) { fuzzHandler(f, model.HandleRegisterModel) }
func FuzzUpdate(f *testing.F)   { fuzzHandler(f, model.HandleUpdateModel) }
func FuzzTransfer(f *testing.F) { fuzzHandler(f, model.HandleTransferModel) }

// The genesis JSON the devnet writes: optional fields may be left out, and
// a model's JSON reads back the same.
func TestGenesisJSON(t *testing.T) {
	owner := chaintest.Addr("foundation")
	root, child := hashOf("root"), hashOf("child")
	doc := fmt.Sprintf(`{"models": [
		{"hash": %q, "owner": %q, "name": "mycel/kjv-small", "format": "gguf", "size": 1234, "license": "MIT"},
		{"hash": %q, "owner": %q, "name": "mycel/kjv-small:q8_0", "format": "gguf", "size": 345, "parent": %q}]}`,
		root, owner, child, owner, root)
	var g model.Genesis
	if err := json.Unmarshal([]byte(doc), &g); err != nil {
		t.Fatal(err)
	}
	c := store.NewCache(chaintest.State(t))
	if err := model.InitGenesis(c, g); err != nil {
		t.Fatal(err)
	}
	m := model.Get(c, child)
	if m == nil || m.Parent != root || m.Owner != owner || m.Format != model.FormatGGUF || m.Registered != 0 {
		t.Fatalf("%+v", m)
	}
	b, err := json.Marshal(model.Get(c, root))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "parent") {
		t.Fatalf("a model without a parent shows one: %s", b)
	}
	var back model.Model
	if err := json.Unmarshal(b, &back); err != nil || back != *model.Get(c, root) {
		t.Fatalf("round trip: %s -> %+v, %v", b, back, err)
	}
	for _, bad := range []string{`{"models": [{"format": "pickle"}]}`, `{"models": [{"hash": "00"}]}`} {
		if err := json.Unmarshal([]byte(bad), &g); err == nil {
			t.Errorf("%s parsed", bad)
		}
	}
}

package model_test

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"

	"github.com/mycelnet/mycel/chain/exec"
	"github.com/mycelnet/mycel/chain/model"
	"github.com/mycelnet/mycel/chain/store"
	"github.com/mycelnet/mycel/internal/chaintest"
	"github.com/mycelnet/mycel/types"
)

// world is the state of one scenario. Models are named by a label: the
// file with label L hashes to hashOf(L); accounts by their chaintest name.
type world struct {
	t      *testing.T
	db     *store.MemDB
	h      int64
	labels map[types.Hash]string
	names  map[types.Address]string
}

func newWorld(t *testing.T) *world {
	w := &world{t: t, db: chaintest.State(t), h: 1, labels: map[types.Hash]string{}, names: map[types.Address]string{}}
	for _, u := range append([]string{"nobody", "val"}, chaintest.Users...) {
		w.names[chaintest.Addr(u)] = u
	}
	return w
}

func (w *world) hash(label string) types.Hash {
	if label == "" {
		return types.Hash{}
	}
	h := hashOf(label)
	w.labels[h] = label
	return h
}

func (w *world) addr(name string) types.Address {
	a := chaintest.Addr(name)
	w.names[a] = name
	return a
}

func (w *world) show(v string) string {
	if h, err := types.ParseHash(v); err == nil {
		if l, ok := w.labels[h]; ok {
			return l
		}
	}
	if a, err := types.ParseAddress(v); err == nil {
		if n, ok := w.names[a]; ok {
			return n
		}
	}
	return v
}

// run applies f in a branch kept only on success, checks the invariants,
// and reports the error or the events.
func (w *world) run(f func(ctx exec.Ctx) error) string {
	c := store.NewCache(w.db)
	ctx := exec.New(c, chaintest.Block(w.h))
	if err := f(ctx); err != nil {
		return "error: " + w.showAll(err.Error()) + "\n"
	}
	if err := model.CheckInvariant(c); err != nil {
		w.t.Fatalf("height %d: %v", w.h, err)
	}
	chaintest.CheckInvariants(w.t, c)
	w.db.Apply(c.Changes())
	var b strings.Builder
	for _, e := range ctx.Events() {
		b.WriteString(e.Type)
		for _, a := range e.Attrs {
			fmt.Fprintf(&b, " %s=%s", a.Key, w.show(a.Value))
		}
		b.WriteString("\n")
	}
	if b.Len() == 0 {
		return "ok\n"
	}
	return b.String()
}

// showAll replaces the hashes and addresses in a message by their labels.
func (w *world) showAll(s string) string {
	fields := strings.Fields(s)
	for i, f := range fields {
		f = strings.TrimLeft(strings.TrimRight(f, ",;:)"), "(")
		if r := w.show(f); r != f {
			fields[i] = strings.Replace(fields[i], f, r, 1)
		}
	}
	return strings.Join(fields, " ")
}

func (w *world) print(m *model.Model) string {
	s := fmt.Sprintf("%s: name=%q owner=%s format=%s size=%d height=%d", w.labels[m.Hash], m.Name, w.show(m.Owner.String()),
		m.Format, m.Size, m.Registered)
	if m.License != "" {
		s += fmt.Sprintf(" license=%q", m.License)
	}
	if !m.Parent.IsZero() {
		s += " parent=" + w.show(m.Parent.String())
	}
	if m.Description != "" {
		s += fmt.Sprintf(" description=%q", m.Description)
	}
	return s + "\n"
}

// arg reads an argument: key=value on the command line, or a line
// key=value of the input (for values with spaces).
func arg(d *datadriven.TestData, key, def string) string {
	for _, line := range strings.Split(d.Input, "\n") {
		if k, v, ok := strings.Cut(line, "="); ok && k == key {
			return v
		}
	}
	for _, a := range d.CmdArgs {
		if a.Key == key {
			if len(a.Vals) == 0 {
				return ""
			}
			return a.Vals[0]
		}
	}
	return def
}

func (w *world) registration(d *datadriven.TestData) model.MsgRegisterModel {
	label := arg(d, "model", "")
	f, err := model.ParseFormat(arg(d, "format", "gguf"))
	if err != nil {
		f = 0
	}
	size, err := strconv.ParseUint(arg(d, "size", "1000"), 10, 64)
	if err != nil {
		w.t.Fatalf("size: %v", err)
	}
	return model.MsgRegisterModel{Hash: w.hash(label), Name: arg(d, "name", label), Format: f, Size: size,
		License: arg(d, "license", ""), Parent: w.hash(arg(d, "parent", "")), Description: arg(d, "description", "")}
}

func (w *world) do(d *datadriven.TestData) string {
	t := w.t
	switch d.Cmd {
	case "height":
		h, err := strconv.ParseInt(arg(d, "h", ""), 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		w.h = h
		return "ok\n"
	case "genesis":
		m := w.registration(d)
		rec := model.Model{Hash: m.Hash, Owner: w.addr(arg(d, "owner", "")), Name: m.Name, Format: m.Format, Size: m.Size,
			License: m.License, Parent: m.Parent, Description: m.Description}
		return w.run(func(ctx exec.Ctx) error { return model.InitGenesis(ctx.KV, model.Genesis{Models: []model.Model{rec}}) })
	case "register":
		m := w.registration(d)
		by := w.addr(arg(d, "by", "alice"))
		return w.run(func(ctx exec.Ctx) error { return model.HandleRegisterModel(ctx, by, m.Encode()) })
	case "update":
		h := w.hash(arg(d, "model", ""))
		by := w.addr(arg(d, "by", "alice"))
		cur := model.Get(w.db, h)
		m := model.MsgUpdateModel{Hash: h}
		if cur != nil {
			m.Name, m.License, m.Description = cur.Name, cur.License, cur.Description
		}
		m.Name, m.License, m.Description = arg(d, "name", m.Name), arg(d, "license", m.License), arg(d, "description", m.Description)
		return w.run(func(ctx exec.Ctx) error { return model.HandleUpdateModel(ctx, by, m.Encode()) })
	case "transfer":
		m := model.MsgTransferModel{Hash: w.hash(arg(d, "model", ""))}
		if to := arg(d, "to", ""); to != "" {
			m.NewOwner = w.addr(to)
		}
		by := w.addr(arg(d, "by", "alice"))
		return w.run(func(ctx exec.Ctx) error { return model.HandleTransferModel(ctx, by, m.Encode()) })
	case "show":
		m := model.Get(w.db, w.hash(arg(d, "model", "")))
		if m == nil {
			return "not registered\n"
		}
		return w.print(m)
	case "list":
		f := model.Filter{Name: arg(d, "name", ""), After: w.hash(arg(d, "after", ""))}
		if o := arg(d, "owner", ""); o != "" {
			a := w.addr(o)
			f.Owner = &a
		}
		if l := arg(d, "limit", ""); l != "" {
			f.Limit, _ = strconv.Atoi(l)
		}
		ms, err := model.List(w.db, f)
		if err != nil {
			return "error: " + w.showAll(err.Error()) + "\n"
		}
		if len(ms) == 0 {
			return "none\n"
		}
		var b strings.Builder
		for _, m := range ms {
			b.WriteString(w.print(m))
		}
		return b.String()
	case "lineage":
		// The provenance chain of a model, up to its root.
		var chain []string
		for m := model.Get(w.db, w.hash(arg(d, "model", ""))); m != nil; m = model.Get(w.db, m.Parent) {
			chain = append(chain, w.labels[m.Hash])
			if m.Parent.IsZero() {
				break
			}
		}
		return strings.Join(chain, " <- ") + "\n"
	case "export":
		var b strings.Builder
		for _, m := range model.ExportGenesis(w.db).Models {
			b.WriteString(w.print(&m))
		}
		return b.String()
	}
	t.Fatalf("unknown command %q", d.Cmd)
	return ""
}

// TestScenarios runs testdata/scenarios: stories of registrations,
// updates and transfers with the events, errors and listings after each
// step; the registry's invariant is checked after every step. Regenerate
// the expectations with go test ./chain/model -run TestScenarios -rewrite,
// and read the diff.
func TestScenarios(t *testing.T) {
	datadriven.Walk(t, filepath.Join("testdata", "scenarios"), func(t *testing.T, path string) {
		w := newWorld(t)
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			w.t = t
			return w.do(d)
		})
	})
}

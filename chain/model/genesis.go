package model

import (
	"fmt"

	"github.com/mycelnet/mycel/chain/store"
	"github.com/mycelnet/mycel/types"
)

// Genesis is the registry's part of the genesis state: models registered
// before the first block, each validated like a registration. A parent
// must come before its children in the list. An owner needs no account.
type Genesis struct {
	Models []Model `json:"models,omitempty"`
}

// InitGenesis registers the genesis models, at their registered_height
// (0 unless an exported state says otherwise).
func InitGenesis(kv store.KV, g Genesis) error {
	for i := range g.Models {
		m := g.Models[i]
		if m.Registered < 0 {
			return fmt.Errorf("genesis model %d (%s): registered height %d is negative", i, m.Hash, m.Registered)
		}
		if err := register(kv, &m); err != nil {
			return fmt.Errorf("genesis model %d (%s, %q): %w", i, m.Hash, m.Name, err)
		}
	}
	return nil
}

// ExportGenesis returns every registered model, parents before their
// children, so InitGenesis of the result rebuilds the same registry.
func ExportGenesis(r store.Reader) Genesis {
	var all []*Model
	byHash := map[types.Hash]*Model{}
	Each(r, func(m *Model) bool {
		all = append(all, m)
		byHash[m.Hash] = m
		return true
	})
	g := Genesis{Models: make([]Model, 0, len(all))}
	done := map[types.Hash]bool{}
	var visit func(m *Model)
	visit = func(m *Model) {
		if done[m.Hash] {
			return
		}
		done[m.Hash] = true
		if p := byHash[m.Parent]; p != nil {
			visit(p)
		}
		g.Models = append(g.Models, *m)
	}
	for _, m := range all {
		visit(m)
	}
	return g
}

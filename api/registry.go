package api

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/mycelnet/mycel/chain/model"
	"github.com/mycelnet/mycel/types"
)

// registryModels is GET /v1/registry/models?name=&owner=&after=&limit=:
// registered models in hash order, or those of one name in registration
// order; after is the hash of the last model of the previous page.
func (s *server) registryModels(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	f := model.Filter{Name: q.Get("name")}
	if f.Name != "" {
		if err := model.ValidateName(f.Name); err != nil {
			return badRequest("name: %v", err)
		}
	}
	var err error
	if f.Owner, err = queryAddr(r, "owner"); err != nil {
		return err
	}
	if v := q.Get("after"); v != "" {
		if f.After, err = types.ParseHash(strings.ToLower(v)); err != nil {
			return badRequest("after: %v", err)
		}
	}
	limit, err := queryInt(r, "limit", model.DefaultLimit)
	if err != nil {
		return err
	}
	f.Limit = int(min(max(limit, 1), 1000))
	ms, err := s.Backend.RegistryModels(r.Context(), f)
	if err != nil {
		return err
	}
	if ms == nil {
		ms = []*model.Model{}
	}
	writeJSON(w, http.StatusOK, ms)
	return nil
}

// registryModel is GET /v1/registry/models/{sha256}: one model, or 404.
func (s *server) registryModel(w http.ResponseWriter, r *http.Request) error {
	h, err := types.ParseHash(strings.ToLower(r.PathValue("hash")))
	if err != nil {
		return badRequest("%v", err)
	}
	m, err := s.Backend.RegistryModel(r.Context(), h)
	if err != nil {
		return err
	}
	if m == nil {
		return fmt.Errorf("%w: model %s is not registered", ErrNotFound, h)
	}
	writeJSON(w, http.StatusOK, m)
	return nil
}

package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/mycelnet/mycel/chain/model"
	"github.com/mycelnet/mycel/types"
)

// registryBackend serves the registry routes from a list; the embedded
// Backend (nil) is never called by them.
type registryBackend struct {
	Backend
	models []*model.Model
	last   model.Filter
}

func (b *registryBackend) RegistryModel(_ context.Context, h types.Hash) (*model.Model, error) {
	for _, m := range b.models {
		if m.Hash == h {
			return m, nil
		}
	}
	return nil, fmt.Errorf("%w: model %s is not registered", ErrNotFound, h)
}

func (b *registryBackend) RegistryModels(_ context.Context, f model.Filter) ([]*model.Model, error) {
	b.last = f
	if !f.After.IsZero() && f.Name != "" {
		return nil, model.ErrInvalidQuery.Wrapf("after %s: not a model named %q", f.After, f.Name)
	}
	return b.models, nil
}

func TestRegistryRoutes(t *testing.T) {
	owner := types.AddressFromPubKey(make([]byte, 32))
	m := &model.Model{Hash: types.SumHash([]byte("m")), Owner: owner, Name: "mycel/kjv-small", Format: model.FormatGGUF, Size: 10, License: "MIT"}
	be := &registryBackend{models: []*model.Model{m}}
	srv := httptest.NewServer(Handler(Config{Backend: be}))
	defer srv.Close()
	get := func(path string) (int, string) {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var raw json.RawMessage
		if err := json.NewDecoder(resp.Body).Decode(&raw); err != nil {
			t.Fatalf("%s: body is not JSON: %v", path, err)
		}
		return resp.StatusCode, string(raw)
	}
	for _, tc := range []struct {
		path   string
		status int
		body   string
	}{
		{"/v1/registry/models/" + m.Hash.String(), 200, `"name": "mycel/kjv-small"`},
		{"/v1/registry/models/" + strings.ToUpper(m.Hash.String()), 200, `"format": "gguf"`},
		{"/v1/registry/models/" + types.SumHash([]byte("other")).String(), 404, `"code": "not_found"`},
		{"/v1/registry/models/nothex", 400, `"code": "bad_request"`},
		{"/v1/registry/models", 200, `"registered_height": 0`},
		{"/v1/registry/models?name=bad%20name", 400, `invalid model name`},
		{"/v1/registry/models?owner=nobody", 400, `"code": "bad_request"`},
		{"/v1/registry/models?after=xyz", 400, `"code": "bad_request"`},
		{"/v1/registry/models?limit=-1", 400, `"code": "bad_request"`},
		{"/v1/registry/models?name=a&after=" + m.Hash.String(), 400, `"code": "model:invalid_model_query"`},
	} {
		status, body := get(tc.path)
		if status != tc.status || !strings.Contains(body, tc.body) {
			t.Errorf("GET %s: %d %s, want %d with %s", tc.path, status, body, tc.status, tc.body)
		}
	}
	// The query's parameters reach the backend.
	get("/v1/registry/models?name=mycel/kjv-small&owner=" + owner.String() + "&after=" + m.Hash.String() + "&limit=5000")
	get("/v1/registry/models?owner=" + owner.String() + "&after=" + m.Hash.String() + "&limit=5000")
	if f := be.last; f.Owner == nil || *f.Owner != owner || f.After != m.Hash || f.Limit != 1000 {
		t.Fatalf("filter %+v", f)
	}
	// A model with no parent shows none.
	if _, body := get("/v1/registry/models/" + m.Hash.String()); strings.Contains(body, "parent") {
		t.Fatalf("a zero parent is shown: %s", body)
	}
}

package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/mycelnet/mycel/chain/paych"
	"github.com/mycelnet/mycel/types"
)

// channelBackend serves the channel routes from a list; the embedded
// Backend (nil) is never called by them.
type channelBackend struct {
	Backend
	channels []*paych.Channel
	last     paych.Filter
}

func (b *channelBackend) Channel(_ context.Context, id uint64) (*paych.Channel, error) {
	for _, c := range b.channels {
		if c.ID == id {
			return c, nil
		}
	}
	return nil, fmt.Errorf("%w: no channel %d", ErrNotFound, id)
}

func (b *channelBackend) Channels(_ context.Context, f paych.Filter) ([]*paych.Channel, error) {
	b.last = f
	return b.channels, nil
}

func TestChannelRoutes(t *testing.T) {
	payer, payee := types.AddressFromPubKey(make([]byte, 32)), types.AddressFromPubKey([]byte{1})
	c := &paych.Channel{ID: 7, Payer: payer, Payee: payee, Deposit: types.MYC(10), Paid: types.MYC(3), Opened: 4,
		Lanes: []paych.Lane{{Lane: 0, Nonce: 2, Redeemed: types.MYC(3)}}, LaneCount: 1}
	c.VoucherKey[0] = 0xab
	be := &channelBackend{channels: []*paych.Channel{c}}
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
		{"/v1/channels/7", 200, `"deposit": "10000000"`},
		{"/v1/channels/7", 200, `"voucher_key": "ab00`},
		{"/v1/channels/7", 200, `"redeemed": "3000000"`},
		{"/v1/channels/8", 404, `"code": "not_found"`},
		{"/v1/channels/seven", 400, `"code": "bad_request"`},
		{"/v1/channels/-1", 400, `"code": "bad_request"`},
		{"/v1/channels", 200, `"id": "7"`},
		{"/v1/channels?payer=nobody", 400, `"code": "bad_request"`},
		{"/v1/channels?payee=myc1xyz", 400, `"code": "bad_request"`},
		{"/v1/channels?after=x", 400, `"code": "bad_request"`},
		{"/v1/channels?limit=-5", 400, `"code": "bad_request"`},
	} {
		status, body := get(tc.path)
		if status != tc.status || !strings.Contains(body, tc.body) {
			t.Errorf("GET %s: %d %s, want %d with %s", tc.path, status, body, tc.status, tc.body)
		}
	}
	// The query's parameters reach the backend.
	get("/v1/channels?payer=" + payer.String() + "&payee=" + payee.String() + "&after=3&limit=5000")
	if f := be.last; f.Payer == nil || *f.Payer != payer || f.Payee == nil || *f.Payee != payee || f.After != 3 || f.Limit != 1000 {
		t.Fatalf("filter %+v", f)
	}
	// A channel reads back from its JSON.
	_, body := get("/v1/channels/7")
	var back paych.Channel
	if err := json.Unmarshal([]byte(body), &back); err != nil || back.ID != 7 || back.VoucherKey != c.VoucherKey || back.Lane(0).Nonce != 2 {
		t.Fatalf("%s: %+v %v", body, back, err)
	}
}

package api

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/mycelnet/mycel/chain/paych"
)

// channels is GET /v1/channels?payer=&payee=&after=&limit=: payment
// channels in id order, with their lanes, narrowed to a payer, a payee or
// both; after is the id of the last channel of the previous page.
func (s *server) channels(w http.ResponseWriter, r *http.Request) error {
	var f paych.Filter
	var err error
	if f.Payer, err = queryAddr(r, "payer"); err != nil {
		return err
	}
	if f.Payee, err = queryAddr(r, "payee"); err != nil {
		return err
	}
	if v := r.URL.Query().Get("after"); v != "" {
		if f.After, err = strconv.ParseUint(v, 10, 64); err != nil {
			return badRequest("after=%q: want a channel id", v)
		}
	}
	limit, err := queryInt(r, "limit", paych.DefaultLimit)
	if err != nil {
		return err
	}
	f.Limit = int(min(max(limit, 1), 1000))
	cs, err := s.Backend.Channels(r.Context(), f)
	if err != nil {
		return err
	}
	if cs == nil {
		cs = []*paych.Channel{}
	}
	writeJSON(w, http.StatusOK, cs)
	return nil
}

// channel is GET /v1/channels/{id}: one channel with its lanes, or 404.
func (s *server) channel(w http.ResponseWriter, r *http.Request) error {
	id, err := strconv.ParseUint(r.PathValue("id"), 10, 64)
	if err != nil {
		return badRequest("channel id %q: want a number", r.PathValue("id"))
	}
	c, err := s.Backend.Channel(r.Context(), id)
	if err != nil {
		return err
	}
	if c == nil {
		return fmt.Errorf("%w: no channel %d", ErrNotFound, id)
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

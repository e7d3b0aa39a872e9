package paywallet_test

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"sync"
	"testing"

	"github.com/mycelnet/mycel/chain/bank"
	"github.com/mycelnet/mycel/chain/exec"
	"github.com/mycelnet/mycel/chain/paych"
	"github.com/mycelnet/mycel/chain/store"
	"github.com/mycelnet/mycel/client"
	"github.com/mycelnet/mycel/internal/chaintest"
	"github.com/mycelnet/mycel/paywallet"
	"github.com/mycelnet/mycel/types"
)

type bankKeeper struct{}

func (bankKeeper) Send(kv store.KV, from, to types.Address, a types.Amount) error {
	return bank.Send(kv, from, to, a)
}
func (bankKeeper) Balance(r store.Reader, a types.Address) types.Amount { return bank.Balance(r, a) }

var keeper = paych.Keeper{Bank: bankKeeper{}}

// simChain is a chain in memory that runs the real payment channel
// module, for the watcher: it implements paywallet.Chain for one payee.
type simChain struct {
	t       testing.TB
	mu      sync.Mutex
	db      *store.MemDB
	h       int64
	payee   string
	redeems int
	// failRedeem, when set, refuses every redeem with it.
	failRedeem error
}

var (
	_ paywallet.Chain = (*simChain)(nil)
	// The node's API client is the watcher's chain.
	_ paywallet.Chain = client.Payee{}
)

func newSimChain(t testing.TB, payee string) *simChain {
	db := chaintest.State(t)
	if err := paych.InitGenesis(db, paych.Params{SettleBlocks: 5, MinDeposit: 1}); err != nil {
		t.Fatal(err)
	}
	return &simChain{t: t, db: db, h: 2, payee: payee}
}

// apply runs a message in a block of its own.
func (s *simChain) apply(h func(exec.Ctx, types.Address, []byte) error, who string, body []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := store.NewCache(s.db)
	if err := h(exec.New(c, chaintest.Block(s.h)), chaintest.Addr(who), body); err != nil {
		return err
	}
	if err := paych.CheckInvariant(c, bankKeeper{}); err != nil {
		s.t.Fatal(err)
	}
	s.db.Apply(c.Changes())
	s.h++
	return nil
}

func (s *simChain) open(t testing.TB, payer string, amount types.Amount) uint64 {
	m := paych.MsgOpen{Payee: chaintest.Addr(s.payee), VoucherKey: paych.KeyOf(voucherKey(payer)), Amount: amount}
	if err := s.apply(keeper.HandleOpen, payer, m.Encode()); err != nil {
		t.Fatal(err)
	}
	cs := paych.List(s.db, paych.Filter{})
	return cs[len(cs)-1].ID
}

func (s *simChain) channel(id uint64) *paych.Channel {
	s.mu.Lock()
	defer s.mu.Unlock()
	return paych.Get(s.db, id)
}

func (s *simChain) balance(who string) types.Amount {
	s.mu.Lock()
	defer s.mu.Unlock()
	return bank.Balance(s.db, chaintest.Addr(who))
}

func (s *simChain) advance(n int64) {
	s.mu.Lock()
	s.h += n
	s.mu.Unlock()
}

func (s *simChain) Height(context.Context) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.h, nil
}

func (s *simChain) Channel(_ context.Context, id uint64) (*paych.Channel, error) {
	if c := s.channel(id); c != nil {
		return c, nil
	}
	return nil, fmt.Errorf("no channel %d", id)
}

func (s *simChain) Channels(_ context.Context, f paych.Filter) ([]*paych.Channel, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return paych.List(s.db, f), nil
}

func (s *simChain) Redeem(_ context.Context, v paych.Voucher) error {
	if s.failRedeem != nil {
		return s.failRedeem
	}
	err := s.apply(keeper.HandleRedeem, s.payee, paych.MsgRedeem{Voucher: v}.Encode())
	if err == nil {
		s.mu.Lock()
		s.redeems++
		s.mu.Unlock()
	}
	return err
}

// voucherKey is the key that signs a payer's vouchers.
func voucherKey(payer string) ed25519.PrivateKey { return chaintest.Key(payer + "/vouchers") }

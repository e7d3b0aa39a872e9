package bank_test

import (
	"errors"
	"testing"

	"github.com/mycelnet/mycel/chain/auth"
	"github.com/mycelnet/mycel/chain/bank"
	"github.com/mycelnet/mycel/chain/exec"
	"github.com/mycelnet/mycel/chain/store"
	"github.com/mycelnet/mycel/internal/chaintest"
	"github.com/mycelnet/mycel/types"
)

var handle = bank.SendHandler(map[types.Address]bool{auth.FeeCollector: true})

func TestSend(t *testing.T) {
	alice, bob := chaintest.Addr("alice"), chaintest.Addr("bob")
	for _, tc := range []struct {
		name  string
		to    types.Address
		amt   types.Amount
		err   error
		alice types.Amount
		bob   types.Amount
	}{
		{"ok", bob, types.MYC(5), nil, types.MYC(995), types.MYC(1005)},
		{"all of it", bob, types.MYC(1000), nil, 0, types.MYC(2000)},
		{"one too many", bob, types.MYC(1000) + 1, bank.ErrInsufficientFunds, types.MYC(1000), types.MYC(1000)},
		{"zero", bob, 0, bank.ErrInvalidAmount, types.MYC(1000), types.MYC(1000)},
		{"to self", alice, types.MYC(5), nil, types.MYC(1000), types.MYC(1000)},
		{"to a module account", auth.FeeCollector, 1, bank.ErrBlockedRecipient, types.MYC(1000), types.MYC(1000)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := chaintest.State(t)
			c := store.NewCache(db)
			err := handle(exec.New(c, chaintest.Block(2)), alice, bank.MsgSend{To: tc.to, Amount: tc.amt}.Encode())
			if !errors.Is(err, tc.err) {
				t.Fatalf("err %v, want %v", err, tc.err)
			}
			if got := bank.Balance(c, alice); got != tc.alice {
				t.Errorf("alice %s, want %s", got, tc.alice)
			}
			if got := bank.Balance(c, bob); got != tc.bob {
				t.Errorf("bob %s, want %s", got, tc.bob)
			}
			chaintest.CheckInvariants(t, c)
		})
	}
}

func TestMintBurnKeepSupply(t *testing.T) {
	c := store.NewCache(chaintest.State(t))
	a := chaintest.Addr("alice")
	if err := bank.Mint(c, a, 7); err != nil {
		t.Fatal(err)
	}
	if err := bank.Burn(c, a, 3); err != nil {
		t.Fatal(err)
	}
	if err := bank.Burn(c, a, types.MYC(2000)); !errors.Is(err, bank.ErrInsufficientFunds) {
		t.Fatalf("overburn: %v", err)
	}
	if err := bank.Mint(c, a, types.MaxAmount); err == nil {
		t.Fatal("minting past the maximum supply passed")
	}
	s := bank.GetSupply(c)
	if s.Minted != 7 || s.Burned != 3 {
		t.Fatalf("supply %+v", s)
	}
	chaintest.CheckInvariants(t, c)
	// A balance changed behind the bank's back breaks the invariant.
	c.Set(bank.BalanceKey(a), []byte{0x01})
	if bank.CheckInvariant(c) == nil {
		t.Fatal("invariant missed a forged balance")
	}
}

func FuzzSend(f *testing.F) {
	chaintest.FuzzHandler(f, chaintest.Handler(handle),
		bank.MsgSend{To: chaintest.Addr("bob"), Amount: 5}.Encode(),
		bank.MsgSend{To: chaintest.Addr("bob"), Amount: types.MaxAmount}.Encode(),
		[]byte{1, 2, 3})
}

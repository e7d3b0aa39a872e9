package auth_test

import (
	"errors"
	"testing"

	"github.com/mycelnet/mycel/chain/auth"
	"github.com/mycelnet/mycel/chain/bank"
	"github.com/mycelnet/mycel/chain/exec"
	"github.com/mycelnet/mycel/chain/store"
	"github.com/mycelnet/mycel/chain/tx"
	"github.com/mycelnet/mycel/internal/chaintest"
	"github.com/mycelnet/mycel/types"
)

func TestAnte(t *testing.T) {
	alice := chaintest.Key("alice")
	mk := func(f func(*tx.Tx)) *tx.Tx {
		t := &tx.Tx{ChainID: chaintest.ChainID, Fee: 1000, Msgs: []tx.Msg{{Kind: bank.KindSend, Body: make([]byte, 30)}}}
		f(t)
		t.Sign(alice)
		return t
	}
	for _, tc := range []struct {
		name string
		tx   *tx.Tx
		size int
		err  error
	}{
		{"ok", mk(func(*tx.Tx) {}), 200, nil},
		{"wrong chain", mk(func(t *tx.Tx) { t.ChainID = "x" }), 200, auth.ErrWrongChain},
		{"too large", mk(func(*tx.Tx) {}), 40 << 10, auth.ErrTxTooLarge},
		{"expired", mk(func(t *tx.Tx) { t.Expiry = 4 }), 200, auth.ErrExpired},
		{"expires this block", mk(func(t *tx.Tx) { t.Expiry = 5 }), 200, nil},
		{"sequence ahead", mk(func(t *tx.Tx) { t.Sequence = 1 }), 200, auth.ErrBadSequence},
		// 100 per message + 1 per byte: 300 for 200 bytes.
		{"fee below", mk(func(t *tx.Tx) { t.Fee = 299 }), 200, auth.ErrInsufficientFee},
		{"fee exact", mk(func(t *tx.Tx) { t.Fee = 300 }), 200, nil},
		{"fee beyond the balance", mk(func(t *tx.Tx) { t.Fee = types.MYC(1001) }), 200, auth.ErrCannotPayFee},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := chaintest.State(t)
			c := store.NewCache(db)
			err := auth.Ante(exec.New(c, chaintest.Block(5)), tc.tx, tc.size, nil)
			if !errors.Is(err, tc.err) {
				t.Fatalf("err %v, want %v", err, tc.err)
			}
			acc := auth.GetAccount(c, chaintest.Addr("alice"))
			if tc.err != nil {
				if c.Len() != 0 {
					t.Fatalf("a refused transaction wrote %v", c.Changes())
				}
				return
			}
			if acc.Sequence != 1 || bank.Balance(c, auth.FeeCollector) != tc.tx.Fee {
				t.Fatalf("sequence %d, fees %s", acc.Sequence, bank.Balance(c, auth.FeeCollector))
			}
			// The same sequence again is a replay.
			if err := auth.Ante(exec.New(c, chaintest.Block(5)), tc.tx, tc.size, nil); !errors.Is(err, auth.ErrBadSequence) {
				t.Fatalf("replay: %v", err)
			}
		})
	}
}

func TestRequiredFee(t *testing.T) {
	p := auth.Params{MaxTxBytes: 1000, BaseFee: 5, FeePerByte: 2, DefaultMsgFee: 100, MsgFees: []auth.KindFee{{Kind: 1, Fee: 10}}}
	if got, _ := p.RequiredFee([]uint16{1, 2}, 50); got != 5+100+10+100 {
		t.Fatalf("fee %d", got)
	}
	p.FeePerByte = types.MaxAmount
	if _, err := p.RequiredFee(nil, 2); err == nil {
		t.Fatal("overflowing schedule passed")
	}
	bad := auth.Params{MaxTxBytes: 1000, MsgFees: []auth.KindFee{{Kind: 2}, {Kind: 1}}}
	if bad.Validate() == nil {
		t.Fatal("unsorted fees passed")
	}
}

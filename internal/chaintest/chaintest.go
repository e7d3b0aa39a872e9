// Package chaintest builds small chain states for the modules' tests and
// fuzzers: funded accounts, the modules' parameters, a validator and a
// few bonds, all in memory.
package chaintest

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"fmt"
	"testing"

	"github.com/mycelnet/mycel/chain/auth"
	"github.com/mycelnet/mycel/chain/bank"
	"github.com/mycelnet/mycel/chain/exec"
	"github.com/mycelnet/mycel/chain/mint"
	"github.com/mycelnet/mycel/chain/stake"
	"github.com/mycelnet/mycel/chain/store"
	"github.com/mycelnet/mycel/types"
)

// ChainID of test states.
const ChainID = "chaintest"

// Key returns a deterministic key for a name.
func Key(name string) ed25519.PrivateKey {
	s := sha256.Sum256([]byte("chaintest/" + name))
	return ed25519.NewKeyFromSeed(s[:])
}

// Addr returns the address of Key(name).
func Addr(name string) types.Address {
	return types.AddressFromPubKey(Key(name).Public().(ed25519.PublicKey))
}

// Users are the funded accounts of State, 1000 MYC each.
var Users = []string{"alice", "bob", "carol"}

// StakeParams are the stake rules of State.
func StakeParams() stake.Params {
	return stake.Params{
		UnbondingBlocks: 5, UnbondingSeconds: 5, MinValidatorBond: types.MYC(1), PowerReduction: types.MYC(1),
		MaxValidators: 10, JailBlocks: 3, DoubleSignSlash: types.FractionOne / 20, ReporterReward: types.FractionOne / 10,
	}
}

// State returns a genesis state: the users funded, "val" a validator with
// 10 MYC bonded, carol bonded 5 MYC as a provider, and every module's
// parameters set.
func State(t testing.TB) *store.MemDB {
	db := store.NewMemDB()
	ctx := exec.New(db, Block(1))
	var balances []bank.GenesisBalance
	for _, u := range Users {
		balances = append(balances, bank.GenesisBalance{Address: Addr(u), Amount: types.MYC(1000)})
	}
	balances = append(balances, bank.GenesisBalance{Address: Addr("val"), Amount: types.MYC(100)},
		bank.GenesisBalance{Address: stake.Pool, Amount: types.MYC(15)})
	must(t, bank.InitGenesis(db, bank.Genesis{Balances: balances}))
	must(t, auth.SetParams(db, auth.Params{MaxTxBytes: 32 << 10, FeePerByte: 1, DefaultMsgFee: 100}))
	must(t, mint.InitGenesis(db, mint.Params{InitialReward: types.MYC(1), HalvingBlocks: 100, ProviderShare: types.FractionOne / 2}))
	_, err := stake.InitGenesis(ctx, stake.Genesis{
		Params:     StakeParams(),
		Validators: []stake.GenesisValidator{{Operator: Addr("val"), ConsensusKey: Key("val-cons").Public().(ed25519.PublicKey), Amount: types.MYC(10)}},
		Bonds:      []stake.GenesisBond{{Address: Addr("carol"), Purpose: stake.Provider, Amount: types.MYC(5)}},
	})
	must(t, err)
	return db
}

// Block returns the block at height h, a second apart.
func Block(h int64) types.Block {
	return types.Block{ChainID: ChainID, Height: h, TimeUnixNano: (1_700_000_000 + h) * 1e9}
}

func must(t testing.TB, err error) {
	if err != nil {
		t.Fatal(err)
	}
}

// CheckInvariants fails the test if the supply or stake invariant breaks.
func CheckInvariants(t testing.TB, r store.Reader) {
	t.Helper()
	if err := bank.CheckInvariant(r); err != nil {
		t.Fatal(err)
	}
	if err := stake.CheckInvariant(r); err != nil {
		t.Fatal(err)
	}
}

// Handler is a message handler.
type Handler func(ctx exec.Ctx, signer types.Address, body []byte) error

// FuzzHandler fuzzes a message handler over State: it never panics,
// never modifies its input, gives the same result and the same writes when
// run twice on the same state, keeps the invariants, and leaves nothing
// behind when it fails inside a branch.
func FuzzHandler(f *testing.F, h Handler, seeds ...[]byte) {
	signers := []types.Address{Addr("val"), Addr("nobody")}
	for _, u := range Users {
		signers = append(signers, Addr(u))
	}
	FuzzHandlerWith(f, State, signers, h, seeds...)
}

// FuzzHandlerWith is FuzzHandler over another base state and signers,
// with extra invariants to keep.
func FuzzHandlerWith(f *testing.F, state func(testing.TB) *store.MemDB, signers []types.Address, h Handler, seeds ...[]byte) {
	for _, s := range seeds {
		f.Add(uint8(0), s)
	}
	f.Fuzz(func(t *testing.T, who uint8, body []byte) {
		signer := signers[int(who)%len(signers)]
		in := bytes.Clone(body)
		base := state(t)
		run := func() (string, []store.Change) {
			c := store.NewCache(base)
			err := h(exec.New(c, Block(3)), signer, body)
			if err != nil {
				return err.Error(), nil
			}
			CheckInvariants(t, c)
			return "", c.Changes()
		}
		e1, c1 := run()
		e2, c2 := run()
		if !bytes.Equal(in, body) {
			t.Fatal("handler modified its input")
		}
		if e1 != e2 || fmt.Sprint(c1) != fmt.Sprint(c2) {
			t.Fatalf("two runs differ: %q %v / %q %v", e1, c1, e2, c2)
		}
	})
}

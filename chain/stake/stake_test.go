package stake_test

import (
	"crypto/ed25519"
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/mycelnet/mycel/chain/bank"
	"github.com/mycelnet/mycel/chain/exec"
	"github.com/mycelnet/mycel/chain/stake"
	"github.com/mycelnet/mycel/chain/store"
	"github.com/mycelnet/mycel/internal/chaintest"
	"github.com/mycelnet/mycel/types"
)

func ctxAt(kv store.KV, h int64) exec.Ctx { return exec.New(kv, chaintest.Block(h)) }

func bondBody(p stake.Purpose, amt types.Amount) []byte {
	return stake.MsgBond{Purpose: p, Amount: amt}.Encode()
}

func validatorBond(t *testing.T, who string, amt types.Amount, cons ed25519.PrivateKey) []byte {
	pub := cons.Public().(ed25519.PublicKey)
	sig := ed25519.Sign(cons, stake.ConsensusKeyProofBytes(chaintest.ChainID, chaintest.Addr(who)))
	return stake.MsgBond{Purpose: stake.Validator, Amount: amt, ConsensusKey: pub, ConsensusSig: sig}.Encode()
}

func TestBondRules(t *testing.T) {
	bob := chaintest.Addr("bob")
	cons := chaintest.Key("bob-cons")
	otherSig := ed25519.Sign(chaintest.Key("mallory"), stake.ConsensusKeyProofBytes(chaintest.ChainID, bob))
	stolen := stake.MsgBond{Purpose: stake.Validator, Amount: types.MYC(5),
		ConsensusKey: cons.Public().(ed25519.PublicKey), ConsensusSig: otherSig}.Encode()
	taken := validatorBond(t, "bob", types.MYC(5), chaintest.Key("val-cons"))
	for _, tc := range []struct {
		name string
		body []byte
		err  error
	}{
		{"provider", bondBody(stake.Provider, types.MYC(5)), nil},
		{"validator with proof", validatorBond(t, "bob", types.MYC(5), cons), nil},
		{"validator without key", bondBody(stake.Validator, types.MYC(5)), stake.ErrConsensusKey},
		{"validator with someone else's signature", stolen, stake.ErrConsensusKey},
		{"consensus key already bound", taken, stake.ErrConsensusKey},
		{"validator below the minimum", validatorBond(t, "bob", types.MYC(1)-1, cons), stake.ErrInsufficientBond},
		{"key on a provider bond", stake.MsgBond{Purpose: stake.Provider, Amount: 1, ConsensusKey: make([]byte, 32)}.Encode(), stake.ErrConsensusKey},
		{"unknown purpose", bondBody(9, 1), stake.ErrUnknownPurpose},
		{"zero", bondBody(stake.Agent, 0), stake.ErrInvalidAmount},
		{"more than the balance", bondBody(stake.Agent, types.MYC(1001)), bank.ErrInsufficientFunds},
		{"garbage", []byte{1}, stake.ErrMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := store.NewCache(chaintest.State(t))
			err := stake.HandleBond(ctxAt(c, 2), bob, tc.body)
			if !errors.Is(err, tc.err) {
				t.Fatalf("err %v, want %v", err, tc.err)
			}
			chaintest.CheckInvariants(t, c)
		})
	}
}

func TestUnbondPaysBackAfterThePeriod(t *testing.T) {
	db := chaintest.State(t)
	carol := chaintest.Addr("carol")
	before := bank.Balance(db, carol)
	c := store.NewCache(db)
	if err := stake.HandleUnbond(ctxAt(c, 2), carol, stake.MsgUnbond{Purpose: stake.Provider, Amount: types.MYC(2)}.Encode()); err != nil {
		t.Fatal(err)
	}
	if err := stake.HandleUnbond(ctxAt(c, 2), carol, stake.MsgUnbond{Purpose: stake.Provider, Amount: types.MYC(4)}.Encode()); !errors.Is(err, stake.ErrInsufficientBond) {
		t.Fatalf("unbonding more than bonded: %v", err)
	}
	// Unbonding 2 at height 2 completes at height 7 (5 blocks, 5 s).
	for h := int64(2); h <= 7; h++ {
		if _, err := stake.EndBlock(ctxAt(c, h)); err != nil {
			t.Fatal(err)
		}
		chaintest.CheckInvariants(t, c)
		paid := bank.Balance(c, carol) == before+types.MYC(2)
		if paid != (h == 7) {
			t.Fatalf("height %d: paid=%v", h, paid)
		}
	}
	if len(stake.UnbondingsOf(c, carol)) != 0 {
		t.Fatal("a paid entry is still listed")
	}
}

func TestValidatorCannotLeaveADust(t *testing.T) {
	c := store.NewCache(chaintest.State(t))
	val := chaintest.Addr("val")
	err := stake.HandleUnbond(ctxAt(c, 2), val, stake.MsgUnbond{Purpose: stake.Validator, Amount: types.MYC(10) - 1}.Encode())
	if !errors.Is(err, stake.ErrInsufficientBond) {
		t.Fatalf("left 1umyc of validator bond: %v", err)
	}
}

// Slashing reaches the bond and the unbonding entries that started at or
// after the infraction, pays the reporter its share and burns the rest.
func TestSlashReachesUnbondingAndPaysReporter(t *testing.T) {
	c := store.NewCache(chaintest.State(t))
	carol, bob := chaintest.Addr("carol"), chaintest.Addr("bob")
	// Carol has 5 MYC bonded as a provider; she unbonds 1 at height 2 and
	// 2 at height 4.
	for _, x := range []struct {
		h   int64
		amt types.Amount
	}{{2, types.MYC(1)}, {4, types.MYC(2)}} {
		if err := stake.HandleUnbond(ctxAt(c, x.h), carol, stake.MsgUnbond{Purpose: stake.Provider, Amount: x.amt}.Encode()); err != nil {
			t.Fatal(err)
		}
	}
	bobBefore := bank.Balance(c, bob)
	supplyBefore := bank.GetSupply(c)
	// Fault at height 3: the entry from height 2 is spared.
	taken, _, err := stake.Slash(ctxAt(c, 5), carol, stake.Provider, types.FractionOne/2, "test", stake.SlashOptions{InfractionHeight: 3, Reporter: &bob, Jail: true})
	if err != nil {
		t.Fatal(err)
	}
	// Half of the 2 MYC bond and half of the 2 MYC entry.
	if taken != types.MYC(2) {
		t.Fatalf("took %s, want 2myc", taken)
	}
	if got := bank.Balance(c, bob) - bobBefore; got != types.MYC(2)/10 {
		t.Fatalf("reporter got %s, want 10%% of the slash", got)
	}
	if burned := bank.GetSupply(c).Burned - supplyBefore.Burned; burned != types.MYC(2)-types.MYC(2)/10 {
		t.Fatalf("burned %s", burned)
	}
	b, _ := stake.GetBond(c, carol, stake.Provider)
	if b.Amount != types.MYC(1) || !b.Jailed || b.JailedUntil != 5+3 {
		t.Fatalf("bond after slash %+v", b)
	}
	var amounts []types.Amount
	for _, u := range stake.UnbondingsOf(c, carol) {
		amounts = append(amounts, u.Amount)
	}
	if len(amounts) != 2 || amounts[0] != types.MYC(1) || amounts[1] != types.MYC(1) {
		t.Fatalf("unbonding entries after slash %v", amounts)
	}
	chaintest.CheckInvariants(t, c)

	// Jailed until height 8; unjail before is refused, after allowed.
	if err := stake.HandleUnjail(ctxAt(c, 7), carol, stake.MsgUnjail{Purpose: stake.Provider}.Encode()); !errors.Is(err, stake.ErrStillJailed) {
		t.Fatalf("early unjail: %v", err)
	}
	if err := stake.HandleUnjail(ctxAt(c, 8), carol, stake.MsgUnjail{Purpose: stake.Provider}.Encode()); err != nil {
		t.Fatal(err)
	}
}

// Thousands of random bonds, unbonds, slashes, jails and unjails, with
// the invariants checked after every block.
func TestRandomStakeHistoryKeepsInvariants(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	db := chaintest.State(t)
	who := append(append([]string{}, chaintest.Users...), "val")
	ops := 0
	for h := int64(2); h < 400; h++ {
		c := store.NewCache(db)
		ctx := ctxAt(c, h)
		for i := 0; i < 10; i++ {
			a := chaintest.Addr(who[rng.IntN(len(who))])
			p := stake.Purposes()[1+rng.IntN(3)]
			amt := types.Amount(rng.Uint64N(uint64(types.MYC(30))) + 1)
			var err error
			switch rng.IntN(6) {
			case 0, 1:
				err = stake.HandleBond(ctx, a, bondBody(p, amt))
			case 2, 3:
				err = stake.HandleUnbond(ctx, a, stake.MsgUnbond{Purpose: p, Amount: amt}.Encode())
			case 4:
				r := chaintest.Addr(who[rng.IntN(len(who))])
				_, _, err = stake.Slash(ctx, a, p, types.Fraction(rng.IntN(types.FractionOne+1)), "random",
					stake.SlashOptions{InfractionHeight: h - int64(rng.IntN(10)), Reporter: &r, Jail: rng.IntN(2) == 0})
			case 5:
				err = stake.HandleUnjail(ctx, a, stake.MsgUnjail{Purpose: p}.Encode())
			}
			if err == nil {
				ops++
			}
		}
		if _, err := stake.EndBlock(ctx); err != nil {
			t.Fatal(err)
		}
		chaintest.CheckInvariants(t, c)
		db.Apply(c.Changes())
	}
	if ops < 1000 {
		t.Fatalf("only %d operations succeeded", ops)
	}
}

func TestValidatorSetFollowsBondsAndKeepsOne(t *testing.T) {
	c := store.NewCache(chaintest.State(t))
	val := chaintest.Addr("val")
	// Jailing the only validator would empty the set: it is kept.
	stake.Jail(ctxAt(c, 2), val, stake.Validator, 10, "test")
	ups, err := stake.EndBlock(ctxAt(c, 2))
	if err != nil || len(ups) != 0 {
		t.Fatalf("updates %v, %v", ups, err)
	}
	// A second validator joins; now the jailed one leaves.
	cons := chaintest.Key("bob-cons")
	if err := stake.HandleBond(ctxAt(c, 3), chaintest.Addr("bob"), validatorBond(t, "bob", types.MYC(20), cons)); err != nil {
		t.Fatal(err)
	}
	ups, err = stake.EndBlock(ctxAt(c, 3))
	if err != nil {
		t.Fatal(err)
	}
	if len(ups) != 2 {
		t.Fatalf("updates %v", ups)
	}
	for _, u := range ups {
		switch string(u.PubKey) {
		case string(cons.Public().(ed25519.PublicKey)):
			if u.Power != 20 {
				t.Fatalf("new validator power %d", u.Power)
			}
		case string(chaintest.Key("val-cons").Public().(ed25519.PublicKey)):
			if u.Power != 0 {
				t.Fatalf("jailed validator power %d", u.Power)
			}
		default:
			t.Fatalf("unknown key in %v", u)
		}
	}
}

func FuzzBond(f *testing.F) {
	chaintest.FuzzHandler(f, stake.HandleBond, bondBody(stake.Provider, 5), bondBody(stake.Validator, types.MYC(2)), []byte{2})
}

func FuzzUnbond(f *testing.F) {
	chaintest.FuzzHandler(f, stake.HandleUnbond, stake.MsgUnbond{Purpose: stake.Provider, Amount: 5}.Encode(), []byte{1, 0xff})
}

func FuzzUnjail(f *testing.F) {
	chaintest.FuzzHandler(f, stake.HandleUnjail, stake.MsgUnjail{Purpose: stake.Validator}.Encode(), nil)
}

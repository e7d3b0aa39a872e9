package mint_test

import (
	"testing"

	"github.com/mycelnet/mycel/chain/auth"
	"github.com/mycelnet/mycel/chain/bank"
	"github.com/mycelnet/mycel/chain/exec"
	"github.com/mycelnet/mycel/chain/mint"
	"github.com/mycelnet/mycel/chain/store"
	"github.com/mycelnet/mycel/internal/chaintest"
	"github.com/mycelnet/mycel/types"
)

func TestSchedule(t *testing.T) {
	p := mint.Params{InitialReward: 1000, HalvingBlocks: 10}
	for h, want := range map[int64]types.Amount{0: 0, 1: 1000, 10: 1000, 11: 500, 21: 250, 10*64 + 1: 0, 1 << 40: 0} {
		if got := p.Reward(h); got != want {
			t.Errorf("reward(%d) = %d, want %d", h, got, want)
		}
	}
	// The total converges below 2 × initial × interval.
	var total types.Amount
	for h := int64(1); h <= 10*70; h++ {
		total += p.Reward(h)
	}
	if total >= 2*1000*10 {
		t.Fatalf("total emission %d", total)
	}
}

// Fees and the validators' part of the reward are split by stake; the
// remainder of the division waits in the distribution account for the
// next block, so no token is lost.
func TestSplitByStakeKeepsRemainder(t *testing.T) {
	c := store.NewCache(chaintest.State(t))
	a, b := chaintest.Addr("alice"), chaintest.Addr("bob")
	if err := bank.Send(c, a, auth.FeeCollector, 7); err != nil {
		t.Fatal(err)
	}
	ba, bb := bank.Balance(c, a), bank.Balance(c, b)
	// InitialReward 1 MYC, half to providers: 500000 + 7 fees to split 1:2.
	err := mint.EndBlock(exec.New(c, chaintest.Block(1)), auth.FeeCollector,
		[]mint.Recipient{{Address: a, Weight: 1}, {Address: b, Weight: 2}})
	if err != nil {
		t.Fatal(err)
	}
	ga, gb := bank.Balance(c, a)-ba, bank.Balance(c, b)-bb
	if ga != 166669 || gb != 333338 {
		t.Fatalf("split %d / %d", ga, gb)
	}
	if left := bank.Balance(c, mint.Distribution); left != 500007-ga-gb {
		t.Fatalf("remainder %d", left)
	}
	if bank.Balance(c, mint.ProviderPool) != 500000 || bank.Balance(c, auth.FeeCollector) != 0 {
		t.Fatal("provider pool or fee collector wrong")
	}
	if mint.Earned(c, b) != gb {
		t.Fatal("earned not recorded")
	}
	chaintest.CheckInvariants(t, c)
}

package compute_test

import (
	"crypto/ed25519"
	"crypto/sha256"
	"testing"

	"github.com/mycelnet/mycel/chain/compute"
	"github.com/mycelnet/mycel/chain/exec"
	"github.com/mycelnet/mycel/chain/store"
	"github.com/mycelnet/mycel/internal/chaintest"
	"github.com/mycelnet/mycel/types"
)

func TestClasses(t *testing.T) {
	for _, tc := range []struct {
		prov compute.Profile
		req  compute.Requirements
		ok   bool
	}{
		{compute.Profile{Cores: 4, MemoryMB: 8192}, compute.Requirements{Cores: 4, MemoryMB: 8192}, true},
		{compute.Profile{Cores: 4, MemoryMB: 8192}, compute.Requirements{Cores: 5}, false},
		{compute.Profile{Cores: 8, MemoryMB: 8192}, compute.Requirements{Cores: 5}, true},
		// Quantised: 6 GB serves 4 GB but not 5 GB (classes are powers of two).
		{compute.Profile{Cores: 1, MemoryMB: 6144}, compute.Requirements{MemoryMB: 4096}, true},
		{compute.Profile{Cores: 1, MemoryMB: 6144}, compute.Requirements{MemoryMB: 5000}, false},
		{compute.Profile{Cores: 1, MemoryMB: 100}, compute.Requirements{MemoryMB: 1}, false},
		{compute.Profile{Cores: 1, MemoryMB: 256}, compute.Requirements{MemoryMB: 1}, true},
		// A GPU box runs CPU jobs; a CPU box never runs GPU jobs.
		{compute.Profile{Cores: 8, MemoryMB: 1 << 16, Accel: compute.AccelGPU, AccelCount: 1, AccelMemoryMB: 24576}, compute.Requirements{Cores: 2}, true},
		{compute.Profile{Cores: 8, MemoryMB: 1 << 16}, compute.Requirements{Accel: compute.AccelGPU}, false},
		{compute.Profile{Cores: 8, MemoryMB: 1 << 16, Accel: compute.AccelGPU, AccelCount: 1, AccelMemoryMB: 24576}, compute.Requirements{Accel: compute.AccelGPU, AccelMemoryMB: 16384}, true},
		{compute.Profile{Cores: 8, MemoryMB: 1 << 16, Accel: compute.AccelGPU, AccelCount: 1, AccelMemoryMB: 24576}, compute.Requirements{Accel: compute.AccelGPU, AccelMemoryMB: 40960}, false},
	} {
		if got := compute.ClassOf(tc.prov).Serves(compute.ClassNeeded(tc.req)); got != tc.ok {
			t.Errorf("%+v serves %+v = %v, want %v", tc.prov, tc.req, got, tc.ok)
		}
	}
}

func TestCostRoundsUpAndNeverOverflows(t *testing.T) {
	for _, tc := range []struct {
		gas   uint64
		price types.Amount
		want  types.Amount
	}{
		{0, 1000, 0}, {1, 1, 1}, {1_000_000, 1, 1}, {1_000_001, 1, 2}, {12_345_678, 10_000, 123_457},
	} {
		if got, err := compute.Cost(tc.gas, tc.price, 1_000_000); err != nil || got != tc.want {
			t.Errorf("Cost(%d, %d) = %d, %v; want %d", tc.gas, tc.price, got, err, tc.want)
		}
	}
	if _, err := compute.Cost(^uint64(0), types.MaxAmount, 1); err == nil {
		t.Fatal("overflow passed")
	}
}

func TestCommitmentBindsEveryField(t *testing.T) {
	salt := sha256.Sum256([]byte("s"))
	base := compute.Commitment(1, types.SumHash([]byte("o")), 10, "", salt)
	for name, c := range map[string]types.Hash{
		"job":     compute.Commitment(2, types.SumHash([]byte("o")), 10, "", salt),
		"output":  compute.Commitment(1, types.SumHash([]byte("p")), 10, "", salt),
		"gas":     compute.Commitment(1, types.SumHash([]byte("o")), 11, "", salt),
		"failure": compute.Commitment(1, types.SumHash([]byte("o")), 10, "trap", salt),
		"salt":    compute.Commitment(1, types.SumHash([]byte("o")), 10, "", sha256.Sum256([]byte("t"))),
	} {
		if c == base {
			t.Errorf("changing the %s left the commitment unchanged", name)
		}
	}
}

// assignedState is a state with provider p1 registered and job 1
// submitted by alice and assigned to it, at height 3.
func assignedState(t testing.TB) *store.MemDB {
	db := chaintest.State(t)
	if err := compute.InitGenesis(db, scenarioParams()); err != nil {
		t.Fatal(err)
	}
	p1 := chaintest.Addr("p1")
	steps := []func(ctx exec.Ctx) error{
		func(ctx exec.Ctx) error { return bankKeeper{}.Send(ctx.KV, chaintest.Addr("bob"), p1, types.MYC(100)) },
		func(ctx exec.Ctx) error {
			return keeper.HandleRegisterProvider(ctx, p1, compute.MsgRegisterProvider{
				Profile: compute.Profile{Cores: 4, MemoryMB: 8192}, Price: 10, Tier: compute.TierConsumer, Slots: 2, Stake: types.MYC(20)}.Encode())
		},
		func(ctx exec.Ctx) error {
			return keeper.HandleSubmitJob(ctx, chaintest.Addr("alice"), compute.MsgSubmitJob{Kind: compute.KindWasm,
				Program: types.SumHash([]byte("p")), MaxPrice: types.MYC(1), GasLimit: 1e9}.Encode())
		},
		func(ctx exec.Ctx) error { return keeper.EndBlock(ctx) },
	}
	for _, s := range steps {
		c := store.NewCache(db)
		if err := s(exec.New(c, chaintest.Block(2))); err != nil {
			t.Fatal(err)
		}
		db.Apply(c.Changes())
	}
	if j := compute.GetJob(db, 1); j == nil || j.State != compute.Assigned {
		t.Fatalf("job not assigned: %+v", j)
	}
	return db
}

func computeSigners() []types.Address {
	return []types.Address{chaintest.Addr("p1"), chaintest.Addr("alice"), chaintest.Addr("bob"), chaintest.Addr("nobody")}
}

func fuzz(f *testing.F, h chaintest.Handler, seeds ...[]byte) {
	chaintest.FuzzHandlerWith(f, assignedState, computeSigners(), h, seeds...)
}

func FuzzRegisterProvider(f *testing.F) {
	fuzz(f, keeper.HandleRegisterProvider, compute.MsgRegisterProvider{Profile: compute.Profile{Cores: 2, MemoryMB: 1024},
		Price: 5, Tier: compute.TierDatacenter, Slots: 1, Stake: types.MYC(10)}.Encode())
}

func FuzzSubmitJob(f *testing.F) {
	fuzz(f, keeper.HandleSubmitJob, compute.MsgSubmitJob{Kind: compute.KindWasm, Program: types.SumHash([]byte("p")),
		MaxPrice: types.MYC(1), GasLimit: 1e6}.Encode(),
		compute.MsgSubmitJob{Kind: compute.KindInference, Program: types.SumHash([]byte("m")),
			MaxPrice: types.MYC(1), GasLimit: 1e6, Inline: []byte(`{"prompt":"x"}`), OnChain: true}.Encode())
}

func jobSeeds() [][]byte {
	salt := sha256.Sum256([]byte("s"))
	c := compute.Commitment(1, compute.EmptyHash, 0, "", salt)
	return [][]byte{
		compute.MsgJob{ID: 1}.Encode(),
		compute.MsgCommitResult{ID: 1, Commitment: c}.Encode(),
		compute.MsgRevealResult{ID: 1, Output: compute.EmptyHash, Salt: salt}.Encode(),
		compute.MsgRevealResult{ID: 1, Output: types.SumHash([]byte("r")), OutputSize: 1, Salt: salt, Result: []byte("r")}.Encode(),
	}
}

func FuzzAck(f *testing.F)    { fuzz(f, keeper.HandleAckJob, jobSeeds()...) }
func FuzzCancel(f *testing.F) { fuzz(f, keeper.HandleCancelJob, jobSeeds()...) }
func FuzzCommit(f *testing.F) { fuzz(f, keeper.HandleCommitResult, jobSeeds()...) }
func FuzzReveal(f *testing.F) { fuzz(f, keeper.HandleRevealResult, jobSeeds()...) }

func FuzzSubmitVerified(f *testing.F) {
	fuzz(f, keeper.HandleSubmitJob,
		compute.MsgSubmitJob{Kind: compute.KindWasm, Program: types.SumHash([]byte("p")), MaxPrice: types.MYC(1), GasLimit: 1e6,
			Verify: uint8(compute.VerifyRedundant), Redundancy: 3}.Encode(),
		compute.MsgSubmitJob{Kind: compute.KindWasm, Program: types.SumHash([]byte("p")), MaxPrice: types.MYC(1), GasLimit: 1e6,
			Verify: uint8(compute.VerifyOptimistic), AuditRate: types.FractionOne / 10}.Encode())
}

func FuzzChallenge(f *testing.F) {
	fuzz(f, keeper.HandleChallenge, compute.MsgChallenge{Job: 1, Bond: types.MYC(1)}.Encode())
}

func disputeSeed() []byte {
	key := chaintest.Key("p1")
	rf := types.ReceiptFields{Version: compute.ReceiptVersion, Runtime: "mycel-rt/1", Deterministic: true,
		Model: types.SumHash([]byte("m")), Request: types.SumHash([]byte("q")), Output: types.SumHash([]byte("o")),
		Provider: chaintest.Addr("p1")}
	return compute.MsgDispute{Receipt: rf, PubKey: key.Public().(ed25519.PublicKey), Signature: ed25519.Sign(key, rf.SignBytes()),
		Evidence: types.SumHash([]byte("e")), Bond: types.MYC(1)}.Encode()
}

func FuzzDispute(f *testing.F) { fuzz(f, keeper.HandleDispute, disputeSeed()) }

func FuzzBallot(f *testing.F) {
	fuzz(f, keeper.HandleBallot, compute.MsgBallot{Subject: 2, Commitment: types.SumHash([]byte("c"))}.Encode())
}

func FuzzBallotReveal(f *testing.F) {
	fuzz(f, keeper.HandleBallotReveal, compute.MsgBallotReveal{Subject: 2, Vote: 1}.Encode())
}

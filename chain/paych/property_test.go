package paych_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"testing"

	"github.com/mycelnet/mycel/chain/bank"
	"github.com/mycelnet/mycel/chain/exec"
	"github.com/mycelnet/mycel/chain/paych"
	"github.com/mycelnet/mycel/chain/store"
	"github.com/mycelnet/mycel/internal/chaintest"
	"github.com/mycelnet/mycel/types"
)

// laneKey names a lane of a channel in the property test's models.
type laneID struct{ ch, lane uint64 }

// sim drives random histories of opens, top-ups, vouchers, redeems,
// settles, collects and passing blocks against the module, with a model
// of a rational payee: it accepts a voucher only with a higher nonce, an
// amount no lower than its best of the lane and a total over the lanes
// within the deposit, stops accepting once the channel settles, and has a
// watcher that redeems the best voucher of every lane before the settle
// height.
type sim struct {
	t      *testing.T
	rng    *rand.Rand
	db     *store.MemDB
	h      int64
	open   []uint64 // channels not collected
	opened uint64

	payers, payees []string
	chans          map[uint64]*paych.Channel // as last read
	nextNonce      map[laneID]uint64         // payer side
	issued         map[laneID]types.Amount   // payer side: last cumulative amount
	best           map[laneID]paych.Voucher  // payee side
	accepted       []paych.Voucher           // every voucher the payee accepted
	watched        map[uint64]bool           // channels whose watcher ran
	ok, failed     int
}

func newSim(t *testing.T, seed uint64) *sim {
	s := &sim{t: t, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), db: chaintest.State(t), h: 2,
		payers: []string{"alice", "bob"}, payees: []string{"bob", "carol"},
		chans: map[uint64]*paych.Channel{}, nextNonce: map[laneID]uint64{}, issued: map[laneID]types.Amount{},
		best: map[laneID]paych.Voucher{}, watched: map[uint64]bool{}}
	if err := paych.InitGenesis(s.db, scenarioParams()); err != nil {
		t.Fatal(err)
	}
	return s
}

// apply runs one message at the current height; on success it keeps the
// writes and checks every invariant; on failure nothing is kept.
func (s *sim) apply(h func(exec.Ctx, types.Address, []byte) error, who string, body []byte) error {
	c := store.NewCache(s.db)
	err := h(exec.New(c, chaintest.Block(s.h)), chaintest.Addr(who), body)
	if err != nil {
		s.failed++
		return err
	}
	s.ok++
	if ierr := paych.CheckInvariant(c, bankKeeper{}); ierr != nil {
		s.t.Fatalf("height %d: %v", s.h, ierr)
	}
	chaintest.CheckInvariants(s.t, c)
	s.db.Apply(c.Changes())
	return nil
}

func (s *sim) pick(xs []string) string { return xs[s.rng.IntN(len(xs))] }

func (s *sim) refresh(id uint64) *paych.Channel {
	c := paych.Get(s.db, id)
	s.chans[id] = c
	return c
}

func (s *sim) randomOpen() uint64 {
	if len(s.open) == 0 {
		return uint64(1 + s.rng.IntN(3))
	}
	return s.open[s.rng.IntN(len(s.open))]
}

// laneSum is the payee's best amounts over a channel's lanes.
func (s *sim) laneSum(id uint64, except uint64) types.Amount {
	var sum types.Amount
	for k, v := range s.best { //mycel:sorted (a sum: order does not matter)
		if k.ch == id && k.lane != except {
			sum += v.Amount
		}
	}
	return sum
}

func (s *sim) step() {
	switch op := s.rng.IntN(100); {
	case op < 8: // open
		payer := s.pick(s.payers)
		payee := s.pick(s.payees)
		m := paych.MsgOpen{Payee: chaintest.Addr(payee), VoucherKey: paych.KeyOf(key(payer)), Amount: types.Amount(s.rng.Uint64N(20_000_000))}
		if s.apply(keeper.HandleOpen, payer, m.Encode()) == nil {
			s.opened++
			id := s.opened
			s.open = append(s.open, id)
			s.refresh(id)
		}
	case op < 14: // top up, sometimes by the wrong account
		id := s.randomOpen()
		who := s.pick(append(s.payers, "carol"))
		m := paych.MsgTopUp{Channel: id, Amount: types.Amount(s.rng.Uint64N(5_000_000))}
		_ = s.apply(keeper.HandleTopUp, who, m.Encode())
		s.refresh(id)
	case op < 55: // the payer signs a voucher; the payee accepts it or not
		id := s.randomOpen()
		c := s.chans[id]
		if c == nil {
			return
		}
		l := laneID{id, uint64(s.rng.IntN(3))}
		s.nextNonce[l]++
		if s.rng.IntN(10) == 0 {
			s.nextNonce[l] += uint64(s.rng.IntN(3)) // nonces may skip
		}
		amt := s.issued[l]
		switch s.rng.IntN(10) {
		case 0: // a lower amount
			amt = types.Amount(s.rng.Uint64N(uint64(amt) + 1))
		case 1: // far more than the deposit
			amt += c.Deposit
		default:
			amt += types.Amount(s.rng.Uint64N(2_000_000))
		}
		s.issued[l] = amt
		v := paych.Voucher{Channel: id, Lane: l.lane, Nonce: s.nextNonce[l], Amount: amt}
		if s.rng.IntN(8) == 0 {
			v.MinSettleHeight = s.h + int64(s.rng.IntN(12))
		}
		payer := c.Payer
		for _, p := range s.payers {
			if chaintest.Addr(p) == payer {
				v.Sign(chaintest.ChainID, key(p))
			}
		}
		b := s.best[l]
		if c.State() == paych.StateOpen && v.Nonce > b.Nonce && v.Amount >= b.Amount && s.laneSum(id, l.lane)+v.Amount <= c.Deposit {
			s.best[l] = v
			s.accepted = append(s.accepted, v)
		}
	case op < 75: // the payee redeems something it accepted
		if len(s.accepted) == 0 {
			return
		}
		v := s.accepted[s.rng.IntN(len(s.accepted))]
		if s.rng.IntN(3) == 0 {
			v = s.best[laneID{v.Channel, v.Lane}]
		}
		c := s.chans[v.Channel]
		who := s.payeeName(c)
		if s.rng.IntN(10) == 0 {
			who = s.pick(s.payers) // not the payee
		}
		err := s.apply(keeper.HandleRedeem, who, paych.MsgRedeem{Voucher: v}.Encode())
		if err == nil && who != s.payeeName(c) {
			s.t.Fatalf("%s redeemed a voucher of channel %d, which pays %s", who, v.Channel, s.payeeName(c))
		}
		s.refresh(v.Channel)
	case op < 80: // a hostile redeem: a voucher moved to another lane or channel
		if len(s.accepted) == 0 {
			return
		}
		v := s.accepted[s.rng.IntN(len(s.accepted))]
		if s.rng.IntN(2) == 0 {
			v.Lane++
		} else {
			v.Channel++
		}
		c := s.chans[v.Channel]
		if c == nil {
			return
		}
		err := s.apply(keeper.HandleRedeem, s.payeeName(c), paych.MsgRedeem{Voucher: v}.Encode())
		if err == nil {
			s.t.Fatalf("a voucher moved to %s was redeemed", v.Ref())
		}
	case op < 84: // settle, by either party or a stranger
		id := s.randomOpen()
		who := s.pick([]string{"alice", "bob", "carol"})
		_ = s.apply(keeper.HandleSettle, who, paych.MsgChannel{Channel: id}.Encode())
		s.refresh(id)
	case op < 90: // collect
		id := s.randomOpen()
		c := s.chans[id]
		if c == nil {
			return
		}
		who := s.pick([]string{"alice", "bob", "carol"})
		if s.apply(keeper.HandleCollect, who, paych.MsgChannel{Channel: id}.Encode()) == nil {
			s.closed(id)
		}
	default: // blocks pass
		s.advance(s.h + 1 + int64(s.rng.IntN(4)))
	}
}

func (s *sim) payeeName(c *paych.Channel) string {
	for _, p := range s.payees {
		if chaintest.Addr(p) == c.Payee {
			return p
		}
	}
	return "?"
}

// advance moves to height h, running the payee's watcher in the last
// block before each settle height it would pass.
func (s *sim) advance(to int64) {
	var due []*paych.Channel
	for _, id := range s.open {
		if c := s.refresh(id); c.SettlingAt != 0 && c.SettlingAt <= to && !s.watched[id] && s.h < c.SettlingAt {
			due = append(due, c)
		}
	}
	sort.Slice(due, func(i, j int) bool { return due[i].SettlingAt < due[j].SettlingAt })
	for _, c := range due {
		s.h = max(s.h, c.SettlingAt-1)
		s.watch(c.ID)
	}
	s.h = max(s.h, to)
}

// watch redeems the best voucher of each lane the chain has not counted.
func (s *sim) watch(id uint64) {
	s.watched[id] = true
	c := s.refresh(id)
	for l, v := range s.best { //mycel:sorted (each lane is redeemed once; the order of lanes does not matter)
		if l.ch != id || v.Nonce <= c.Lane(l.lane).Nonce {
			continue
		}
		if err := s.apply(keeper.HandleRedeem, s.payeeName(c), paych.MsgRedeem{Voucher: v}.Encode()); err != nil {
			s.t.Fatalf("the watcher's best voucher %s of channel %d at height %d (settles at %d): %v", v.Ref(), id, s.h, c.SettlingAt, err)
		}
	}
	s.refresh(id)
}

// closed checks a collected channel: the payee got at least its best
// vouchers (exactly: the lanes' best amounts), the payer the rest.
func (s *sim) closed(id uint64) {
	c := s.refresh(id)
	var want types.Amount
	for l, v := range s.best { //mycel:sorted (a sum)
		if l.ch == id {
			want += v.Amount
		}
	}
	if c.Paid < want {
		s.t.Fatalf("channel %d paid %s; the payee's best vouchers add to %s", id, c.Paid, want)
	}
	if c.Paid > c.Deposit || c.Paid+c.Refunded != c.Deposit {
		s.t.Fatalf("channel %d: deposit %s, paid %s, refunded %s", id, c.Deposit, c.Paid, c.Refunded)
	}
	for i, o := range s.open {
		if o == id {
			s.open = append(s.open[:i], s.open[i+1:]...)
			break
		}
	}
}

// finish settles and collects every open channel, so that each one's
// payout is checked.
func (s *sim) finish() {
	for len(s.open) > 0 {
		id := s.open[0]
		c := s.refresh(id)
		if c.SettlingAt == 0 {
			if err := s.apply(keeper.HandleSettle, s.payeeName(c), paych.MsgChannel{Channel: id}.Encode()); err != nil {
				s.t.Fatal(err)
			}
			c = s.refresh(id)
		}
		s.advance(c.SettlingAt)
		if err := s.apply(keeper.HandleCollect, s.payeeName(c), paych.MsgChannel{Channel: id}.Encode()); err != nil {
			s.t.Fatal(err)
		}
		s.closed(id)
	}
	if got := bank.Balance(s.db, paych.Escrow); got != 0 {
		s.t.Fatalf("escrow holds %s after every channel closed", got)
	}
}

// The rules' promises over random histories: the module's invariant holds
// after every step (escrow = open channels' deposit − paid, lanes sum to
// what was paid, paid never above the deposit), no voucher moved to
// another lane or channel ever counts, nobody but the payee redeems, and
// a payee whose watcher redeems before the settle height gets exactly its
// best voucher of every lane.
func TestPropertyRandomHistories(t *testing.T) {
	var ok, failed int
	for seed := uint64(1); seed <= 40; seed++ {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			s := newSim(t, seed)
			for i := 0; i < 250; i++ {
				s.step()
			}
			s.finish()
			ok += s.ok
			failed += s.failed
		})
	}
	t.Logf("%d messages succeeded, %d were refused", ok, failed)
	if ok < 2000 || failed < 500 {
		t.Fatalf("the histories are too tame: %d succeeded, %d refused", ok, failed)
	}
}

// A refused message leaves no trace: the branch the application gives it
// is dropped, and the handlers check everything before they write, so
// even the branch holds no half-done transfer.
func TestRefusalsWriteNothing(t *testing.T) {
	s := newSim(t, 99)
	for i := 0; i < 2000; i++ {
		s.step()
	}
	// Replay every accepted voucher against the final state and check that
	// failures leave the branch untouched.
	for _, v := range s.accepted {
		for _, who := range []string{"alice", "bob", "carol"} {
			c := store.NewCache(s.db)
			err := keeper.HandleRedeem(exec.New(c, chaintest.Block(s.h)), chaintest.Addr(who), paych.MsgRedeem{Voucher: v}.Encode())
			var coded *types.Error
			if err != nil && (!errors.As(err, &coded) || len(c.Changes()) != 0) {
				t.Fatalf("redeem %s by %s: %v with %d writes", v.Ref(), who, err, len(c.Changes()))
			}
		}
	}
}

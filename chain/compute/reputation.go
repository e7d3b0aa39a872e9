package compute

import (
	"math/bits"

	"github.com/mycelnet/mycel/chain/codec"
	"github.com/mycelnet/mycel/chain/exec"
	"github.com/mycelnet/mycel/types"
)

// Reputation is computed only from on-chain history: the runs a provider
// settled, the deadlines it missed and the faults proven against it, each
// counter decayed per reward epoch, then discounted for a young
// registration and a small stake. All integer, in parts per million:
//
//	record = (good + 1) / (good + 1 + 4·missed + 20·faults)
//	score  = record · (1/2 + age/4 + stake/4)
//
// where good, missed and faults are the decayed counts, age is
// min(blocks registered, RepMatureBlocks) / RepMatureBlocks and stake is
// min(bond, RepStake) / RepStake. A new provider with the minimum stake
// scores about one half; one that has settled work for a long time with
// a large stake and no faults approaches one; a proven fault weighs as
// much as twenty settled runs. Counters are decayed lazily: by RepDecay
// for each epoch since they were last touched, when they next change.

// RepCounters are the decayed counts, in thousandths of a run, as of
// reward epoch Epoch, and the reputation bucket the scheduler's index
// holds the provider under (higher is better).
type RepCounters struct {
	Epoch  int64  `json:"epoch"`
	Good   uint64 `json:"good"`
	Missed uint64 `json:"missed"`
	Faults uint64 `json:"faults"`
	Bucket byte   `json:"bucket"`
	// SlashedPPM is what proven faults took in epoch SlashEpoch, for the
	// per-epoch cap.
	SlashEpoch int64          `json:"slash_epoch"`
	SlashedPPM types.Fraction `json:"slashed_ppm"`
}

const repUnit = 1000

func (c RepCounters) write(w *codec.Writer) {
	w.Varint(c.Epoch)
	w.Uvarint(c.Good)
	w.Uvarint(c.Missed)
	w.Uvarint(c.Faults)
	w.Byte(c.Bucket)
	w.Varint(c.SlashEpoch)
	w.Uvarint(uint64(c.SlashedPPM))
}

func readRepCounters(r *codec.Reader) RepCounters {
	return RepCounters{Epoch: r.Varint(), Good: r.Uvarint(), Missed: r.Uvarint(), Faults: r.Uvarint(), Bucket: r.Byte(),
		SlashEpoch: r.Varint(), SlashedPPM: types.Fraction(r.Uvarint())}
}

// decayTo brings the counters forward to epoch e.
func (c *RepCounters) decayTo(e int64, keep types.Fraction) {
	if e <= c.Epoch {
		return
	}
	n := e - c.Epoch
	c.Epoch = e
	for i := int64(0); i < n; i++ {
		if c.Good|c.Missed|c.Faults == 0 {
			return
		}
		c.Good = uint64(types.Amount(c.Good).MulFraction(keep))
		c.Missed = uint64(types.Amount(c.Missed).MulFraction(keep))
		c.Faults = uint64(types.Amount(c.Faults).MulFraction(keep))
	}
}

// Reputation returns a provider's score in parts per million at height
// h, given its provider bond.
func Reputation(p *Provider, bond types.Amount, h int64, params Params) uint32 {
	v := params.Verification
	c := p.Rep
	if params.RewardEpochBlocks > 0 {
		c.decayTo(h/params.RewardEpochBlocks, v.RepDecay)
	}
	good := c.Good + repUnit
	den := good + 4*c.Missed + 20*c.Faults
	record := muldiv(good, types.FractionOne, den)
	age := h - p.Since
	if age > v.RepMatureBlocks {
		age = v.RepMatureBlocks
	}
	if age < 0 {
		age = 0
	}
	ageF := muldiv(uint64(age), types.FractionOne, uint64(v.RepMatureBlocks))
	if bond > v.RepStake {
		bond = v.RepStake
	}
	stakeF := muldiv(uint64(bond), types.FractionOne, uint64(v.RepStake))
	weight := types.FractionOne/2 + ageF/4 + stakeF/4
	return uint32(muldiv(record, weight, types.FractionOne))
}

// muldiv is floor(a·b/d) for results known to fit (a ≤ d or b ≤ d here).
func muldiv(a, b, d uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	if d == 0 || hi >= d {
		return 0
	}
	q, _ := bits.Div64(hi, lo, d)
	return q
}

// repEvent is what happened to a provider, for its reputation.
type repEvent uint8

const (
	repGood repEvent = iota
	repMissed
	repFault
	repTouch // nothing new: only refresh the bucket (a stake change, a new registration)
)

// noteRep counts an event in p's reputation and refreshes its bucket. The
// caller reindexes and stores p.
func (k Keeper) noteRep(ctx exec.Ctx, p *Provider, ev repEvent) {
	params := GetParams(ctx.KV)
	if params.RewardEpochBlocks > 0 {
		p.Rep.decayTo(ctx.Block.Height/params.RewardEpochBlocks, params.Verification.RepDecay)
	}
	switch ev {
	case repGood:
		p.Rep.Good += repUnit
	case repMissed:
		p.Rep.Missed += repUnit
	case repFault:
		p.Rep.Faults += repUnit
	}
	bond, _ := k.Stake.ProviderBond(ctx.KV, p.Address)
	p.Rep.Bucket = byte(uint64(Reputation(p, bond, ctx.Block.Height, params)) * 255 / types.FractionOne)
}

package stake

import (
	"bytes"
	"fmt"
	"sort"

	"github.com/mycelnet/mycel/chain/bank"
	"github.com/mycelnet/mycel/chain/codec"
	"github.com/mycelnet/mycel/chain/exec"
	"github.com/mycelnet/mycel/chain/store"
	"github.com/mycelnet/mycel/types"
)

// ValidatorUpdate is a change of a consensus key's voting power for
// CometBFT; power 0 removes the key.
type ValidatorUpdate struct {
	PubKey []byte
	Power  int64
}

// ActiveValidator is a validator in the current set.
type ActiveValidator struct {
	Operator     types.Address `json:"operator"`
	ConsensusKey []byte        `json:"consensus_key"`
	Power        int64         `json:"power"`
	Bonded       types.Amount  `json:"bonded"`
}

// EndBlock pays out matured unbonding entries and returns the validator
// set's changes.
func EndBlock(ctx exec.Ctx) ([]ValidatorUpdate, error) {
	if err := matureUnbondings(ctx); err != nil {
		return nil, err
	}
	return updateValidators(ctx)
}

func matureUnbondings(ctx exec.Ctx) error {
	due := store.CollectRange(ctx.KV, prefixUnbond, store.Key(prefixUnbond, be64(ctx.Block.Height+1)))
	nowSec := ctx.Block.TimeUnixNano / 1e9
	for _, kv := range due {
		u := decodeUnbonding(kv.Value)
		if nowSec < u.CompleteTimeUnix {
			continue
		}
		if err := bank.Send(ctx.KV, Pool, u.Address, u.Amount); err != nil {
			return fmt.Errorf("pay out unbonding %d: %w", u.ID, err)
		}
		deleteUnbonding(ctx.KV, u)
		ctx.Emit(types.NewEvent("unbond_complete", "address", u.Address.String(), "purpose", u.Purpose.String(),
			"amount", types.U64(uint64(u.Amount))))
	}
	return nil
}

// power returns the voting power of a validator bond.
func power(p Params, bd Bond) int64 {
	if bd.Jailed || bd.Amount < p.MinValidatorBond || bd.ConsensusKey == nil {
		return 0
	}
	return int64(uint64(bd.Amount) / uint64(p.PowerReduction))
}

// updateValidators picks the MaxValidators largest bonds (ties by
// operator address) and reports how their power differs from what CometBFT
// was last told. A change that would leave no validator is not made: the
// chain keeps its set rather than halt.
func updateValidators(ctx exec.Ctx) ([]ValidatorUpdate, error) {
	p := GetParams(ctx.KV)
	prefix := store.Key(prefixBond, []byte{byte(Validator)})
	var cands []ActiveValidator
	for _, kv := range store.Collect(ctx.KV, prefix) {
		bd := decodeBond(kv.Value)
		pw := power(p, bd)
		if pw == 0 {
			continue
		}
		var op types.Address
		copy(op[:], kv.Key[len(prefix):])
		cands = append(cands, ActiveValidator{Operator: op, ConsensusKey: bd.ConsensusKey, Power: pw, Bonded: bd.Amount})
	}
	sort.Slice(cands, func(i, j int) bool {
		if cands[i].Power != cands[j].Power {
			return cands[i].Power > cands[j].Power
		}
		return bytes.Compare(cands[i].Operator[:], cands[j].Operator[:]) < 0
	})
	if len(cands) > int(p.MaxValidators) {
		cands = cands[:p.MaxValidators]
	}
	if len(cands) == 0 {
		ctx.Emit(types.NewEvent("validator_set_kept", "reason", "no validator would remain"))
		return nil, nil
	}
	next := map[types.Address]ActiveValidator{}
	for _, c := range cands {
		next[c.Operator] = c
	}
	var updates []ValidatorUpdate
	for _, kv := range store.Collect(ctx.KV, prefixPower) {
		var op types.Address
		copy(op[:], kv.Key[len(prefixPower):])
		if _, stays := next[op]; stays {
			continue
		}
		old := decodePowerRecord(kv.Value)
		updates = append(updates, ValidatorUpdate{PubKey: old.ConsensusKey, Power: 0})
		ctx.KV.Delete(kv.Key)
	}
	for _, c := range cands {
		k := store.Key(prefixPower, c.Operator[:])
		if b := ctx.KV.Get(k); b != nil && decodePowerRecord(b).Power == c.Power {
			continue
		}
		updates = append(updates, ValidatorUpdate{PubKey: c.ConsensusKey, Power: c.Power})
		ctx.KV.Set(k, encodePowerRecord(c))
	}
	sort.Slice(updates, func(i, j int) bool { return bytes.Compare(updates[i].PubKey, updates[j].PubKey) < 0 })
	for _, u := range updates {
		ctx.Emit(types.NewEvent("validator_power", "consensus_key", fmt.Sprintf("%x", u.PubKey), "power", types.U64(uint64(u.Power))))
	}
	return updates, nil
}

func encodePowerRecord(v ActiveValidator) []byte {
	w := codec.NewWriter(48)
	w.Varint(v.Power)
	w.LenBytes(v.ConsensusKey)
	return w.Bytes()
}

func decodePowerRecord(b []byte) ActiveValidator {
	rd := codec.NewReader(b)
	v := ActiveValidator{Power: rd.Varint(), ConsensusKey: bytes.Clone(rd.LenBytes(32))}
	if err := rd.Done(); err != nil {
		panic(fmt.Errorf("stake: corrupt power record: %w", err))
	}
	return v
}

// ActiveValidators lists the validator set as last reported to CometBFT,
// in operator order, with their current bonds.
func ActiveValidators(r store.Reader) []ActiveValidator {
	var out []ActiveValidator
	for _, kv := range store.Collect(r, prefixPower) {
		v := decodePowerRecord(kv.Value)
		copy(v.Operator[:], kv.Key[len(prefixPower):])
		bd, _ := GetBond(r, v.Operator, Validator)
		v.Bonded = bd.Amount
		out = append(out, v)
	}
	return out
}

// CheckInvariant verifies that the pool holds exactly the bonds and the
// unbonding entries.
func CheckInvariant(r store.Reader) error {
	var sum types.Amount
	for _, p := range Purposes() {
		sum += TotalBonded(r, p)
	}
	it := r.Iterator(prefixUnbond, store.PrefixEnd(prefixUnbond))
	defer it.Close()
	for ; it.Valid(); it.Next() {
		sum += decodeUnbonding(it.Value()).Amount
	}
	if pool := bank.Balance(r, Pool); pool != sum {
		return fmt.Errorf("stake pool holds %d umyc, bonds and unbonding entries sum to %d", pool, sum)
	}
	return nil
}

package stake

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"strings"

	"github.com/mycelnet/mycel/chain/codec"
	"github.com/mycelnet/mycel/chain/store"
	"github.com/mycelnet/mycel/types"
)

// Pool is the module account that holds bonded and unbonding tokens.
var Pool = types.ModuleAddress("stake")

// Purpose says what a bond backs.
type Purpose uint8

// Purposes. Never renumber.
const (
	Validator Purpose = 1
	Provider  Purpose = 2
	Agent     Purpose = 3
	Crawler   Purpose = 4
)

var purposeNames = map[Purpose]string{Validator: "validator", Provider: "provider", Agent: "agent", Crawler: "crawler"}

// Purposes lists every purpose in order.
func Purposes() []Purpose { return []Purpose{Validator, Provider, Agent, Crawler} }

func (p Purpose) String() string {
	if s, ok := purposeNames[p]; ok {
		return s
	}
	return fmt.Sprintf("purpose(%d)", uint8(p))
}

// Valid reports whether p is a known purpose.
func (p Purpose) Valid() bool { _, ok := purposeNames[p]; return ok }

// ParsePurpose reads a purpose name.
func ParsePurpose(s string) (Purpose, error) {
	for _, p := range Purposes() {
		if p.String() == strings.ToLower(s) {
			return p, nil
		}
	}
	return 0, ErrUnknownPurpose.Wrapf("%q; use validator, provider, agent or crawler", s)
}

// MarshalText implements encoding.TextMarshaler.
func (p Purpose) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (p *Purpose) UnmarshalText(b []byte) error {
	v, err := ParsePurpose(string(b))
	*p = v
	return err
}

// Params are the stake module's rules.
type Params struct {
	// An unbonding entry pays out once both have passed.
	UnbondingBlocks  int64 `json:"unbonding_blocks"`
	UnbondingSeconds int64 `json:"unbonding_seconds"`
	// MinValidatorBond is the least validator-purpose bond that gives
	// voting power.
	MinValidatorBond types.Amount `json:"min_validator_bond"`
	// PowerReduction is the umyc of bond per unit of voting power.
	PowerReduction types.Amount `json:"power_reduction"`
	MaxValidators  uint32       `json:"max_validators"`
	// JailBlocks is how long a slashed, jailed bond stays jailed.
	JailBlocks int64 `json:"jail_blocks"`
	// DoubleSignSlash is taken from a validator that signed two blocks at
	// one height; it is also tombstoned.
	DoubleSignSlash types.Fraction `json:"double_sign_slash"`
	// ReporterReward is the share of a slash paid to whoever proved the
	// fault; the rest is burned.
	ReporterReward types.Fraction `json:"reporter_reward"`
}

// Validate checks the parameters' ranges.
func (p Params) Validate() error {
	switch {
	case p.UnbondingBlocks < 1 || p.UnbondingSeconds < 0:
		return fmt.Errorf("unbonding period must be at least one block")
	case p.PowerReduction == 0:
		return fmt.Errorf("power reduction must be positive")
	case p.MinValidatorBond < p.PowerReduction:
		return fmt.Errorf("min validator bond %s below one unit of power (%s)", p.MinValidatorBond, p.PowerReduction)
	case p.MaxValidators == 0:
		return fmt.Errorf("max validators must be positive")
	case p.JailBlocks < 0:
		return fmt.Errorf("jail blocks must not be negative")
	case !p.DoubleSignSlash.Valid() || !p.ReporterReward.Valid():
		return fmt.Errorf("fractions must be within [0, 1]")
	}
	return nil
}

// CheckEvidenceAge refuses an unbonding period shorter than the evidence
// max age: a validator could otherwise leave before its fault is proven.
func (p Params) CheckEvidenceAge(maxAgeBlocks, maxAgeSeconds int64) error {
	if p.UnbondingBlocks < maxAgeBlocks || p.UnbondingSeconds < maxAgeSeconds {
		return fmt.Errorf("unbonding period (%d blocks, %ds) is shorter than the evidence max age (%d blocks, %ds)",
			p.UnbondingBlocks, p.UnbondingSeconds, maxAgeBlocks, maxAgeSeconds)
	}
	return nil
}

var (
	keyParams      = []byte("stake/params")
	keySeq         = []byte("stake/seq")
	prefixBond     = []byte("stake/b/")
	prefixUnbond   = []byte("stake/u/")
	prefixUnbondBy = []byte("stake/ua/")
	prefixConsKey  = []byte("stake/ck/")
	prefixPower    = []byte("stake/vp/")
)

func be64(v int64) []byte { return binary.BigEndian.AppendUint64(nil, uint64(v)) }

// GetParams reads the parameters.
func GetParams(r store.Reader) Params {
	b := r.Get(keyParams)
	if b == nil {
		panic("stake: params missing from state")
	}
	rd := codec.NewReader(b)
	p := Params{
		UnbondingBlocks:  rd.Varint(),
		UnbondingSeconds: rd.Varint(),
		MinValidatorBond: types.Amount(rd.Uvarint()),
		PowerReduction:   types.Amount(rd.Uvarint()),
		MaxValidators:    uint32(rd.Uvarint()),
		JailBlocks:       rd.Varint(),
		DoubleSignSlash:  types.Fraction(rd.Uvarint()),
		ReporterReward:   types.Fraction(rd.Uvarint()),
	}
	if err := rd.Done(); err != nil {
		panic(fmt.Errorf("stake: corrupt params: %w", err))
	}
	return p
}

func setParams(kv store.KV, p Params) {
	w := codec.NewWriter(64)
	w.Varint(p.UnbondingBlocks)
	w.Varint(p.UnbondingSeconds)
	w.Uvarint(uint64(p.MinValidatorBond))
	w.Uvarint(uint64(p.PowerReduction))
	w.Uvarint(uint64(p.MaxValidators))
	w.Varint(p.JailBlocks)
	w.Uvarint(uint64(p.DoubleSignSlash))
	w.Uvarint(uint64(p.ReporterReward))
	kv.Set(keyParams, w.Bytes())
}

// Bond is an account's stake for one purpose.
type Bond struct {
	Amount types.Amount `json:"amount"`
	// Since is the height of the first bond; it survives unbonding to zero
	// while the record is kept.
	Since       int64 `json:"since"`
	Jailed      bool  `json:"jailed"`
	JailedUntil int64 `json:"jailed_until,omitempty"`
	Tombstoned  bool  `json:"tombstoned,omitempty"`
	// ConsensusKey is the validator's ed25519 consensus public key.
	ConsensusKey []byte `json:"consensus_key,omitempty"`
}

func bondKey(a types.Address, p Purpose) []byte { return store.Key(prefixBond, []byte{byte(p)}, a[:]) }

// BondKey is the state key of a bond, for proofs.
func BondKey(a types.Address, p Purpose) []byte { return bondKey(a, p) }

// GetBond reads a bond; ok is false when there is none.
func GetBond(r store.Reader, a types.Address, p Purpose) (Bond, bool) {
	b := r.Get(bondKey(a, p))
	if b == nil {
		return Bond{}, false
	}
	return decodeBond(b), true
}

func decodeBond(b []byte) Bond {
	rd := codec.NewReader(b)
	bd := Bond{
		Amount:      types.Amount(rd.Uvarint()),
		Since:       rd.Varint(),
		Jailed:      rd.Bool(),
		JailedUntil: rd.Varint(),
		Tombstoned:  rd.Bool(),
	}
	if ck := rd.LenBytes(32); len(ck) > 0 {
		bd.ConsensusKey = bytes.Clone(ck)
	}
	if err := rd.Done(); err != nil {
		panic(fmt.Errorf("stake: corrupt bond: %w", err))
	}
	return bd
}

func setBond(kv store.KV, a types.Address, p Purpose, bd Bond) {
	if bd.Amount == 0 && !bd.Jailed && !bd.Tombstoned && bd.ConsensusKey == nil {
		kv.Delete(bondKey(a, p))
		return
	}
	w := codec.NewWriter(64)
	w.Uvarint(uint64(bd.Amount))
	w.Varint(bd.Since)
	w.Bool(bd.Jailed)
	w.Varint(bd.JailedUntil)
	w.Bool(bd.Tombstoned)
	w.LenBytes(bd.ConsensusKey)
	kv.Set(bondKey(a, p), w.Bytes())
}

// Unbonding is stake on its way back to its owner.
type Unbonding struct {
	ID          uint64        `json:"id"`
	Address     types.Address `json:"address"`
	Purpose     Purpose       `json:"purpose"`
	Amount      types.Amount  `json:"amount"`
	StartHeight int64         `json:"start_height"`
	// The entry pays out at the first block at or after both.
	CompleteHeight   int64 `json:"complete_height"`
	CompleteTimeUnix int64 `json:"complete_time_unix"`
}

func (u Unbonding) key() []byte {
	return store.Key(prefixUnbond, be64(u.CompleteHeight), u.Address[:], []byte{byte(u.Purpose)}, be64(int64(u.ID)))
}

func (u Unbonding) indexKey() []byte {
	return store.Key(prefixUnbondBy, u.Address[:], be64(u.CompleteHeight), []byte{byte(u.Purpose)}, be64(int64(u.ID)))
}

func (u Unbonding) encode() []byte {
	w := codec.NewWriter(64)
	w.Uvarint(u.ID)
	w.Fixed(u.Address[:])
	w.Byte(byte(u.Purpose))
	w.Uvarint(uint64(u.Amount))
	w.Varint(u.StartHeight)
	w.Varint(u.CompleteHeight)
	w.Varint(u.CompleteTimeUnix)
	return w.Bytes()
}

func decodeUnbonding(b []byte) Unbonding {
	rd := codec.NewReader(b)
	var u Unbonding
	u.ID = rd.Uvarint()
	rd.FixedInto(u.Address[:])
	u.Purpose = Purpose(rd.Byte())
	u.Amount = types.Amount(rd.Uvarint())
	u.StartHeight = rd.Varint()
	u.CompleteHeight = rd.Varint()
	u.CompleteTimeUnix = rd.Varint()
	if err := rd.Done(); err != nil {
		panic(fmt.Errorf("stake: corrupt unbonding entry: %w", err))
	}
	return u
}

func putUnbonding(kv store.KV, u Unbonding) {
	kv.Set(u.key(), u.encode())
	kv.Set(u.indexKey(), []byte{})
}

func deleteUnbonding(kv store.KV, u Unbonding) {
	kv.Delete(u.key())
	kv.Delete(u.indexKey())
}

// UnbondingsOf lists a's unbonding entries in completion order.
func UnbondingsOf(r store.Reader, a types.Address) []Unbonding {
	prefix := store.Key(prefixUnbondBy, a[:])
	var out []Unbonding
	for _, kv := range store.Collect(r, prefix) {
		rest := kv.Key[len(prefix):] // height(8) purpose(1) id(8)
		u := Unbonding{Address: a, CompleteHeight: int64(binary.BigEndian.Uint64(rest[:8])),
			Purpose: Purpose(rest[8]), ID: binary.BigEndian.Uint64(rest[9:])}
		b := r.Get(u.key())
		if b == nil {
			panic(fmt.Errorf("stake: unbonding index points at a missing entry %d", u.ID))
		}
		out = append(out, decodeUnbonding(b))
	}
	return out
}

func nextID(kv store.KV) uint64 {
	var id uint64
	if b := kv.Get(keySeq); b != nil {
		id = binary.BigEndian.Uint64(b)
	}
	kv.Set(keySeq, binary.BigEndian.AppendUint64(nil, id+1))
	return id
}

// ConsensusAddress is CometBFT's address of an ed25519 consensus key: the
// first 20 bytes of its sha256.
func ConsensusAddress(pub []byte) []byte {
	s := sha256.Sum256(pub)
	return s[:20]
}

// OperatorOf returns the operator bound to a consensus address.
func OperatorOf(r store.Reader, consAddr []byte) (types.Address, bool) {
	b := r.Get(store.Key(prefixConsKey, consAddr))
	if b == nil {
		return types.Address{}, false
	}
	var a types.Address
	copy(a[:], b)
	return a, true
}

// BondsOf lists a's bonds by purpose.
func BondsOf(r store.Reader, a types.Address) map[Purpose]Bond {
	out := map[Purpose]Bond{}
	for _, p := range Purposes() {
		if b, ok := GetBond(r, a, p); ok {
			out[p] = b
		}
	}
	return out
}

// TotalBonded sums the bonds of one purpose.
func TotalBonded(r store.Reader, p Purpose) types.Amount {
	var sum types.Amount
	prefix := store.Key(prefixBond, []byte{byte(p)})
	it := r.Iterator(prefix, store.PrefixEnd(prefix))
	defer it.Close()
	for ; it.Valid(); it.Next() {
		sum += decodeBond(it.Value()).Amount
	}
	return sum
}

package compute

import (
	"github.com/mycelnet/mycel/chain/codec"
	"github.com/mycelnet/mycel/types"
)

// Message kinds. Never renumber.
const (
	KindRegisterProvider   uint16 = 0x0301
	KindDeregisterProvider uint16 = 0x0302
	KindRenewLease         uint16 = 0x0303
	KindSubmitJob          uint16 = 0x0311
	KindCancelJob          uint16 = 0x0312
	KindAckJob             uint16 = 0x0313
	KindCommitResult       uint16 = 0x0314
	KindRevealResult       uint16 = 0x0315
	KindChallenge          uint16 = 0x0316
	KindDispute            uint16 = 0x0317
	KindBallot             uint16 = 0x0318
	KindBallotReveal       uint16 = 0x0319
)

// MsgRegisterProvider registers the signer as a provider, or updates its
// registration. Stake, if positive, is bonded on top of any provider
// bond the signer has.
type MsgRegisterProvider struct {
	Profile Profile      `json:"profile"`
	Price   types.Amount `json:"price_per_cu"`
	Tier    Tier         `json:"tier"`
	Region  string       `json:"region"`
	Slots   uint32       `json:"slots"`
	Stake   types.Amount `json:"stake"`
}

// Encode returns the message body.
func (m MsgRegisterProvider) Encode() []byte {
	w := codec.NewWriter(128)
	m.Profile.write(w)
	w.Uvarint(uint64(m.Price))
	w.Byte(byte(m.Tier))
	w.String(m.Region)
	w.Uvarint(uint64(m.Slots))
	w.Uvarint(uint64(m.Stake))
	if len(m.Profile.Runtimes) > 0 {
		writeRuntimes(w, m.Profile.Runtimes)
	}
	return w.Bytes()
}

// DecodeMsgRegisterProvider parses the body.
func DecodeMsgRegisterProvider(b []byte) (MsgRegisterProvider, error) {
	r := codec.NewReader(b)
	m := MsgRegisterProvider{Profile: readProfile(r), Price: types.Amount(r.Uvarint()), Tier: Tier(r.Byte()),
		Region: r.String(32), Slots: uint32(r.Uvarint()), Stake: types.Amount(r.Uvarint())}
	if r.Remaining() > 0 {
		if m.Profile.Runtimes = readRuntimes(r); r.Err() == nil && len(m.Profile.Runtimes) == 0 {
			return m, ErrMalformed.Wrapf("register provider: an empty runtime list must be left out")
		}
	}
	if err := r.Done(); err != nil {
		return m, ErrMalformed.Wrapf("register provider: %v", err)
	}
	return m, nil
}

// MsgSubmitJob submits a job and escrows its maximum price.
type MsgSubmitJob struct {
	Kind           Kind         `json:"kind"`
	Program        types.Hash   `json:"program"`
	Input          types.Hash   `json:"input"`
	Req            Requirements `json:"requirements"`
	MaxPrice       types.Amount `json:"max_price"`
	GasLimit       uint64       `json:"gas_limit"`
	MaxOutputBytes uint64       `json:"max_output_bytes"`
	DeadlineBlocks int64        `json:"deadline_blocks"`
	// Redundancy and Verify choose the verification mode (verify.go):
	// Verify 1 runs the job on Redundancy providers, Verify 2 on one
	// provider audited with probability AuditRate.
	Redundancy uint32         `json:"redundancy"`
	Verify     uint8          `json:"verify"`
	AuditRate  types.Fraction `json:"audit_rate,omitempty"`
	// Inline is the input carried in the transaction itself (at most
	// MaxInlineBytes; Input is then its hash), so a job needs no upload:
	// what an agent or a contract requesting an inference sends.
	Inline []byte `json:"inline_input,omitempty"`
	// OnChain asks for the result in chain state: the provider reveals
	// the output bytes (at most MaxInlineBytes), the chain checks them
	// against the committed hash, keeps them with the job and announces
	// them in a job_result event.
	OnChain bool `json:"on_chain_result,omitempty"`
}

// MaxInlineBytes bounds an inline input and an on-chain result.
const MaxInlineBytes = 4096

// Encode returns the message body.
func (m MsgSubmitJob) Encode() []byte {
	w := codec.NewWriter(128)
	w.Byte(byte(m.Kind))
	w.Fixed(m.Program[:])
	w.Fixed(m.Input[:])
	m.Req.write(w)
	w.Uvarint(uint64(m.MaxPrice))
	w.Uvarint(m.GasLimit)
	w.Uvarint(m.MaxOutputBytes)
	w.Varint(m.DeadlineBlocks)
	w.Uvarint(uint64(m.Redundancy))
	w.Byte(m.Verify)
	if len(m.Inline) > 0 || m.OnChain || m.AuditRate != 0 {
		w.LenBytes(m.Inline)
		w.Bool(m.OnChain)
	}
	if m.AuditRate != 0 {
		w.Uvarint(uint64(m.AuditRate))
	}
	return w.Bytes()
}

// DecodeMsgSubmitJob parses the body.
func DecodeMsgSubmitJob(b []byte) (MsgSubmitJob, error) {
	r := codec.NewReader(b)
	var m MsgSubmitJob
	m.Kind = Kind(r.Byte())
	r.FixedInto(m.Program[:])
	r.FixedInto(m.Input[:])
	m.Req = readRequirements(r)
	m.MaxPrice = types.Amount(r.Uvarint())
	m.GasLimit = r.Uvarint()
	m.MaxOutputBytes = r.Uvarint()
	m.DeadlineBlocks = r.Varint()
	m.Redundancy = uint32(r.Uvarint())
	m.Verify = r.Byte()
	if r.Remaining() > 0 {
		m.Inline = r.LenBytes(MaxInlineBytes)
		m.OnChain = r.Bool()
		if r.Remaining() > 0 {
			if m.AuditRate = types.Fraction(r.Uvarint()); r.Err() == nil && m.AuditRate == 0 {
				return m, ErrMalformed.Wrapf("submit job: a zero audit rate must be left out")
			}
		}
		if r.Err() == nil && len(m.Inline) == 0 && !m.OnChain && m.AuditRate == 0 {
			return m, ErrMalformed.Wrapf("submit job: empty inline input and no on-chain result must be left out")
		}
	}
	if err := r.Done(); err != nil {
		return m, ErrMalformed.Wrapf("submit job: %v", err)
	}
	return m, nil
}

// MsgJob names a job: the body of cancel and acknowledge.
type MsgJob struct {
	ID uint64 `json:"id,string"`
}

// Encode returns the message body.
func (m MsgJob) Encode() []byte {
	w := codec.NewWriter(10)
	w.Uvarint(m.ID)
	return w.Bytes()
}

// DecodeMsgJob parses the body.
func DecodeMsgJob(b []byte) (MsgJob, error) {
	r := codec.NewReader(b)
	m := MsgJob{ID: r.Uvarint()}
	if err := r.Done(); err != nil {
		return m, ErrMalformed.Wrapf("job message: %v", err)
	}
	return m, nil
}

// MsgCommitResult commits to a result without showing it.
type MsgCommitResult struct {
	ID         uint64     `json:"id,string"`
	Commitment types.Hash `json:"commitment"`
}

// Encode returns the message body.
func (m MsgCommitResult) Encode() []byte {
	w := codec.NewWriter(48)
	w.Uvarint(m.ID)
	w.Fixed(m.Commitment[:])
	return w.Bytes()
}

// DecodeMsgCommitResult parses the body.
func DecodeMsgCommitResult(b []byte) (MsgCommitResult, error) {
	r := codec.NewReader(b)
	m := MsgCommitResult{ID: r.Uvarint()}
	r.FixedInto(m.Commitment[:])
	if err := r.Done(); err != nil {
		return m, ErrMalformed.Wrapf("commit result: %v", err)
	}
	return m, nil
}

// MsgRevealResult reveals a committed result. Failure is the run's own
// failure reason (out of gas, a trap, ...), empty for a successful run.
type MsgRevealResult struct {
	ID         uint64     `json:"id,string"`
	Output     types.Hash `json:"output"`
	OutputSize uint64     `json:"output_size"`
	GasUsed    uint64     `json:"gas_used"`
	Failure    string     `json:"failure,omitempty"`
	Salt       [32]byte   `json:"-"`
	// Result is the output itself, for a job that asked for its result
	// on chain (and only then).
	Result []byte `json:"result,omitempty"`
}

// Encode returns the message body.
func (m MsgRevealResult) Encode() []byte {
	w := codec.NewWriter(128)
	w.Uvarint(m.ID)
	w.Fixed(m.Output[:])
	w.Uvarint(m.OutputSize)
	w.Uvarint(m.GasUsed)
	w.String(m.Failure)
	w.Fixed(m.Salt[:])
	if len(m.Result) > 0 {
		w.LenBytes(m.Result)
	}
	return w.Bytes()
}

// DecodeMsgRevealResult parses the body.
func DecodeMsgRevealResult(b []byte) (MsgRevealResult, error) {
	r := codec.NewReader(b)
	m := MsgRevealResult{ID: r.Uvarint()}
	r.FixedInto(m.Output[:])
	m.OutputSize = r.Uvarint()
	m.GasUsed = r.Uvarint()
	m.Failure = r.String(MaxFailureLen)
	r.FixedInto(m.Salt[:])
	if r.Remaining() > 0 {
		if m.Result = r.LenBytes(MaxInlineBytes); r.Err() == nil && len(m.Result) == 0 {
			return m, ErrMalformed.Wrapf("reveal: an empty result must be left out")
		}
	}
	if err := r.Done(); err != nil {
		return m, ErrMalformed.Wrapf("reveal result: %v", err)
	}
	return m, nil
}

// MsgChallenge is a fraud proof against an optimistic job's revealed
// result, which the chain holds signed by its provider: the claim that
// re-execution gives a different result, backed by a bond that is lost
// if re-execution agrees with the provider.
type MsgChallenge struct {
	Job  uint64       `json:"job,string"`
	Bond types.Amount `json:"bond"`
}

// Encode returns the message body.
func (m MsgChallenge) Encode() []byte {
	w := codec.NewWriter(20)
	w.Uvarint(m.Job)
	w.Uvarint(uint64(m.Bond))
	return w.Bytes()
}

// DecodeMsgChallenge parses the body.
func DecodeMsgChallenge(b []byte) (MsgChallenge, error) {
	r := codec.NewReader(b)
	m := MsgChallenge{Job: r.Uvarint(), Bond: types.Amount(r.Uvarint())}
	if err := r.Done(); err != nil {
		return m, ErrMalformed.Wrapf("challenge: %v", err)
	}
	return m, nil
}

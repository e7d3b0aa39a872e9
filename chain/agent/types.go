package agent

import (
	"encoding/hex"
	"fmt"
	"math"
	"strings"
	"unicode/utf8"

	"github.com/mycelnet/mycel/chain/codec"
	"github.com/mycelnet/mycel/types"
)

// Limits of the fields a registration carries, in bytes or items. The
// summary of the card kept on chain (name, description, skills) is what
// discovery indexes, so every node ranks from the same data without
// fetching cards.
const (
	MaxNameLen        = 64
	MaxDescriptionLen = 256
	MaxSkills         = 16
	MaxSkillIDLen     = 64
	MaxSkillNameLen   = 64
	MaxTags           = 8
	MaxTagLen         = 32
	MaxEndpointLen    = 256
	MaxMembers        = 32
	MaxReasonLen      = 256
	// SplitTotal is what the shares of a revenue split sum to: basis
	// points.
	SplitTotal = 10_000
)

// maxDecodeLen and maxDecodeCount bound what a decoder accepts: more than
// any valid field, so that an over-long one gets the precise validation
// error rather than a decoding one, and little enough to allocate.
const (
	maxDecodeLen   = 1024
	maxDecodeCount = 64
)

// PublicKey is an ed25519 public key; its text form is hex.
type PublicKey [32]byte

// IsZero reports whether k is all zeros: no key.
func (k PublicKey) IsZero() bool { return k == PublicKey{} }

func (k PublicKey) String() string { return hex.EncodeToString(k[:]) }

// MarshalText implements encoding.TextMarshaler.
func (k PublicKey) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (k *PublicKey) UnmarshalText(b []byte) error {
	p, err := ParsePublicKey(string(b))
	*k = p
	return err
}

// ParsePublicKey reads the 64 hex digits of a public key.
func ParsePublicKey(s string) (PublicKey, error) {
	var k PublicKey
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != len(k) {
		return k, ErrInvalidKey.Wrapf("%q: want the 64 hex digits of an ed25519 public key", s)
	}
	copy(k[:], b)
	return k, nil
}

// Status is where an agent is in its life.
type Status uint8

// Statuses. Never renumber.
const (
	// Active agents are listed and reachable.
	Active Status = 1
	// Expired agents were not renewed in time: not listed; the owner may
	// renew (listed again) or deregister.
	Expired Status = 2
	// Unbonding agents were deregistered; the deposit is paid back at
	// RefundAt.
	Unbonding Status = 3
	// Closed agents were deregistered and refunded; the record stays so
	// that their id is never reused and later messages get a clear refusal.
	Closed Status = 4
)

var statusNames = []string{"", "active", "expired", "unbonding", "closed"}

// Valid reports whether s is a known status.
func (s Status) Valid() bool { return s > 0 && int(s) < len(statusNames) }

func (s Status) String() string {
	if s.Valid() {
		return statusNames[s]
	}
	return fmt.Sprintf("status(%d)", uint8(s))
}

// MarshalText implements encoding.TextMarshaler.
func (s Status) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (s *Status) UnmarshalText(b []byte) error {
	for i, n := range statusNames {
		if i > 0 && n == string(b) {
			*s = Status(i)
			return nil
		}
	}
	return fmt.Errorf("agent status %q: use active, expired, unbonding or closed", b)
}

// Skill is a skill of an agent, as its card lists it: the id a client
// asks for, a name for people, and tags.
type Skill struct {
	ID   string   `json:"id"`
	Name string   `json:"name"`
	Tags []string `json:"tags"`
}

// Agent is a registered agent.
type Agent struct {
	// ID is the agent's number, from a sequence: 1, 2, ...
	ID    uint64        `json:"id,string"`
	Owner types.Address `json:"owner"`
	// OwnedSince is the height at which the current owner got the agent
	// (registered, received or bought it).
	OwnedSince int64 `json:"owned_since"`
	// SigningKey signs the agent's messages; zero when the agent has
	// none (after a transfer or a sale, until the new owner sets one).
	SigningKey PublicKey `json:"signing_key,omitzero"`
	// KeySince is the height at which SigningKey was set.
	KeySince int64 `json:"key_since,omitempty"`
	// CardHash and CardSize name the agent's A2A Agent Card in the
	// nodes' blob stores.
	CardHash types.Hash `json:"card_hash"`
	CardSize uint64     `json:"card_size"`
	// Name, Description and Skills summarise the card for discovery.
	Name        string  `json:"name"`
	Description string  `json:"description"`
	Skills      []Skill `json:"skills"`
	// Price is what the agent asks per task.
	Price types.Amount `json:"price"`
	// Endpoint is the URL the agent takes messages at; empty when it is
	// reachable only through the nodes' mailboxes.
	Endpoint string `json:"endpoint"`
	// Deposit is what the registration escrows.
	Deposit types.Amount `json:"deposit"`
	// Registered is the height of the registration.
	Registered int64 `json:"registered_height"`
	// ExpiresAt is the last height at which the registration is listed,
	// unless renewed.
	ExpiresAt int64  `json:"expires_at"`
	Status    Status `json:"status"`
	// RefundAt is the height at which an unbonding agent's deposit is paid
	// back; Refunded what was paid back then.
	RefundAt int64        `json:"refund_at,omitempty"`
	Refunded types.Amount `json:"refunded,omitempty"`
	// ForSale and SalePrice are the agent's market listing.
	ForSale   bool         `json:"for_sale"`
	SalePrice types.Amount `json:"sale_price,omitempty"`
	// Rep is the decayed record of the ratings the agent got.
	Rep Rep `json:"rep"`
	// OpenReports counts the reports of misbehaviour not withdrawn.
	OpenReports uint64 `json:"open_reports"`
	// Updated is the height of the agent's last change, for indexers.
	Updated int64 `json:"updated_height"`
}

// Mailbox reports whether the agent takes messages only through the
// nodes' mailboxes.
func (a *Agent) Mailbox() bool { return a.Endpoint == "" }

// Listed reports whether discovery lists the agent at height h.
func (a *Agent) Listed(h int64) bool { return a.Status == Active && h <= a.ExpiresAt }

// Rep is an agent's rating record: the weights and weighted stars of the
// ratings it got, in thousandths of a rating and decayed as of epoch
// Epoch, and the number of ratings ever.
type Rep struct {
	Epoch  int64  `json:"epoch"`
	Weight uint64 `json:"weight"`
	Stars  uint64 `json:"stars"`
	Count  uint64 `json:"count"`
}

func validText(s string, max int) error {
	if len(s) > max {
		return fmt.Errorf("%d bytes: at most %d", len(s), max)
	}
	if !utf8.ValidString(s) {
		return fmt.Errorf("not valid UTF-8")
	}
	for i, r := range s {
		if r < 0x20 || r >= 0x7f && r < 0xa0 {
			return fmt.Errorf("control character %U at byte %d", r, i)
		}
	}
	if strings.TrimSpace(s) != s {
		return fmt.Errorf("%q: no spaces at the ends", s)
	}
	return nil
}

// ValidateName checks an agent's or a collective's name: 1 to 64 bytes of
// UTF-8 without control characters or spaces at the ends.
func ValidateName(s string) error {
	if s == "" {
		return ErrInvalidName.Wrapf("an agent needs a name")
	}
	if err := validText(s, MaxNameLen); err != nil {
		return ErrInvalidName.Wrapf("%v", err)
	}
	return nil
}

// ValidateDescription checks a description: at most 256 bytes of UTF-8
// without control characters.
func ValidateDescription(s string) error {
	if err := validText(s, MaxDescriptionLen); err != nil {
		return ErrInvalidText.Wrapf("description: %v", err)
	}
	return nil
}

// ValidateSkillID checks a skill id: 1 to 64 bytes of letters, digits and
// . _ : / -.
func ValidateSkillID(s string) error {
	if s == "" {
		return ErrInvalidSkill.Wrapf("a skill needs an id")
	}
	if len(s) > MaxSkillIDLen {
		return ErrInvalidSkill.Wrapf("id of %d bytes: at most %d", len(s), MaxSkillIDLen)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == ':' || c == '/' || c == '-') {
			return ErrInvalidSkill.Wrapf("id %q: byte %d is %q; use letters, digits and . _ : / -", s, i, c)
		}
	}
	return nil
}

// ValidateSkills checks a skill list: at most 16 skills with distinct
// ids, each with a name of at most 64 bytes and at most 8 distinct tags of
// 1 to 32 bytes.
func ValidateSkills(skills []Skill) error {
	if len(skills) > MaxSkills {
		return ErrInvalidSkill.Wrapf("%d skills: at most %d", len(skills), MaxSkills)
	}
	for i, s := range skills {
		if err := ValidateSkillID(s.ID); err != nil {
			return err
		}
		for _, o := range skills[:i] {
			if strings.EqualFold(o.ID, s.ID) {
				return ErrInvalidSkill.Wrapf("skill %q listed twice", s.ID)
			}
		}
		if err := validText(s.Name, MaxSkillNameLen); err != nil {
			return ErrInvalidSkill.Wrapf("skill %q: name: %v", s.ID, err)
		}
		if len(s.Tags) > MaxTags {
			return ErrInvalidSkill.Wrapf("skill %q: %d tags: at most %d", s.ID, len(s.Tags), MaxTags)
		}
		for j, t := range s.Tags {
			if t == "" {
				return ErrInvalidSkill.Wrapf("skill %q: an empty tag", s.ID)
			}
			if err := validText(t, MaxTagLen); err != nil {
				return ErrInvalidSkill.Wrapf("skill %q: tag: %v", s.ID, err)
			}
			for _, o := range s.Tags[:j] {
				if strings.EqualFold(o, t) {
					return ErrInvalidSkill.Wrapf("skill %q: tag %q listed twice", s.ID, t)
				}
			}
		}
	}
	return nil
}

// ValidateEndpoint checks an endpoint: empty (the agent is reachable
// through the mailboxes), or an http:// or https:// URL of at most 256
// bytes of printable ASCII without spaces.
func ValidateEndpoint(s string) error {
	if s == "" {
		return nil
	}
	if len(s) > MaxEndpointLen {
		return ErrInvalidEndpoint.Wrapf("%d bytes: at most %d", len(s), MaxEndpointLen)
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= 0x20 || s[i] > 0x7e {
			return ErrInvalidEndpoint.Wrapf("%q: byte %d is not printable ASCII", s, i)
		}
	}
	rest, ok := strings.CutPrefix(s, "https://")
	if !ok {
		rest, ok = strings.CutPrefix(s, "http://")
	}
	if !ok || rest == "" || rest[0] == '/' {
		return ErrInvalidEndpoint.Wrapf("%q: want an http:// or https:// URL with a host, or none for the mailbox", s)
	}
	return nil
}

// validateCard checks a card's hash and size.
func validateCard(h types.Hash, size uint64, p Params) error {
	switch {
	case h.IsZero():
		return ErrInvalidCard.Wrapf("the zero hash names no card; upload the card and give its sha256")
	case size == 0:
		return ErrInvalidCard.Wrapf("a card has at least one byte")
	case size > p.MaxCardBytes:
		return ErrInvalidCard.Wrapf("%d bytes: at most %d", size, p.MaxCardBytes)
	}
	return nil
}

func writeSkills(w *codec.Writer, skills []Skill) {
	w.Uvarint(uint64(len(skills)))
	for _, s := range skills {
		w.String(s.ID)
		w.String(s.Name)
		w.Uvarint(uint64(len(s.Tags)))
		for _, t := range s.Tags {
			w.String(t)
		}
	}
}

func readSkills(r *codec.Reader) []Skill {
	n := r.Count(maxDecodeCount)
	out := make([]Skill, 0, n)
	for i := 0; i < n && r.Err() == nil; i++ {
		s := Skill{ID: r.String(maxDecodeLen), Name: r.String(maxDecodeLen)}
		k := r.Count(maxDecodeCount)
		s.Tags = make([]string, 0, k)
		for j := 0; j < k && r.Err() == nil; j++ {
			s.Tags = append(s.Tags, r.String(maxDecodeLen))
		}
		out = append(out, s)
	}
	return out
}

func skillsLen(skills []Skill) int {
	n := 2
	for _, s := range skills {
		n += len(s.ID) + len(s.Name) + 4
		for _, t := range s.Tags {
			n += len(t) + 2
		}
	}
	return n
}

func (a *Agent) encode() []byte {
	w := codec.NewWriter(256 + len(a.Name) + len(a.Description) + len(a.Endpoint) + skillsLen(a.Skills))
	w.Fixed(a.Owner[:])
	w.Varint(a.OwnedSince)
	w.Fixed(a.SigningKey[:])
	w.Varint(a.KeySince)
	w.Fixed(a.CardHash[:])
	w.Uvarint(a.CardSize)
	w.String(a.Name)
	w.String(a.Description)
	writeSkills(w, a.Skills)
	w.Uvarint(uint64(a.Price))
	w.String(a.Endpoint)
	w.Uvarint(uint64(a.Deposit))
	w.Varint(a.Registered)
	w.Varint(a.ExpiresAt)
	w.Byte(byte(a.Status))
	w.Varint(a.RefundAt)
	w.Uvarint(uint64(a.Refunded))
	w.Bool(a.ForSale)
	w.Uvarint(uint64(a.SalePrice))
	w.Varint(a.Rep.Epoch)
	w.Uvarint(a.Rep.Weight)
	w.Uvarint(a.Rep.Stars)
	w.Uvarint(a.Rep.Count)
	w.Uvarint(a.OpenReports)
	w.Varint(a.Updated)
	return w.Bytes()
}

func decodeAgent(id uint64, b []byte) (*Agent, error) {
	r := codec.NewReader(b)
	a := &Agent{ID: id}
	r.FixedInto(a.Owner[:])
	a.OwnedSince = r.Varint()
	r.FixedInto(a.SigningKey[:])
	a.KeySince = r.Varint()
	r.FixedInto(a.CardHash[:])
	a.CardSize = r.Uvarint()
	a.Name = r.String(maxDecodeLen)
	a.Description = r.String(maxDecodeLen)
	a.Skills = readSkills(r)
	a.Price = types.Amount(r.Uvarint())
	a.Endpoint = r.String(maxDecodeLen)
	a.Deposit = types.Amount(r.Uvarint())
	a.Registered = r.Varint()
	a.ExpiresAt = r.Varint()
	a.Status = Status(r.Byte())
	a.RefundAt = r.Varint()
	a.Refunded = types.Amount(r.Uvarint())
	a.ForSale = r.Bool()
	a.SalePrice = types.Amount(r.Uvarint())
	a.Rep = Rep{Epoch: r.Varint(), Weight: r.Uvarint(), Stars: r.Uvarint(), Count: r.Uvarint()}
	a.OpenReports = r.Uvarint()
	a.Updated = r.Varint()
	if err := r.Done(); err != nil {
		return nil, fmt.Errorf("agent %d: %w", id, err)
	}
	return a, nil
}

// Share is one member's part of a collective's revenue split.
type Share struct {
	// Agent is the member agent.
	Agent uint64 `json:"agent,string"`
	// Bps is its share in basis points (of 10,000).
	Bps uint32 `json:"bps"`
	// Accepted says whether the member's owner has accepted the split it
	// belongs to (always true in the split in force).
	Accepted bool `json:"accepted"`
}

// Proposal is a split and a card the manager proposed, waiting for every
// member's consent.
type Proposal struct {
	Version  uint64     `json:"version,string"`
	CardHash types.Hash `json:"card_hash"`
	CardSize uint64     `json:"card_size"`
	Shares   []Share    `json:"shares"`
}

// Collective is a group of agents managed by one of them, with a revenue
// split every member agreed to and a combined card.
type Collective struct {
	ID uint64 `json:"id,string"`
	// Manager is the managing agent: its owner proposes splits.
	Manager uint64 `json:"manager,string"`
	Name    string `json:"name"`
	Created int64  `json:"created_height"`
	// Version numbers the split in force; 0 while the first split waits
	// for consent.
	Version  uint64     `json:"version,string"`
	CardHash types.Hash `json:"card_hash"`
	CardSize uint64     `json:"card_size"`
	Shares   []Share    `json:"shares"`
	// Proposal is the split waiting for consent, if any.
	Proposal *Proposal `json:"proposal,omitempty"`
	// Proposed counts the proposals ever made: versions are never
	// reused, so a consent signed for a dropped proposal cannot count for
	// a later one.
	Proposed uint64 `json:"proposed,string"`
	// Closed is the height at which the manager dissolved the
	// collective; 0 while it is open.
	Closed int64 `json:"closed_height,omitempty"`
	// Paid is all that was paid through the collective.
	Paid types.Amount `json:"paid"`
}

func writeShares(w *codec.Writer, ss []Share) {
	w.Uvarint(uint64(len(ss)))
	for _, s := range ss {
		w.Uvarint(s.Agent)
		w.Uvarint(uint64(s.Bps))
		w.Bool(s.Accepted)
	}
}

// readShares reads a share list; ok is false when a share does not fit
// in 32 bits (no valid share comes near).
func readShares(r *codec.Reader) (out []Share, ok bool) {
	n := r.Count(maxDecodeCount)
	out = make([]Share, 0, n)
	ok = true
	for i := 0; i < n && r.Err() == nil; i++ {
		s := Share{Agent: r.Uvarint()}
		bps := r.Uvarint()
		ok = ok && bps <= math.MaxUint32
		s.Bps = uint32(bps)
		s.Accepted = r.Bool()
		out = append(out, s)
	}
	return out, ok
}

func (c *Collective) encode() []byte {
	w := codec.NewWriter(160 + len(c.Name) + 16*len(c.Shares))
	w.Uvarint(c.Manager)
	w.String(c.Name)
	w.Varint(c.Created)
	w.Uvarint(c.Version)
	w.Fixed(c.CardHash[:])
	w.Uvarint(c.CardSize)
	writeShares(w, c.Shares)
	w.Bool(c.Proposal != nil)
	if c.Proposal != nil {
		w.Uvarint(c.Proposal.Version)
		w.Fixed(c.Proposal.CardHash[:])
		w.Uvarint(c.Proposal.CardSize)
		writeShares(w, c.Proposal.Shares)
	}
	w.Uvarint(c.Proposed)
	w.Varint(c.Closed)
	w.Uvarint(uint64(c.Paid))
	return w.Bytes()
}

func decodeCollective(id uint64, b []byte) (*Collective, error) {
	r := codec.NewReader(b)
	c := &Collective{ID: id, Manager: r.Uvarint(), Name: r.String(maxDecodeLen), Created: r.Varint(), Version: r.Uvarint()}
	r.FixedInto(c.CardHash[:])
	c.CardSize = r.Uvarint()
	var ok1, ok2 bool
	c.Shares, ok1 = readShares(r)
	ok2 = true
	if r.Bool() {
		p := &Proposal{Version: r.Uvarint()}
		r.FixedInto(p.CardHash[:])
		p.CardSize = r.Uvarint()
		p.Shares, ok2 = readShares(r)
		c.Proposal = p
	}
	c.Proposed = r.Uvarint()
	c.Closed = r.Varint()
	c.Paid = types.Amount(r.Uvarint())
	if err := r.Done(); err != nil {
		return nil, fmt.Errorf("collective %d: %w", id, err)
	}
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("collective %d: a share over 32 bits", id)
	}
	return c, nil
}

// Report is a bonded claim of misbehaviour against an agent, kept for the
// dispute track to resolve.
type Report struct {
	ID       uint64        `json:"id,string"`
	Agent    uint64        `json:"agent,string"`
	Reporter types.Address `json:"reporter"`
	Bond     types.Amount  `json:"bond"`
	// Evidence is the sha256 of an evidence blob (a signed envelope, a
	// transcript); zero for none.
	Evidence types.Hash `json:"evidence,omitzero"`
	Reason   string     `json:"reason"`
	Height   int64      `json:"height"`
	// Withdrawn is the height at which the reporter withdrew the report
	// and took its bond back; 0 while it is open.
	Withdrawn int64 `json:"withdrawn_height,omitempty"`
	// Validators commit ballots until VoteEnd and reveal them until
	// RevealEnd, when the report is decided (ballot.go): Decided is that
	// height and Outcome what was decided.
	VoteEnd   int64  `json:"vote_end_height,omitempty"`
	RevealEnd int64  `json:"reveal_end_height,omitempty"`
	Decided   int64  `json:"decided_height,omitempty"`
	Outcome   string `json:"outcome,omitempty"`
}

// Open reports whether the report still holds its bond.
func (p *Report) Open() bool { return p.Withdrawn == 0 && p.Decided == 0 }

func (p *Report) encode() []byte {
	w := codec.NewWriter(120 + len(p.Reason))
	w.Uvarint(p.Agent)
	w.Fixed(p.Reporter[:])
	w.Uvarint(uint64(p.Bond))
	w.Fixed(p.Evidence[:])
	w.String(p.Reason)
	w.Varint(p.Height)
	w.Varint(p.Withdrawn)
	w.Varint(p.VoteEnd)
	w.Varint(p.RevealEnd)
	w.Varint(p.Decided)
	w.String(p.Outcome)
	return w.Bytes()
}

func decodeReport(id uint64, b []byte) (*Report, error) {
	r := codec.NewReader(b)
	p := &Report{ID: id, Agent: r.Uvarint()}
	r.FixedInto(p.Reporter[:])
	p.Bond = types.Amount(r.Uvarint())
	r.FixedInto(p.Evidence[:])
	p.Reason = r.String(maxDecodeLen)
	p.Height = r.Varint()
	p.Withdrawn = r.Varint()
	if r.Remaining() > 0 {
		p.VoteEnd, p.RevealEnd, p.Decided, p.Outcome = r.Varint(), r.Varint(), r.Varint(), r.String(maxDecodeLen)
	}
	if err := r.Done(); err != nil {
		return nil, fmt.Errorf("report %d: %w", id, err)
	}
	return p, nil
}

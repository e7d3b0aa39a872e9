package provider

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
)

// Misbehaviour makes a provider cheat, for the tests and the benchmark
// of verification: a provider the network must catch. It is never set
// by default, and `mycel provider run` takes it only through a hidden
// flag.
type Misbehaviour struct {
	Kind string
	// Rate is the share of jobs a MisbehaveLie provider lies on, in
	// [0, 1]; which jobs is a hash of the job id, so a restarted
	// provider lies on the same ones.
	Rate float64
}

// The kinds of misbehaviour.
const (
	MisbehaveLie    = "lie"    // reveals a wrong output on Rate of its jobs
	MisbehaveSilent = "silent" // commits and never reveals
)

// ParseMisbehaviour reads "lie", "lie=0.3" or "silent".
func ParseMisbehaviour(s string) (Misbehaviour, error) {
	kind, rate, hasRate := strings.Cut(s, "=")
	m := Misbehaviour{Kind: kind, Rate: 1}
	switch kind {
	case "":
		return Misbehaviour{}, nil
	case MisbehaveLie:
		if hasRate {
			r, err := strconv.ParseFloat(rate, 64)
			if err != nil || r < 0 || r > 1 {
				return m, fmt.Errorf("misbehaviour %q: the lie rate is a number in [0, 1]", s)
			}
			m.Rate = r
		}
	case MisbehaveSilent:
	default:
		return m, fmt.Errorf("misbehaviour %q: lie, lie=RATE or silent", s)
	}
	return m, nil
}

// tamper returns the output this provider reveals for a job.
func (m Misbehaviour) tamper(job uint64, out []byte) []byte {
	if m.Kind != MisbehaveLie {
		return out
	}
	h := sha256.Sum256(binary.BigEndian.AppendUint64([]byte("mycel/misbehave/v1"), job))
	if float64(binary.BigEndian.Uint64(h[:8]))/(1<<64) >= m.Rate {
		return out
	}
	return append(append([]byte(nil), out...), " (a lie)"...)
}

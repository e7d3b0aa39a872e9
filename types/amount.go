package types

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"strconv"
	"strings"
)

// Denominations. All on-chain arithmetic is in the base unit umyc.
const (
	BaseDenom    = "umyc"
	DisplayDenom = "myc"
	// UnitsPerMYC is the number of umyc in one MYC.
	UnitsPerMYC = 1_000_000
)

// ErrOverflow is returned by checked arithmetic that would wrap.
var ErrOverflow = errors.New("amount overflow")

// ErrUnderflow is returned when a subtraction would go below zero.
var ErrUnderflow = errors.New("amount underflow")

// Amount is a number of umyc. Arithmetic is checked: it never wraps.
type Amount uint64

// MYC returns n whole MYC as an Amount; it panics on overflow and is meant
// for constants.
func MYC(n uint64) Amount {
	hi, lo := bits.Mul64(n, UnitsPerMYC)
	if hi != 0 {
		panic(ErrOverflow)
	}
	return Amount(lo)
}

// Add returns a+b or ErrOverflow.
func (a Amount) Add(b Amount) (Amount, error) {
	s, carry := bits.Add64(uint64(a), uint64(b), 0)
	if carry != 0 {
		return 0, ErrOverflow
	}
	return Amount(s), nil
}

// Sub returns a-b or ErrUnderflow.
func (a Amount) Sub(b Amount) (Amount, error) {
	if b > a {
		return 0, ErrUnderflow
	}
	return a - b, nil
}

// MulDiv returns floor(a*num/den) computed with a 128-bit intermediate.
// It returns ErrOverflow when den is zero or the result does not fit.
func (a Amount) MulDiv(num, den uint64) (Amount, error) {
	if den == 0 {
		return 0, ErrOverflow
	}
	hi, lo := bits.Mul64(uint64(a), num)
	if hi >= den {
		return 0, ErrOverflow
	}
	q, _ := bits.Div64(hi, lo, den)
	return Amount(q), nil
}

// MulFraction returns floor(a*f).
func (a Amount) MulFraction(f Fraction) Amount {
	q, err := a.MulDiv(uint64(f), FractionOne)
	if err != nil {
		// f <= FractionOne, so the result is <= a and always fits.
		panic(err)
	}
	return q
}

// String formats the amount in MYC with up to six decimals, e.g. "1.5myc".
// The result parses back with ParseAmount.
func (a Amount) String() string {
	whole := uint64(a) / UnitsPerMYC
	frac := uint64(a) % UnitsPerMYC
	if frac == 0 {
		return strconv.FormatUint(whole, 10) + DisplayDenom
	}
	fs := strings.TrimRight(fmt.Sprintf("%06d", frac), "0")
	return strconv.FormatUint(whole, 10) + "." + fs + DisplayDenom
}

// ParseAmount reads "5myc", "1.25myc", "5000000umyc" or "0umyc". A bare
// number is refused because it is ambiguous.
func ParseAmount(s string) (Amount, error) {
	in := strings.ToLower(strings.TrimSpace(s))
	switch {
	case strings.HasSuffix(in, BaseDenom):
		num := strings.TrimSuffix(in, BaseDenom)
		v, err := strconv.ParseUint(num, 10, 64)
		if err != nil || num == "" || num[0] == '+' {
			return 0, fmt.Errorf("amount %q: %s is not a whole number of umyc", s, num)
		}
		return Amount(v), nil
	case strings.HasSuffix(in, DisplayDenom):
		num := strings.TrimSuffix(in, DisplayDenom)
		whole, frac, hasDot := strings.Cut(num, ".")
		if whole == "" && !hasDot || !digits(whole) || !digits(frac) || (hasDot && frac == "" && whole == "") {
			return 0, fmt.Errorf("amount %q: want a number such as 5myc or 1.25myc", s)
		}
		if len(frac) > 6 {
			return 0, fmt.Errorf("amount %q: at most 6 decimals (1umyc = 0.000001myc)", s)
		}
		var w uint64
		if whole != "" {
			var err error
			w, err = strconv.ParseUint(whole, 10, 64)
			if err != nil {
				return 0, fmt.Errorf("amount %q: too large", s)
			}
		}
		var f uint64
		if frac != "" {
			f, _ = strconv.ParseUint(frac+strings.Repeat("0", 6-len(frac)), 10, 64)
		}
		hi, lo := bits.Mul64(w, UnitsPerMYC)
		sum, carry := bits.Add64(lo, f, 0)
		if hi != 0 || carry != 0 {
			return 0, fmt.Errorf("amount %q: too large", s)
		}
		return Amount(sum), nil
	default:
		return 0, fmt.Errorf("amount %q: add a unit, for example 5myc or 5000000umyc", s)
	}
}

func digits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// MarshalJSON writes the amount in umyc as a decimal string, so that
// clients with 53-bit numbers lose nothing.
func (a Amount) MarshalJSON() ([]byte, error) {
	return json.Marshal(strconv.FormatUint(uint64(a), 10))
}

// UnmarshalJSON reads a decimal string or number of umyc.
func (a *Amount) UnmarshalJSON(b []byte) error {
	var s string
	if len(b) > 0 && b[0] == '"' {
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
	} else {
		s = string(b)
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return fmt.Errorf("amount %q: want a whole number of umyc", s)
	}
	*a = Amount(v)
	return nil
}

// MaxAmount is the largest representable amount.
const MaxAmount = Amount(math.MaxUint64)

// Fraction is a number between 0 and 1 in parts per million.
type Fraction uint32

// FractionOne is the Fraction that stands for 1.
const FractionOne = 1_000_000

// Valid reports whether f is within [0, 1].
func (f Fraction) Valid() bool { return f <= FractionOne }

// String formats f as a percentage, e.g. "5%" or "0.01%".
func (f Fraction) String() string {
	// percent with up to four decimals: f/10000 %
	whole := uint32(f) / 10000
	rest := uint32(f) % 10000
	if rest == 0 {
		return fmt.Sprintf("%d%%", whole)
	}
	return fmt.Sprintf("%d.%s%%", whole, strings.TrimRight(fmt.Sprintf("%04d", rest), "0"))
}

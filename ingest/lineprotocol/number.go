package lineprotocol

import (
	"math"
	"strconv"
)

// Powers of ten that float64 represents exactly: the fast float path divides
// by one of them, which rounds correctly only while both operands are exact.
var pow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

const (
	// Decimal mantissas up to 15 digits are below 2^53, so float64 holds them
	// exactly and the fast path needs no strconv.
	maxFastFloatDigits = 15
	// 19 decimal digits always fit in a uint64, so the fast path needs only a
	// final range check; longer numbers and out-of-range ones go to strconv,
	// which also words the error the way InfluxDB does.
	maxFastIntDigits = 19
)

// parseNumber checks the number at b[i] with InfluxDB's scanNumber rules and
// stores its value in f. It returns the offset after the number, or the reason
// it is invalid and where.
func parseNumber(b []byte, i int, f *Field) (int, string) {
	n := len(b)
	start := i
	if b[i] == '-' {
		i++
		if i == n {
			return i, errInvalidNumber
		}
	}
	var isInt, isUint, decimal, scientific bool
	for ; i < n; i++ {
		c := b[i]
		if c >= '0' && c <= '9' {
			continue
		}
		switch {
		case c == ',' || c == ' ':
			goto scanned
		case (c == 'i' || c == 'u') && i > start && !isInt && !isUint:
			isInt, isUint = c == 'i', c == 'u'
		case c == '.':
			if decimal {
				return i, errInvalidNumber
			}
			decimal = true
		case (c == 'e' || c == 'E') && i > start:
			scientific = true
		case (c == '+' || c == '-') && (b[i-1] == 'e' || b[i-1] == 'E'):
		default:
			// Includes NaN, Inf and any other letter.
			return i, errInvalidNumber
		}
	}
scanned:
	if (isInt || isUint) && (decimal || scientific) {
		return i, errInvalidNumber
	}
	digits := i - start
	if isInt {
		digits--
	}
	if decimal {
		digits--
	}
	if b[start] == '-' {
		digits--
	}
	if digits == 0 {
		return i, errInvalidNumber
	}
	tok := b[start:i]
	switch {
	case isInt:
		if b[i-1] != 'i' {
			return i, errInvalidNumber
		}
		v, err := parseInt(tok[:len(tok)-1])
		if err != "" {
			return i, "unable to parse integer " + string(tok[:len(tok)-1]) + ": " + err
		}
		f.Type, f.Int = Integer, v
	case isUint:
		if b[i-1] != 'u' || b[start] == '-' {
			return i, errInvalidNumber
		}
		v, err := parseUint(tok[:len(tok)-1])
		if err != "" {
			return i, "unable to parse unsigned " + string(tok[:len(tok)-1]) + ": " + err
		}
		f.Type, f.Uint = Unsigned, v
	default:
		v, ok := parseFloat(tok, scientific)
		if !ok {
			return i, errInvalidFloat
		}
		f.Type, f.Float = Float, v
	}
	return i, ""
}

// parseFloat converts a token scanNumber accepted as a float. Plain decimals
// with few digits take an exact fast path; the rest go to strconv.
func parseFloat(tok []byte, scientific bool) (float64, bool) {
	if !scientific {
		s := tok
		neg := s[0] == '-'
		if neg {
			s = s[1:]
		}
		var mant uint64
		sig, frac := 0, 0
		afterDot := false
		for _, c := range s {
			if c == '.' {
				afterDot = true
				continue
			}
			if afterDot {
				frac++
			}
			if sig > 0 || c != '0' {
				sig++
			}
			mant = mant*10 + uint64(c-'0')
			if sig > maxFastFloatDigits {
				break
			}
		}
		if sig <= maxFastFloatDigits && frac < len(pow10) {
			v := float64(mant) / pow10[frac]
			if neg {
				v = -v
			}
			return v, true
		}
	}
	// string(tok) does not escape, so short tokens convert on the stack.
	v, err := strconv.ParseFloat(string(tok), 64)
	return v, err == nil
}

// parseInt parses an optional '-' and decimal digits into an int64. Its error
// is strconv's message, which InfluxDB quotes verbatim.
func parseInt(tok []byte) (int64, string) {
	s := tok
	neg := len(s) > 0 && s[0] == '-'
	if neg {
		s = s[1:]
	}
	if len(s) > 0 && len(s) <= maxFastIntDigits {
		var u uint64
		for _, c := range s {
			u = u*10 + uint64(c-'0')
		}
		if !neg && u <= math.MaxInt64 {
			return int64(u), ""
		}
		if neg && u <= -math.MinInt64 {
			return -int64(u), ""
		}
	}
	v, err := strconv.ParseInt(string(tok), 10, 64)
	if err != nil {
		return 0, err.Error()
	}
	return v, ""
}

// parseUint parses decimal digits into a uint64; see parseInt.
func parseUint(tok []byte) (uint64, string) {
	if len(tok) == 0 || len(tok) >= maxFastIntDigits+1 {
		v, err := strconv.ParseUint(string(tok), 10, 64)
		if err != nil {
			return 0, err.Error()
		}
		return v, ""
	}
	var v uint64
	for _, c := range tok {
		v = v*10 + uint64(c-'0')
	}
	return v, ""
}

// parseBool checks the boolean at b[i] with InfluxDB's scanBoolean rules.
func parseBool(b []byte, i int, f *Field) (int, string) {
	start := i
	c := b[i]
	if c != 't' && c != 'f' && c != 'T' && c != 'F' {
		return i, errInvalidBoolean
	}
	for i < len(b) && b[i] != ',' && b[i] != ' ' {
		i++
	}
	f.Type = Boolean
	switch string(b[start:i]) {
	case "t", "T", "true", "True", "TRUE":
		f.Bool = true
	case "f", "F", "false", "False", "FALSE":
		f.Bool = false
	default:
		return start, errInvalidBoolean
	}
	return i, ""
}

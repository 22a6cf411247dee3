package block

import "math"

// maxScale is the largest decimal scale: 10^15 is the largest power of ten
// whose product with a 53-bit mantissa still has a chance of being exact, and
// the scale must fit the 4 bits it gets in the flags byte.
const maxScale = 15

// maxMantissa bounds |m| so float64(m) is exact.
const maxMantissa = 1 << 53

// pow10 holds 10^d exactly; every entry is below 2^53 and so exact.
var pow10 = [maxScale + 1]float64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15}

// mantissa returns m = round(f * 10^d). The decoder uses the same function to
// recover the first value's integer from FFirst, so it must stay identical.
func mantissa(f float64, d uint) int64 {
	return int64(math.Round(f * pow10[d]))
}

// fromDecimal is the decoder's inverse. Division, not multiplication by 10^-d:
// 10^-d is inexact, and division by an exact 10^d is correctly rounded, so
// m / 10^d is the float64 nearest the decimal m·10^-d, which is what parsing
// the decimal text produced in the first place.
func fromDecimal(m int64, d uint) float64 {
	return float64(m) / pow10[d]
}

// exactAt reports whether f is exactly m / 10^d for m = mantissa(f, d) with
// |m| < 2^53, bit for bit. NaN, ±Inf and -0 always fail.
func exactAt(f float64, d uint) bool {
	x := f * pow10[d]
	if !(x > -maxMantissa && x < maxMantissa) {
		return false
	}
	m := int64(math.Round(x))
	return math.Float64bits(fromDecimal(m, d)) == math.Float64bits(f)
}

// decimalScale finds the smallest scale at which every value is an exact
// decimal, or reports false. Most blocks settle on their scale in the first
// few values, so the common cost is one exactAt per value.
func decimalScale(vs []float64) (uint, bool) {
	d := uint(0)
	for _, f := range vs {
		if exactAt(f, d) {
			continue
		}
		for d++; d <= maxScale && !exactAt(f, d); d++ {
		}
		if d > maxScale {
			return 0, false
		}
	}
	// A value exact at its own scale is not always exact at a larger one
	// (m may pass 2^53), so check everything at the final scale.
	for _, f := range vs {
		if !exactAt(f, d) {
			return 0, false
		}
	}
	return d, true
}

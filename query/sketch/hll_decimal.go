package sketch

import (
	"math"
	"math/bits"
)

// A float block stored as decimals (docs/format/block.md: values m / 10^d
// for one scale d and integer mantissas m) reaches the sketch as its
// mantissas, not its floats. Adding a value to an HLL twice changes
// nothing, so a dense sketch remembers, in a bitset over a window of
// mantissas at one scale, which values it has folded, and hashes each of
// them once: the TSBS day's usage_user is 864,000 values of 10,001
// (hundredths of [0, 100]), and all but those 10,001 become a bit test
// (BenchmarkHLLFold/tsbs: AddDecimals against AddFloats). The registers are
// those AddFloats of the same floats gives, byte for byte
// (TestAddDecimals); the memo is a cache of that, never encoded, dropped
// by Clone. A block whose whole range of mantissas the memo holds is not
// even decoded (HoldsDecimals).

// decimalMemo is the set of mantissas at one scale, within [base,
// base+len(seen)·64), whose values the sketch has folded.
type decimalMemo struct {
	scale uint
	base  int64
	seen  []uint64
}

// pow10 holds 10^d exactly (every entry is below 2^53) for the block
// format's scales 0..15.
var pow10 = [16]float64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15}

// MaxDecimalScale is the largest scale AddDecimals takes, the block
// format's.
const MaxDecimalScale = uint(len(pow10) - 1)

// DecimalValue is the float a stored decimal stands for: m / 10^scale, the
// float64 nearest the decimal (division by an exact power of ten is
// correctly rounded), as the block decoder computes it.
func DecimalValue(m int64, scale uint) float64 { return float64(m) / pow10[scale] }

// memoBits is how many mantissas a sketch of precision p remembers: 2^p
// bits, an eighth of its dense registers. At the default precision that is
// 16,384 consecutive mantissas, which hold a percentage at two decimals.
func memoBits(p uint8) int64 { return int64(1) << p }

// HLLMaxBytes bounds an HLL of precision p in memory: its dense
// registers, its memo of decimals and their headers (MemBytes at most).
func HLLMaxBytes(p int) int { return 1<<p + int(memoBits(uint8(p)))/8 + 64 }

// newDecimalMemo starts a memo at scale for a sketch whose first decimal
// block begins with mantissa m. Gauges stored as decimals are mostly
// non-negative and small (percentages, temperatures, counts in hundredths),
// so a memo whose window can start at 0 and hold m starts there; otherwise
// the window is centred on m.
func newDecimalMemo(p uint8, scale uint, m int64) *decimalMemo {
	n := memoBits(p)
	base := m - n/2
	if m >= 0 && m < n {
		base = 0
	}
	return &decimalMemo{scale: scale, base: base, seen: make([]uint64, n/64)}
}

// AddDecimals folds the values DecimalValue(m, scale) of ms as AddFloats
// of those floats would, byte for byte; scale is at most MaxDecimalScale
// and every |m| below 2^53 (the block format's bounds).
func (h *HLL) AddDecimals(ms []int64, scale uint) {
	p := pow10[scale]
	i := 0
	for ; i < len(ms) && h.regs == nil; i++ {
		if i > 0 && ms[i] == ms[i-1] {
			continue
		}
		h.Add(HashFloat(float64(ms[i]) / p))
	}
	if i >= len(ms) {
		return
	}
	ms = ms[i:]
	if h.memo == nil {
		h.memo = newDecimalMemo(h.p, scale, ms[0])
	}
	if h.memo.scale != scale {
		// Another scale's mantissas name other values: fold them
		// unremembered (a field's blocks mostly share one scale).
		h.addDecimalsUnmemo(ms, p)
		return
	}
	if len(h.regs) == 1<<DefaultPrecision {
		addDecimals14((*[1 << DefaultPrecision]uint8)(h.regs), h.memo, ms, p)
		return
	}
	regs, hp, memo := h.regs, h.p, h.memo
	n := uint64(len(memo.seen)) * 64
	sentinel := uint64(1) << (hp - 1)
	for _, m := range ms {
		if k := uint64(m - memo.base); k < n {
			w, b := k/64, uint64(1)<<(k%64)
			if memo.seen[w]&b != 0 {
				continue
			}
			memo.seen[w] |= b
		}
		x := hash8(math.Float64bits(float64(m) / p))
		j := x >> (64 - hp) & uint64(len(regs)-1)
		r := uint8(bits.LeadingZeros64(x<<hp|sentinel) + 1)
		regs[j] = max(regs[j], r)
	}
}

// HoldsDecimals tells whether the sketch has folded, and remembers, every
// value DecimalValue(m, scale) for m in [lo, hi]: then a decimal block
// whose mantissas lie there adds nothing, and need not be decoded. After
// the first blocks of the TSBS day the memo holds all of [0, 10000] at
// scale 2 and every later block is skipped on its header.
func (h *HLL) HoldsDecimals(lo, hi int64, scale uint) bool {
	m := h.memo
	if m == nil || m.scale != scale || lo > hi {
		return false
	}
	n := uint64(len(m.seen)) * 64
	a, b := uint64(lo-m.base), uint64(hi-m.base)
	if a >= n || b >= n || a > b {
		return false
	}
	wa, wb := a/64, b/64
	first, last := ^uint64(0)<<(a%64), ^uint64(0)>>(63-b%64)
	if wa == wb {
		return m.seen[wa]&(first&last) == first&last
	}
	if m.seen[wa]&first != first || m.seen[wb]&last != last {
		return false
	}
	for _, w := range m.seen[wa+1 : wb] {
		if w != ^uint64(0) {
			return false
		}
	}
	return true
}

// addDecimals14 is AddDecimals' dense loop at the default precision, the
// registers an array (addFloats14).
func addDecimals14(regs *[1 << DefaultPrecision]uint8, memo *decimalMemo, ms []int64, p float64) {
	const hp = DefaultPrecision
	const sentinel = uint64(1) << (hp - 1)
	seen, base := memo.seen, memo.base
	n := uint64(len(seen)) * 64
	for _, m := range ms {
		if k := uint64(m - base); k < n {
			w, b := k/64, uint64(1)<<(k%64)
			if seen[w]&b != 0 {
				continue
			}
			seen[w] |= b
		}
		x := hash8(math.Float64bits(float64(m) / p))
		j := x >> (64 - hp)
		r := uint8(bits.LeadingZeros64(x<<hp|sentinel) + 1)
		regs[j] = max(regs[j], r)
	}
}

// addDecimalsUnmemo folds a dense sketch's decimals without the memo.
func (h *HLL) addDecimalsUnmemo(ms []int64, p float64) {
	prev := ms[0] + 1
	for _, m := range ms {
		if m == prev {
			continue
		}
		prev = m
		h.Add(hash8(math.Float64bits(float64(m) / p)))
	}
}

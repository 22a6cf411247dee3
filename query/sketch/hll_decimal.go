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
// base+len(seen)·64), whose values the sketch has folded; scale intsScale
// is the set of integers (AddInts), whose hash is of their own bits.
type decimalMemo struct {
	scale uint
	base  int64
	seen  []uint64
}

// intsScale marks a memo of integers: no decimal scale is that large.
const intsScale = ^uint(0)

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

// memoMinBatch is the smallest batch that gives a sparse sketch its memo
// (a dense one always has one): a batch of a few hundred values is a
// stored block or most of one (TSBS's hold about 1,000), which repeats a
// small set of values; a window of a handful of points is not worth 2 KiB.
const memoMinBatch = 256

// AddDecimals folds the values DecimalValue(m, scale) of ms as AddFloats
// of those floats would, byte for byte; scale is at most MaxDecimalScale
// and every |m| below 2^53 (the block format's bounds).
func (h *HLL) AddDecimals(ms []int64, scale uint) { h.addMemo(ms, scale) }

// AddInts folds integers as AddBits of their bits (HashInt's input) would,
// byte for byte, remembering which it has folded as AddDecimals does:
// TSBS's own data is integer percentages, 101 values.
func (h *HLL) AddInts(vs []int64) { h.addMemo(vs, intsScale) }

// memoHash is the hash of the value v stands for: an integer's own, or a
// mantissa's at scale.
func memoHash(v int64, scale uint) uint64 {
	if scale == intsScale {
		return hash8(uint64(v))
	}
	return hash8(math.Float64bits(float64(v) / pow10[scale]))
}

// addMemo folds vs, integers or mantissas at scale, through the memo: a
// value it holds is skipped, any other is marked and hashed.
func (h *HLL) addMemo(vs []int64, scale uint) {
	if len(vs) == 0 {
		return
	}
	if h.memo == nil && (h.regs != nil || len(vs) >= memoMinBatch) {
		h.memo = newDecimalMemo(h.p, scale, vs[0])
	}
	memo := h.memo
	if memo == nil || memo.scale != scale {
		// No memo, or one of another scale's mantissas, which name other
		// values: fold unremembered (a field's blocks mostly share one
		// scale).
		for i, v := range vs {
			if i == 0 || v != vs[i-1] {
				h.Add(memoHash(v, scale))
			}
		}
		return
	}
	seen, base := memo.seen, memo.base
	n := uint64(len(seen)) * 64
	i := 0
	for ; i < len(vs) && h.regs == nil; i++ {
		if k := uint64(vs[i] - base); k < n {
			w, b := k/64, uint64(1)<<(k%64)
			if seen[w]&b != 0 {
				continue
			}
			seen[w] |= b
		}
		h.Add(memoHash(vs[i], scale))
	}
	if i >= len(vs) {
		return
	}
	if len(h.regs) == 1<<DefaultPrecision {
		addMemo14((*[1 << DefaultPrecision]uint8)(h.regs), memo, vs[i:])
		return
	}
	regs, hp := h.regs, h.p
	sentinel := uint64(1) << (hp - 1)
	for _, v := range vs[i:] {
		if k := uint64(v - base); k < n {
			w, b := k/64, uint64(1)<<(k%64)
			if seen[w]&b != 0 {
				continue
			}
			seen[w] |= b
		}
		x := memoHash(v, scale)
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
	return scale <= MaxDecimalScale && h.holds(lo, hi, scale)
}

// HoldsInts is HoldsDecimals for a sketch of integers (AddInts): whether
// it holds every integer of [lo, hi], so that a block whose header's
// minimum and maximum they are adds nothing.
func (h *HLL) HoldsInts(lo, hi int64) bool { return h.holds(lo, hi, intsScale) }

func (h *HLL) holds(lo, hi int64, scale uint) bool {
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

// addMemo14 is addMemo's dense loop at the default precision, the
// registers an array (addFloats14), written once per kind of value so the
// hash is inline: with one loop branching on the kind per value, AddInts
// over a million distinct integers took 4.4-5.6 ms against AddBits' 3.3-3.9
// (BenchmarkHLLFoldInts/distinct).
func addMemo14(regs *[1 << DefaultPrecision]uint8, memo *decimalMemo, vs []int64) {
	const hp = DefaultPrecision
	const sentinel = uint64(1) << (hp - 1)
	seen, base := memo.seen, memo.base
	n := uint64(len(seen)) * 64
	if memo.scale == intsScale {
		for _, v := range vs {
			if k := uint64(v - base); k < n {
				w, b := k/64, uint64(1)<<(k%64)
				if seen[w]&b != 0 {
					continue
				}
				seen[w] |= b
			}
			x := hash8(uint64(v))
			j := x >> (64 - hp)
			r := uint8(bits.LeadingZeros64(x<<hp|sentinel) + 1)
			regs[j] = max(regs[j], r)
		}
		return
	}
	p := pow10[memo.scale]
	for _, v := range vs {
		if k := uint64(v - base); k < n {
			w, b := k/64, uint64(1)<<(k%64)
			if seen[w]&b != 0 {
				continue
			}
			seen[w] |= b
		}
		x := hash8(math.Float64bits(float64(v) / p))
		j := x >> (64 - hp)
		r := uint8(bits.LeadingZeros64(x<<hp|sentinel) + 1)
		regs[j] = max(regs[j], r)
	}
}

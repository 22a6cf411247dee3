package sketch

import (
	"fmt"
	"math"
	"math/bits"
	"slices"
)

// HLL is a HyperLogLog distinct-count sketch in the HLL++ layout: sparse
// (the exact set of 25-bit register indexes seen, with their ranks) while
// that is smaller than the dense registers, dense (2^p one-byte registers)
// after. The estimate is Ertl's improved raw estimator ("New cardinality
// estimation algorithms for HyperLogLog sketches", 2017), which is unbiased
// over the whole range without HLL++'s empirical bias tables, with a
// relative standard error of 1.04/√(2^p).
//
// Merging is exact: the union of two sketches is, byte for byte, the sketch
// of the union of their inputs, whatever the split and order. Sketches of
// different precisions merge at the lower one: the higher one's registers
// fold down exactly (foldRegisters), so the result is the sketch a single
// pass at the lower precision would have built.
type HLL struct {
	p      uint8
	sparse *sparseSet   // index at sparsePrecision → rank of the rest; nil when dense
	regs   []uint8      // 2^p registers; nil while sparse
	memo   *decimalMemo // values folded, by mantissa or integer (hll_decimal.go); nil until a batch

}

const (
	// MinPrecision and MaxPrecision bound the precision argument: below 4
	// the estimate is useless (26% error), above 18 a dense sketch takes
	// 256 KiB per window for 0.2% error, which no rollup needs.
	MinPrecision = 4
	MaxPrecision = 18
	// DefaultPrecision gives 1.04/√16384 = 0.81% relative standard error,
	// the "≤ 1%", in 16 KiB dense.
	DefaultPrecision = 14
	// sparsePrecision is HLL++'s p': 25 index bits keep small sets nearly
	// exact (2^25 virtual registers), and index and rank pack in 31 bits.
	sparsePrecision = 25
)

// NewHLL returns an empty sketch of precision p (MinPrecision..MaxPrecision).
func NewHLL(p int) (*HLL, error) {
	if p < MinPrecision || p > MaxPrecision {
		return nil, fmt.Errorf("sketch: precision %d out of range %d..%d", p, MinPrecision, MaxPrecision)
	}
	return &HLL{p: uint8(p), sparse: newSparseSet()}, nil
}

// Precision is the sketch's p.
func (h *HLL) Precision() int { return int(h.p) }

// RSE is the relative standard error of the estimate at precision p.
func RSE(p int) float64 { return 1.04 / math.Sqrt(float64(uint64(1)<<p)) }

// sparseLimit is the entry count past which the sketch turns dense: an
// entry takes 4 bytes in a table at most half full, so at m/8 entries the
// sparse form holds as much memory as the m-byte registers.
func (h *HLL) sparseLimit() int { return 1 << h.p / 8 }

// Add folds one hashed value.
func (h *HLL) Add(hash uint64) {
	if h.regs != nil {
		j := hash >> (64 - h.p)
		r := rank(hash<<h.p, 64-int(h.p))
		if r > h.regs[j] {
			h.regs[j] = r
		}
		return
	}
	j := uint32(hash >> (64 - sparsePrecision))
	r := rank(hash<<sparsePrecision, 64-sparsePrecision)
	// The entry past the limit densifies the sketch at once: the table is
	// not doubled for it first (32 KiB at the default precision, never
	// probed).
	if h.sparse.putUpTo(j, r, h.sparseLimit()) && h.sparse.n > h.sparseLimit() {
		h.densify()
	}
}

// rank is the position of the first 1 bit of w's top q bits, from 1;
// q+1 when they are all zero.
func rank(w uint64, q int) uint8 {
	z := bits.LeadingZeros64(w)
	if z > q {
		z = q
	}
	return uint8(z + 1)
}

// densify turns the sparse entries into registers at precision p: a sparse
// index's low 25-p bits are the start of the dense suffix, so the dense rank
// is found in them, or past them in the sparse rank.
func (h *HLL) densify() {
	regs := make([]uint8, 1<<h.p)
	d := sparsePrecision - int(h.p)
	h.sparse.each(func(j uint32, r uint8) {
		regs[j>>d] = max(regs[j>>d], foldRank(uint64(j)&(1<<d-1), d, r))
	})
	h.sparse, h.regs = nil, regs
}

// foldRank is the rank at a precision d bits lower of a register whose
// dropped index bits are low and whose rank was r.
func foldRank(low uint64, d int, r uint8) uint8 {
	if low != 0 {
		return uint8(d - bits.Len64(low) + 1)
	}
	return uint8(d) + r
}

// downgrade lowers a dense sketch's precision to p, exactly.
func (h *HLL) downgrade(p uint8) {
	if p >= h.p {
		return
	}
	if h.regs == nil {
		h.p = p
		if h.sparse.n > h.sparseLimit() {
			h.densify()
		}
		return
	}
	d := int(h.p - p)
	regs := make([]uint8, 1<<p)
	for j, r := range h.regs {
		if r != 0 {
			regs[j>>d] = max(regs[j>>d], foldRank(uint64(j)&(1<<d-1), d, r))
		}
	}
	h.p, h.regs = p, regs
}

// Clone returns an independent copy.
func (h *HLL) Clone() *HLL {
	c := &HLL{p: h.p, regs: slices.Clone(h.regs)}
	if h.sparse != nil {
		c.sparse = &sparseSet{slots: slices.Clone(h.sparse.slots), n: h.sparse.n}
	}
	return c
}

// Merge folds o into h (o unchanged). The result's precision is the lower
// of the two.
func (h *HLL) Merge(o *HLL) {
	if o.p < h.p {
		h.downgrade(o.p)
	}
	if o.regs == nil {
		o.sparse.each(func(j uint32, r uint8) {
			if h.regs != nil {
				// Fold the sparse entry as densify would.
				d := sparsePrecision - int(h.p)
				k := j >> d
				h.regs[k] = max(h.regs[k], foldRank(uint64(j)&(1<<d-1), d, r))
				return
			}
			h.sparse.put(j, r)
		})
		if h.regs == nil && h.sparse.n > h.sparseLimit() {
			h.densify()
		}
		return
	}
	if h.regs == nil {
		h.densify()
	}
	oc := o
	if o.p > h.p {
		oc = o.Clone()
		oc.downgrade(h.p)
	}
	for j, r := range oc.regs {
		if r > h.regs[j] {
			h.regs[j] = r
		}
	}
}

// Estimate returns the estimated number of distinct values added.
func (h *HLL) Estimate() int64 {
	if h.regs == nil {
		q := 64 - sparsePrecision
		c := make([]float64, q+2)
		h.sparse.each(func(_ uint32, r uint8) { c[r]++ })
		c[0] = float64(uint64(1)<<sparsePrecision) - float64(h.sparse.n)
		return int64(math.Round(ertl(c, float64(uint64(1)<<sparsePrecision), q)))
	}
	q := 64 - int(h.p)
	c := make([]float64, q+2)
	for _, r := range h.regs {
		c[r]++
	}
	return int64(math.Round(ertl(c, float64(len(h.regs)), q)))
}

// ertl is the improved raw estimator over the register histogram c
// (c[k] registers of rank k, k = 0..q+1) of m registers.
func ertl(c []float64, m float64, q int) float64 {
	if c[0] == m {
		return 0
	}
	z := m * tau((m-c[q+1])/m)
	for k := q; k >= 1; k-- {
		z = 0.5 * (z + c[k])
	}
	z += m * sigma(c[0]/m)
	return m * m / (2 * math.Ln2 * z)
}

func sigma(x float64) float64 {
	if x == 1 {
		return math.Inf(1)
	}
	y, z := 1.0, x
	for {
		x *= x
		prev := z
		z += x * y
		y += y
		if z == prev {
			return z
		}
	}
}

func tau(x float64) float64 {
	if x == 0 || x == 1 {
		return 0
	}
	y, z := 1.0, 1-x
	for {
		x = math.Sqrt(x)
		prev := z
		y *= 0.5
		z -= (1 - x) * (1 - x) * y
		if z == prev {
			return z / 3
		}
	}
}

// MemBytes is the sketch's approximate heap footprint.
func (h *HLL) MemBytes() int {
	if h.regs != nil {
		n := len(h.regs) + 32
		if h.memo != nil {
			n += 8 * len(h.memo.seen)
		}
		return n
	}
	n := 4*len(h.sparse.slots) + 64
	if h.memo != nil {
		n += 8 * len(h.memo.seen)
	}
	return n
}

// appendBody: precision <1b>, form <1b: 0 sparse, 1 dense>; sparse: n
// <uvarint>, n entries ascending as deltas <uvarint> of index<<6|rank;
// dense: 2^p register bytes.
func (h *HLL) appendBody(b []byte) []byte {
	b = append(b, h.p)
	if h.regs != nil {
		return append(append(b, 1), h.regs...)
	}
	b = append(b, 0)
	entries := make([]uint32, 0, h.sparse.n)
	h.sparse.each(func(j uint32, r uint8) { entries = append(entries, j<<6|uint32(r)) })
	slices.Sort(entries)
	b = appendUvarint(b, uint64(len(entries)))
	prev := uint64(0)
	for _, e := range entries {
		b = appendUvarint(b, uint64(e)-prev)
		prev = uint64(e)
	}
	return b
}

func decodeHLL(r *reader) *HLL {
	p := int(r.Byte())
	form := r.Byte()
	if r.Err != nil {
		return nil
	}
	h, err := NewHLL(p)
	if err != nil {
		r.Fail("hll precision %d", p)
		return nil
	}
	switch form {
	case 1:
		n := 1 << p
		if len(r.B) < n {
			r.Fail("hll: %d register bytes, want %d", len(r.B), n)
			return nil
		}
		h.sparse, h.regs = nil, slices.Clone(r.B[:n])
		r.B = r.B[n:]
		for _, v := range h.regs {
			if int(v) > 65-p {
				r.Fail("hll register %d above %d", v, 65-p)
				return nil
			}
		}
	case 0:
		n := r.Count(1)
		if n > h.sparseLimit() {
			r.Fail("hll: %d sparse entries, more than the dense limit %d", n, h.sparseLimit())
			return nil
		}
		prev := uint64(0)
		for i := 0; i < n && r.Err == nil; i++ {
			d := r.Uvarint()
			if i > 0 && d == 0 || d > 1<<31-1-prev {
				r.Fail("hll sparse entries not strictly ascending")
				break
			}
			e := prev + d
			prev = e
			rk := uint8(e & 63)
			if rk < 1 || int(rk) > 65-sparsePrecision {
				r.Fail("hll sparse rank %d", rk)
				break
			}
			j := uint32(e >> 6)
			if h.sparse.has(j) {
				r.Fail("hll sparse index %d repeated", j)
				break
			}
			h.sparse.put(j, rk)
		}
	default:
		r.Fail("hll form %d", form)
	}
	if r.Err != nil {
		return nil
	}
	return h
}

// sparseSet is the sparse form's table: open addressing with linear
// probing over entries index<<6 | rank (0: empty; a rank is at least 1),
// at most half full. The index bits are hash bits already, so the slot is
// the index itself, masked. A Go map cost 60% of a low-cardinality
// approx_count_distinct (BenchmarkAggregateTSBS/1h); this is a probe and a
// compare.
type sparseSet struct {
	slots []uint32
	n     int
}

func newSparseSet() *sparseSet { return &sparseSet{slots: make([]uint32, 16)} }

// put raises index j's rank to r, and reports whether it added the index.
func (s *sparseSet) put(j uint32, r uint8) bool { return s.putUpTo(j, r, math.MaxInt) }

// putUpTo is put, growing the table only while it holds at most limit
// entries (past them the caller densifies, so a table just over half
// full is never probed again).
func (s *sparseSet) putUpTo(j uint32, r uint8, limit int) bool {
	mask := uint32(len(s.slots) - 1)
	for i := j & mask; ; i = (i + 1) & mask {
		e := s.slots[i]
		if e == 0 {
			s.slots[i] = j<<6 | uint32(r)
			s.n++
			if 2*s.n > len(s.slots) && s.n <= limit {
				s.grow()
			}
			return true
		}
		if e>>6 == j {
			if uint8(e&63) < r {
				s.slots[i] = j<<6 | uint32(r)
			}
			return false
		}
	}
}

func (s *sparseSet) has(j uint32) bool {
	mask := uint32(len(s.slots) - 1)
	for i := j & mask; ; i = (i + 1) & mask {
		switch e := s.slots[i]; {
		case e == 0:
			return false
		case e>>6 == j:
			return true
		}
	}
}

func (s *sparseSet) grow() {
	old := s.slots
	s.slots, s.n = make([]uint32, 2*len(old)), 0
	for _, e := range old {
		if e != 0 {
			s.put(e>>6, uint8(e&63))
		}
	}
}

// each calls f for every entry, in no particular order.
func (s *sparseSet) each(f func(j uint32, r uint8)) {
	for _, e := range s.slots {
		if e != 0 {
			f(e>>6, uint8(e&63))
		}
	}
}

// AddBits folds a batch of values given by their 8-byte canonical bits
// (HashUint's input: an integer's bits, a float's with -0 as 0), as Add of
// each one's hash would, byte for byte. Once dense it is one tight loop:
// the hash written inline, the rank from a sentinel bit instead of a
// clamp, and a value equal to the one before skipped (a gauge repeats
// itself; adding a value twice changes nothing).
func (h *HLL) AddBits(vs []uint64) {
	i := 0
	for ; i < len(vs) && h.regs == nil; i++ {
		if i > 0 && vs[i] == vs[i-1] {
			continue
		}
		h.Add(hash8(vs[i]))
	}
	if i >= len(vs) {
		return
	}
	if len(h.regs) == 1<<DefaultPrecision {
		addBits14((*[1 << DefaultPrecision]uint8)(h.regs), vs[i:])
		return
	}
	regs, p := h.regs, h.p
	// Bit p-1 of hash<<p is the first past the q = 64-p rank bits: a rank
	// never exceeds q+1, which rank's clamp gives.
	sentinel := uint64(1) << (p - 1)
	prev := vs[i] + 1
	for _, v := range vs[i:] {
		if v == prev {
			continue
		}
		prev = v
		x := hash8(v)
		j := x >> (64 - p)
		r := uint8(bits.LeadingZeros64(x<<p|sentinel) + 1)
		if r > regs[j] {
			regs[j] = r
		}
	}
}

// AddFloats folds a batch of floats as AddBits of their canonical bits
// (HashFloat's input: -0 as 0) would, byte for byte, without the caller
// converting them first.
func (h *HLL) AddFloats(vs []float64) {
	i := 0
	for ; i < len(vs) && h.regs == nil; i++ {
		if i > 0 && vs[i] == vs[i-1] {
			continue
		}
		h.Add(HashFloat(vs[i]))
	}
	if i >= len(vs) {
		return
	}
	if len(h.regs) == 1<<DefaultPrecision {
		addFloats14((*[1 << DefaultPrecision]uint8)(h.regs), vs[i:])
		return
	}
	regs, p := h.regs, h.p
	sentinel := uint64(1) << (p - 1)
	for _, v := range vs[i:] {
		b := math.Float64bits(v)
		if b == 1<<63 {
			b = 0 // -0 hashes as 0
		}
		x := hash8(b)
		j := x >> (64 - p) & uint64(len(regs)-1)
		r := uint8(bits.LeadingZeros64(x<<p|sentinel) + 1)
		regs[j] = max(regs[j], r)
	}
}

// addFloats14 is AddFloats' dense loop at the default precision, the
// registers an array: the index needs no mask and no bounds check, and
// the shifts are constants.
func addFloats14(regs *[1 << DefaultPrecision]uint8, vs []float64) {
	const p = DefaultPrecision
	const sentinel = uint64(1) << (p - 1)
	for _, v := range vs {
		b := math.Float64bits(v)
		if b == 1<<63 {
			b = 0 // -0 hashes as 0
		}
		x := hash8(b)
		j := x >> (64 - p)
		r := uint8(bits.LeadingZeros64(x<<p|sentinel) + 1)
		regs[j] = max(regs[j], r)
	}
}

// addBits14 is AddBits' dense loop at the default precision (addFloats14).
func addBits14(regs *[1 << DefaultPrecision]uint8, vs []uint64) {
	const p = DefaultPrecision
	const sentinel = uint64(1) << (p - 1)
	prev := vs[0] + 1
	for _, v := range vs {
		if v == prev {
			continue
		}
		prev = v
		x := hash8(v)
		j := x >> (64 - p)
		r := uint8(bits.LeadingZeros64(x<<p|sentinel) + 1)
		if r > regs[j] {
			regs[j] = r
		}
	}
}

package sketch

import (
	"fmt"
	"math"
)

// DD is a DDSketch-style quantile sketch (Masson, Rim, Lee, VLDB 2019): a
// value x > 0 falls in bucket ⌈log_γ x⌉, γ = (1+α)/(1−α), and a bucket
// answers with 2γ^i/(γ+1), within relative error α of every value it
// holds; negative values use a mirrored store, zeros a counter. Buckets are
// kept dense between the lowest and highest index seen; float64's range
// bounds them (about 72,000 per sign at α = 1%), so no bucket is ever
// collapsed and the guarantee holds at every quantile. The exact minimum
// and maximum are kept too, so quantiles 0 and 100 are exact and no answer
// leaves the data's range. Merging adds bucket counts: exact, and
// independent of order and split.
//
// Why not t-digest: its error is relative to rank, not value, is largest
// where the distribution is sparse (the tail a p99 asks about), depends on
// the order of insertion and merge, and has no bound a user can be told.
type DD struct {
	alpha    float64
	lnGamma  float64
	pos, neg store
	zero     uint64
	min, max float64
}

// DefaultAlpha is the default relative accuracy: 1%, the choice, at
// about 8 bytes per bucket and 460 buckets for latencies from 1 ms to 10 s.
const DefaultAlpha = 0.01

// MinAlpha is the finest accuracy: 0.01% keeps a store over float64's whole
// range under maxBuckets.
const MinAlpha = 1e-4

// NewDD returns an empty sketch of relative accuracy alpha (MinAlpha ≤ alpha < 1).
func NewDD(alpha float64) (*DD, error) {
	if !(alpha >= MinAlpha && alpha < 1) {
		return nil, fmt.Errorf("sketch: relative accuracy %v not in [%v, 1)", alpha, MinAlpha)
	}
	g := (1 + alpha) / (1 - alpha)
	return &DD{alpha: alpha, lnGamma: math.Log(g), min: math.Inf(1), max: math.Inf(-1)}, nil
}

// Alpha is the sketch's relative accuracy.
func (d *DD) Alpha() float64 { return d.alpha }

// Count is the number of values added.
func (d *DD) Count() uint64 { return d.zero + d.pos.total + d.neg.total }

func (d *DD) index(x float64) int32 { return int32(math.Ceil(math.Log(x) / d.lnGamma)) }

func (d *DD) value(i int32) float64 {
	g := math.Exp(d.lnGamma)
	return 2 * math.Exp(float64(i)*d.lnGamma) / (g + 1)
}

// Add folds one value. NaN and infinities carry no quantile and are skipped
// (the storage engine refuses them at write, so none should arrive).
func (d *DD) Add(x float64) {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return
	}
	d.min, d.max = math.Min(d.min, x), math.Max(d.max, x)
	switch {
	case x > 0:
		d.pos.add(d.index(x), 1)
	case x < 0:
		d.neg.add(d.index(-x), 1)
	default:
		d.zero++
	}
}

// Merge folds o into d (o unchanged). Sketches of different accuracies have
// buckets that do not nest and are refused.
func (d *DD) Merge(o *DD) error {
	if math.Float64bits(d.alpha) != math.Float64bits(o.alpha) {
		return fmt.Errorf("sketch: quantile sketches of relative accuracy %v and %v do not merge", d.alpha, o.alpha)
	}
	d.pos.merge(&o.pos)
	d.neg.merge(&o.neg)
	d.zero += o.zero
	d.min, d.max = math.Min(d.min, o.min), math.Max(d.max, o.max)
	return nil
}

// Quantile returns the value at InfluxDB's nearest rank for percentile p
// (0..100): index ⌊n·p/100 + 0.5⌋ − 1 of the sorted values, clamped to the
// first and last, within relative error α of the exact percentile(). ok is
// false for an empty sketch.
func (d *DD) Quantile(p float64) (float64, bool) {
	n := d.Count()
	if n == 0 {
		return 0, false
	}
	k := int64(math.Floor(float64(n)*p/100+0.5)) - 1
	k = max(0, min(k, int64(n)-1))
	if k == 0 {
		return d.min, true
	}
	if k == int64(n)-1 {
		return d.max, true
	}
	rank := uint64(k)
	var v float64
	switch {
	case rank < d.neg.total:
		// Negatives ascend from the largest magnitude.
		v = -d.value(d.neg.fromTop(rank))
	case rank < d.neg.total+d.zero:
		v = 0
	default:
		v = d.value(d.pos.fromBottom(rank - d.neg.total - d.zero))
	}
	return math.Max(d.min, math.Min(d.max, v)), true
}

// MemBytes is the sketch's approximate heap footprint.
func (d *DD) MemBytes() int { return 8*(len(d.pos.counts)+len(d.neg.counts)) + 96 }

// store is a dense run of bucket counts from index offset.
type store struct {
	offset int32
	counts []uint64
	total  uint64
}

func (s *store) add(i int32, n uint64) {
	if len(s.counts) == 0 {
		s.offset = i
		s.counts = append(s.counts, 0)
	}
	switch {
	case i < s.offset:
		grow := int(s.offset - i)
		c := make([]uint64, grow+len(s.counts), grow+len(s.counts)+grow/2)
		copy(c[grow:], s.counts)
		s.counts, s.offset = c, i
	case int(i-s.offset) >= len(s.counts):
		s.counts = append(s.counts, make([]uint64, int(i-s.offset)+1-len(s.counts))...)
	}
	s.counts[i-s.offset] += n
	s.total += n
}

func (s *store) merge(o *store) {
	for j, c := range o.counts {
		if c != 0 {
			s.add(o.offset+int32(j), c)
		}
	}
}

// fromBottom is the bucket holding the rank-th smallest value (from 0).
func (s *store) fromBottom(rank uint64) int32 {
	var seen uint64
	for j, c := range s.counts {
		seen += c
		if seen > rank {
			return s.offset + int32(j)
		}
	}
	return s.offset + int32(len(s.counts)) - 1
}

// fromTop is the bucket holding the rank-th largest index (from 0).
func (s *store) fromTop(rank uint64) int32 {
	var seen uint64
	for j := len(s.counts) - 1; j >= 0; j-- {
		seen += s.counts[j]
		if seen > rank {
			return s.offset + int32(j)
		}
	}
	return s.offset
}

// trimmed returns the non-zero span: canonical bytes whatever the growth.
func (s *store) trimmed() (int32, []uint64) {
	lo, hi := 0, len(s.counts)
	for lo < hi && s.counts[lo] == 0 {
		lo++
	}
	for hi > lo && s.counts[hi-1] == 0 {
		hi--
	}
	return s.offset + int32(lo), s.counts[lo:hi]
}

// appendBody: alpha <8b>, zero <uvarint>, min <8b>, max <8b>, then the
// positive and the negative store, each: offset <varint>, n <uvarint>, n
// counts <uvarint> (first and last non-zero).
func (d *DD) appendBody(b []byte) []byte {
	b = appendFloat(b, d.alpha)
	b = appendUvarint(b, d.zero)
	b = appendFloat(appendFloat(b, d.min), d.max)
	for _, s := range []*store{&d.pos, &d.neg} {
		off, c := s.trimmed()
		if len(c) == 0 {
			off = 0
		}
		b = appendVarint(b, int64(off))
		b = appendUvarint(b, uint64(len(c)))
		for _, x := range c {
			b = appendUvarint(b, x)
		}
	}
	return b
}

// maxBuckets bounds a decoded store: float64's range at the finest accuracy
// the format admits (α ≥ 1e-4) is under 8 M buckets.
const maxBuckets = 1 << 23

func decodeDD(r *reader) *DD {
	alpha := r.Float()
	if r.Err != nil {
		return nil
	}
	if !(alpha >= MinAlpha && alpha < 1) {
		r.Fail("quantile sketch relative accuracy %v", alpha)
		return nil
	}
	d, _ := NewDD(alpha)
	d.zero = r.Uvarint()
	d.min, d.max = r.Float(), r.Float()
	for _, s := range []*store{&d.pos, &d.neg} {
		off := r.Varint()
		n := r.Count(1)
		if r.Err != nil {
			return nil
		}
		if n > maxBuckets || off < math.MinInt32 || off+int64(n) > math.MaxInt32 {
			r.Fail("quantile sketch store of %d buckets at %d", n, off)
			return nil
		}
		s.offset, s.counts = int32(off), make([]uint64, n)
		for i := range s.counts {
			c := r.Uvarint()
			if s.total+c < s.total {
				r.Fail("quantile sketch count overflows")
				return nil
			}
			s.counts[i], s.total = c, s.total+c
		}
		if n > 0 && (s.counts[0] == 0 || s.counts[n-1] == 0) {
			r.Fail("quantile sketch store not trimmed")
		}
	}
	if r.Err != nil {
		return nil
	}
	if d.zero+d.pos.total+d.neg.total < d.zero {
		r.Fail("quantile sketch count overflows")
		return nil
	}
	if d.Count() == 0 {
		if !math.IsInf(d.min, 1) || !math.IsInf(d.max, -1) {
			r.Fail("empty quantile sketch with a minimum or maximum")
		}
	} else if !(d.min <= d.max) || math.IsInf(d.min, 0) || math.IsInf(d.max, 0) {
		r.Fail("quantile sketch minimum %v, maximum %v", d.min, d.max)
	}
	if r.Err != nil {
		return nil
	}
	return d
}

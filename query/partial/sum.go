package partial

import "github.com/strata-db/strata/query/funcs"

// sumState is sum(). Integer and unsigned sums wrap like 64-bit addition,
// exactly as funcs and InfluxDB do, so they merge exactly in any order.
// Float sums add in arrival order starting from the first value (a lone -0
// stays -0); each merge of two non-empty partials rounds once, so a merged
// float sum can differ from one pass in the last bits, within
// (n-1)·ε·Σ|x|. tot holds finished series (EndSeries), part the open one,
// so that one state fed series by series gives InfluxDB's per-series
// result bit for bit.
type sumState[T number] struct {
	adders
	tot, part   T
	nTot, nPart int64
}

func newSum(t funcs.Type) state {
	switch t {
	case funcs.Integer:
		return newSumOf[int64](t)
	case funcs.Unsigned:
		return newSumOf[uint64](t)
	}
	return newSumOf[float64](t)
}

func newSumOf[T number](t funcs.Type) *sumState[T] {
	s := &sumState[T]{}
	bind(&s.adders, Sum, t, s.add)
	return s
}

func (s *sumState[T]) add(_ []int64, vs []T) error {
	acc, i := s.part, 0
	if s.nPart == 0 {
		acc, i = vs[0], 1
	}
	for _, x := range vs[i:] {
		acc += x
	}
	s.part = acc
	s.nPart += int64(len(vs))
	return nil
}

// plus adds two partial sums, an empty one (n = 0) contributing nothing so
// that a -0 survives.
func plus[T number](a T, na int64, b T, nb int64) (T, int64) {
	switch {
	case na == 0:
		return b, nb
	case nb == 0:
		return a, na
	}
	return a + b, na + nb
}

func (s *sumState[T]) AddStats(st funcs.Stats) (bool, error) {
	if err := checkStats(&s.adders, st); err != nil {
		return false, err
	}
	if st.Count > 0 {
		sum, _, _, _, _ := statsOf[T](st)
		s.part, s.nPart = plus(s.part, s.nPart, sum, int64(st.Count))
	}
	return true, nil
}

func (s *sumState[T]) EndSeries() {
	s.tot, s.nTot = plus(s.tot, s.nTot, s.part, s.nPart)
	var zero T
	s.part, s.nPart = zero, 0
}

func (s *sumState[T]) Merge(other State) error {
	o, err := sameAs(s, other)
	if err != nil {
		return err
	}
	s.tot, s.nTot = plus(s.tot, s.nTot, o.tot, o.nTot)
	s.part, s.nPart = plus(s.part, s.nPart, o.part, o.nPart)
	return nil
}

func (s *sumState[T]) Final(ws int64) []funcs.Point { return finalOf(s, ws) }

func (s *sumState[T]) Reset() { s.tot, s.part, s.nTot, s.nPart = 0, 0, 0, 0 }

func (s *sumState[T]) FinalPoint(ws int64) (funcs.Point, bool) {
	v, n := plus(s.tot, s.nTot, s.part, s.nPart)
	if n == 0 {
		return funcs.Point{}, false
	}
	return funcs.Point{Time: ws, Value: v}, true
}

func (s *sumState[T]) AppendBinary(dst []byte) []byte { return appendState(dst, s) }

// Fields: n_tot, tot (if n_tot > 0), n_part, part (if n_part > 0).
func (s *sumState[T]) appendFields(b []byte) []byte {
	b = appendCounted(b, s.nTot, s.tot)
	return appendCounted(b, s.nPart, s.part)
}

func (s *sumState[T]) decodeFields(r *reader) error {
	s.nTot, s.tot = readCounted[T](r)
	s.nPart, s.part = readCounted[T](r)
	return r.Err
}

// appendCounted writes a count and, when it is not 0, a value.
func appendCounted[T value](b []byte, n int64, v T) []byte {
	b = appendUvarint(b, uint64(n))
	if n > 0 {
		b = appendVal(b, v)
	}
	return b
}

func readCounted[T value](r *reader) (int64, T) {
	n := r.nonNegative()
	var v T
	if n > 0 {
		v = readVal[T](r)
	}
	return n, v
}

// meanState is mean() as InfluxDB computes it: within a series the sum is
// float, or wrapping int64/uint64, divided by the count; across series
// (EndSeries) the per-series means are re-weighted by their counts into
// wsum. Integer means therefore merge exactly; float means round once per
// merge, like float sums.
type meanState[T number] struct {
	adders
	part  T // open series' sum, from 0
	nPart int64
	wsum  float64 // Σ per-series mean × count of the finished series
	nTot  int64
}

func newMean(t funcs.Type) state {
	switch t {
	case funcs.Integer:
		return newMeanOf[int64](t)
	case funcs.Unsigned:
		return newMeanOf[uint64](t)
	}
	return newMeanOf[float64](t)
}

func newMeanOf[T number](t funcs.Type) *meanState[T] {
	s := &meanState[T]{}
	bind(&s.adders, Mean, t, s.add)
	return s
}

func (s *meanState[T]) add(_ []int64, vs []T) error {
	acc := s.part
	for _, x := range vs {
		acc += x
	}
	s.part = acc
	s.nPart += int64(len(vs))
	return nil
}

func (s *meanState[T]) AddStats(st funcs.Stats) (bool, error) {
	if err := checkStats(&s.adders, st); err != nil {
		return false, err
	}
	sum, _, _, _, _ := statsOf[T](st)
	s.part += sum
	s.nPart += int64(st.Count)
	return true, nil
}

// weighted is the open series' contribution to wsum.
func (s *meanState[T]) weighted() float64 {
	n := float64(s.nPart)
	return float64(s.part) / n * n
}

func (s *meanState[T]) EndSeries() {
	if s.nPart == 0 {
		return
	}
	s.wsum += s.weighted()
	s.nTot += s.nPart
	var zero T
	s.part, s.nPart = zero, 0
}

func (s *meanState[T]) Merge(other State) error {
	o, err := sameAs(s, other)
	if err != nil {
		return err
	}
	s.part += o.part
	s.nPart += o.nPart
	s.wsum += o.wsum
	s.nTot += o.nTot
	return nil
}

func (s *meanState[T]) Final(ws int64) []funcs.Point { return finalOf(s, ws) }

func (s *meanState[T]) Reset() { s.part, s.nPart, s.wsum, s.nTot = 0, 0, 0, 0 }

func (s *meanState[T]) FinalPoint(ws int64) (funcs.Point, bool) {
	wsum, n := s.wsum, s.nTot
	if s.nPart > 0 {
		wsum += s.weighted()
		n += s.nPart
	}
	if n == 0 {
		return funcs.Point{}, false
	}
	return funcs.Point{Time: ws, Value: wsum / float64(n)}, true
}

func (s *meanState[T]) AppendBinary(dst []byte) []byte { return appendState(dst, s) }

// Fields: n_tot, wsum (float, if n_tot > 0), n_part, part (if n_part > 0).
func (s *meanState[T]) appendFields(b []byte) []byte {
	b = appendCounted(b, s.nTot, s.wsum)
	return appendCounted(b, s.nPart, s.part)
}

func (s *meanState[T]) decodeFields(r *reader) error {
	s.nTot, s.wsum = readCounted[float64](r)
	s.nPart, s.part = readCounted[T](r)
	return r.Err
}

// spreadState is spread(): max - min, wrapping for integers as funcs does.
type spreadState[T number] struct {
	adders
	has    bool
	lo, hi T
}

func newSpread(t funcs.Type) state {
	switch t {
	case funcs.Integer:
		return newSpreadOf[int64](t)
	case funcs.Unsigned:
		return newSpreadOf[uint64](t)
	}
	return newSpreadOf[float64](t)
}

func newSpreadOf[T number](t funcs.Type) *spreadState[T] {
	s := &spreadState[T]{}
	bind(&s.adders, Spread, t, s.add)
	return s
}

func (s *spreadState[T]) add(_ []int64, vs []T) error {
	lo, hi := vs[0], vs[0]
	for _, x := range vs[1:] {
		if x < lo {
			lo = x
		}
		if x > hi {
			hi = x
		}
	}
	s.fold(lo, hi)
	return nil
}

func (s *spreadState[T]) fold(lo, hi T) {
	if !s.has {
		s.has, s.lo, s.hi = true, lo, hi
		return
	}
	if lo < s.lo {
		s.lo = lo
	}
	if hi > s.hi {
		s.hi = hi
	}
}

func (s *spreadState[T]) AddStats(st funcs.Stats) (bool, error) {
	if err := checkStats(&s.adders, st); err != nil {
		return false, err
	}
	if st.Count > 0 {
		_, lo, hi, _, _ := statsOf[T](st)
		s.fold(lo, hi)
	}
	return true, nil
}

func (s *spreadState[T]) Merge(other State) error {
	o, err := sameAs(s, other)
	if err != nil {
		return err
	}
	if o.has {
		s.fold(o.lo, o.hi)
	}
	return nil
}

func (s *spreadState[T]) Final(ws int64) []funcs.Point { return finalOf(s, ws) }

func (s *spreadState[T]) Reset() { s.has, s.lo, s.hi = false, 0, 0 }

func (s *spreadState[T]) FinalPoint(ws int64) (funcs.Point, bool) {
	if !s.has {
		return funcs.Point{}, false
	}
	return funcs.Point{Time: ws, Value: s.hi - s.lo}, true
}

func (s *spreadState[T]) AppendBinary(dst []byte) []byte { return appendState(dst, s) }

// Fields: has <1b>, then if has: min, max.
func (s *spreadState[T]) appendFields(b []byte) []byte {
	b = appendFlag(b, s.has)
	if s.has {
		b = appendVal(appendVal(b, s.lo), s.hi)
	}
	return b
}

func (s *spreadState[T]) decodeFields(r *reader) error {
	if s.has = r.flag(); s.has {
		s.lo, s.hi = readVal[T](r), readVal[T](r)
	}
	return r.Err
}

package partial

import (
	"math"

	"github.com/strata-db/strata/query/funcs"
)

// stddevState is stddev(), the sample standard deviation, kept as Welford's
// running count, mean and sum of squared deviations (M2) and merged with Chan
// et al.'s pairwise formula. funcs computes the same quantity in two passes
// (running mean, then Σ(x-mean)²), so results agree to rounding, not bit for
// bit; both are numerically stable. Integers are converted to float64 first,
// as funcs does.
type stddevState[T number] struct {
	adders
	n        int64
	mean, m2 float64
}

func newStddev(t funcs.Type) state {
	switch t {
	case funcs.Integer:
		return newStddevOf[int64](t)
	case funcs.Unsigned:
		return newStddevOf[uint64](t)
	}
	return newStddevOf[float64](t)
}

func newStddevOf[T number](t funcs.Type) *stddevState[T] {
	s := &stddevState[T]{}
	bind(&s.adders, Stddev, t, s.add)
	return s
}

func (s *stddevState[T]) add(_ []int64, vs []T) error {
	n, mean, m2 := s.n, s.mean, s.m2
	for _, v := range vs {
		x := float64(v)
		n++
		d := x - mean
		mean += d / float64(n)
		m2 += d * (x - mean)
	}
	s.n, s.mean, s.m2 = n, mean, m2
	return nil
}

// AddStats cannot help: headers carry no sum of squares.
func (s *stddevState[T]) AddStats(st funcs.Stats) (bool, error) {
	if err := checkStats(&s.adders, st); err != nil {
		return false, err
	}
	return st.Count == 0, nil
}

func (s *stddevState[T]) Merge(other State) error {
	o, err := sameAs(s, other)
	if err != nil {
		return err
	}
	switch {
	case o.n == 0:
	case s.n == 0:
		s.n, s.mean, s.m2 = o.n, o.mean, o.m2
	default:
		na, nb := float64(s.n), float64(o.n)
		n := na + nb
		d := o.mean - s.mean
		s.mean += d * (nb / n)
		s.m2 += o.m2 + d*d*(na*nb/n)
		s.n += o.n
	}
	return nil
}

// Final: fewer than two values give a null, as InfluxDB prints its NaN.
func (s *stddevState[T]) Final(ws int64) []funcs.Point {
	switch {
	case s.n == 0:
		return nil
	case s.n < 2:
		return []funcs.Point{{Time: ws}}
	}
	m2 := s.m2
	if m2 < 0 {
		m2 = 0 // rounding in a merge; a variance is never negative
	}
	return one(ws, math.Sqrt(m2/float64(s.n-1)))
}

func (s *stddevState[T]) AppendBinary(dst []byte) []byte { return appendState(dst, s) }

// Fields: n <uvarint>, then if n > 0: mean <8b>, m2 <8b>.
func (s *stddevState[T]) appendFields(b []byte) []byte {
	b = appendUvarint(b, uint64(s.n))
	if s.n > 0 {
		b = appendFloat(appendFloat(b, s.mean), s.m2)
	}
	return b
}

func (s *stddevState[T]) decodeFields(r *reader) error {
	if s.n = r.nonNegative(); s.n > 0 {
		s.mean, s.m2 = r.Float(), r.Float()
	}
	return r.Err
}

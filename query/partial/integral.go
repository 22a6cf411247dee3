package partial

import (
	"fmt"
	"time"

	"github.com/strata-db/strata/query/funcs"
)

// integralState is integral() over one window without GROUP BY time (funcs'
// NewWindowFunc("integral")): the trapezoid rule over the time-sorted points.
// Several points at one time act as InfluxDB's reducer treats them: the
// trapezoid arriving at that time uses the first of them (in), the one
// leaving it the last (out).
//
// The state keeps the area from its first to its last time and both end
// points with their in and out values, which is all a merge needs: joining a
// later partial adds the trapezoid from this one's last out value to the
// other's first in value, or nothing when the two share that time (the
// shared time's in value is then this one's, its out value the other's).
//
// Precondition: partials must be time-disjoint, touching allowed: every time
// of one partial ≤ every time of the other. Merge orders the two by time (a
// tie of two single-time partials counts the receiver as earlier) and returns
// ErrOrder for overlapping partials, so per-series partials of a multi-series
// group cannot merge: InfluxDB integrates the group's time-merged stream.
// Within a partial the adds must come in time order. The area is a float sum
// and rounds differently once merged.
//
// Under GROUP BY time InfluxDB closes each window with a value interpolated
// at its end from the next window's first point (funcs.IntegralSeries); the
// end points are what that needs, but this state does not compute it.
type integralState struct {
	adders
	unit        time.Duration
	m           int64 // distinct times seen
	first, last tpoint
	area        float64
}

// tpoint is one distinct time with the first (in) and last (out) value seen
// at it.
type tpoint struct {
	t       int64
	in, out float64
}

func newIntegral(t funcs.Type, unit time.Duration) state {
	s := &integralState{unit: unit}
	switch t {
	case funcs.Integer:
		bind(&s.adders, Integral, t, integralOf[int64](s))
	case funcs.Unsigned:
		bind(&s.adders, Integral, t, integralOf[uint64](s))
	default:
		bind(&s.adders, Integral, t, integralOf[float64](s))
	}
	return s
}

func integralOf[T number](s *integralState) func([]int64, []T) error {
	return func(ts []int64, vs []T) error {
		for i, v := range vs {
			if err := s.point(ts[i], float64(v)); err != nil {
				return err
			}
		}
		return nil
	}
}

// seg is the trapezoid from a to b, with funcs' operation order.
func (s *integralState) seg(a, b tpoint) float64 {
	return 0.5 * (b.in + a.out) * (float64(b.t-a.t) / float64(s.unit))
}

func (s *integralState) point(t int64, v float64) error {
	switch {
	case s.m == 0:
		s.first, s.last, s.m = tpoint{t, v, v}, tpoint{t, v, v}, 1
	case t == s.last.t:
		s.setLastOut(v)
	case t < s.last.t:
		return fmt.Errorf("%w: time %d after %d", ErrOrder, t, s.last.t)
	default:
		p := tpoint{t, v, v}
		s.area += s.seg(s.last, p)
		s.last = p
		s.m++
	}
	return nil
}

func (s *integralState) setLastOut(v float64) {
	s.last.out = v
	if s.m == 1 {
		s.first.out = v
	}
}

func (s *integralState) AddStats(st funcs.Stats) (bool, error) {
	if err := checkStats(&s.adders, st); err != nil {
		return false, err
	}
	return st.Count == 0, nil // the area needs every point
}

func (s *integralState) Merge(other State) error {
	o, err := sameAs(s, other)
	if err != nil {
		return err
	}
	if o.unit != s.unit {
		return fmt.Errorf("%w: integral units %s and %s", ErrMismatch, s.unit, o.unit)
	}
	switch {
	case o.m == 0:
		return nil
	case s.m == 0:
		*s = *o
		return nil
	case s.last.t <= o.first.t:
		s.join(o)
		return nil
	case o.last.t <= s.first.t:
		c := *o
		c.join(s)
		*s = c
		return nil
	}
	return fmt.Errorf("%w: integral partials overlap in time ([%d, %d] and [%d, %d])",
		ErrOrder, s.first.t, s.last.t, o.first.t, o.last.t)
}

// join appends b, whose times are all ≥ s's, to s (both non-empty).
func (s *integralState) join(b *integralState) {
	if s.last.t == b.first.t {
		s.area += b.area
		s.setLastOut(b.first.out)
		if b.m > 1 {
			s.last = b.last
		}
		s.m += b.m - 1
		return
	}
	s.area += s.seg(s.last, b.first) + b.area
	s.last = b.last
	s.m += b.m
}

// Final reproduces funcs' edge cases: no area when the last time is the
// window start, except that a float integral then reports 0 unless every
// point sat at time 0 (InfluxDB compares with 0, not the range start).
func (s *integralState) Final(ws int64) []funcs.Point {
	if s.m == 0 {
		return nil
	}
	if s.last.t == ws {
		if s.typ == funcs.Float && (s.m >= 2 || s.first.t != 0) {
			return one(ws, 0.0)
		}
		return nil
	}
	return one(ws, s.area)
}

func (s *integralState) AppendBinary(dst []byte) []byte { return appendState(dst, s) }

// Fields: unit <uvarint ns>, m <uvarint>; m = 1: time <varint>, in <8b>,
// out <8b>; m ≥ 2: first time <varint>, first in <8b>, last time <varint>,
// last in <8b>, last out <8b>, area <8b>.
func (s *integralState) appendFields(b []byte) []byte {
	b = appendUvarint(b, uint64(s.unit))
	b = appendUvarint(b, uint64(s.m))
	switch {
	case s.m == 1:
		b = appendFloat(appendFloat(appendVarint(b, s.first.t), s.first.in), s.first.out)
	case s.m >= 2:
		b = appendFloat(appendVarint(b, s.first.t), s.first.in)
		b = appendFloat(appendFloat(appendVarint(b, s.last.t), s.last.in), s.last.out)
		b = appendFloat(b, s.area)
	}
	return b
}

func (s *integralState) decodeFields(r *reader) error {
	unit := r.nonNegative()
	s.m = r.nonNegative()
	if r.Err != nil {
		return r.Err
	}
	if unit <= 0 {
		return fmt.Errorf("%w: integral unit %d", ErrCorrupt, unit)
	}
	s.unit = time.Duration(unit)
	switch {
	case s.m == 1:
		s.first = tpoint{t: r.Varint(), in: r.Float(), out: r.Float()}
		s.last = s.first
	case s.m >= 2:
		s.first = tpoint{t: r.Varint(), in: r.Float()}
		s.last = tpoint{t: r.Varint(), in: r.Float(), out: r.Float()}
		s.area = r.Float()
		// m distinct times fit between first and last.
		if r.Err == nil && (s.first.t >= s.last.t || uint64(s.m-1) > uint64(s.last.t)-uint64(s.first.t)) {
			return fmt.Errorf("%w: integral of %d times in [%d, %d]", ErrCorrupt, s.m, s.first.t, s.last.t)
		}
	}
	return r.Err
}

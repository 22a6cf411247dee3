package partial

import (
	"fmt"
	"time"

	"github.com/strata-db/strata/query/funcs"
)

// integralState is integral() over one window without GROUP BY time (funcs'
// NewWindowFunc("integral")): the trapezoid rule over the time-sorted points,
// of which several sharing a time count as the one that came last.
//
// The state keeps the points a merge can still change: the first point F,
// the last point L and the one before it P (of the distinct times), and the
// area up to P. A later partial whose first time equals L's replaces L's
// value (it came later), so the last trapezoid is only added in Final.
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
// at its end from the next window's first point (funcs.IntegralSeries); F and
// L are what that needs, but this state does not compute it.
type integralState struct {
	adders
	unit  time.Duration
	m     int64 // distinct times seen
	f     tpoint
	p, l  tpoint
	inner float64 // area from F to P
}

type tpoint struct {
	t int64
	v float64
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

// seg is one trapezoid, with funcs' operation order.
func (s *integralState) seg(a, b tpoint) float64 {
	return 0.5 * (b.v + a.v) * (float64(b.t-a.t) / float64(s.unit))
}

func (s *integralState) point(t int64, v float64) error {
	switch {
	case s.m == 0:
		s.f, s.l, s.m = tpoint{t, v}, tpoint{t, v}, 1
	case t == s.l.t:
		s.l.v = v
		if s.m == 1 {
			s.f.v = v
		}
	case t < s.l.t:
		return fmt.Errorf("%w: time %d after %d", ErrOrder, t, s.l.t)
	default:
		if s.m >= 2 {
			s.inner += s.seg(s.p, s.l)
		}
		s.p, s.l = s.l, tpoint{t, v}
		s.m++
	}
	return nil
}

// full is the whole area from F to L.
func (s *integralState) full() float64 {
	if s.m < 2 {
		return 0
	}
	return s.inner + s.seg(s.p, s.l)
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
	case s.l.t <= o.f.t:
		s.join(o)
		return nil
	case o.l.t <= s.f.t:
		c := *o
		c.join(s)
		*s = c
		return nil
	}
	return fmt.Errorf("%w: integral partials overlap in time ([%d, %d] and [%d, %d])",
		ErrOrder, s.f.t, s.l.t, o.f.t, o.l.t)
}

// join appends b, whose times are all ≥ s's, to s (both non-empty).
func (s *integralState) join(b *integralState) {
	if s.l.t == b.f.t {
		// The shared time takes b's value: b's points came later.
		s.l.v = b.f.v
		if s.m == 1 {
			s.f.v = b.f.v
		}
		if b.m == 1 {
			return
		}
		s.inner = s.full() + b.inner
		s.p, s.l = b.p, b.l
		s.m += b.m - 1
		return
	}
	if b.m == 1 {
		s.inner = s.full()
		s.p, s.l = s.l, b.l
	} else {
		s.inner = s.full() + s.seg(s.l, b.f) + b.inner
		s.p, s.l = b.p, b.l
	}
	s.m += b.m
}

// Final reproduces funcs' edge cases: no area when the last time is the
// window start, except that a float integral then reports 0 unless every
// point sat at time 0 (InfluxDB compares with 0, not the range start).
func (s *integralState) Final(ws int64) []funcs.Point {
	if s.m == 0 {
		return nil
	}
	if s.l.t == ws {
		if s.typ == funcs.Float && (s.m >= 2 || s.f.t != 0) {
			return one(ws, 0.0)
		}
		return nil
	}
	return one(ws, s.full())
}

func (s *integralState) AppendBinary(dst []byte) []byte { return appendState(dst, s) }

// Fields: unit <uvarint ns>, m <uvarint>; m ≥ 1: F time <varint>, value <8b>;
// m ≥ 2: L time, value; m ≥ 3: P time, value, inner <8b>. With m = 2, P is F
// and the inner area is 0.
func (s *integralState) appendFields(b []byte) []byte {
	b = appendUvarint(b, uint64(s.unit))
	b = appendUvarint(b, uint64(s.m))
	if s.m >= 1 {
		b = appendFloat(appendVarint(b, s.f.t), s.f.v)
	}
	if s.m >= 2 {
		b = appendFloat(appendVarint(b, s.l.t), s.l.v)
	}
	if s.m >= 3 {
		b = appendFloat(appendVarint(b, s.p.t), s.p.v)
		b = appendFloat(b, s.inner)
	}
	return b
}

func (s *integralState) decodeFields(r *reader) error {
	unit := r.nonNegative()
	s.m = r.nonNegative()
	if r.err != nil {
		return r.err
	}
	if unit <= 0 {
		return fmt.Errorf("%w: integral unit %d", ErrCorrupt, unit)
	}
	s.unit = time.Duration(unit)
	if s.m >= 1 {
		s.f = tpoint{r.varint(), r.float()}
		s.l = s.f
	}
	if s.m >= 2 {
		s.l = tpoint{r.varint(), r.float()}
		s.p = s.f
	}
	if s.m >= 3 {
		s.p = tpoint{r.varint(), r.float()}
		s.inner = r.float()
	}
	if r.err != nil {
		return r.err
	}
	ok := s.m < 2 || s.f.t < s.l.t
	if s.m >= 3 {
		ok = s.f.t < s.p.t && s.p.t < s.l.t && uint64(s.m-1) <= uint64(s.l.t)-uint64(s.f.t)
	}
	if !ok {
		return fmt.Errorf("%w: integral points out of order", ErrCorrupt)
	}
	return nil
}

package partial

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/strata-db/strata/query/funcs"
)

// The value collections keep what their function needs of every value, so
// they merge exactly in any order and their size grows with the input
// (bounded by MaxValues): median keeps the values, percentile and mode the
// values with their times (both break ties by time), distinct and
// count_distinct the set of values with the time each was first seen.

func newCollection(k Kind, t funcs.Type, pct float64) state {
	switch k {
	case Median:
		switch t {
		case funcs.Integer:
			return newValues[int64](t)
		case funcs.Unsigned:
			return newValues[uint64](t)
		}
		return newValues[float64](t)
	case Percentile, Mode:
		switch t {
		case funcs.Float:
			return newPoints(k, t, pct, cmp.Compare[float64])
		case funcs.Integer:
			return newPoints(k, t, pct, cmp.Compare[int64])
		case funcs.Unsigned:
			return newPoints(k, t, pct, cmp.Compare[uint64])
		case funcs.String:
			return newPoints(k, t, pct, strings.Compare)
		}
		return newPoints(k, t, pct, compareBool)
	}
	switch t {
	case funcs.Float:
		return newSet(k, t, cmp.Compare[float64])
	case funcs.Integer:
		return newSet(k, t, cmp.Compare[int64])
	case funcs.Unsigned:
		return newSet(k, t, cmp.Compare[uint64])
	case funcs.String:
		return newSet(k, t, strings.Compare)
	}
	return newSet(k, t, compareBool)
}

func compareBool(a, b bool) int { return cmp.Compare(b2u(a), b2u(b)) }

func checkRoom(k Kind, have, more int) error {
	if have+more > MaxValues {
		return fmt.Errorf("%w: %s would hold %d values, more than %d", ErrTooLarge, k, have+more, MaxValues)
	}
	return nil
}

// collectionStats: headers help only with an empty block.
func collectionStats(a *adders, st funcs.Stats) (bool, error) {
	if err := checkStats(a, st); err != nil {
		return false, err
	}
	return st.Count == 0, nil
}

// ---- median ----

type valuesState[T number] struct {
	adders
	vals []T
}

func newValues[T number](t funcs.Type) *valuesState[T] {
	s := &valuesState[T]{}
	bind(&s.adders, Median, t, s.add)
	return s
}

func (s *valuesState[T]) add(_ []int64, vs []T) error {
	if err := checkRoom(s.kind, len(s.vals), len(vs)); err != nil {
		return err
	}
	s.vals = append(s.vals, vs...)
	return nil
}

func (s *valuesState[T]) AddStats(st funcs.Stats) (bool, error) {
	return collectionStats(&s.adders, st)
}

func (s *valuesState[T]) Merge(other State) error {
	o, err := sameAs(s, other)
	if err != nil {
		return err
	}
	if err := checkRoom(s.kind, len(s.vals), len(o.vals)); err != nil {
		return err
	}
	s.vals = append(s.vals, o.vals...)
	return nil
}

// Final is the middle value, or for an even count lo + (hi-lo)/2 with hi-lo
// computed in T, as funcs does (integers wrap there for extreme spreads).
func (s *valuesState[T]) Final(ws int64) []funcs.Point {
	n := len(s.vals)
	if n == 0 {
		return nil
	}
	v := slices.Clone(s.vals)
	slices.Sort(v)
	if n%2 == 1 {
		return one(ws, float64(v[n/2]))
	}
	lo, hi := v[n/2-1], v[n/2]
	return one(ws, float64(lo)+float64(hi-lo)/2)
}

func (s *valuesState[T]) AppendBinary(dst []byte) []byte { return appendState(dst, s) }

// Fields: n <uvarint>, n values.
func (s *valuesState[T]) appendFields(b []byte) []byte {
	b = appendUvarint(b, uint64(len(s.vals)))
	for _, v := range s.vals {
		b = appendVal(b, v)
	}
	return b
}

func (s *valuesState[T]) decodeFields(r *reader) error {
	n := r.count(minSize[T]())
	s.vals = make([]T, 0, n)
	for i := 0; i < n && r.Err == nil; i++ {
		s.vals = append(s.vals, readVal[T](r))
	}
	return r.Err
}

// ---- percentile and mode ----

type tval[T value] struct {
	t int64
	v T
}

type pointsState[T value] struct {
	adders
	pct     float64
	compare func(a, b T) int
	pts     []tval[T]
}

func newPoints[T value](k Kind, t funcs.Type, pct float64, compare func(a, b T) int) *pointsState[T] {
	s := &pointsState[T]{pct: pct, compare: compare}
	bind(&s.adders, k, t, s.add)
	return s
}

func (s *pointsState[T]) add(ts []int64, vs []T) error {
	if err := checkRoom(s.kind, len(s.pts), len(vs)); err != nil {
		return err
	}
	s.pts = slices.Grow(s.pts, len(vs))
	for i, v := range vs {
		s.pts = append(s.pts, tval[T]{ts[i], v})
	}
	return nil
}

func (s *pointsState[T]) AddStats(st funcs.Stats) (bool, error) {
	return collectionStats(&s.adders, st)
}

func (s *pointsState[T]) Merge(other State) error {
	o, err := sameAs(s, other)
	if err != nil {
		return err
	}
	if s.kind == Percentile && math.Float64bits(o.pct) != math.Float64bits(s.pct) {
		return fmt.Errorf("%w: percentile %v and %v", ErrMismatch, s.pct, o.pct)
	}
	if err := checkRoom(s.kind, len(s.pts), len(o.pts)); err != nil {
		return err
	}
	s.pts = append(s.pts, o.pts...)
	return nil
}

// sorted returns the points by value, equal values by time: the order funcs
// sees them in (a stable sort of time-ordered input).
func (s *pointsState[T]) sorted() []tval[T] {
	a := slices.Clone(s.pts)
	slices.SortStableFunc(a, func(x, y tval[T]) int {
		if c := s.compare(x.v, y.v); c != 0 {
			return c
		}
		return cmp.Compare(x.t, y.t)
	})
	return a
}

func (s *pointsState[T]) Final(ws int64) []funcs.Point {
	if len(s.pts) == 0 {
		return nil
	}
	if s.kind == Percentile {
		// Nearest rank, as InfluxDB: index floor(n·p/100 + 0.5) - 1.
		i := int(math.Floor(float64(len(s.pts))*s.pct/100.0+0.5)) - 1
		if i < 0 || i >= len(s.pts) {
			return nil
		}
		p := s.sorted()[i]
		return []funcs.Point{{Time: p.t, Value: p.v}}
	}
	if s.typ == funcs.Boolean {
		yes := 0
		for _, p := range s.pts {
			if any(p.v).(bool) {
				yes++
			}
		}
		return one(ws, yes >= len(s.pts)-yes)
	}
	return one(ws, s.mode(s.sorted()))
}

// mode is InfluxDB's scan over runs of equal values (funcs' mode): a run
// becomes the mode when it is longer than the best so far, or as long and it
// started no later than the time at which the best reached its length. Runs
// of one only count for the smallest value, so all-distinct input gives the
// smallest value.
func (s *pointsState[T]) mode(a []tval[T]) T {
	best, bestN, bestT := a[0].v, 0, a[0].t
	for start := 0; start < len(a); {
		end := start + 1
		for end < len(a) && s.compare(a[end].v, a[start].v) == 0 {
			end++
		}
		n := end - start
		if (n >= 2 || start == 0) && (n > bestN || (n == bestN && a[start].t <= bestT)) {
			best, bestN, bestT = a[start].v, n, a[end-1].t
		}
		start = end
	}
	return best
}

func (s *pointsState[T]) AppendBinary(dst []byte) []byte { return appendState(dst, s) }

// Fields: percentile only: p <8b>; then n <uvarint>, n × (time <varint>, value).
func (s *pointsState[T]) appendFields(b []byte) []byte {
	if s.kind == Percentile {
		b = appendFloat(b, s.pct)
	}
	b = appendUvarint(b, uint64(len(s.pts)))
	for _, p := range s.pts {
		b = appendVal(appendVarint(b, p.t), p.v)
	}
	return b
}

func (s *pointsState[T]) decodeFields(r *reader) error {
	if s.kind == Percentile {
		if s.pct = r.Float(); math.IsNaN(s.pct) || math.IsInf(s.pct, 0) {
			r.Fail("percentile %v", s.pct)
		}
	}
	n := r.count(1 + minSize[T]())
	s.pts = make([]tval[T], 0, n)
	for i := 0; i < n && r.Err == nil; i++ {
		t := r.Varint()
		s.pts = append(s.pts, tval[T]{t, readVal[T](r)})
	}
	return r.Err
}

// ---- distinct and count_distinct ----

// setState keeps each distinct value with the time it was first seen: 1.x's
// distinct() emits its values in that order (equal times by value).
type setState[T value] struct {
	adders
	compare func(a, b T) int
	first   map[T]int64
}

func newSet[T value](k Kind, t funcs.Type, compare func(a, b T) int) *setState[T] {
	s := &setState[T]{compare: compare, first: map[T]int64{}}
	bind(&s.adders, k, t, s.add)
	return s
}

func (s *setState[T]) add(ts []int64, vs []T) error {
	for i, v := range vs {
		at, ok := s.first[v]
		if !ok {
			if err := checkRoom(s.kind, len(s.first), 1); err != nil {
				return err
			}
			s.first[v] = ts[i]
		} else if ts[i] < at {
			s.first[v] = ts[i]
		}
	}
	return nil
}

func (s *setState[T]) AddStats(st funcs.Stats) (bool, error) { return collectionStats(&s.adders, st) }

func (s *setState[T]) Merge(other State) error {
	o, err := sameAs(s, other)
	if err != nil {
		return err
	}
	if len(s.first)+len(o.first) > MaxValues {
		// Only count the union when it might be too large.
		n := len(s.first)
		for v := range o.first {
			if _, ok := s.first[v]; !ok {
				n++
			}
		}
		if err := checkRoom(s.kind, n, 0); err != nil {
			return err
		}
	}
	for v, t := range o.first {
		if at, ok := s.first[v]; !ok || t < at {
			s.first[v] = t
		}
	}
	return nil
}

// before orders values by first time, then by value.
func (s *setState[T]) before(a, b T) int {
	if c := cmp.Compare(s.first[a], s.first[b]); c != 0 {
		return c
	}
	return s.compare(a, b)
}

func (s *setState[T]) values() []T {
	v := make([]T, 0, len(s.first))
	for x := range s.first {
		v = append(v, x)
	}
	slices.SortFunc(v, s.before)
	return v
}

// Final: distinct returns every value once in first-seen order (equal times
// ascending, false before true), all at the window start; count_distinct their
// number.
func (s *setState[T]) Final(ws int64) []funcs.Point {
	if len(s.first) == 0 {
		return nil
	}
	if s.kind == CountDistinct {
		return one(ws, int64(len(s.first)))
	}
	out := make([]funcs.Point, 0, len(s.first))
	for _, v := range s.values() {
		out = append(out, funcs.Point{Time: ws, Value: v})
	}
	return out
}

func (s *setState[T]) AppendBinary(dst []byte) []byte { return appendState(dst, s) }

// Fields: n <uvarint>, n × (first time <varint>, value), strictly ascending by
// (time, value) (canonical).
func (s *setState[T]) appendFields(b []byte) []byte {
	v := s.values()
	b = appendUvarint(b, uint64(len(v)))
	for _, x := range v {
		b = appendVarint(b, s.first[x])
		b = appendVal(b, x)
	}
	return b
}

func (s *setState[T]) decodeFields(r *reader) error {
	n := r.count(1 + minSize[T]())
	s.first = make(map[T]int64, n)
	var prev T
	for i := 0; i < n && r.Err == nil; i++ {
		t := r.Varint()
		v := readVal[T](r)
		if r.Err != nil {
			break
		}
		if _, dup := s.first[v]; dup {
			r.Fail("distinct value repeated")
			break
		}
		s.first[v] = t
		if i > 0 && s.before(prev, v) >= 0 {
			r.Fail("distinct values not strictly ascending by (time, value)")
		}
		prev = v
	}
	return r.Err
}

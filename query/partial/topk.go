package partial

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/strata-db/strata/query/funcs"
)

// topState is top(x, N) and bottom(x, N) without tag arguments: a bounded,
// mergeable state. The N best points of a union are among the N best of each
// part, so a state keeps at most 2N candidates (trimmed to the N best by
// value, ties to the earlier time, when it passes 2N) and Final returns the
// N best in time order, as funcs does. Points equal in both value and time
// are interchangeable in the output, so the result does not depend on the
// merge order. With tag arguments each tag tuple contributes its own best
// point and the state would need the tag columns, which partial states do
// not carry: New refuses those calls.
type topState[T number] struct {
	adders
	n   int
	pts []tval[T]
}

func newTop(k Kind, t funcs.Type, n int) state {
	switch t {
	case funcs.Integer:
		return newTopOf[int64](k, t, n)
	case funcs.Unsigned:
		return newTopOf[uint64](k, t, n)
	}
	return newTopOf[float64](k, t, n)
}

func newTopOf[T number](k Kind, t funcs.Type, n int) *topState[T] {
	s := &topState[T]{n: n}
	bind(&s.adders, k, t, s.add)
	return s
}

// rank orders candidates best first.
func (s *topState[T]) rank(a, b tval[T]) int {
	c := cmp.Compare(a.v, b.v)
	if s.kind == Top {
		c = -c
	}
	if c != 0 {
		return c
	}
	return cmp.Compare(a.t, b.t)
}

func (s *topState[T]) trim() {
	if len(s.pts) > 2*s.n {
		slices.SortStableFunc(s.pts, s.rank)
		s.pts = slices.Clip(s.pts[:s.n])
	}
}

func (s *topState[T]) add(ts []int64, vs []T) error {
	for i, v := range vs {
		s.pts = append(s.pts, tval[T]{ts[i], v})
		s.trim()
	}
	return nil
}

func (s *topState[T]) AddStats(st funcs.Stats) (bool, error) { return collectionStats(&s.adders, st) }

func (s *topState[T]) Merge(other State) error {
	o, err := sameAs(s, other)
	if err != nil {
		return err
	}
	if o.n != s.n {
		return fmt.Errorf("%w: %s limits %d and %d", ErrMismatch, s.kind, s.n, o.n)
	}
	s.pts = append(s.pts, o.pts...)
	s.trim()
	return nil
}

func (s *topState[T]) Final(int64) []funcs.Point {
	if len(s.pts) == 0 {
		return nil
	}
	best := slices.Clone(s.pts)
	slices.SortStableFunc(best, s.rank)
	if len(best) > s.n {
		best = best[:s.n]
	}
	slices.SortStableFunc(best, func(a, b tval[T]) int { return cmp.Compare(a.t, b.t) })
	out := make([]funcs.Point, len(best))
	for i, p := range best {
		out[i] = funcs.Point{Time: p.t, Value: p.v}
	}
	return out
}

func (s *topState[T]) AppendBinary(dst []byte) []byte { return appendState(dst, s) }

// Fields: limit N <uvarint>, count <uvarint> (≤ 2N), count × (time <varint>, value).
func (s *topState[T]) appendFields(b []byte) []byte {
	b = appendUvarint(b, uint64(s.n))
	b = appendUvarint(b, uint64(len(s.pts)))
	for _, p := range s.pts {
		b = appendVal(appendVarint(b, p.t), p.v)
	}
	return b
}

func (s *topState[T]) decodeFields(r *reader) error {
	n := r.Uvarint()
	if r.Err == nil && (n < 1 || n > MaxValues/2) {
		r.Fail("%s limit %d", s.kind, n)
	}
	s.n = int(n)
	c := r.count(1 + minSize[T]())
	if r.Err == nil && c > 2*s.n {
		r.Fail("%s of %d keeps %d candidates", s.kind, s.n, c)
	}
	s.pts = make([]tval[T], 0, c)
	for i := 0; i < c && r.Err == nil; i++ {
		t := r.Varint()
		s.pts = append(s.pts, tval[T]{t, readVal[T](r)})
	}
	return r.Err
}

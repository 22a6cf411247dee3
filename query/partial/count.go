package partial

import (
	"fmt"

	"github.com/strata-db/strata/query/funcs"
)

// countState is count(): the number of non-null values, of any type.
type countState struct {
	adders
	n int64
}

func newCount(t funcs.Type) *countState {
	s := &countState{}
	s.kind, s.typ = Count, t
	switch t {
	case funcs.Float:
		bind(&s.adders, Count, t, countOf[float64](s))
	case funcs.Integer:
		bind(&s.adders, Count, t, countOf[int64](s))
	case funcs.Unsigned:
		bind(&s.adders, Count, t, countOf[uint64](s))
	case funcs.String:
		bind(&s.adders, Count, t, countOf[string](s))
	case funcs.Boolean:
		bind(&s.adders, Count, t, countOf[bool](s))
	}
	return s
}

func countOf[T value](s *countState) func([]int64, []T) error {
	return func(_ []int64, vs []T) error { s.n += int64(len(vs)); return nil }
}

func (s *countState) AddStats(st funcs.Stats) (bool, error) {
	if err := checkStats(&s.adders, st); err != nil {
		return false, err
	}
	s.n += int64(st.Count)
	return true, nil
}

func (s *countState) Merge(other State) error {
	o, err := sameAs(s, other)
	if err != nil {
		return err
	}
	s.n += o.n
	return nil
}

func (s *countState) Final(ws int64) []funcs.Point { return finalOf(s, ws) }

func (s *countState) Reset() { s.n = 0 }

func (s *countState) FinalPoint(ws int64) (funcs.Point, bool) {
	return funcs.Point{Time: ws, Value: s.n}, s.n != 0
}

func (s *countState) AppendBinary(dst []byte) []byte { return appendState(dst, s) }

func (s *countState) appendFields(b []byte) []byte { return appendUvarint(b, uint64(s.n)) }

func (s *countState) decodeFields(r *reader) error {
	s.n = r.nonNegative()
	if r.Err == nil && s.n < 0 {
		return fmt.Errorf("%w: negative count", ErrCorrupt)
	}
	return r.Err
}

package partial

import (
	"fmt"

	"github.com/strata-db/strata/query/funcs"
)

// adders routes the typed Add methods to a state's one typed fold. A state
// embeds it and binds the fold for its own type; the other four methods
// report ErrType. The fold is only called with equal, non-zero lengths.
// It is held as one interface, not a field per type: a state per window
// of a query is allocated, and 56 bytes of adders were half a selector's.
type adders struct {
	kind Kind
	typ  funcs.Type
	fold any // func([]int64, []T) error of typ's T
}

func (a *adders) Kind() Kind       { return a.kind }
func (a *adders) Type() funcs.Type { return a.typ }

func (a *adders) AddFloats(ts []int64, vs []float64) error { return call(a, ts, vs, funcs.Float) }
func (a *adders) AddInts(ts []int64, vs []int64) error     { return call(a, ts, vs, funcs.Integer) }
func (a *adders) AddUints(ts []int64, vs []uint64) error   { return call(a, ts, vs, funcs.Unsigned) }
func (a *adders) AddStrings(ts []int64, vs []string) error { return call(a, ts, vs, funcs.String) }
func (a *adders) AddBools(ts []int64, vs []bool) error     { return call(a, ts, vs, funcs.Boolean) }

// EndSeries is a no-op for every kind but sum and mean, which override it.
func (a *adders) EndSeries() {}

func call[T any](a *adders, ts []int64, vs []T, t funcs.Type) error {
	f, _ := a.fold.(func([]int64, []T) error)
	if f == nil {
		return fmt.Errorf("%w: %s state of %s values given %s values", ErrType, a.kind, a.typ, t)
	}
	if len(ts) != len(vs) {
		return fmt.Errorf("partial: %d times for %d values", len(ts), len(vs))
	}
	if len(vs) == 0 {
		return nil
	}
	return f(ts, vs)
}

// bind sets the fold of T's type.
func bind[T any](a *adders, k Kind, t funcs.Type, f func([]int64, []T) error) {
	a.kind, a.typ, a.fold = k, t, f
}

// sameAs returns other as the receiver's concrete type when kind and type
// match, for Merge.
func sameAs[S State](recv S, other State) (S, error) {
	o, ok := other.(S)
	if !ok || other.Kind() != recv.Kind() || other.Type() != recv.Type() {
		var zero S
		if other == nil {
			return zero, fmt.Errorf("%w: merge of nil into %s", ErrMismatch, recv.Kind())
		}
		return zero, fmt.Errorf("%w: cannot merge %s of %s into %s of %s", ErrMismatch,
			other.Kind(), other.Type(), recv.Kind(), recv.Type())
	}
	return o, nil
}

// checkStats validates a block's statistics against the state's type.
func checkStats(a *adders, s funcs.Stats) error {
	if funcs.Type(s.Type) != a.typ {
		return fmt.Errorf("%w: %s block statistics for a %s state of %s values", ErrType,
			funcs.Type(s.Type), a.kind, a.typ)
	}
	if s.Count < 0 {
		return fmt.Errorf("partial: negative block count %d", s.Count)
	}
	return nil
}

func one(ws int64, v any) []funcs.Point { return []funcs.Point{{Time: ws, Value: v}} }

// A Single is a State whose result is at most one point: FinalPoint is its
// Final without the slice (ok false: no point), for a caller that keeps a
// window's point in an array of its own.
type Single interface {
	FinalPoint(ws int64) (pt funcs.Point, ok bool)
}

// A Resetter is a State that Reset empties for reuse in another window:
// its kind and type stay, and it holds nothing of what it was fed (the
// kinds without arguments: selectors, count, sum, mean, spread).
type Resetter interface {
	Reset()
}

// finalOf is Final of a Single.
func finalOf(s Single, ws int64) []funcs.Point {
	if pt, ok := s.FinalPoint(ws); ok {
		return []funcs.Point{pt}
	}
	return nil
}

// number is the numeric column types.
type number interface{ float64 | int64 | uint64 }

// value is every column type.
type value interface {
	float64 | int64 | uint64 | string | bool
}

// ordered is the types compared with < (booleans are mapped by their states).
type ordered interface {
	float64 | int64 | uint64 | string
}

// statsOf picks the fields of T's type out of block statistics.
func statsOf[T number](s funcs.Stats) (sum, min, max, first, last T) {
	switch p := any(&sum).(type) {
	case *float64:
		*p = s.FSum
		*any(&min).(*float64), *any(&max).(*float64) = s.FMin, s.FMax
		*any(&first).(*float64), *any(&last).(*float64) = s.FFirst, s.FLast
	case *int64:
		*p = s.ISum
		*any(&min).(*int64), *any(&max).(*int64) = s.IMin, s.IMax
		*any(&first).(*int64), *any(&last).(*int64) = s.IFirst, s.ILast
	case *uint64:
		*p = s.USum
		*any(&min).(*uint64), *any(&max).(*uint64) = s.UMin, s.UMax
		*any(&first).(*uint64), *any(&last).(*uint64) = s.UFirst, s.ULast
	}
	return
}

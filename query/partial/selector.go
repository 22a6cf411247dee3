package partial

import "github.com/strata-db/strata/query/funcs"

// selState is min, max, first or last: one chosen value and its time, with
// funcs' tie rules, which make the choice independent of arrival order: min
// and max prefer the earlier time among equal values, first and last the
// larger value among equal times. Only a full tie (same time, values equal
// but distinguishable: -0 and +0) keeps whichever came first, in Merge the
// receiver, as funcs keeps the earlier arrival.
type selState[T ordered] struct {
	adders
	has bool
	t   int64
	v   T
}

func newSelector(k Kind, t funcs.Type) state {
	switch t {
	case funcs.Float:
		return newSelOf[float64](k, t)
	case funcs.Integer:
		return newSelOf[int64](k, t)
	case funcs.Unsigned:
		return newSelOf[uint64](k, t)
	case funcs.String:
		return newSelOf[string](k, t)
	}
	return newBoolSel(k)
}

func newSelOf[T ordered](k Kind, t funcs.Type) *selState[T] {
	s := &selState[T]{}
	bind(&s.adders, k, t, s.add)
	return s
}

// wins reports whether (t, v) replaces the held (ct, cv) under kind k.
func wins[T ordered](k Kind, t int64, v T, ct int64, cv T) bool {
	switch k {
	case Min:
		return v < cv || (v == cv && t < ct)
	case Max:
		return v > cv || (v == cv && t < ct)
	case First:
		return t < ct || (t == ct && v > cv)
	}
	return t > ct || (t == ct && v > cv)
}

// add is one loop per kind: the hot path of the block-by-block executor.
func (s *selState[T]) add(ts []int64, vs []T) error {
	i := 0
	ct, cv := s.t, s.v
	if !s.has {
		ct, cv, i = ts[0], vs[0], 1
	}
	switch s.kind {
	case Min:
		for ; i < len(vs); i++ {
			if v := vs[i]; v < cv || (v == cv && ts[i] < ct) {
				ct, cv = ts[i], v
			}
		}
	case Max:
		for ; i < len(vs); i++ {
			if v := vs[i]; v > cv || (v == cv && ts[i] < ct) {
				ct, cv = ts[i], v
			}
		}
	case First:
		for ; i < len(vs); i++ {
			if t := ts[i]; t < ct || (t == ct && vs[i] > cv) {
				ct, cv = t, vs[i]
			}
		}
	default:
		for ; i < len(vs); i++ {
			if t := ts[i]; t > ct || (t == ct && vs[i] > cv) {
				ct, cv = t, vs[i]
			}
		}
	}
	s.has, s.t, s.v = true, ct, cv
	return nil
}

func (s *selState[T]) offer(t int64, v T) {
	if !s.has || wins(s.kind, t, v, s.t, s.v) {
		s.has, s.t, s.v = true, t, v
	}
}

func (s *selState[T]) AddStats(st funcs.Stats) (bool, error) {
	if err := checkStats(&s.adders, st); err != nil {
		return false, err
	}
	if st.Count == 0 {
		return true, nil
	}
	if s.typ == funcs.String {
		return false, nil // string headers carry no values
	}
	var v T
	var t int64
	switch s.kind {
	case First:
		v, t = numStat[T](st, statFirst), st.MinTime
	case Last:
		v, t = numStat[T](st, statLast), st.MaxTime
	default:
		if s.kind == Min {
			v = numStat[T](st, statMin)
		} else {
			v = numStat[T](st, statMax)
		}
		if st.Count != 1 {
			// The extreme's time is unknown: only a block strictly worse
			// than the held value can be skipped.
			if s.has && ((s.kind == Min && v > s.v) || (s.kind == Max && v < s.v)) {
				return true, nil
			}
			return false, nil
		}
		t = st.MinTime
	}
	s.offer(t, v)
	return true, nil
}

type statField uint8

const (
	statMin statField = iota
	statMax
	statFirst
	statLast
)

// numStat reads one numeric header field as T (float, integer or unsigned).
func numStat[T ordered](st funcs.Stats, f statField) T {
	var v T
	switch p := any(&v).(type) {
	case *float64:
		*p = [...]float64{st.FMin, st.FMax, st.FFirst, st.FLast}[f]
	case *int64:
		*p = [...]int64{st.IMin, st.IMax, st.IFirst, st.ILast}[f]
	case *uint64:
		*p = [...]uint64{st.UMin, st.UMax, st.UFirst, st.ULast}[f]
	}
	return v
}

func (s *selState[T]) Merge(other State) error {
	o, err := sameAs(s, other)
	if err != nil {
		return err
	}
	if o.has {
		s.offer(o.t, o.v)
	}
	return nil
}

func (s *selState[T]) Final(ws int64) []funcs.Point { return finalOf(s, ws) }

func (s *selState[T]) Reset() {
	var zero T
	s.has, s.t, s.v = false, 0, zero
}

func (s *selState[T]) FinalPoint(int64) (funcs.Point, bool) {
	return funcs.Point{Time: s.t, Value: s.v}, s.has
}

func (s *selState[T]) AppendBinary(dst []byte) []byte { return appendState(dst, s) }

// Fields: has <1b>, then if has: time <varint>, value.
func (s *selState[T]) appendFields(b []byte) []byte {
	b = appendFlag(b, s.has)
	if s.has {
		b = appendVal(appendVarint(b, s.t), s.v)
	}
	return b
}

func (s *selState[T]) decodeFields(r *reader) error {
	if s.has = r.flag(); s.has {
		s.t = r.Varint()
		s.v = readVal[T](r)
	}
	return r.Err
}

// boolSel is min, max, first and last of booleans, true counting as the
// larger value, except that first() breaks a time tie towards false, as
// InfluxDB does.
type boolSel struct {
	adders
	has bool
	t   int64
	v   bool
}

func newBoolSel(k Kind) *boolSel {
	s := &boolSel{}
	bind(&s.adders, k, funcs.Boolean, s.add)
	return s
}

func b2u(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

func (s *boolSel) offer(t int64, v bool) {
	if !s.has {
		s.has, s.t, s.v = true, t, v
		return
	}
	var w bool
	if s.kind == First {
		w = t < s.t || (t == s.t && !v && s.v)
	} else {
		w = wins(s.kind, t, b2u(v), s.t, b2u(s.v))
	}
	if w {
		s.t, s.v = t, v
	}
}

func (s *boolSel) add(ts []int64, vs []bool) error {
	for i, v := range vs {
		s.offer(ts[i], v)
	}
	return nil
}

func (s *boolSel) AddStats(st funcs.Stats) (bool, error) {
	if err := checkStats(&s.adders, st); err != nil {
		return false, err
	}
	return st.Count == 0, nil // boolean headers carry no values
}

func (s *boolSel) Merge(other State) error {
	o, err := sameAs(s, other)
	if err != nil {
		return err
	}
	if o.has {
		s.offer(o.t, o.v)
	}
	return nil
}

func (s *boolSel) Final(int64) []funcs.Point {
	if !s.has {
		return nil
	}
	return []funcs.Point{{Time: s.t, Value: s.v}}
}

func (s *boolSel) AppendBinary(dst []byte) []byte { return appendState(dst, s) }

func (s *boolSel) appendFields(b []byte) []byte {
	b = appendFlag(b, s.has)
	if s.has {
		b = appendFlag(appendVarint(b, s.t), s.v)
	}
	return b
}

func (s *boolSel) decodeFields(r *reader) error {
	if s.has = r.flag(); s.has {
		s.t = r.Varint()
		s.v = r.flag()
	}
	return r.Err
}

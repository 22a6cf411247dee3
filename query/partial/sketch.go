package partial

import (
	"fmt"
	"math"

	"github.com/strata-db/strata/query/funcs"
	"github.com/strata-db/strata/query/sketch"
)

// sketchState is every approximate function's partial state: the call
// (funcs.Approx: which sketch, its arguments, whether the input is stored
// sketches and whether Final returns the sketch itself) and the sketch
// built so far (query/sketch), nil before the first value. The sketch's
// own merge is the state's merge, so HLL, DDSketch and Count-Min states
// merge exactly and Space-Saving within its bound (query/sketch).
type sketchState struct {
	adders
	a  *funcs.Approx
	sk sketch.Sketch
}

// sketchKinds are the approximate functions' kinds, by name.
var sketchKinds = map[Kind]bool{
	ApproxCountDistinct: true, ApproxPercentile: true, ApproxMedian: true, ApproxTopK: true,
	ApproxCount: true, SketchCountDistinct: true, SketchPercentile: true, MergeCountDistinct: true,
	MergePercentile: true, MergeMedian: true, MergeSketch: true, SketchTopK: true,
	SketchCount: true, MergeTopK: true, MergeCount: true,
}

func newSketchState(k Kind, t funcs.Type, a *funcs.Approx) *sketchState {
	s := &sketchState{a: a}
	switch t {
	case funcs.Float:
		bind(&s.adders, k, t, s.addFloats)
	case funcs.Integer:
		bind(&s.adders, k, t, s.addInts)
	case funcs.Unsigned:
		bind(&s.adders, k, t, s.addUints)
	case funcs.String:
		bind(&s.adders, k, t, s.addStrings)
	default:
		bind(&s.adders, k, t, s.addBools)
	}
	return s
}

// approxArgs checks a call's arguments through funcs, which owns their
// rules and error texts.
func approxArgs(k Kind, args []any) (*funcs.Approx, error) {
	return funcs.NewApprox(k.String(), args)
}

func (s *sketchState) open() sketch.Sketch {
	if s.sk == nil {
		s.sk = s.a.NewSketch(s.typ)
	}
	return s.sk
}

// The typed folds hash or key each value without boxing it: this loop is
// the cost of an approximate query over decoded blocks.
func (s *sketchState) addFloats(_ []int64, vs []float64) error {
	switch x := s.open().(type) {
	case *sketch.HLL:
		x.AddFloats(vs)
	case *sketch.DD:
		for _, v := range vs {
			x.Add(v)
		}
	case *sketch.TopK:
		for _, v := range vs {
			x.Add(sketch.KeyFloat64(v))
		}
	case *sketch.CountMin:
		for _, v := range vs {
			x.Add(sketch.HashFloat(v))
		}
	}
	return nil
}

func (s *sketchState) addInts(_ []int64, vs []int64) error {
	switch x := s.open().(type) {
	case *sketch.HLL:
		x.AddInts(vs)
	case *sketch.DD:
		for _, v := range vs {
			x.Add(float64(v))
		}
	case *sketch.TopK:
		for _, v := range vs {
			x.Add(sketch.KeyInt64(v))
		}
	case *sketch.CountMin:
		for _, v := range vs {
			x.Add(sketch.HashInt(v))
		}
	}
	return nil
}

func (s *sketchState) addUints(_ []int64, vs []uint64) error {
	switch x := s.open().(type) {
	case *sketch.HLL:
		x.AddBits(vs)
	case *sketch.DD:
		for _, v := range vs {
			x.Add(float64(v))
		}
	case *sketch.TopK:
		for _, v := range vs {
			x.Add(sketch.KeyUint64(v))
		}
	case *sketch.CountMin:
		for _, v := range vs {
			x.Add(sketch.HashUint(v))
		}
	}
	return nil
}

func (s *sketchState) addStrings(ts []int64, vs []string) error {
	if s.a.Stored {
		for i, v := range vs {
			sk, err := s.a.AddStored(s.sk, ts[i], v)
			if err != nil {
				return fmt.Errorf("%w: %w", ErrCorrupt, err)
			}
			s.sk = sk
		}
		return nil
	}
	switch x := s.open().(type) {
	case *sketch.HLL:
		for _, v := range vs {
			x.Add(sketch.HashString(v))
		}
	case *sketch.TopK:
		for _, v := range vs {
			x.Add(v)
		}
	case *sketch.CountMin:
		for _, v := range vs {
			x.Add(sketch.HashString(v))
		}
	}
	return nil
}

func (s *sketchState) addBools(_ []int64, vs []bool) error {
	if x, ok := s.open().(*sketch.HLL); ok {
		for _, v := range vs {
			x.Add(sketch.HashBool(v))
		}
	}
	return nil
}

// Weighted is a State that folds n occurrences of one string at once: the
// approximate functions over a tag, whose value is constant per series
// (query/tagarg.go). An HLL takes the value once (a repeat changes
// nothing), Space-Saving and Count-Min take n as a weight (AddN), so the
// state is the one n AddStrings of the value would give, except that
// Space-Saving evicts once where n unit inserts could evict n times (its
// bound holds either way).
type Weighted interface {
	AddWeighted(v string, n uint64) error
}

// AddWeighted implements Weighted for the sketches that key or hash
// strings; a state of another type, or over stored sketches, refuses.
func (s *sketchState) AddWeighted(v string, n uint64) error {
	if s.typ != funcs.String || s.a.Stored {
		return fmt.Errorf("%w: %s of %s values takes no weighted string", ErrMismatch, s.kind, s.typ)
	}
	if n == 0 {
		return nil
	}
	switch x := s.open().(type) {
	case *sketch.HLL:
		x.Add(sketch.HashString(v))
	case *sketch.TopK:
		x.AddN(v, n)
	case *sketch.CountMin:
		x.AddN(sketch.HashString(v), n)
	default:
		return fmt.Errorf("%w: %s takes no weighted string", ErrMismatch, s.kind)
	}
	return nil
}

// Untimed is a State that folds numbers without their times: the sketches,
// whose folds of numbers ignore them (query/sketchfold.go reads a block's
// values alone). Each method reports ErrType for a state of another type.
type Untimed interface {
	AddFloatValues(vs []float64) error
	AddIntValues(vs []int64) error
	AddUintValues(vs []uint64) error
}

func (s *sketchState) AddFloatValues(vs []float64) error {
	return untimed(s, funcs.Float, vs, s.addFloats)
}

func (s *sketchState) AddIntValues(vs []int64) error {
	return untimed(s, funcs.Integer, vs, s.addInts)
}

func (s *sketchState) AddUintValues(vs []uint64) error {
	return untimed(s, funcs.Unsigned, vs, s.addUints)
}

// Decimals is an Untimed state that also folds a float block stored as
// decimals by its mantissas (storage.Cursor.Decimals): the values
// m / 10^scale, as sketch.DecimalValue gives them. An HLL remembers the
// mantissas it has folded and hashes each once (query/sketch's
// AddDecimals); TakesDecimals tells whether the state's fold is that one,
// so the caller decodes mantissas only for it, and HoldsDecimals whether
// the state already holds every value m / 10^scale for m in [lo, hi], so
// a block of such values needs no decoding; HoldsInts is that of an
// integer state, for every integer of [lo, hi] (a block's header gives
// them: no read at all).
type Decimals interface {
	TakesDecimals() bool
	AddDecimalValues(ms []int64, scale uint) error
	HoldsDecimals(lo, hi int64, scale uint) bool
	HoldsInts(lo, hi int64) bool
}

func (s *sketchState) HoldsDecimals(lo, hi int64, scale uint) bool {
	h, ok := s.sk.(*sketch.HLL)
	return ok && s.typ == funcs.Float && h.HoldsDecimals(lo, hi, scale)
}

func (s *sketchState) HoldsInts(lo, hi int64) bool {
	h, ok := s.sk.(*sketch.HLL)
	return ok && s.typ == funcs.Integer && h.HoldsInts(lo, hi)
}

func (s *sketchState) TakesDecimals() bool {
	return s.typ == funcs.Float && s.a.Sketch == sketch.KindHLL && !s.a.Stored
}

func (s *sketchState) AddDecimalValues(ms []int64, scale uint) error {
	if s.typ != funcs.Float {
		return fmt.Errorf("%w: %s state of %s values given %s values", ErrType, s.kind, s.typ, funcs.Float)
	}
	if scale > sketch.MaxDecimalScale {
		return fmt.Errorf("%w: decimal scale %d", ErrMismatch, scale)
	}
	if len(ms) == 0 {
		return nil
	}
	if h, ok := s.open().(*sketch.HLL); ok {
		h.AddDecimals(ms, scale)
		return nil
	}
	// Another sketch takes the floats, a stretch at a time.
	var buf [256]float64
	for len(ms) > 0 {
		n := min(len(ms), len(buf))
		for i, m := range ms[:n] {
			buf[i] = sketch.DecimalValue(m, scale)
		}
		if err := s.addFloats(nil, buf[:n]); err != nil {
			return err
		}
		ms = ms[n:]
	}
	return nil
}

func untimed[T any](s *sketchState, t funcs.Type, vs []T, f func([]int64, []T) error) error {
	if s.typ != t {
		return fmt.Errorf("%w: %s state of %s values given %s values", ErrType, s.kind, s.typ, t)
	}
	if len(vs) == 0 {
		return nil
	}
	return f(nil, vs)
}

// AddStats: a header holds no values to hash; only an empty block helps.
func (s *sketchState) AddStats(st funcs.Stats) (bool, error) {
	return collectionStats(&s.adders, st)
}

func (s *sketchState) Merge(other State) error {
	o, err := sameAs(s, other)
	if err != nil {
		return err
	}
	if !sameApprox(s.a, o.a) {
		return fmt.Errorf("%w: %s states of different arguments", ErrMismatch, s.kind)
	}
	if o.sk == nil {
		return nil
	}
	// funcs.Approx.Merge copies o's sketch into an empty receiver.
	sk, err := s.a.Merge(s.sk, o.sk)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrMismatch, err)
	}
	s.sk = sk
	return nil
}

// sameApprox: the arguments Final uses agree (HLL precisions may differ:
// they merge at the lower one).
func sameApprox(a, b *funcs.Approx) bool {
	return math.Float64bits(a.Pct) == math.Float64bits(b.Pct) && a.K == b.K && a.Value == b.Value
}

func (s *sketchState) Final(ws int64) []funcs.Point { return s.a.Final(s.sk, ws, s.typ) }

// MaxBytes bounds what one state holds, for the executor's memory budget:
// a dense HLL with its memo of decimals, the Space-Saving counters with short keys, the Count-Min
// table; a quantile sketch is charged 8 KiB, about 1,000 buckets (four
// decades of values at α = 1%).
func (s *sketchState) MaxBytes() int64 {
	switch s.a.Sketch {
	case sketch.KindHLL:
		return int64(sketch.HLLMaxBytes(s.a.Precision))
	case sketch.KindTopK:
		return int64(sketch.TopKCapacity(s.a.K)) * 100
	case sketch.KindCountMin:
		return int64(sketch.NewCountMin().MemBytes())
	}
	return 8 << 10
}

func (s *sketchState) AppendBinary(dst []byte) []byte { return appendState(dst, s) }

// Fields (docs/format/partial-aggregates.md): the arguments of the kind
// (precision <1b>; percentile <8b>; k <uvarint>; approx_count's and merge_count's
// value: tag <1b: 1 string, 2 integer, 3 float> and the value), then present <1b> and,
// when 1, length <uvarint> and the sketch (docs/format/sketches.md).
func (s *sketchState) appendFields(b []byte) []byte {
	switch s.kind {
	case ApproxCountDistinct, SketchCountDistinct:
		b = append(b, byte(s.a.Precision))
	case ApproxPercentile, MergePercentile:
		b = appendFloat(b, s.a.Pct)
	case ApproxTopK, SketchTopK, MergeTopK:
		b = appendUvarint(b, uint64(s.a.K))
	case ApproxCount, MergeCount:
		switch v := s.a.Value.(type) {
		case string:
			b = appendVal(append(b, 1), v)
		case int64:
			b = appendVal(append(b, 2), v)
		case float64:
			b = appendVal(append(b, 3), v)
		}
	}
	if s.sk == nil {
		return append(b, 0)
	}
	body := sketch.Append(nil, s.sk)
	b = appendUvarint(append(b, 1), uint64(len(body)))
	return append(b, body...)
}

func (s *sketchState) decodeFields(r *reader) error {
	var args []any
	switch s.kind {
	case ApproxCountDistinct, SketchCountDistinct:
		args = []any{int64(r.Byte())}
	case ApproxPercentile, MergePercentile:
		args = []any{r.Float()}
	case ApproxTopK, SketchTopK, MergeTopK:
		args = []any{int64(min(r.Uvarint(), math.MaxInt32))}
	case ApproxCount, MergeCount:
		switch r.Byte() {
		case 1:
			args = []any{readVal[string](r)}
		case 2:
			args = []any{readVal[int64](r)}
		case 3:
			args = []any{readVal[float64](r)}
		default:
			r.Fail("approx_count value tag")
		}
	}
	if r.Err != nil {
		return r.Err
	}
	a, err := approxArgs(s.kind, args)
	if err != nil {
		r.Fail("%s arguments: %v", s.kind, err)
		return r.Err
	}
	s.a = a
	if !r.flag() {
		return r.Err
	}
	n := r.count(1)
	if r.Err != nil {
		return r.Err
	}
	body := r.B[:n]
	r.B = r.B[n:]
	sk, err := sketch.Decode(body)
	if err != nil {
		r.Fail("%s: %v", s.kind, err)
		return r.Err
	}
	if err := s.fits(sk); err != nil {
		r.Fail("%s: %v", s.kind, err)
		return r.Err
	}
	s.sk = sk
	return nil
}

// fits checks a decoded sketch against the state's call: its kind, and the
// value type a top-k summary keys.
func (s *sketchState) fits(sk sketch.Sketch) error {
	if s.a.Sketch != 0 && sk.Kind() != s.a.Sketch {
		return fmt.Errorf("a %s in a %s state", sk.Kind(), s.kind)
	}
	if t, ok := sk.(*sketch.TopK); ok && !s.a.Stored && t.ValueType() != funcs.KeyType(s.typ) {
		return fmt.Errorf("top-k summary of value type %d in a state of %s values", t.ValueType(), s.typ)
	}
	return nil
}

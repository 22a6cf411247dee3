package funcs

// Accumulator folds values into one window's aggregate without materializing
// points: the executor's hot path for the simple aggregates. Values may arrive
// in any order (several series merged into one group arrive series by series);
// every result is independent of that order except for the last bits of float
// sums, which EndSeries pins to InfluxDB's order.
//
// An Accumulator is not safe for concurrent use.
type Accumulator interface {
	AddFloats(times []int64, vals []float64)
	AddInts(times []int64, vals []int64)
	AddUints(times []int64, vals []uint64)
	// AddStats folds a whole block through its header statistics and reports
	// whether it could. false means nothing was folded and the executor must
	// decode the block and use the Add methods: min and max need the time of
	// the extreme, which the header lacks, unless the block cannot change the
	// result or holds one value; float sum and mean need the values one by one
	// to add them in InfluxDB's order.
	AddStats(s Stats) bool
	// EndSeries marks the end of one series' values in the group. InfluxDB
	// sums and averages each series on its own and then merges the partials;
	// float results match it bit for bit only with the boundaries marked.
	// Without any call the group counts as one series.
	EndSeries()
	// Result returns the aggregate. ok is false when nothing was added (the
	// executor applies fill()). Time is windowStart for count, sum, mean and
	// spread and the chosen value's own time for min, max, first and last.
	Result(windowStart int64) (p Point, ok bool)
	// Reset empties the accumulator for the next window, keeping its function.
	Reset()
}

// Stats are a storage block's header statistics. First and Last are the values
// at MinTime and MaxTime; the times of Min and Max are not recorded.
type Stats struct {
	Type             uint8 // 1 float, 2 integer, 3 unsigned (Type's values)
	Count            int
	MinTime, MaxTime int64

	FMin, FMax, FSum, FFirst, FLast float64
	IMin, IMax, ISum, IFirst, ILast int64
	UMin, UMax, USum, UFirst, ULast uint64
}

// NewAccumulator returns the streaming accumulator of function name (count,
// sum, mean, min, max, first, last, spread: the entries of table.go with an
// accumulator), and false for any other function.
func NewAccumulator(name string) (Accumulator, bool) {
	f, ok := table[name]
	if !ok {
		return nil, false
	}
	return f.NewAccumulator()
}

// ---- count ----

type countAcc struct{ n int64 }

func (a *countAcc) AddFloats(_ []int64, v []float64) { a.n += int64(len(v)) }
func (a *countAcc) AddInts(_ []int64, v []int64)     { a.n += int64(len(v)) }
func (a *countAcc) AddUints(_ []int64, v []uint64)   { a.n += int64(len(v)) }
func (a *countAcc) AddStats(s Stats) bool            { a.n += int64(s.Count); return true }
func (a *countAcc) EndSeries()                       {}
func (a *countAcc) Reset()                           { a.n = 0 }
func (a *countAcc) Result(ws int64) (Point, bool) {
	if a.n == 0 {
		return Point{}, false
	}
	return Point{Time: ws, Value: a.n}, true
}

// ---- numeric state shared by sum, mean and spread ----

// num holds one value of the accumulator's current type. A group whose series
// disagree on the type is promoted to float, as InfluxDB casts merged
// iterators of mixed numeric types to float.
type num struct {
	f float64
	i int64
	u uint64
}

func (n num) float(t Type) float64 {
	switch t {
	case Integer:
		return float64(n.i)
	case Unsigned:
		return float64(n.u)
	}
	return n.f
}

// ---- sum ----

type sumAcc struct {
	typ Type
	// tot is the merged total of finished series, part the running sum of the
	// current one; nTot/nPart count values so the first addition can start
	// from the value itself (keeps -0 a -0, like InfluxDB).
	tot, part   num
	nTot, nPart int
}

func (a *sumAcc) setType(t Type) Type {
	switch {
	case a.typ == Unknown:
		a.typ = t
	case a.typ != t && a.typ != Float:
		a.tot.f, a.part.f = a.tot.float(a.typ), a.part.float(a.typ)
		a.typ = Float
	}
	return a.typ
}

func (a *sumAcc) AddFloats(_ []int64, v []float64) {
	if len(v) == 0 {
		return
	}
	a.setType(Float)
	s, n := a.part.f, a.nPart
	for _, x := range v {
		if n == 0 {
			s = x
		} else {
			s += x
		}
		n++
	}
	a.part.f, a.nPart = s, n
}

func (a *sumAcc) AddInts(_ []int64, v []int64) {
	if len(v) == 0 {
		return
	}
	if a.setType(Integer) == Float {
		for _, x := range v {
			a.addFloat(float64(x))
		}
		return
	}
	s := a.part.i
	for _, x := range v {
		s += x // wraps like int64 in InfluxDB
	}
	a.part.i = s
	a.nPart += len(v)
}

func (a *sumAcc) AddUints(_ []int64, v []uint64) {
	if len(v) == 0 {
		return
	}
	if a.setType(Unsigned) == Float {
		for _, x := range v {
			a.addFloat(float64(x))
		}
		return
	}
	s := a.part.u
	for _, x := range v {
		s += x
	}
	a.part.u = s
	a.nPart += len(v)
}

func (a *sumAcc) addFloat(x float64) {
	if a.nPart == 0 {
		a.part.f = x
	} else {
		a.part.f += x
	}
	a.nPart++
}

func (a *sumAcc) AddStats(s Stats) bool {
	if s.Count == 0 {
		return true
	}
	switch Type(s.Type) {
	case Integer:
		if a.typ == Unknown || a.typ == Integer {
			a.typ = Integer
			a.part.i += s.ISum
			a.nPart += s.Count
			return true
		}
	case Unsigned:
		if a.typ == Unknown || a.typ == Unsigned {
			a.typ = Unsigned
			a.part.u += s.USum
			a.nPart += s.Count
			return true
		}
	}
	return false
}

func (a *sumAcc) EndSeries() {
	if a.nPart == 0 {
		return
	}
	a.tot = a.merged()
	a.nTot += a.nPart
	a.part, a.nPart = num{}, 0
}

func (a *sumAcc) merged() num {
	if a.nTot == 0 {
		return a.part
	}
	if a.nPart == 0 {
		return a.tot
	}
	return num{f: a.tot.f + a.part.f, i: a.tot.i + a.part.i, u: a.tot.u + a.part.u}
}

func (a *sumAcc) Result(ws int64) (Point, bool) {
	if a.nTot+a.nPart == 0 {
		return Point{}, false
	}
	m := a.merged()
	switch a.typ {
	case Integer:
		return Point{Time: ws, Value: m.i}, true
	case Unsigned:
		return Point{Time: ws, Value: m.u}, true
	}
	return Point{Time: ws, Value: m.f}, true
}

func (a *sumAcc) Reset() { *a = sumAcc{} }

// ---- mean ----

// meanAcc reproduces InfluxDB's two-level mean: each series' mean is computed
// from its own sum (float, or wrapping int64/uint64), then the group's mean is
// the count-weighted sum of the partial means over the total count.
type meanAcc struct {
	typ   Type
	part  num
	nPart int
	wsum  float64 // Σ partial mean × partial count
	nTot  int
}

func (a *meanAcc) setType(t Type) Type {
	switch {
	case a.typ == Unknown:
		a.typ = t
	case a.typ != t && a.typ != Float:
		a.part.f = a.part.float(a.typ)
		a.typ = Float
	}
	return a.typ
}

func (a *meanAcc) AddFloats(_ []int64, v []float64) {
	if len(v) == 0 {
		return
	}
	a.setType(Float)
	s := a.part.f
	for _, x := range v {
		s += x
	}
	a.part.f = s
	a.nPart += len(v)
}

func (a *meanAcc) AddInts(_ []int64, v []int64) {
	if len(v) == 0 {
		return
	}
	if a.setType(Integer) == Float {
		for _, x := range v {
			a.part.f += float64(x)
		}
		a.nPart += len(v)
		return
	}
	s := a.part.i
	for _, x := range v {
		s += x
	}
	a.part.i = s
	a.nPart += len(v)
}

func (a *meanAcc) AddUints(_ []int64, v []uint64) {
	if len(v) == 0 {
		return
	}
	if a.setType(Unsigned) == Float {
		for _, x := range v {
			a.part.f += float64(x)
		}
		a.nPart += len(v)
		return
	}
	s := a.part.u
	for _, x := range v {
		s += x
	}
	a.part.u = s
	a.nPart += len(v)
}

func (a *meanAcc) AddStats(s Stats) bool {
	if s.Count == 0 {
		return true
	}
	switch Type(s.Type) {
	case Integer:
		if a.typ == Unknown || a.typ == Integer {
			a.typ = Integer
			a.part.i += s.ISum
			a.nPart += s.Count
			return true
		}
	case Unsigned:
		if a.typ == Unknown || a.typ == Unsigned {
			a.typ = Unsigned
			a.part.u += s.USum
			a.nPart += s.Count
			return true
		}
	}
	return false
}

func (a *meanAcc) partialMean() float64 {
	return a.part.float(a.typ) / float64(a.nPart)
}

func (a *meanAcc) EndSeries() {
	if a.nPart == 0 {
		return
	}
	a.wsum += a.partialMean() * float64(a.nPart)
	a.nTot += a.nPart
	a.part, a.nPart = num{}, 0
}

func (a *meanAcc) Result(ws int64) (Point, bool) {
	if a.nTot+a.nPart == 0 {
		return Point{}, false
	}
	// Every series, the unfinished one included, goes through the same
	// re-weighting InfluxDB's merge applies, even when there is only one.
	wsum, n := a.wsum, a.nTot
	if a.nPart > 0 {
		wsum += a.partialMean() * float64(a.nPart)
		n += a.nPart
	}
	return Point{Time: ws, Value: wsum / float64(n)}, true
}

func (a *meanAcc) Reset() { *a = meanAcc{} }

// ---- spread ----

type spreadAcc struct {
	typ      Type
	has      bool
	min, max num
}

func (a *spreadAcc) promote(t Type) Type {
	switch {
	case a.typ == Unknown:
		a.typ = t
	case a.typ != t && a.typ != Float:
		a.min.f, a.max.f = a.min.float(a.typ), a.max.float(a.typ)
		a.typ = Float
	}
	return a.typ
}

func (a *spreadAcc) foldF(lo, hi float64) {
	if !a.has {
		a.min.f, a.max.f, a.has = lo, hi, true
		return
	}
	if lo < a.min.f {
		a.min.f = lo
	}
	if hi > a.max.f {
		a.max.f = hi
	}
}

func (a *spreadAcc) AddFloats(_ []int64, v []float64) {
	if len(v) == 0 {
		return
	}
	a.promote(Float)
	lo, hi := minMax(v)
	a.foldF(lo, hi)
}

func (a *spreadAcc) AddInts(_ []int64, v []int64) {
	if len(v) == 0 {
		return
	}
	lo, hi := minMax(v)
	if a.promote(Integer) == Float {
		a.foldF(float64(lo), float64(hi))
		return
	}
	if !a.has || lo < a.min.i {
		a.min.i = lo
	}
	if !a.has || hi > a.max.i {
		a.max.i = hi
	}
	a.has = true
}

func (a *spreadAcc) AddUints(_ []int64, v []uint64) {
	if len(v) == 0 {
		return
	}
	lo, hi := minMax(v)
	if a.promote(Unsigned) == Float {
		a.foldF(float64(lo), float64(hi))
		return
	}
	if !a.has || lo < a.min.u {
		a.min.u = lo
	}
	if !a.has || hi > a.max.u {
		a.max.u = hi
	}
	a.has = true
}

func (a *spreadAcc) AddStats(s Stats) bool {
	if s.Count == 0 {
		return true
	}
	switch Type(s.Type) {
	case Float:
		a.AddFloats(nil, []float64{s.FMin, s.FMax})
	case Integer:
		a.AddInts(nil, []int64{s.IMin, s.IMax})
	case Unsigned:
		a.AddUints(nil, []uint64{s.UMin, s.UMax})
	default:
		return false
	}
	return true
}

func (a *spreadAcc) EndSeries() {}

func (a *spreadAcc) Result(ws int64) (Point, bool) {
	if !a.has {
		return Point{}, false
	}
	switch a.typ {
	case Integer:
		return Point{Time: ws, Value: a.max.i - a.min.i}, true
	case Unsigned:
		return Point{Time: ws, Value: a.max.u - a.min.u}, true
	}
	return Point{Time: ws, Value: a.max.f - a.min.f}, true
}

func (a *spreadAcc) Reset() { *a = spreadAcc{} }

type numeric interface {
	~float64 | ~int64 | ~uint64
}

// minMax is only called with len(v) > 0. NaN never wins a comparison, the
// same as InfluxDB's math.Min/Max-free integer path; floats from line
// protocol cannot be NaN anyway.
func minMax[T numeric](v []T) (lo, hi T) {
	lo, hi = v[0], v[0]
	for _, x := range v[1:] {
		if x < lo {
			lo = x
		}
		if x > hi {
			hi = x
		}
	}
	return lo, hi
}

// ---- min, max, first, last ----

type selKind uint8

const (
	selMin selKind = iota
	selMax
	selFirst
	selLast
)

// selAcc keeps the one chosen value and its time. The tie rules are
// InfluxDB's and make the result independent of arrival order: min and max
// prefer the earlier time among equal values; first and last prefer the
// larger value among equal times.
type selAcc struct {
	kind selKind
	typ  Type
	has  bool
	t    int64
	v    num
}

func (a *selAcc) promote(t Type) Type {
	switch {
	case a.typ == Unknown:
		a.typ = t
	case a.typ != t && a.typ != Float:
		a.v.f = a.v.float(a.typ)
		a.typ = Float
	}
	return a.typ
}

// better reports whether (t, v) replaces the held (ct, cv) under kind k.
func better[T numeric](k selKind, t int64, v T, ct int64, cv T) bool {
	switch k {
	case selMin:
		return v < cv || (v == cv && t < ct)
	case selMax:
		return v > cv || (v == cv && t < ct)
	case selFirst:
		return t < ct || (t == ct && v > cv)
	default:
		return t > ct || (t == ct && v > cv)
	}
}

func fold[T numeric](k selKind, times []int64, vals []T, has bool, ct int64, cv T) (bool, int64, T) {
	i := 0
	if !has {
		ct, cv, has, i = times[0], vals[0], true, 1
	}
	switch k {
	case selMin:
		for ; i < len(vals); i++ {
			if v := vals[i]; v < cv || (v == cv && times[i] < ct) {
				ct, cv = times[i], v
			}
		}
	case selMax:
		for ; i < len(vals); i++ {
			if v := vals[i]; v > cv || (v == cv && times[i] < ct) {
				ct, cv = times[i], v
			}
		}
	case selFirst:
		for ; i < len(vals); i++ {
			if t := times[i]; t < ct || (t == ct && vals[i] > cv) {
				ct, cv = t, vals[i]
			}
		}
	default:
		for ; i < len(vals); i++ {
			if t := times[i]; t > ct || (t == ct && vals[i] > cv) {
				ct, cv = t, vals[i]
			}
		}
	}
	return has, ct, cv
}

func (a *selAcc) AddFloats(times []int64, v []float64) {
	if len(v) == 0 {
		return
	}
	a.promote(Float)
	a.has, a.t, a.v.f = fold(a.kind, times, v, a.has, a.t, a.v.f)
}

func (a *selAcc) AddInts(times []int64, v []int64) {
	if len(v) == 0 {
		return
	}
	if a.promote(Integer) == Float {
		for i, x := range v {
			a.addFloat(times[i], float64(x))
		}
		return
	}
	a.has, a.t, a.v.i = fold(a.kind, times, v, a.has, a.t, a.v.i)
}

func (a *selAcc) AddUints(times []int64, v []uint64) {
	if len(v) == 0 {
		return
	}
	if a.promote(Unsigned) == Float {
		for i, x := range v {
			a.addFloat(times[i], float64(x))
		}
		return
	}
	a.has, a.t, a.v.u = fold(a.kind, times, v, a.has, a.t, a.v.u)
}

func (a *selAcc) addFloat(t int64, x float64) {
	if !a.has || better(a.kind, t, x, a.t, a.v.f) {
		a.has, a.t, a.v.f = true, t, x
	}
}

func (a *selAcc) AddStats(s Stats) bool {
	if s.Count == 0 {
		return true
	}
	st := Type(s.Type)
	if st != Float && st != Integer && st != Unsigned {
		return false
	}
	if a.typ != Unknown && a.typ != st {
		return false // mixed types: let the executor decode and promote
	}
	// One candidate point per block: its time is known for first and last,
	// and for min and max only when the block holds a single value.
	var t int64
	var v num
	switch a.kind {
	case selFirst:
		t, v = s.MinTime, num{s.FFirst, s.IFirst, s.UFirst}
	case selLast:
		t, v = s.MaxTime, num{s.FLast, s.ILast, s.ULast}
	case selMin, selMax:
		if a.kind == selMin {
			v = num{s.FMin, s.IMin, s.UMin}
		} else {
			v = num{s.FMax, s.IMax, s.UMax}
		}
		if s.Count != 1 {
			if !a.has || !a.cannotBeat(st, v) {
				return false
			}
			return true
		}
		t = s.MinTime
	}
	a.typ = st
	switch st {
	case Float:
		a.has, a.t, a.v.f = fold(a.kind, []int64{t}, []float64{v.f}, a.has, a.t, a.v.f)
	case Integer:
		a.has, a.t, a.v.i = fold(a.kind, []int64{t}, []int64{v.i}, a.has, a.t, a.v.i)
	default:
		a.has, a.t, a.v.u = fold(a.kind, []int64{t}, []uint64{v.u}, a.has, a.t, a.v.u)
	}
	return true
}

// cannotBeat reports whether a block whose extreme is v cannot replace the
// held value whatever the time of that extreme: it is strictly worse.
func (a *selAcc) cannotBeat(t Type, v num) bool {
	switch t {
	case Float:
		if a.kind == selMin {
			return v.f > a.v.f
		}
		return v.f < a.v.f
	case Integer:
		if a.kind == selMin {
			return v.i > a.v.i
		}
		return v.i < a.v.i
	default:
		if a.kind == selMin {
			return v.u > a.v.u
		}
		return v.u < a.v.u
	}
}

func (a *selAcc) EndSeries() {}

func (a *selAcc) Result(int64) (Point, bool) {
	if !a.has {
		return Point{}, false
	}
	switch a.typ {
	case Integer:
		return Point{Time: a.t, Value: a.v.i}, true
	case Unsigned:
		return Point{Time: a.t, Value: a.v.u}, true
	}
	return Point{Time: a.t, Value: a.v.f}, true
}

func (a *selAcc) Reset() { *a = selAcc{kind: a.kind} }

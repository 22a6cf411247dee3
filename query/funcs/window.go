package funcs

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"
)

// WindowFunc computes one call over one group's points in one time window.
// pts are in time order (ties in input order) and are not modified; nil
// Values are ignored. windowStart is the window's start (GROUP BY time) or the
// query range's start. Aggregates return points at windowStart, selectors the
// chosen points with their own Time and Aux. An empty window returns nil.
type WindowFunc func(pts []Point, windowStart int64) ([]Point, error)

// NewWindowFunc returns the validated function for an InfluxQL call. name is
// lower case ("count_distinct" for count(distinct(x))); args are the literal
// arguments after the field: percentile's N (float64 or int64), sample's,
// top's and bottom's N (int64) preceded for top/bottom by tag or field names
// (string) whose values the executor passes, in that order, at the start of
// each Point's Aux; integral's unit (time.Duration). Errors carry InfluxDB's
// texts.
func NewWindowFunc(name string, args []any) (WindowFunc, error) {
	f, ok := table[name]
	if !ok {
		return nil, errUndefined(name)
	}
	return f.NewWindow(args)
}

func newIntegral(args []any) (WindowFunc, error) {
	unit, err := durationArg("integral", args, time.Second)
	if err != nil {
		return nil, err
	}
	return func(pts []Point, ws int64) ([]Point, error) {
		return integralWindow(pts, ws, unit)
	}, nil
}

func newPercentile(args []any) (WindowFunc, error) {
	if len(args) != 1 {
		return nil, argCountError("percentile", 2, 2, len(args))
	}
	var p float64
	switch v := args[0].(type) {
	case float64:
		p = v
	case int64:
		p = float64(v)
	default:
		return nil, errorf("expected float argument in percentile()")
	}
	return func(pts []Point, ws int64) ([]Point, error) { return percentile(pts, p) }, nil
}

func newSample(args []any) (WindowFunc, error) {
	if len(args) != 1 {
		return nil, argCountError("sample", 2, 2, len(args))
	}
	n, ok := args[0].(int64)
	if !ok {
		return nil, errorf("expected integer argument in sample()")
	}
	if n < 1 {
		return nil, errorf("sample window must be greater than 1, got %d", n)
	}
	return func(pts []Point, ws int64) ([]Point, error) { return sample(pts, ws, int(n)) }, nil
}

func topBottomArity(name string) func(int) error {
	return func(n int) error {
		if n < 2 {
			return errorf("invalid number of arguments for %s, expected at least 2, got %d", name, n)
		}
		return nil
	}
}

func newTopBottom(name string) func(args []any) (WindowFunc, error) {
	top := name == "top"
	return func(args []any) (WindowFunc, error) {
		if err := topBottomArity(name)(len(args) + 1); err != nil {
			return nil, err
		}
		n, ok := args[len(args)-1].(int64)
		if !ok {
			return nil, errorf("expected integer as last argument in %s(), found %s", name, literalString(args[len(args)-1]))
		}
		if n <= 0 {
			return nil, errorf("limit (%d) in %s function must be at least 1", n, name)
		}
		tags := len(args) - 1
		for _, a := range args[:tags] {
			if _, ok := a.(string); !ok {
				return nil, errorf("only fields or tags are allowed in %s(), found %s", name, literalString(a))
			}
		}
		return func(pts []Point, ws int64) ([]Point, error) { return topBottom(name, pts, int(n), tags, top) }, nil
	}
}

func distinctArity(n int) error {
	switch {
	case n == 0:
		return errorf("distinct function requires at least one argument")
	case n > 1:
		return errorf("distinct function can only have one argument")
	}
	return nil
}

// newSimple returns the constructor of an argument-less window function.
func newSimple(name string, f simpleFunc) func(args []any) (WindowFunc, error) {
	return func(args []any) (WindowFunc, error) {
		if len(args) != 0 {
			if name == "distinct" || name == "count_distinct" {
				return nil, distinctArity(len(args) + 1)
			}
			return nil, argCountError(name, 1, 1, len(args))
		}
		return func(pts []Point, ws int64) ([]Point, error) {
			t, err := checkType(name, pts)
			if err != nil || t == Unknown {
				return nil, err
			}
			return f(pts, ws, t), nil
		}, nil
	}
}

// simpleFunc is an argument-less window function over a checked type t.
type simpleFunc func(pts []Point, ws int64, t Type) []Point

// tv is one non-nil value with its time and index in the caller's slice.
type tv[T any] struct {
	t int64
	v T
	i int
}

func gather[T any](pts []Point) []tv[T] {
	out := make([]tv[T], 0, len(pts))
	for i := range pts {
		if v, ok := pts[i].Value.(T); ok {
			out = append(out, tv[T]{pts[i].Time, v, i})
		}
	}
	return out
}

// values is gather without times.
func values[T any](pts []Point) []T {
	out := make([]T, 0, len(pts))
	for i := range pts {
		if v, ok := pts[i].Value.(T); ok {
			out = append(out, v)
		}
	}
	return out
}

func one(ws int64, v any) []Point { return []Point{{Time: ws, Value: v}} }

func countFunc(pts []Point, ws int64, _ Type) []Point {
	var n int64
	for i := range pts {
		if pts[i].Value != nil {
			n++
		}
	}
	return one(ws, n)
}

func sumFunc(pts []Point, ws int64, t Type) []Point {
	switch t {
	case Float:
		v := values[float64](pts)
		s := v[0] // InfluxDB starts from the first value, not from 0
		for _, x := range v[1:] {
			s += x
		}
		return one(ws, s)
	case Integer:
		var s int64
		for _, x := range values[int64](pts) {
			s += x
		}
		return one(ws, s)
	default:
		var s uint64
		for _, x := range values[uint64](pts) {
			s += x
		}
		return one(ws, s)
	}
}

// meanFunc treats the window as one series: its sum's mean, re-weighted the
// way InfluxDB merges per-series partial means (see meanAcc).
func meanFunc(pts []Point, ws int64, t Type) []Point {
	var sum float64
	var n int
	switch t {
	case Float:
		for _, x := range values[float64](pts) {
			sum += x
			n++
		}
	case Integer:
		var s int64
		for _, x := range values[int64](pts) {
			s += x
			n++
		}
		sum = float64(s)
	default:
		var s uint64
		for _, x := range values[uint64](pts) {
			s += x
			n++
		}
		sum = float64(s)
	}
	m := sum / float64(n)
	return one(ws, m*float64(n)/float64(n))
}

func medianFunc(pts []Point, ws int64, t Type) []Point {
	switch t {
	case Float:
		v := values[float64](pts)
		slices.Sort(v)
		l := len(v)
		if l%2 == 1 {
			return one(ws, v[l/2])
		}
		lo, hi := v[l/2-1], v[l/2]
		return one(ws, lo+(hi-lo)/2)
	case Integer:
		v := values[int64](pts)
		slices.Sort(v)
		l := len(v)
		if l%2 == 1 {
			return one(ws, float64(v[l/2]))
		}
		lo, hi := v[l/2-1], v[l/2]
		return one(ws, float64(lo)+float64(hi-lo)/2)
	default:
		v := values[uint64](pts)
		slices.Sort(v)
		l := len(v)
		if l%2 == 1 {
			return one(ws, float64(v[l/2]))
		}
		lo, hi := v[l/2-1], v[l/2]
		return one(ws, float64(lo)+float64(hi-lo)/2)
	}
}

func modeFunc(pts []Point, ws int64, t Type) []Point {
	switch t {
	case Float:
		return one(ws, mode(gather[float64](pts), cmp.Compare[float64]))
	case Integer:
		return one(ws, mode(gather[int64](pts), cmp.Compare[int64]))
	case Unsigned:
		return one(ws, mode(gather[uint64](pts), cmp.Compare[uint64]))
	case String:
		return one(ws, mode(gather[string](pts), strings.Compare))
	default:
		var yes, no int
		for _, b := range values[bool](pts) {
			if b {
				yes++
			} else {
				no++
			}
		}
		return one(ws, yes >= no)
	}
}

// mode reproduces InfluxDB's scan over the values sorted by value (equal
// values in time order): a value becomes the mode when its run reaches the
// best count so far, ties going to it unless its run started after the time
// at which the current mode reached that count. Runs of one never count except
// the smallest value's, so all-distinct input yields the smallest value.
func mode[T comparable](a []tv[T], compare func(a, b T) int) T {
	slices.SortStableFunc(a, func(x, y tv[T]) int { return compare(x.v, y.v) })
	best, bestN, bestT := a[0].v, 0, a[0].t
	for start := 0; start < len(a); {
		end := start + 1
		for end < len(a) && a[end].v == a[start].v {
			end++
		}
		first := 2 // the count at which a run is first compared
		if start == 0 {
			first = 1
		}
		runT := a[start].t
		for n := first; n <= end-start; n++ {
			if bestN > n || (bestN == n && runT > bestT) {
				continue
			}
			best, bestN, bestT = a[start].v, n, a[start+n-1].t
		}
		start = end
	}
	return best
}

func spreadFunc(pts []Point, ws int64, t Type) []Point {
	switch t {
	case Float:
		lo, hi := minMax(values[float64](pts))
		return one(ws, hi-lo)
	case Integer:
		lo, hi := minMax(values[int64](pts))
		return one(ws, hi-lo)
	default:
		lo, hi := minMax(values[uint64](pts))
		return one(ws, hi-lo)
	}
}

// stddevFunc is the sample standard deviation (n-1) with InfluxDB's
// arithmetic: a running mean, then the sum of squared deviations. Fewer than
// two values give a null (InfluxDB computes NaN and prints null).
func stddevFunc(pts []Point, ws int64, t Type) []Point {
	var v []float64
	switch t {
	case Float:
		v = values[float64](pts)
	case Integer:
		for _, x := range values[int64](pts) {
			v = append(v, float64(x))
		}
	default:
		for _, x := range values[uint64](pts) {
			v = append(v, float64(x))
		}
	}
	if len(v) < 2 {
		return []Point{{Time: ws}}
	}
	var mean float64
	for i, x := range v {
		mean += (x - mean) / float64(i+1)
	}
	var ss float64
	for _, x := range v {
		d := x - mean
		ss += d * d
	}
	return one(ws, math.Sqrt(ss/float64(len(v)-1)))
}

// distinctFunc returns each distinct value once, ordered as InfluxDB 1.x
// emits them: by the time the value is first seen, equal times by value (false
// before true).
func distinctFunc(pts []Point, ws int64, t Type) []Point {
	var out []Point
	emit := func(v any) { out = append(out, Point{Time: ws, Value: v}) }
	switch t {
	case Float:
		for _, v := range firstSeen[float64](pts, cmp.Compare[float64]) {
			emit(v)
		}
	case Integer:
		for _, v := range firstSeen[int64](pts, cmp.Compare[int64]) {
			emit(v)
		}
	case Unsigned:
		for _, v := range firstSeen[uint64](pts, cmp.Compare[uint64]) {
			emit(v)
		}
	case String:
		for _, v := range firstSeen[string](pts, strings.Compare) {
			emit(v)
		}
	default:
		for _, v := range firstSeen[bool](pts, func(a, b bool) int {
			switch {
			case a == b:
				return 0
			case b:
				return -1
			}
			return 1
		}) {
			emit(v)
		}
	}
	return out
}

// firstSeen returns the distinct values of type T among pts ordered by the time
// each first appears, then by compare.
func firstSeen[T comparable](pts []Point, compare func(a, b T) int) []T {
	first := map[T]int64{}
	var out []T
	for i := range pts {
		v, ok := pts[i].Value.(T)
		if !ok {
			continue
		}
		if at, seen := first[v]; !seen {
			first[v] = pts[i].Time
			out = append(out, v)
		} else if pts[i].Time < at {
			first[v] = pts[i].Time
		}
	}
	slices.SortFunc(out, func(a, b T) int {
		if c := cmp.Compare(first[a], first[b]); c != 0 {
			return c
		}
		return compare(a, b)
	})
	return out
}

func countDistinctFunc(pts []Point, ws int64, t Type) []Point {
	return one(ws, int64(len(distinctFunc(pts, ws, t))))
}

// selectorFunc returns min, max, first or last with InfluxDB's tie rules
// (better), extended to strings and booleans (true > false).
func selectorFunc(k selKind) simpleFunc {
	return func(pts []Point, _ int64, t Type) []Point {
		best := -1
		for i := range pts {
			if pts[i].Value == nil {
				continue
			}
			if best < 0 || beats(k, t, &pts[i], &pts[best]) {
				best = i
			}
		}
		p := pts[best]
		return []Point{{Time: p.Time, Value: p.Value, Aux: p.Aux}}
	}
}

func beats(k selKind, t Type, p, cur *Point) bool {
	switch t {
	case Float:
		return better(k, p.Time, p.Value.(float64), cur.Time, cur.Value.(float64))
	case Integer:
		return better(k, p.Time, p.Value.(int64), cur.Time, cur.Value.(int64))
	case Unsigned:
		return better(k, p.Time, p.Value.(uint64), cur.Time, cur.Value.(uint64))
	case String:
		v, cv := p.Value.(string), cur.Value.(string)
		if k == selFirst {
			return p.Time < cur.Time || (p.Time == cur.Time && v > cv)
		}
		return p.Time > cur.Time || (p.Time == cur.Time && v > cv)
	default:
		v, cv := b2i(p.Value.(bool)), b2i(cur.Value.(bool))
		if k == selFirst {
			// InfluxDB's first() of booleans breaks a time tie towards false.
			return p.Time < cur.Time || (p.Time == cur.Time && v < cv)
		}
		return better(k, p.Time, v, cur.Time, cv)
	}
}

func b2i(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

// percentile is InfluxDB's nearest rank: the value at index
// floor(n*p/100 + 0.5) - 1 of the values sorted ascending (equal values in
// time order), nothing when that index falls outside (p = 0, or p small
// for few values).
func percentile(pts []Point, p float64) ([]Point, error) {
	t, err := checkType("percentile", pts)
	if err != nil || t == Unknown {
		return nil, err
	}
	idx := make([]int, 0, len(pts))
	for i := range pts {
		if pts[i].Value != nil {
			idx = append(idx, i)
		}
	}
	i := int(math.Floor(float64(len(idx))*p/100.0+0.5)) - 1
	if i < 0 || i >= len(idx) {
		return nil, nil
	}
	slices.SortStableFunc(idx, func(a, b int) int { return compareNum(t, pts[a].Value, pts[b].Value) })
	c := pts[idx[i]]
	return []Point{{Time: c.Time, Value: c.Value, Aux: c.Aux}}, nil
}

func compareNum(t Type, a, b any) int {
	switch t {
	case Float:
		return cmp.Compare(a.(float64), b.(float64))
	case Integer:
		return cmp.Compare(a.(int64), b.(int64))
	default:
		return cmp.Compare(a.(uint64), b.(uint64))
	}
}

// topBottom keeps the n largest (top) or smallest (bottom) values, ties going
// to the earlier time, and returns them in time order. With tag arguments
// (the first tags entries of Aux) each distinct tag tuple contributes only its
// own best point first, so the result has one point per tuple.
func topBottom(name string, pts []Point, n, tags int, top bool) ([]Point, error) {
	t, err := checkType(name, pts)
	if err != nil || t == Unknown {
		return nil, err
	}
	// rank orders candidates best first.
	rank := func(a, b int) int {
		c := compareNum(t, pts[a].Value, pts[b].Value)
		if top {
			c = -c
		}
		if c != 0 {
			return c
		}
		return cmp.Compare(pts[a].Time, pts[b].Time)
	}
	var cand []int
	if tags == 0 {
		for i := range pts {
			if pts[i].Value != nil {
				cand = append(cand, i)
			}
		}
	} else {
		bestOf := map[string]int{}
		var order []string
		var key strings.Builder
		for i := range pts {
			if pts[i].Value == nil {
				continue
			}
			key.Reset()
			for j := 0; j < tags; j++ {
				var v any
				if j < len(pts[i].Aux) {
					v = pts[i].Aux[j]
				}
				s := literalString(v)
				key.WriteString(strconv.Itoa(len(s)))
				key.WriteByte(':')
				key.WriteString(s)
			}
			k := key.String()
			if b, ok := bestOf[k]; !ok {
				bestOf[k] = i
				order = append(order, k)
			} else if rank(i, b) < 0 {
				bestOf[k] = i
			}
		}
		for _, k := range order {
			cand = append(cand, bestOf[k])
		}
	}
	slices.SortStableFunc(cand, rank)
	if len(cand) > n {
		cand = cand[:n]
	}
	slices.SortStableFunc(cand, func(a, b int) int { return cmp.Compare(pts[a].Time, pts[b].Time) })
	out := make([]Point, len(cand))
	for j, i := range cand {
		out[j] = Point{Time: pts[i].Time, Value: pts[i].Value, Aux: pts[i].Aux}
	}
	return out, nil
}

// sampleSeed mixes the window start into the sampler's state so every window
// draws differently but reproducibly (tests and repeated queries agree).
const sampleSeed = 0x5eed5a4d1e

// sample picks n points uniformly at random (reservoir sampling) and returns
// them in time order; with n or fewer points it returns them all.
func sample(pts []Point, ws int64, n int) ([]Point, error) {
	if _, err := checkType("sample", pts); err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(uint64(ws), sampleSeed))
	res := make([]int, 0, n)
	seen := 0
	for i := range pts {
		if pts[i].Value == nil {
			continue
		}
		if len(res) < n {
			res = append(res, i)
		} else if j := rng.IntN(seen + 1); j < n {
			res[j] = i
		}
		seen++
	}
	if len(res) == 0 {
		return nil, nil
	}
	slices.Sort(res) // input order is time order
	out := make([]Point, len(res))
	for j, i := range res {
		out[j] = Point{Time: pts[i].Time, Value: pts[i].Value, Aux: pts[i].Aux}
	}
	return out, nil
}

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

// selKind is which of min, max, first and last a selector window function is.
type selKind uint8

const (
	selMin selKind = iota
	selMax
	selFirst
	selLast
)

// better reports whether (t, v) replaces the held (ct, cv) under kind k:
// InfluxDB's tie rules, which make the choice independent of arrival order.
// Min and max prefer the earlier time among equal values; first and last
// prefer the larger value among equal times.
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

package partial

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/strata-db/strata/query/funcs"
)

// call is one function call under test with the types it accepts.
type fcall struct {
	name string
	args []any
}

var calls = []fcall{
	{"count", nil}, {"sum", nil}, {"mean", nil}, {"min", nil}, {"max", nil},
	{"first", nil}, {"last", nil}, {"spread", nil}, {"stddev", nil},
	{"integral", nil}, {"integral", []any{time.Duration(1)}}, {"integral", []any{time.Minute}},
	{"median", nil}, {"mode", nil}, {"distinct", nil}, {"count_distinct", nil},
	{"percentile", []any{50.0}}, {"percentile", []any{int64(90)}}, {"percentile", []any{0.0}},
	{"percentile", []any{33.3}}, {"percentile", []any{99.9}}, {"percentile", []any{100.0}},
	{"percentile", []any{150.0}},
	{"top", []any{int64(1)}}, {"top", []any{int64(3)}}, {"bottom", []any{int64(2)}},
	{"bottom", []any{int64(7)}},
	// The sketches whose merge is exact (approx_top_k's Space-Saving merge
	// is held to its bound in query/sketch instead).
	{"approx_count_distinct", nil}, {"approx_count_distinct", []any{int64(4)}},
	{"approx_percentile", []any{int64(99)}}, {"approx_median", nil}, {"approx_count", []any{int64(1)}},
	{"sketch_count_distinct", nil}, {"sketch_percentile", nil}, {"sketch_count", nil},
}

var allTypes = []funcs.Type{funcs.Float, funcs.Integer, funcs.Unsigned, funcs.String, funcs.Boolean}

func accepts(name string, t funcs.Type) bool {
	_, err := funcs.OutputType(name, t)
	return err == nil
}

// genValue draws a value of t: small and large magnitudes, integers near the
// wrap, few distinct strings so that ties and modes happen. Floats are finite,
// never NaN and never -0 (funcs keeps the first arrival among -0 and +0 at
// one time, which no order-free merge can reproduce).
func genValue(r *rand.Rand, t funcs.Type) any {
	switch t {
	case funcs.Float:
		switch r.IntN(4) {
		case 0:
			return float64(r.IntN(9)-4) / 4
		case 1:
			return r.NormFloat64() * 1e3
		case 2:
			return float64(r.IntN(2001)-1000) * 1e9
		}
		return r.Float64()
	case funcs.Integer:
		switch r.IntN(4) {
		case 0:
			return math.MaxInt64 - r.Int64N(4)
		case 1:
			return math.MinInt64 + r.Int64N(4)
		}
		return r.Int64N(11) - 5
	case funcs.Unsigned:
		if r.IntN(3) == 0 {
			return math.MaxUint64 - r.Uint64N(4)
		}
		return r.Uint64N(8)
	case funcs.String:
		return string(rune('a' + r.IntN(4)))
	}
	return r.IntN(2) == 0
}

// genSeries draws up to max points in time order, with duplicate times
// (unless distinct) and some nulls.
func genSeries(r *rand.Rand, t funcs.Type, max int, start int64, distinct bool) []funcs.Point {
	n := r.IntN(max + 1)
	pts := make([]funcs.Point, 0, n)
	ts := start
	for i := 0; i < n; i++ {
		step := r.Int64N(4)
		if distinct && step == 0 && i > 0 {
			step = 1
		}
		ts += step
		var v any
		if r.IntN(10) > 0 {
			v = genValue(r, t)
		}
		pts = append(pts, funcs.Point{Time: ts, Value: v})
	}
	return pts
}

// feed adds pts to s as typed columns, in random chunks, sometimes through
// block statistics when the chunk is a valid block (distinct times).
func feed(r *rand.Rand, s State, pts []funcs.Point, useStats bool) error {
	var nonNull []funcs.Point
	for _, p := range pts {
		if p.Value != nil {
			nonNull = append(nonNull, p)
		}
	}
	for len(nonNull) > 0 {
		n := 1 + r.IntN(len(nonNull))
		chunk := nonNull[:n]
		nonNull = nonNull[n:]
		if useStats && r.IntN(2) == 0 {
			if st, ok := statsFor(chunk); ok {
				done, err := s.AddStats(st)
				if err != nil {
					return err
				}
				if done {
					continue
				}
			}
		}
		if err := addColumn(s, chunk); err != nil {
			return err
		}
	}
	return nil
}

func addColumn(s State, chunk []funcs.Point) error {
	ts := make([]int64, len(chunk))
	for i, p := range chunk {
		ts[i] = p.Time
	}
	switch chunk[0].Value.(type) {
	case float64:
		return s.AddFloats(ts, col[float64](chunk))
	case int64:
		return s.AddInts(ts, col[int64](chunk))
	case uint64:
		return s.AddUints(ts, col[uint64](chunk))
	case string:
		return s.AddStrings(ts, col[string](chunk))
	}
	return s.AddBools(ts, col[bool](chunk))
}

func col[T any](pts []funcs.Point) []T {
	out := make([]T, len(pts))
	for i, p := range pts {
		out[i] = p.Value.(T)
	}
	return out
}

// statsFor computes a block header's statistics as storage/block does: the
// float sum in time order from the first value, min and max the earliest
// among equals. ok is false when the chunk is not a block (repeated times).
func statsFor(chunk []funcs.Point) (funcs.Stats, bool) {
	for i := 1; i < len(chunk); i++ {
		if chunk[i].Time <= chunk[i-1].Time {
			return funcs.Stats{}, false
		}
	}
	st := funcs.Stats{Count: len(chunk), MinTime: chunk[0].Time, MaxTime: chunk[len(chunk)-1].Time}
	st.Type = uint8(funcs.TypeOf(chunk[0].Value))
	switch chunk[0].Value.(type) {
	case float64:
		v := col[float64](chunk)
		st.FFirst, st.FLast, st.FMin, st.FMax, st.FSum = v[0], v[len(v)-1], slices.Min(v), slices.Max(v), v[0]
		for _, x := range v[1:] {
			st.FSum += x
		}
	case int64:
		v := col[int64](chunk)
		st.IFirst, st.ILast, st.IMin, st.IMax = v[0], v[len(v)-1], slices.Min(v), slices.Max(v)
		for _, x := range v {
			st.ISum += x
		}
	case uint64:
		v := col[uint64](chunk)
		st.UFirst, st.ULast, st.UMin, st.UMax = v[0], v[len(v)-1], slices.Min(v), slices.Max(v)
		for _, x := range v {
			st.USum += x
		}
	}
	return st, true
}

// roundTrip encodes and decodes s, checking that re-encoding is stable.
func roundTrip(s State) (State, error) {
	enc := s.AppendBinary(nil)
	d, err := Decode(enc)
	if err != nil {
		return nil, fmt.Errorf("decode of own encoding: %v", err)
	}
	if again := d.AppendBinary(nil); !bytes.Equal(again, enc) {
		return nil, fmt.Errorf("re-encoding differs:\n%x\n%x", enc, again)
	}
	return d, nil
}

// mergeTree merges parts, in sequence order, by repeatedly joining a random
// adjacent pair (a random tree shape), the receiver chosen at random when
// swap is set, round-tripping intermediate results at random. It checks that
// Merge leaves its argument unchanged.
func mergeTree(r *rand.Rand, parts []State, swap bool) (State, error) {
	for len(parts) > 1 {
		i := r.IntN(len(parts) - 1)
		a, b := parts[i], parts[i+1]
		if swap && r.IntN(2) == 0 {
			a, b = b, a
		}
		before := b.AppendBinary(nil)
		if err := a.Merge(b); err != nil {
			return nil, err
		}
		if !bytes.Equal(before, b.AppendBinary(nil)) {
			return nil, fmt.Errorf("Merge modified its argument")
		}
		if r.IntN(3) == 0 {
			var err error
			if a, err = roundTrip(a); err != nil {
				return nil, err
			}
		}
		parts = slices.Replace(parts, i, i+2, a)
	}
	return parts[0], nil
}

// tolerance is how far a merged float result may be from funcs' one pass:
// each merge rounds once, so sums stay within a few ε times the sum of the
// magnitudes involved. 0 means exact. series: partials of several series.
func tolerance(name string, t funcs.Type, pts []funcs.Point, unit time.Duration, series bool) float64 {
	const eps = 0x1p-52
	var abs, max float64
	n := 0
	for _, p := range pts {
		if p.Value != nil {
			x := math.Abs(asFloat(p.Value))
			abs += x
			max = math.Max(max, x)
			n++
		}
	}
	switch name {
	case "sum":
		if t == funcs.Float {
			return 4 * float64(n) * eps * abs
		}
	case "mean":
		// Across series (EndSeries) even integer means add floats.
		if (t == funcs.Float || series) && n > 0 {
			return 4 * float64(n) * eps * abs / float64(n)
		}
	case "stddev":
		// Welford against funcs' two passes: both are stable, and differ by
		// a few ε relative to the largest magnitude.
		return 64 * float64(n) * eps * max
	case "integral":
		var area float64
		for i := 1; i < len(pts); i++ {
			if pts[i].Value != nil {
				area += max * math.Abs(float64(pts[i].Time-pts[0].Time)) / float64(unit)
			}
		}
		return 4 * float64(n) * eps * (area + max)
	}
	return 0
}

func asFloat(v any) float64 {
	switch x := v.(type) {
	case float64:
		return x
	case int64:
		return float64(x)
	case uint64:
		return float64(x)
	}
	return 0
}

// sameResult compares rows: times and values exactly, floats within tol.
func sameResult(got, want []funcs.Point, tol float64) error {
	if len(got) != len(want) {
		return fmt.Errorf("got %d rows %v, want %d rows %v", len(got), got, len(want), want)
	}
	for i := range got {
		g, w := got[i], want[i]
		if g.Time != w.Time {
			return fmt.Errorf("row %d: time %d, want %d (got %v want %v)", i, g.Time, w.Time, got, want)
		}
		gf, gok := g.Value.(float64)
		wf, wok := w.Value.(float64)
		if gok && wok {
			if math.Float64bits(gf) == math.Float64bits(wf) || math.Abs(gf-wf) <= tol {
				continue
			}
			return fmt.Errorf("row %d: %v, want %v (diff %g, tolerance %g)", i, gf, wf, gf-wf, tol)
		}
		if g.Value != w.Value {
			return fmt.Errorf("row %d: %v (%T), want %v (%T)", i, g.Value, g.Value, w.Value, w.Value)
		}
	}
	return nil
}

func unitOf(c fcall) time.Duration {
	if c.name == "integral" && len(c.args) == 1 {
		return c.args[0].(time.Duration)
	}
	return time.Second
}

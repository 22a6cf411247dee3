package funcs

import (
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
)

func TestAccumulatorTable(t *testing.T) {
	times := []int64{10, 20, 30, 40}
	tests := []struct {
		name   string
		fn     string
		feed   func(a Accumulator)
		want   Point
		wantOK bool
	}{
		{"count/empty", "count", func(a Accumulator) {}, Point{}, false},
		{"count/floats", "count", func(a Accumulator) { a.AddFloats(times, []float64{1, 2, 3, 4}) }, Point{Time: 5, Value: int64(4)}, true},
		{"count/stats", "count", func(a Accumulator) { a.AddStats(Stats{Type: 2, Count: 7}); a.AddInts(times[:1], []int64{1}) }, Point{Time: 5, Value: int64(8)}, true},
		{"sum/ints wrap", "sum", func(a Accumulator) { a.AddInts(times[:2], []int64{math.MaxInt64, 2}) }, Point{Time: 5, Value: int64(math.MinInt64 + 1)}, true},
		{"sum/uints", "sum", func(a Accumulator) { a.AddUints(times[:2], []uint64{3, 4}) }, Point{Time: 5, Value: uint64(7)}, true},
		{"sum/floats", "sum", func(a Accumulator) { a.AddFloats(times[:3], []float64{0.5, 0.25, 1}) }, Point{Time: 5, Value: 1.75}, true},
		{"sum/negative zero", "sum", func(a Accumulator) { a.AddFloats(times[:1], []float64{math.Copysign(0, -1)}) }, Point{Time: 5, Value: math.Copysign(0, -1)}, true},
		{"sum/mixed promotes", "sum", func(a Accumulator) { a.AddInts(times[:1], []int64{2}); a.AddFloats(times[:1], []float64{0.5}) }, Point{Time: 5, Value: 2.5}, true},
		{"mean/ints is float", "mean", func(a Accumulator) { a.AddInts(times[:2], []int64{1, 2}) }, Point{Time: 5, Value: 1.5}, true},
		{"mean/two series", "mean", func(a Accumulator) {
			a.AddFloats(times[:2], []float64{1, 3}) // mean 2 over 2
			a.EndSeries()
			a.AddFloats(times[:1], []float64{8}) // mean 8 over 1
		}, Point{Time: 5, Value: 4.0}, true},
		{"min/tie earliest", "min", func(a Accumulator) {
			a.AddFloats([]int64{30, 40}, []float64{1, 1})
			a.AddFloats([]int64{20, 50}, []float64{1, 2})
		}, Point{Time: 20, Value: 1.0}, true},
		{"max/ints", "max", func(a Accumulator) { a.AddInts(times, []int64{3, 9, 9, -1}) }, Point{Time: 20, Value: int64(9)}, true},
		{"first/time tie larger value", "first", func(a Accumulator) {
			a.AddFloats([]int64{10, 20}, []float64{1, 5})
			a.AddFloats([]int64{10}, []float64{3})
		}, Point{Time: 10, Value: 3.0}, true},
		{"last/out of order", "last", func(a Accumulator) {
			a.AddUints([]int64{50}, []uint64{5})
			a.AddUints([]int64{10, 20}, []uint64{1, 2})
		}, Point{Time: 50, Value: uint64(5)}, true},
		{"spread/ints", "spread", func(a Accumulator) { a.AddInts(times, []int64{4, -3, 10, 0}) }, Point{Time: 5, Value: int64(13)}, true},
		{"spread/one", "spread", func(a Accumulator) { a.AddFloats(times[:1], []float64{4}) }, Point{Time: 5, Value: 0.0}, true},
		{"spread/stats", "spread", func(a Accumulator) { a.AddStats(Stats{Type: 1, Count: 3, FMin: -1, FMax: 2.5}) }, Point{Time: 5, Value: 3.5}, true},
		{"first/stats", "first", func(a Accumulator) {
			a.AddFloats([]int64{100}, []float64{9})
			a.AddStats(Stats{Type: 1, Count: 3, MinTime: 50, MaxTime: 70, FFirst: 7, FLast: 8})
		}, Point{Time: 50, Value: 7.0}, true},
		{"last/stats", "last", func(a Accumulator) {
			a.AddStats(Stats{Type: 2, Count: 3, MinTime: 50, MaxTime: 70, IFirst: 7, ILast: 8})
		}, Point{Time: 70, Value: int64(8)}, true},
		{"max/stats single value", "max", func(a Accumulator) {
			a.AddStats(Stats{Type: 1, Count: 1, MinTime: 50, MaxTime: 50, FMin: 7, FMax: 7})
		}, Point{Time: 50, Value: 7.0}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, ok := NewAccumulator(tt.fn)
			if !ok {
				t.Fatalf("NewAccumulator(%q) not available", tt.fn)
			}
			tt.feed(a)
			got, ok := a.Result(5)
			if ok != tt.wantOK || !samePoint(got, tt.want) {
				t.Fatalf("Result = %#v, %v; want %#v, %v", got, ok, tt.want, tt.wantOK)
			}
			a.Reset()
			if _, ok := a.Result(5); ok {
				t.Fatal("Result after Reset is not empty")
			}
		})
	}
}

func TestNewAccumulatorUnknown(t *testing.T) {
	for _, name := range []string{"median", "mode", "top", "", "MEAN"} {
		if _, ok := NewAccumulator(name); ok {
			t.Errorf("NewAccumulator(%q) = ok", name)
		}
	}
}

func TestAccumulatorStatsNeedDecode(t *testing.T) {
	tests := []struct {
		fn   string
		prep func(a Accumulator)
		s    Stats
		want bool
	}{
		{"min", func(Accumulator) {}, Stats{Type: 1, Count: 3, FMin: 1}, false},
		{"min", func(a Accumulator) { a.AddFloats([]int64{1}, []float64{0}) }, Stats{Type: 1, Count: 3, FMin: 1}, true},
		{"min", func(a Accumulator) { a.AddFloats([]int64{1}, []float64{1}) }, Stats{Type: 1, Count: 3, FMin: 1}, false},
		{"max", func(a Accumulator) { a.AddInts([]int64{1}, []int64{10}) }, Stats{Type: 2, Count: 3, IMax: 9}, true},
		{"max", func(a Accumulator) { a.AddInts([]int64{1}, []int64{10}) }, Stats{Type: 2, Count: 3, IMax: 11}, false},
		{"sum", func(Accumulator) {}, Stats{Type: 1, Count: 3, FSum: 1}, false},
		{"sum", func(Accumulator) {}, Stats{Type: 2, Count: 3, ISum: 1}, true},
		{"mean", func(Accumulator) {}, Stats{Type: 3, Count: 3, USum: 1}, true},
		{"mean", func(Accumulator) {}, Stats{Type: 1, Count: 3, FSum: 1}, false},
		{"count", func(Accumulator) {}, Stats{Type: 1, Count: 3}, true},
		{"first", func(a Accumulator) { a.AddFloats([]int64{1}, []float64{1}) }, Stats{Type: 2, Count: 3}, false},
	}
	for i, tt := range tests {
		a, _ := NewAccumulator(tt.fn)
		tt.prep(a)
		if got := a.AddStats(tt.s); got != tt.want {
			t.Errorf("%d %s: AddStats = %v, want %v", i, tt.fn, got, tt.want)
		}
	}
}

// TestAccumulatorMatchesWindowFunc checks on random data that every
// accumulator agrees with the window function of the same name, fed in
// random chunk sizes and, where the result does not depend on it, in
// random series order with block statistics mixed in.
func TestAccumulatorMatchesWindowFunc(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for iter := 0; iter < 300; iter++ {
		for _, typ := range []Type{Float, Integer, Unsigned} {
			pts := randomPoints(rng, typ, 1+rng.IntN(40))
			for _, fn := range []string{"count", "sum", "mean", "min", "max", "first", "last", "spread"} {
				checkAgreement(t, rng, fn, typ, pts)
			}
		}
	}
}

func checkAgreement(t *testing.T, rng *rand.Rand, fn string, typ Type, pts []Point) {
	t.Helper()
	wf, err := NewWindowFunc(fn, nil)
	if err != nil {
		t.Fatal(err)
	}
	want, err := wf(pts, 7)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := NewAccumulator(fn)
	// Floats in sum/mean depend on the order of additions: feed in order.
	orderFree := !(typ == Float && (fn == "sum" || fn == "mean"))
	feed := append([]Point(nil), pts...)
	if orderFree {
		rng.Shuffle(len(feed), func(i, j int) { feed[i], feed[j] = feed[j], feed[i] })
	}
	for len(feed) > 0 {
		n := 1 + rng.IntN(len(feed))
		chunk := feed[:n]
		feed = feed[n:]
		if orderFree && rng.IntN(3) == 0 && a.AddStats(statsOf(typ, chunk)) {
			continue
		}
		addPoints(a, typ, chunk)
	}
	got, ok := a.Result(7)
	if !ok || len(want) != 1 || !samePoint(got, want[0]) {
		t.Fatalf("%s %s on %v: accumulator %#v (%v), window func %#v", fn, typ, pts, got, ok, want)
	}
}

func addPoints(a Accumulator, typ Type, pts []Point) {
	times := make([]int64, len(pts))
	for i := range pts {
		times[i] = pts[i].Time
	}
	switch typ {
	case Float:
		v := make([]float64, len(pts))
		for i := range pts {
			v[i] = pts[i].Value.(float64)
		}
		a.AddFloats(times, v)
	case Integer:
		v := make([]int64, len(pts))
		for i := range pts {
			v[i] = pts[i].Value.(int64)
		}
		a.AddInts(times, v)
	default:
		v := make([]uint64, len(pts))
		for i := range pts {
			v[i] = pts[i].Value.(uint64)
		}
		a.AddUints(times, v)
	}
}

// statsOf computes a block header for pts the way a block writer would.
func statsOf(typ Type, pts []Point) Stats {
	s := Stats{Type: uint8(typ), Count: len(pts), MinTime: math.MaxInt64, MaxTime: math.MinInt64}
	for i, p := range pts {
		f, n, u := asFloat(p.Value), int64(0), uint64(0)
		if v, ok := p.Value.(int64); ok {
			n = v
		}
		if v, ok := p.Value.(uint64); ok {
			u = v
		}
		if i == 0 || f < s.FMin {
			s.FMin = f
		}
		if i == 0 || f > s.FMax {
			s.FMax = f
		}
		if i == 0 || n < s.IMin {
			s.IMin = n
		}
		if i == 0 || n > s.IMax {
			s.IMax = n
		}
		if i == 0 || u < s.UMin {
			s.UMin = u
		}
		if i == 0 || u > s.UMax {
			s.UMax = u
		}
		s.FSum += f
		s.ISum += n
		s.USum += u
		if p.Time < s.MinTime || (p.Time == s.MinTime && (f > s.FFirst || n > s.IFirst || u > s.UFirst)) {
			s.MinTime, s.FFirst, s.IFirst, s.UFirst = p.Time, f, n, u
		}
		if p.Time > s.MaxTime || (p.Time == s.MaxTime && (f > s.FLast || n > s.ILast || u > s.ULast)) {
			s.MaxTime, s.FLast, s.ILast, s.ULast = p.Time, f, n, u
		}
	}
	return s
}

// randomPoints makes n points in time order with many equal values and some
// equal times, the inputs where tie rules matter.
func randomPoints(rng *rand.Rand, typ Type, n int) []Point {
	pts := make([]Point, n)
	t := int64(rng.IntN(5))
	for i := range pts {
		t += int64(rng.IntN(3)) // 0: a time shared with the previous point
		var v any
		switch typ {
		case Float:
			v = float64(rng.IntN(9)-4) / 4
		case Integer:
			v = int64(rng.IntN(9) - 4)
		case Unsigned:
			v = uint64(rng.IntN(9))
		case String:
			v = string(rune('a' + rng.IntN(4)))
		default:
			v = rng.IntN(2) == 0
		}
		pts[i] = Point{Time: t, Value: v}
	}
	return pts
}

func samePoint(a, b Point) bool {
	if a.Time != b.Time {
		return false
	}
	af, aok := a.Value.(float64)
	bf, bok := b.Value.(float64)
	if aok && bok {
		return math.Float64bits(af) == math.Float64bits(bf) || (math.IsNaN(af) && math.IsNaN(bf))
	}
	return reflect.DeepEqual(a.Value, b.Value) && reflect.DeepEqual(a.Aux, b.Aux)
}

func samePoints(a, b []Point) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !samePoint(a[i], b[i]) {
			return false
		}
	}
	return true
}

func TestAccumulatorNoAllocs(t *testing.T) {
	times, fv, iv := benchData(1024)
	for _, fn := range []string{"count", "sum", "mean", "min", "max", "first", "last", "spread"} {
		a, _ := NewAccumulator(fn)
		allocs := testing.AllocsPerRun(20, func() {
			a.AddFloats(times, fv)
			a.Reset()
			a.AddInts(times, iv)
			a.AddStats(Stats{Type: 2, Count: 3, MinTime: 1, MaxTime: 3})
			a.EndSeries()
			a.Reset()
		})
		if allocs != 0 {
			t.Errorf("%s: %v allocations per run, want 0", fn, allocs)
		}
	}
}

func benchData(n int) ([]int64, []float64, []int64) {
	rng := rand.New(rand.NewPCG(3, 4))
	times := make([]int64, n)
	fv := make([]float64, n)
	iv := make([]int64, n)
	for i := range times {
		times[i] = int64(i) * 10e9
		fv[i] = rng.Float64() * 100
		iv[i] = rng.Int64N(1 << 40)
	}
	return times, fv, iv
}

func BenchmarkAccumulator(b *testing.B) {
	const n = 4096 // about one storage block of values
	times, fv, iv := benchData(n)
	for _, fn := range []string{"count", "sum", "mean", "min", "max", "first", "last", "spread"} {
		b.Run(fn+"/float", func(b *testing.B) {
			a, _ := NewAccumulator(fn)
			b.SetBytes(n * 16) // a time and a value per point
			b.ReportAllocs()
			for b.Loop() {
				a.AddFloats(times, fv)
			}
			b.ReportMetric(float64(b.N)*n/b.Elapsed().Seconds(), "values/s")
		})
		b.Run(fn+"/int", func(b *testing.B) {
			a, _ := NewAccumulator(fn)
			b.SetBytes(n * 16)
			b.ReportAllocs()
			for b.Loop() {
				a.AddInts(times, iv)
			}
			b.ReportMetric(float64(b.N)*n/b.Elapsed().Seconds(), "values/s")
		})
	}
}

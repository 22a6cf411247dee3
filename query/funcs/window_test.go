package funcs

import (
	"errors"
	"math"
	"testing"
	"time"
)

// ps builds points at times 10, 20, 30... from values (nil = null).
func ps(vals ...any) []Point {
	out := make([]Point, len(vals))
	for i, v := range vals {
		out[i] = Point{Time: int64(i+1) * 10, Value: v}
	}
	return out
}

func at(t int64, v any) Point { return Point{Time: t, Value: v} }

func TestWindowFuncs(t *testing.T) {
	const ws = 5
	tests := []struct {
		name string
		fn   string
		args []any
		in   []Point
		want []Point
	}{
		{"count/empty", "count", nil, nil, nil},
		{"count/only nulls", "count", nil, ps(nil, nil), nil},
		{"count/strings", "count", nil, ps("a", nil, "b"), []Point{at(ws, int64(2))}},
		{"count/bools", "count", nil, ps(true, false, true), []Point{at(ws, int64(3))}},
		{"sum/floats", "sum", nil, ps(1.5, 2.25), []Point{at(ws, 3.75)}},
		{"sum/ints stay ints", "sum", nil, ps(int64(2), int64(3)), []Point{at(ws, int64(5))}},
		{"sum/ints wrap", "sum", nil, ps(int64(math.MaxInt64), int64(1)), []Point{at(ws, int64(math.MinInt64))}},
		{"sum/unsigned", "sum", nil, ps(uint64(2), uint64(3)), []Point{at(ws, uint64(5))}},
		{"mean/ints", "mean", nil, ps(int64(1), int64(2)), []Point{at(ws, 1.5)}},
		{"mean/one", "mean", nil, ps(4.0), []Point{at(ws, 4.0)}},
		{"median/odd", "median", nil, ps(3.0, 1.0, 2.0), []Point{at(ws, 2.0)}},
		{"median/even floats", "median", nil, ps(4.0, 1.0, 2.0, 3.0), []Point{at(ws, 2.5)}},
		{"median/even ints is float", "median", nil, ps(int64(1), int64(4)), []Point{at(ws, 2.5)}},
		{"median/one int", "median", nil, ps(int64(7)), []Point{at(ws, 7.0)}},
		{"mode/most frequent", "mode", nil, ps(3.0, 1.0, 3.0, 2.0), []Point{at(ws, 3.0)}},
		{"mode/all distinct is smallest", "mode", nil, ps(3.0, 1.0, 2.0), []Point{at(ws, 1.0)}},
		// 5 reaches count 2 at t=20; 1's run starts at t=30 > 20: 5 stays.
		{"mode/tie earlier wins", "mode", nil, ps(int64(5), int64(5), int64(1), int64(1)), []Point{at(ws, int64(5))}},
		// 1 reaches 2 at t=40; 5's run starts at t=10 <= 40: 5 takes over.
		{"mode/tie later value earlier start", "mode", nil, ps(int64(5), int64(1), int64(5), int64(1)), []Point{at(ws, int64(5))}},
		{"mode/strings", "mode", nil, ps("b", "a", "b"), []Point{at(ws, "b")}},
		{"mode/bools tie is true", "mode", nil, ps(false, true), []Point{at(ws, true)}},
		{"mode/bools", "mode", nil, ps(false, true, false), []Point{at(ws, false)}},
		{"spread/ints", "spread", nil, ps(int64(-2), int64(5)), []Point{at(ws, int64(7))}},
		{"spread/one", "spread", nil, ps(2.5), []Point{at(ws, 0.0)}},
		// mean 2, squares 1+0+1 = 2, /(3-1) = 1
		{"stddev/three", "stddev", nil, ps(1.0, 2.0, 3.0), []Point{at(ws, 1.0)}},
		{"stddev/ints", "stddev", nil, ps(int64(2), int64(4), int64(4), int64(4), int64(5), int64(5), int64(7), int64(9)), []Point{at(ws, math.Sqrt(32.0/7))}},
		{"stddev/one is null", "stddev", nil, ps(1.0), []Point{{Time: ws}}},
		{"distinct/first seen", "distinct", nil, ps(int64(503), int64(200), int64(500), int64(200)), []Point{at(ws, int64(503)), at(ws, int64(200)), at(ws, int64(500))}},
		{"distinct/equal times by value", "distinct", nil, []Point{at(20, 7.0), at(10, 9.0), at(10, 3.0), at(20, 3.0)}, []Point{at(ws, 3.0), at(ws, 9.0), at(ws, 7.0)}},
		{"distinct/strings", "distinct", nil, ps("b", "a", "b"), []Point{at(ws, "b"), at(ws, "a")}},
		{"distinct/bools", "distinct", nil, ps(true, false, true), []Point{at(ws, true), at(ws, false)}},
		{"distinct/bools equal times", "distinct", nil, []Point{at(10, true), at(10, false)}, []Point{at(ws, false), at(ws, true)}},
		{"count_distinct", "count_distinct", nil, ps(1.0, 2.0, 1.0), []Point{at(ws, int64(2))}},
		{"min/first of ties", "min", nil, ps(2.0, 1.0, 1.0), []Point{at(20, 1.0)}},
		{"max/ints", "max", nil, ps(int64(1), int64(9), int64(9)), []Point{at(20, int64(9))}},
		{"max/bools", "max", nil, ps(false, true, true), []Point{at(20, true)}},
		{"min/bools", "min", nil, ps(true, false, false), []Point{at(20, false)}},
		{"first/skips null", "first", nil, ps(nil, "x", "y"), []Point{at(20, "x")}},
		{"first/time tie larger value", "first", nil, []Point{at(10, 1.0), at(10, 3.0), at(20, 9.0)}, []Point{at(10, 3.0)}},
		{"first/bool time tie false", "first", nil, []Point{at(10, true), at(10, false)}, []Point{at(10, false)}},
		{"last/time tie larger value", "last", nil, []Point{at(10, 1.0), at(20, 3.0), at(20, 2.0)}, []Point{at(20, 3.0)}},
		{"last/bool time tie true", "last", nil, []Point{at(10, true), at(10, false)}, []Point{at(10, true)}},
		// n=4: 50 -> floor(2.5)-1 = 1 (2nd smallest)
		{"percentile/50", "percentile", []any{int64(50)}, ps(4.0, 1.0, 3.0, 2.0), []Point{at(40, 2.0)}},
		{"percentile/100", "percentile", []any{100.0}, ps(4.0, 1.0, 3.0), []Point{at(10, 4.0)}},
		{"percentile/0 is nothing", "percentile", []any{0.0}, ps(4.0, 1.0), nil},
		{"percentile/ties keep time order", "percentile", []any{50.0}, ps(int64(1), int64(1)), []Point{at(10, int64(1))}},
		{"top/2 by time", "top", []any{int64(2)}, ps(5.0, 9.0, 1.0, 7.0), []Point{at(20, 9.0), at(40, 7.0)}},
		{"top/ties earlier", "top", []any{int64(2)}, ps(9.0, 5.0, 9.0, 9.0), []Point{at(10, 9.0), at(30, 9.0)}},
		{"top/more than points", "top", []any{int64(5)}, ps(int64(1), int64(2)), []Point{at(10, int64(1)), at(20, int64(2))}},
		{"bottom/2", "bottom", []any{int64(2)}, ps(5.0, 9.0, 1.0, 1.0), []Point{at(30, 1.0), at(40, 1.0)}},
		{"integral/default 1s", "integral", nil, []Point{at(0, 1.0), at(2e9, 3.0)}, []Point{at(ws, 4.0)}},
		{"integral/unit 1m", "integral", []any{time.Minute}, []Point{at(0, int64(60)), at(60e9, int64(60))}, []Point{at(ws, 60.0)}},
		{"integral/one point", "integral", nil, []Point{at(10, 1.0)}, []Point{at(ws, 0.0)}},
		{"integral/dup time keeps later", "integral", nil, []Point{at(0, 1.0), at(0, 3.0), at(1e9, 3.0)}, []Point{at(ws, 3.0)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := NewWindowFunc(tt.fn, tt.args)
			if err != nil {
				t.Fatal(err)
			}
			got, err := f(tt.in, ws)
			if err != nil {
				t.Fatal(err)
			}
			if !samePoints(got, tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestTopBottomWithTags(t *testing.T) {
	pt := func(tm int64, v float64, host string) Point { return Point{Time: tm, Value: v, Aux: []any{host}} }
	in := []Point{pt(10, 5, "a"), pt(20, 9, "b"), pt(30, 8, "a"), pt(40, 9, "b"), pt(50, 1, "c")}
	f, err := NewWindowFunc("top", []any{"host", int64(2)})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := f(in, 0)
	want := []Point{pt(20, 9, "b"), pt(30, 8, "a")}
	if !samePoints(got, want) {
		t.Fatalf("top with tag = %v, want %v", got, want)
	}
	f, _ = NewWindowFunc("bottom", []any{"host", int64(5)})
	got, _ = f(in, 0)
	want = []Point{pt(10, 5, "a"), pt(20, 9, "b"), pt(50, 1, "c")}
	if !samePoints(got, want) {
		t.Fatalf("bottom with tag = %v, want %v", got, want)
	}
}

func TestSample(t *testing.T) {
	in := ps(1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0)
	f, err := NewWindowFunc("sample", []any{int64(3)})
	if err != nil {
		t.Fatal(err)
	}
	a, _ := f(in, 100)
	b, _ := f(in, 100)
	if len(a) != 3 || !samePoints(a, b) {
		t.Fatalf("sample not 3 reproducible points: %v / %v", a, b)
	}
	for i := 1; i < len(a); i++ {
		if a[i].Time <= a[i-1].Time {
			t.Fatalf("sample not in time order: %v", a)
		}
	}
	// Each point must be drawn by some window start: the sampler is not stuck.
	seen := map[int64]bool{}
	for ws := int64(0); ws < 200; ws++ {
		got, _ := f(in, ws)
		for _, p := range got {
			seen[p.Time] = true
		}
	}
	if len(seen) != len(in) {
		t.Fatalf("only %d of %d points ever sampled", len(seen), len(in))
	}
	all, _ := f(ps("x", "y"), 0)
	if !samePoints(all, ps("x", "y")) {
		t.Fatalf("sample of fewer points = %v", all)
	}
}

func TestWindowFuncTypeErrors(t *testing.T) {
	tests := []struct {
		fn   string
		args []any
		in   []Point
		want string
	}{
		{"mean", nil, ps("a"), "unsupported mean iterator type: *query.stringInterruptIterator"},
		{"max", nil, ps("a"), "unsupported max iterator type: *query.stringInterruptIterator"},
		{"sum", nil, ps(true), "unsupported sum iterator type: *query.booleanInterruptIterator"},
		{"median", nil, ps("a"), "unsupported median iterator type: *query.stringInterruptIterator"},
		{"mode", nil, []Point{}, ""},
		{"stddev", nil, ps(false), "unsupported stddev iterator type: *query.booleanInterruptIterator"},
		{"spread", nil, ps("a"), "unsupported spread iterator type: *query.stringInterruptIterator"},
		{"percentile", []any{50.0}, ps("a"), "unsupported percentile iterator type: *query.stringInterruptIterator"},
		{"top", []any{int64(1)}, ps(true), "unsupported top iterator type: *query.booleanInterruptIterator"},
		{"integral", nil, ps("a"), "unsupported integral iterator type: *query.stringInterruptIterator"},
	}
	for _, tt := range tests {
		f, err := NewWindowFunc(tt.fn, tt.args)
		if err != nil {
			t.Fatal(err)
		}
		_, err = f(tt.in, 0)
		if tt.want == "" {
			if err != nil {
				t.Errorf("%s: unexpected %v", tt.fn, err)
			}
			continue
		}
		var te *TypeError
		if err == nil || err.Error() != tt.want || !errors.As(err, &te) {
			t.Errorf("%s: err = %v, want %q", tt.fn, err, tt.want)
		}
	}
	f, _ := NewWindowFunc("sum", nil)
	if _, err := f([]Point{at(1, 1.0), at(2, int64(1))}, 0); !errors.Is(err, ErrMixedTypes) {
		t.Errorf("mixed types: err = %v", err)
	}
}

func TestNewWindowFuncArgErrors(t *testing.T) {
	tests := []struct {
		fn   string
		args []any
		want string
	}{
		{"nosuchfn", nil, "undefined function nosuchfn()"},
		{"percentile", nil, "invalid number of arguments for percentile, expected 2, got 1"},
		{"percentile", []any{"x"}, "expected float argument in percentile()"},
		{"mean", []any{int64(1)}, "invalid number of arguments for mean, expected 1, got 2"},
		{"distinct", []any{int64(1)}, "distinct function can only have one argument"},
		{"integral", []any{int64(1)}, "second argument to integral must be a duration, got *influxql.IntegerLiteral"},
		{"integral", []any{time.Second, time.Second}, "invalid number of arguments for integral, expected at least 1 but no more than 2, got 3"},
		{"sample", []any{1.5}, "expected integer argument in sample()"},
		{"sample", []any{int64(0)}, "sample window must be greater than 1, got 0"},
		{"top", nil, "invalid number of arguments for top, expected at least 2, got 1"},
		{"top", []any{"host"}, "expected integer as last argument in top(), found host"},
		{"bottom", []any{int64(0)}, "limit (0) in bottom function must be at least 1"},
		{"top", []any{int64(3), int64(2)}, "only fields or tags are allowed in top(), found 3"},
		{"derivative", nil, "derivative is a transformation, not a window function"},
	}
	for _, tt := range tests {
		_, err := NewWindowFunc(tt.fn, tt.args)
		if err == nil || err.Error() != tt.want {
			t.Errorf("NewWindowFunc(%q, %v) = %v, want %q", tt.fn, tt.args, err, tt.want)
		}
	}
}

func TestKinds(t *testing.T) {
	tests := []struct {
		name            string
		agg, sel, trans bool
		in, out         Type
		wantErr         string
	}{
		{"count", true, false, false, String, Integer, ""},
		{"count_distinct", true, false, false, Boolean, Integer, ""},
		{"mean", true, false, false, Integer, Float, ""},
		{"mean", true, false, false, String, 0, "unsupported mean iterator type: *query.stringInterruptIterator"},
		{"sum", true, false, false, Integer, Integer, ""},
		{"spread", true, false, false, Integer, Integer, ""},
		{"median", true, false, false, Integer, Float, ""},
		{"mode", true, false, false, String, String, ""},
		{"integral", true, false, false, Integer, Float, ""},
		{"distinct", true, false, false, Boolean, Boolean, ""},
		{"max", false, true, false, Boolean, Boolean, ""},
		{"first", false, true, false, String, String, ""},
		{"percentile", false, true, false, Unsigned, Unsigned, ""},
		{"sample", false, true, false, String, String, ""},
		{"top", false, true, false, Float, Float, ""},
		{"bottom", false, true, false, Integer, Integer, ""},
		{"derivative", false, false, true, Integer, Float, ""},
		{"difference", false, false, true, Integer, Integer, ""},
		{"moving_average", false, false, true, Integer, Float, ""},
		{"cumulative_sum", false, false, true, Unsigned, Unsigned, ""},
		{"elapsed", false, false, true, String, Integer, ""},
		{"non_negative_difference", false, false, true, Boolean, 0, "unsupported difference iterator type: *query.booleanInterruptIterator"},
		{"nope", false, false, false, Float, 0, "undefined function nope()"},
	}
	for _, tt := range tests {
		if IsAggregate(tt.name) != tt.agg || IsSelector(tt.name) != tt.sel || IsTransform(tt.name) != tt.trans {
			t.Errorf("%s: kinds %v %v %v", tt.name, IsAggregate(tt.name), IsSelector(tt.name), IsTransform(tt.name))
		}
		got, err := OutputType(tt.name, tt.in)
		if tt.wantErr != "" {
			if err == nil || err.Error() != tt.wantErr {
				t.Errorf("OutputType(%s, %s) err = %v, want %q", tt.name, tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.out {
			t.Errorf("OutputType(%s, %s) = %s, %v; want %s", tt.name, tt.in, got, err, tt.out)
		}
	}
}

func TestIntegralSeries(t *testing.T) {
	const s = int64(time.Second)
	window := func(t int64) (int64, int64) { start := t - t%(10*s); return start, start + 10*s }
	tests := []struct {
		name string
		in   []Point
		want []Point
	}{
		// 0..10s under a constant 2 = 20; the crossing to 15s interpolates 2 at 10s,
		// then 10..15s = 10 in the second window; its last point is not its start.
		{"constant float", []Point{at(0, 2.0), at(15*s, 2.0)}, []Point{at(0, 20.0), at(10*s, 10.0)}},
		// Ramp 0 at 0s to 15 at 15s: value 10 at the 10s boundary; areas 50 and
		// 0.5*(10+15)*5 = 62.5.
		{"ramp float", []Point{at(0, 0.0), at(15*s, 15.0)}, []Point{at(0, 50.0), at(10*s, 62.5)}},
		// Integers: the second trapezoid pairs the old value 0 with the interpolated 10:
		// 0.5*(10+0)*5 = 25 (InfluxDB's integer arithmetic).
		{"ramp integer quirk", []Point{at(0, int64(0)), at(15*s, int64(15))}, []Point{at(0, 50.0), at(10*s, 25.0)}},
		// A point two windows on lands on its window's start: that window is last
		// and holds only it, so its area (counted from the 10s boundary) is dropped.
		{"skip to a window start", []Point{at(0, 0.0), at(20*s, 20.0)}, []Point{at(0, 50.0)}},
		// Last window holding one point on its start: no area, no output.
		{"last point on start", []Point{at(5*s, 1.0), at(10*s, 1.0)}, []Point{at(0, 5.0)}},
		{"nulls skipped", []Point{at(0, 1.0), {Time: 5 * s}, at(10*s, 1.0)}, []Point{at(0, 10.0)}},
		{"empty", nil, nil},
	}
	for _, tt := range tests {
		got, err := IntegralSeries(tt.in, time.Second, window)
		if err != nil {
			t.Fatal(err)
		}
		if !samePoints(got, tt.want) {
			t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
		}
	}
	if _, err := IntegralSeries(ps("x"), time.Second, window); err == nil {
		t.Error("integral of strings: no error")
	}
}

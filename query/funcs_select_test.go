package query

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/strata-db/strata/query/funcs"
)

// TestSelectMath runs the math functions through SELECT: per raw row, over
// aggregate results, nested in expressions, with InfluxDB 1.8's output types
// and argument errors.
func TestSelectMath(t *testing.T) {
	env := newSelEnv(t, Limits{})
	sec := int64(time.Second)
	vals := []float64{-2.5, 0.25, 4, 9.75}
	ints := []int64{-3, 8, 0, 27}
	for i := range vals {
		env.write(t, selPt{m: "m", tags: map[string]string{"host": "a"}, t: t0 + int64(i)*sec,
			fields: map[string]any{"x": vals[i], "i": ints[i], "s": "str"}})
	}
	rng := fmt.Sprintf("time >= %d AND time < %d", t0, t0+10*sec)
	raw := func(fn string, f func(float64, int64) []any) {
		q := fmt.Sprintf("SELECT %s FROM m WHERE %s", fn, rng)
		var rows []Row
		for i := range vals {
			// Every point has the fields read, so every row prints, also one
			// whose results are all null (as in 1.x: sqrt(-3), ln(-2.5)).
			rows = append(rows, Row{Time: t0 + int64(i)*sec, Values: f(vals[i], ints[i])})
		}
		got := env.mustRun(t, q)
		if len(got) != 1 {
			t.Fatalf("%s: %d series", q, len(got))
		}
		checkSeries(t, q, got, []*ResultSeries{{Name: "m", Columns: got[0].Columns, Rows: rows}})
	}
	nullIfNaN := func(v float64) any {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil // JSON has neither: the engine returns null
		}
		return v
	}
	raw("abs(x), abs(i)", func(x float64, i int64) []any { return []any{math.Abs(x), max(i, -i)} })
	raw("floor(x), ceil(x), round(x), round(i)", func(x float64, i int64) []any {
		return []any{math.Floor(x), math.Ceil(x), math.Round(x), i}
	})
	raw("sqrt(i), ln(x), log(x, 2), log2(x), log10(x)", func(x float64, i int64) []any {
		return []any{nullIfNaN(math.Sqrt(float64(i))), nullIfNaN(math.Log(x)), nullIfNaN(math.Log(x) / math.Log(2)), nullIfNaN(math.Log2(x)), nullIfNaN(math.Log10(x))}
	})
	raw("sin(x), cos(x), tan(x), atan(x), asin(x / 10), acos(x / 10), atan2(x, i), exp(x), pow(x, 2)", func(x float64, i int64) []any {
		return []any{math.Sin(x), math.Cos(x), math.Tan(x), math.Atan(x), math.Asin(x / 10), math.Acos(x / 10),
			math.Atan2(x, float64(i)), math.Exp(x), math.Pow(x, 2)}
	})
	raw("abs(x) * 2 + round(i / 2)", func(x float64, i int64) []any {
		return []any{math.Abs(x)*2 + math.Round(float64(i)/2)}
	})

	// Over aggregates, with GROUP BY time and nested.
	q := fmt.Sprintf("SELECT abs(min(x)), round(mean(i)), sqrt(abs(sum(x))) FROM m WHERE %s GROUP BY time(2s)", rng)
	sum01, sum23 := vals[0]+vals[1], vals[2]+vals[3]
	want := []Row{
		{Time: t0, Values: []any{2.5, math.Round(float64(ints[0]+ints[1]) / 2), math.Sqrt(math.Abs(sum01))}},
		{Time: t0 + 2*sec, Values: []any{4.0, math.Round(float64(ints[2]+ints[3]) / 2), math.Sqrt(math.Abs(sum23))}},
	}
	for ws := t0 + 4*sec; ws < t0+10*sec; ws += 2 * sec {
		want = append(want, Row{Time: ws, Values: []any{nil, nil, nil}})
	}
	checkSeries(t, q, env.mustRun(t, q), []*ResultSeries{{Name: "m", Columns: []string{"time", "abs", "round", "sqrt"}, Rows: want}})

	// A lone selector carries the other fields of its point, through math too.
	q = fmt.Sprintf("SELECT max(x), abs(i) * 2, floor(x) FROM m WHERE %s", rng)
	checkSeries(t, q, env.mustRun(t, q), []*ResultSeries{{Name: "m", Columns: []string{"time", "max", "abs", "floor"},
		Rows: []Row{{Time: t0 + 3*sec, Values: []any{vals[3], 2 * ints[3], math.Floor(vals[3])}}}}})

	for _, e := range []struct{ q, err string }{
		{"SELECT abs(s) FROM m", "invalid argument type for the first argument in abs(): string"},
		{"SELECT pow(x, s) FROM m", "invalid argument type for the second argument in pow(): string"},
		{"SELECT sqrt(x, 2) FROM m", "invalid number of arguments for sqrt, expected 1, got 2"},
		{"SELECT log(x) FROM m", "invalid number of arguments for log, expected 2, got 1"},
		{"SELECT abs(mean(x)), x FROM m", "mixing aggregate and non-aggregate queries is not supported"},
	} {
		if _, got := env.run(t, e.q); got != e.err {
			t.Errorf("%s: error %q, want %q", e.q, got, e.err)
		}
	}
}

// TestSelectHoltWinters forecasts through SELECT: the aggregate per window,
// then the transformation, each forecast one interval after the last window.
func TestSelectHoltWinters(t *testing.T) {
	env := newSelEnv(t, Limits{})
	min := int64(time.Minute)
	const n = 30
	var pts []funcs.Point
	for i := 0; i < n; i++ {
		v := 100 + 3*float64(i) + 5*math.Sin(float64(i))
		// Two points per window; mean() of the window is v.
		env.write(t, selPt{m: "m", t: t0 + int64(i)*min, fields: map[string]any{"x": v - 1}},
			selPt{m: "m", t: t0 + int64(i)*min + 30e9, fields: map[string]any{"x": v + 1}})
		pts = append(pts, funcs.Point{Time: t0 + int64(i)*min, Value: v})
	}
	rng := fmt.Sprintf("time >= %d AND time < %d", t0, t0+n*min)
	for _, fn := range []string{"holt_winters", "holt_winters_with_fit"} {
		tf, err := funcs.NewTransform(fn, []any{int64(6), int64(0)}, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		ref, err := tf(pts)
		if err != nil {
			t.Fatal(err)
		}
		var rows []Row
		for _, p := range ref {
			rows = append(rows, Row{Time: p.Time, Values: []any{p.Value}})
		}
		q := fmt.Sprintf("SELECT %s(mean(x), 6, 0) FROM m WHERE %s GROUP BY time(1m)", fn, rng)
		checkSeries(t, q, env.mustRun(t, q), []*ResultSeries{{Name: "m", Columns: []string{"time", fn}, Rows: rows}})
		if fn == "holt_winters" && len(rows) != 6 || rows[len(rows)-1].Time != t0+(n+5)*min {
			t.Errorf("%s: %d rows, last at %d", fn, len(rows), rows[len(rows)-1].Time)
		}
	}
	for _, e := range []struct{ q, err string }{
		{"SELECT holt_winters(x, 10, 0) FROM m GROUP BY time(1m)", "must use aggregate function with holt_winters"},
		{"SELECT holt_winters(mean(x), 10, 0) FROM m", "holt_winters aggregate requires a GROUP BY interval"},
		{"SELECT holt_winters_with_fit(mean(x), 0, 0) FROM m GROUP BY time(1m)", "second arg to holt_winters_with_fit must be greater than 0, got 0"},
	} {
		if _, got := env.run(t, e.q); got != e.err {
			t.Errorf("%s: error %q, want %q", e.q, got, e.err)
		}
	}
}

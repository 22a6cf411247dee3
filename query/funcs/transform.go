package funcs

import "time"

// TransformFunc transforms one group's whole output series (in time order).
// Points with nil Values, the nulls of fill(null) windows, are skipped as
// InfluxDB skips them. The input is not modified.
type TransformFunc func(pts []Point) ([]Point, error)

// NewTransform returns the validated transformation for an InfluxQL call:
// derivative, non_negative_derivative (args: optional unit, time.Duration;
// default the GROUP BY interval, else 1s), difference,
// non_negative_difference, cumulative_sum (no args), moving_average (args:
// N int64 > 1), elapsed (args: optional unit, default 1ns). interval is the
// GROUP BY time interval, 0 without GROUP BY time.
func NewTransform(name string, args []any, interval time.Duration) (TransformFunc, error) {
	f, ok := table[name]
	if !ok {
		return nil, errUndefined(name)
	}
	return f.NewTransform(args, interval)
}

func newDerivative(name string) func([]any, time.Duration) (TransformFunc, error) {
	nonNeg := name == "non_negative_derivative"
	return func(args []any, interval time.Duration) (TransformFunc, error) {
		def := time.Second
		if interval > 0 {
			def = interval
		}
		unit, err := durationArg(name, args, def)
		if err != nil {
			return nil, err
		}
		return typed(name, func(pts []Point, t Type) []Point { return derivative(pts, t, unit, nonNeg) }), nil
	}
}

func newDifference(name string) func([]any, time.Duration) (TransformFunc, error) {
	nonNeg := name == "non_negative_difference"
	return func(args []any, _ time.Duration) (TransformFunc, error) {
		if len(args) != 0 {
			return nil, argCountError(name, 1, 1, len(args))
		}
		return typed(name, func(pts []Point, t Type) []Point { return difference(pts, t, nonNeg) }), nil
	}
}

func newCumulativeSum(args []any, _ time.Duration) (TransformFunc, error) {
	if len(args) != 0 {
		return nil, argCountError("cumulative_sum", 1, 1, len(args))
	}
	return typed("cumulative_sum", cumulativeSum), nil
}

func newMovingAverage(args []any, _ time.Duration) (TransformFunc, error) {
	if len(args) != 1 {
		return nil, argCountError("moving_average", 2, 2, len(args))
	}
	n, ok := args[0].(int64)
	if !ok {
		return nil, errorf("second argument for moving_average must be an integer, got %s", literalType(args[0]))
	}
	if n <= 1 {
		return nil, errorf("moving_average window must be greater than 1, got %d", n)
	}
	return typed("moving_average", func(pts []Point, t Type) []Point { return movingAverage(pts, t, int(n)) }), nil
}

func newElapsed(args []any, _ time.Duration) (TransformFunc, error) {
	unit, err := durationArg("elapsed", args, time.Nanosecond)
	if err != nil {
		return nil, err
	}
	return typed("elapsed", func(pts []Point, _ Type) []Point { return elapsed(pts, int64(unit)) }), nil
}

func typed(name string, f func([]Point, Type) []Point) TransformFunc {
	return func(pts []Point) ([]Point, error) {
		t, err := checkType(name, pts)
		if err != nil || t == Unknown {
			return nil, err
		}
		return f(pts, t), nil
	}
}

// pairs calls emit for each non-nil point with the previous one. When dedup is
// set a point at the same time as the previous one is dropped (InfluxDB keeps
// the first of points sharing a time in derivative and difference).
func pairs(pts []Point, dedup bool, emit func(prev, cur *Point)) {
	prev := -1
	for i := range pts {
		if pts[i].Value == nil {
			continue
		}
		if prev >= 0 {
			if dedup && pts[i].Time == pts[prev].Time {
				continue
			}
			emit(&pts[prev], &pts[i])
		}
		prev = i
	}
}

// derivative is (v - prev) / ((t - prevT) / unit) at the later point's time;
// non-negative drops the points whose difference is negative.
func derivative(pts []Point, t Type, unit time.Duration, nonNeg bool) []Point {
	var out []Point
	pairs(pts, true, func(p, c *Point) {
		var diff float64
		switch t {
		case Float:
			diff = c.Value.(float64) - p.Value.(float64)
		case Integer:
			diff = float64(c.Value.(int64) - p.Value.(int64))
		default:
			cv, pv := c.Value.(uint64), p.Value.(uint64)
			if cv > pv {
				diff = float64(cv - pv)
			} else {
				diff = -float64(pv - cv)
			}
		}
		if nonNeg && diff < 0 {
			return
		}
		out = append(out, Point{Time: c.Time, Value: diff / (float64(c.Time-p.Time) / float64(unit))})
	})
	return out
}

// difference keeps the type: integers wrap, unsigned subtract modulo 2^64
// (non-negative drops a decrease before subtracting).
func difference(pts []Point, t Type, nonNeg bool) []Point {
	var out []Point
	pairs(pts, true, func(p, c *Point) {
		var v any
		switch t {
		case Float:
			d := c.Value.(float64) - p.Value.(float64)
			if nonNeg && d < 0 {
				return
			}
			v = d
		case Integer:
			d := c.Value.(int64) - p.Value.(int64)
			if nonNeg && d < 0 {
				return
			}
			v = d
		default:
			cv, pv := c.Value.(uint64), p.Value.(uint64)
			if nonNeg && cv < pv {
				return
			}
			v = cv - pv
		}
		out = append(out, Point{Time: c.Time, Value: v})
	})
	return out
}

// cumulativeSum keeps the type; the running float sum starts from 0.
func cumulativeSum(pts []Point, t Type) []Point {
	var out []Point
	var f float64
	var i int64
	var u uint64
	for _, p := range pts {
		if p.Value == nil {
			continue
		}
		var v any
		switch t {
		case Float:
			f += p.Value.(float64)
			v = f
		case Integer:
			i += p.Value.(int64)
			v = i
		default:
			u += p.Value.(uint64)
			v = u
		}
		out = append(out, Point{Time: p.Time, Value: v})
	}
	return out
}

// movingAverage keeps InfluxDB's running sum (subtract the value leaving the
// window, add the new one) rather than re-summing, which decides the last
// bits of float results; integer sums are exact (wrapping) int64/uint64.
func movingAverage(pts []Point, t Type, n int) []Point {
	var out []Point
	buf := make([]Point, 0, n)
	pos := 0
	var f float64
	var i int64
	var u uint64
	for _, p := range pts {
		if p.Value == nil {
			continue
		}
		if len(buf) == n {
			old := buf[pos].Value
			switch t {
			case Float:
				f -= old.(float64)
			case Integer:
				i -= old.(int64)
			default:
				u -= old.(uint64)
			}
			buf[pos] = p
		} else {
			buf = append(buf, p)
		}
		switch t {
		case Float:
			f += p.Value.(float64)
		case Integer:
			i += p.Value.(int64)
		default:
			u += p.Value.(uint64)
		}
		pos = (pos + 1) % n
		if len(buf) < n {
			continue
		}
		var avg float64
		switch t {
		case Float:
			avg = f / float64(n)
		case Integer:
			avg = float64(i) / float64(n)
		default:
			avg = float64(u) / float64(n)
		}
		out = append(out, Point{Time: p.Time, Value: avg})
	}
	return out
}

// elapsed is the time between consecutive values in units (integer division),
// at the later value's time; every type is accepted.
func elapsed(pts []Point, unit int64) []Point {
	var out []Point
	pairs(pts, false, func(p, c *Point) {
		out = append(out, Point{Time: c.Time, Value: (c.Time - p.Time) / unit})
	})
	return out
}

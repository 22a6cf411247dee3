package funcs

import (
	"math"
	"testing"
	"time"
)

func TestTransforms(t *testing.T) {
	const s = int64(time.Second)
	tests := []struct {
		name     string
		fn       string
		args     []any
		interval time.Duration
		in       []Point
		want     []Point
	}{
		{"derivative/default 1s", "derivative", nil, 0, []Point{at(0, 1.0), at(2*s, 5.0), at(4*s, 3.0)}, []Point{at(2*s, 2.0), at(4*s, -1.0)}},
		{"derivative/unit", "derivative", []any{time.Minute}, 0, []Point{at(0, 1.0), at(30*s, 2.0)}, []Point{at(30*s, 2.0)}},
		{"derivative/group by interval is default unit", "derivative", nil, 10 * time.Second, []Point{at(0, 1.0), at(10*s, 4.0)}, []Point{at(10*s, 3.0)}},
		{"derivative/ints", "derivative", nil, 0, []Point{at(0, int64(1)), at(s, int64(4))}, []Point{at(s, 3.0)}},
		{"derivative/unsigned decrease", "derivative", nil, 0, []Point{at(0, uint64(4)), at(s, uint64(1))}, []Point{at(s, -3.0)}},
		{"derivative/nulls skipped", "derivative", nil, 0, []Point{at(0, 1.0), {Time: s}, at(2*s, 3.0)}, []Point{at(2*s, 1.0)}},
		{"derivative/same time keeps first", "derivative", nil, 0, []Point{at(0, 1.0), at(s, 2.0), at(s, 100.0), at(2*s, 4.0)}, []Point{at(s, 1.0), at(2*s, 2.0)}},
		{"derivative/one point", "derivative", nil, 0, []Point{at(0, 1.0)}, nil},
		{"non_negative_derivative", "non_negative_derivative", nil, 0, []Point{at(0, 1.0), at(s, 0.0), at(2*s, 3.0)}, []Point{at(2*s, 3.0)}},
		{"difference/floats", "difference", nil, 0, ps(1.0, 4.0, 2.0), []Point{at(20, 3.0), at(30, -2.0)}},
		{"difference/ints", "difference", nil, 0, ps(int64(1), int64(4)), []Point{at(20, int64(3))}},
		{"difference/unsigned wraps", "difference", nil, 0, ps(uint64(4), uint64(1)), []Point{at(20, uint64(math.MaxUint64-2))}},
		{"difference/nulls", "difference", nil, 0, ps(1.0, nil, 4.0), []Point{at(30, 3.0)}},
		{"non_negative_difference", "non_negative_difference", nil, 0, ps(int64(5), int64(1), int64(3)), []Point{at(30, int64(2))}},
		{"non_negative_difference/unsigned", "non_negative_difference", nil, 0, ps(uint64(5), uint64(1), uint64(3)), []Point{at(30, uint64(2))}},
		{"moving_average/2", "moving_average", []any{int64(2)}, 0, ps(1.0, 3.0, 5.0, nil, 9.0), []Point{at(20, 2.0), at(30, 4.0), at(50, 7.0)}},
		{"moving_average/ints", "moving_average", []any{int64(3)}, 0, ps(int64(1), int64(2), int64(4)), []Point{at(30, 7.0/3)}},
		{"moving_average/too few", "moving_average", []any{int64(3)}, 0, ps(1.0, 2.0), nil},
		{"cumulative_sum/floats", "cumulative_sum", nil, 0, ps(1.0, nil, 2.5), []Point{at(10, 1.0), at(30, 3.5)}},
		{"cumulative_sum/ints", "cumulative_sum", nil, 0, ps(int64(1), int64(2)), []Point{at(10, int64(1)), at(20, int64(3))}},
		{"elapsed/ns", "elapsed", nil, 0, ps("a", "b", nil, "c"), []Point{at(20, int64(10)), at(40, int64(20))}},
		{"elapsed/unit truncates", "elapsed", []any{time.Duration(15)}, 0, ps(true, false, true), []Point{at(20, int64(0)), at(30, int64(0))}},
		{"elapsed/same time", "elapsed", nil, 0, []Point{at(5, 1.0), at(5, 2.0)}, []Point{at(5, int64(0))}},
		{"empty", "difference", nil, 0, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := NewTransform(tt.fn, tt.args, tt.interval)
			if err != nil {
				t.Fatal(err)
			}
			got, err := f(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if !samePoints(got, tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}

// TestMovingAverageRunningSum pins InfluxDB's running sum: re-summing the
// window would give a different last bit for these values.
func TestMovingAverageRunningSum(t *testing.T) {
	f, _ := NewTransform("moving_average", []any{int64(2)}, 0)
	a, b, c := 0.1, 0.2, 0.7 // variables: constant arithmetic would be exact
	got, _ := f(ps(a, b, c))
	running := ((a + b) - a + c) / 2
	if v := got[1].Value.(float64); v != running {
		t.Fatalf("moving_average = %v, want running-sum %v", v, running)
	}
	if running == (b+c)/2 {
		t.Fatal("test values do not distinguish running sum from re-summing")
	}
}

func TestNewTransformErrors(t *testing.T) {
	tests := []struct {
		fn   string
		args []any
		want string
	}{
		{"mean", nil, "mean is not a transformation"},
		{"nope", nil, "undefined function nope()"},
		{"derivative", []any{"1s"}, "second argument to derivative must be a duration, got *influxql.StringLiteral"},
		{"derivative", []any{-time.Second}, "duration argument must be positive, got -1s"},
		{"elapsed", []any{time.Second, time.Second}, "invalid number of arguments for elapsed, expected at least 1 but no more than 2, got 3"},
		{"difference", []any{int64(1)}, "invalid number of arguments for difference, expected 1, got 2"},
		{"moving_average", nil, "invalid number of arguments for moving_average, expected 2, got 1"},
		{"moving_average", []any{2.0}, "second argument for moving_average must be an integer, got *influxql.NumberLiteral"},
		{"moving_average", []any{int64(1)}, "moving_average window must be greater than 1, got 1"},
	}
	for _, tt := range tests {
		_, err := NewTransform(tt.fn, tt.args, 0)
		if err == nil || err.Error() != tt.want {
			t.Errorf("NewTransform(%q, %v) = %v, want %q", tt.fn, tt.args, err, tt.want)
		}
	}
	f, _ := NewTransform("derivative", nil, 0)
	if _, err := f(ps("a", "b")); err == nil || err.Error() != "unsupported derivative iterator type: *query.stringInterruptIterator" {
		t.Errorf("derivative of strings: %v", err)
	}
	f, _ = NewTransform("moving_average", []any{int64(2)}, 0)
	if _, err := f(ps(true)); err == nil || err.Error() != "unsupported moving average iterator type: *query.booleanInterruptIterator" {
		t.Errorf("moving_average of bools: %v", err)
	}
}

package funcs

import (
	"math"
	"testing"
	"time"
)

func TestHoltWinters(t *testing.T) {
	const iv = int64(time.Minute)
	season := []float64{1.2, 0.8, 1.1, 0.9}
	tests := []struct {
		name    string
		fn      string
		y       func(i int) any // nil: no value in window i
		n       int             // windows given
		h, s    int64
		want    func(i int) float64 // the true continuation at window i
		relTol  float64
		wantLen int
	}{
		{"linear", "holt_winters", func(i int) any { return 3 + 2*float64(i) }, 20, 5, 0,
			func(i int) float64 { return 3 + 2*float64(i) }, 1e-6, 5},
		{"constant integers", "holt_winters", func(i int) any { return int64(42) }, 10, 3, 0,
			func(int) float64 { return 42 }, 1e-9, 3},
		{"seasonal trend", "holt_winters", func(i int) any { return (50 + 0.5*float64(i)) * season[i%4] }, 48, 8, 4,
			func(i int) float64 { return (50 + 0.5*float64(i)) * season[i%4] }, 0.03, 8},
		{"gaps are skipped", "holt_winters", func(i int) any {
			if i%5 == 3 {
				return nil
			}
			return 10 + float64(i)
		}, 30, 4, 0, func(i int) float64 { return 10 + float64(i) }, 1e-3, 4},
		{"with fit", "holt_winters_with_fit", func(i int) any { return 3 + 2*float64(i) }, 20, 5, 0,
			func(i int) float64 { return 3 + 2*float64(i) }, 1e-6, 25},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var pts []Point
			for i := 0; i < tt.n; i++ {
				pts = append(pts, Point{Time: int64(i) * iv, Value: tt.y(i)})
			}
			f, err := NewTransform(tt.fn, []any{tt.h, tt.s}, time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			out, err := f(pts)
			if err != nil {
				t.Fatal(err)
			}
			if len(out) != tt.wantLen {
				t.Fatalf("%d points, want %d: %v", len(out), tt.wantLen, out)
			}
			first := tt.n
			if tt.fn == "holt_winters_with_fit" {
				first = 0
			}
			for k, p := range out {
				i := first + k
				if p.Time != int64(i)*iv {
					t.Fatalf("point %d at %d, want %d", k, p.Time, int64(i)*iv)
				}
				if tt.fn == "holt_winters_with_fit" && i < 2 {
					continue // the first fitted values come from the starting guesses
				}
				v := p.Value.(float64)
				if want := tt.want(i); math.Abs(v-want) > tt.relTol*math.Abs(want) {
					t.Errorf("window %d: %v, want %v (±%g)", i, v, want, tt.relTol)
				}
			}
		})
	}
}

func TestHoltWintersEdges(t *testing.T) {
	f, _ := NewTransform("holt_winters", []any{int64(3), int64(0)}, time.Minute)
	if out, _ := f([]Point{{Time: 0, Value: 1.0}}); len(out) != 0 {
		t.Errorf("one point: %v, want no forecast", out)
	}
	if out, _ := f([]Point{{Time: 0}, {Time: 60e9}}); len(out) != 0 {
		t.Errorf("nulls only: %v", out)
	}
	if _, err := f([]Point{{Time: 0, Value: "a"}, {Time: 60e9, Value: "b"}}); err == nil ||
		err.Error() != "unsupported holt_winters iterator type: *query.stringInterruptIterator" {
		t.Errorf("strings: err %v", err)
	}
	s, _ := NewTransform("holt_winters", []any{int64(2), int64(4)}, time.Minute)
	if out, _ := s([]Point{{Time: 0, Value: 1.0}, {Time: 60e9, Value: 2.0}}); len(out) != 0 {
		t.Errorf("fewer points than a season: %v", out)
	}
	errs := []struct {
		args []any
		want string
	}{
		{[]any{int64(0), int64(0)}, "second arg to holt_winters must be greater than 0, got 0"},
		{[]any{2.5, int64(0)}, "expected integer argument as second arg in holt_winters"},
		{[]any{int64(1), int64(-2)}, "third arg to holt_winters cannot be negative, got -2"},
		{[]any{int64(1)}, "invalid number of arguments for holt_winters, expected 3, got 2"},
		{[]any{int64(1 << 30), int64(0)}, "second arg to holt_winters must be at most 1048576, got 1073741824"},
	}
	for _, e := range errs {
		if _, err := NewTransform("holt_winters", e.args, time.Minute); err == nil || err.Error() != e.want {
			t.Errorf("%v: err %v, want %q", e.args, err, e.want)
		}
	}
	if _, err := NewTransform("holt_winters", []any{int64(1), int64(0)}, 0); err == nil {
		t.Error("no interval: no error")
	}
}

func TestNelderMead(t *testing.T) {
	// Rosenbrock's valley: the minimum is at (1, 1).
	f := func(p []float64) float64 {
		return 100*math.Pow(p[1]-p[0]*p[0], 2) + math.Pow(1-p[0], 2)
	}
	got := nelderMead(f, []float64{-1.2, 1}, 1e-14, 5000)
	if math.Abs(got[0]-1) > 1e-3 || math.Abs(got[1]-1) > 1e-3 {
		t.Errorf("minimum at %v, want (1, 1)", got)
	}
}

package funcs

import (
	"math"
	"time"
)

// holt_winters(agg(x), N, S) forecasts N windows after the last one by Holt-
// Winters triple exponential smoothing: a level, a (damped) trend and S
// multiplicative seasonal factors (S of 0 or 1: no seasonality), as InfluxDB
// 1.x models it. The smoothing parameters alpha, beta, gamma and the damping
// phi, each in [0, 1], are those minimising the sum of squared one-step-
// ahead errors over the observed windows, found by Nelder-Mead.
// holt_winters_with_fit also returns the fitted value of every window from
// the first.

func holtWintersArgs(name string) func(args []any) error {
	return func(args []any) error {
		if len(args) != 2 {
			return argCountError(name, 3, 3, len(args))
		}
		n, ok := args[0].(int64)
		if !ok {
			return errorf("expected integer argument as second arg in %s", name)
		}
		if n <= 0 {
			return errorf("second arg to %s must be greater than 0, got %d", name, n)
		}
		s, ok := args[1].(int64)
		if !ok {
			return errorf("expected integer argument as third arg in %s", name)
		}
		if s < 0 {
			return errorf("third arg to %s cannot be negative, got %d", name, s)
		}
		return nil
	}
}

// maxSeason bounds S: the model keeps S factors and the fit costs O(S) per
// window, so a budget keeps a typo (S=1e9) from allocating gigabytes.
const maxSeason = 1 << 16

// maxForecast bounds N, the points one series' forecast allocates.
const maxForecast = 1 << 20

func newHoltWinters(name string) func(args []any, interval time.Duration) (TransformFunc, error) {
	withFit := name == "holt_winters_with_fit"
	return func(args []any, interval time.Duration) (TransformFunc, error) {
		if err := holtWintersArgs(name)(args); err != nil {
			return nil, err
		}
		if interval <= 0 {
			return nil, errorf("%s aggregate requires a GROUP BY interval", name)
		}
		h, m := int(args[0].(int64)), args[1].(int64)
		if m > maxSeason {
			return nil, errorf("third arg to %s must be at most %d, got %d", name, maxSeason, m)
		}
		if h > maxForecast {
			return nil, errorf("second arg to %s must be at most %d, got %d", name, maxForecast, h)
		}
		return func(pts []Point) ([]Point, error) {
			t, err := checkType(name, pts)
			if err != nil || t == Unknown {
				return nil, err
			}
			return holtWinters(pts, int64(interval), h, int(m), withFit), nil
		}, nil
	}
}

// hwModel is one series to fit: y per window from the first observed one,
// NaN where a window has no value.
type hwModel struct {
	y []float64
	m int // season length; 0 or 1: none
}

func holtWinters(pts []Point, interval int64, h, m int, withFit bool) []Point {
	start, ok := int64(0), false
	var y []float64
	for _, p := range pts {
		v, isNum := AsFloat64(p.Value)
		if !isNum {
			continue
		}
		if !ok {
			start, ok = p.Time, true
		}
		k := int((p.Time - start) / interval)
		if k < len(y) {
			continue // a second value in one window: the first counts
		}
		for len(y) < k {
			y = append(y, math.NaN())
		}
		y = append(y, v)
	}
	seasonal := m > 1
	if len(y) < 2 || seasonal && len(y) < m {
		return nil
	}
	if !seasonal {
		m = 1
	}
	mod := &hwModel{y: y, m: m}
	params := nelderMead(mod.sse, []float64{0.3, 0.1, 0.1, 0.9}, 1e-10, fitIterations(len(y)))
	fit, fc := mod.run(params, h)
	var out []Point
	if withFit {
		for i, v := range fit {
			if !math.IsNaN(v) {
				out = append(out, Point{Time: start + int64(i)*interval, Value: v})
			}
		}
	}
	last := start + int64(len(y)-1)*interval
	for i, v := range fc {
		if !math.IsNaN(v) {
			out = append(out, Point{Time: last + int64(i+1)*interval, Value: v})
		}
	}
	return out
}

// fitWork bounds the fit: iterations times windows, each iteration smoothing
// the series once or twice. 2,000 iterations converge on any series we have
// tried; a million windows (max-select-buckets) still fit in about a second.
const fitWork = 50_000_000

func fitIterations(n int) int {
	return max(50, min(2000, fitWork/max(n, 1)))
}

func clamp01(x float64) float64 { return math.Max(0, math.Min(1, x)) }

// initial returns the starting level, trend and seasonal factors: the mean
// of the first season, the mean change per window between the first two
// seasons, each value of the first season over that mean.
func (mod *hwModel) initial() (l, b float64, s []float64) {
	y, m := mod.y, mod.m
	s = make([]float64, m)
	for i := range s {
		s[i] = 1
	}
	if m == 1 {
		l = y[0]
		if !math.IsNaN(y[1]) {
			b = y[1] - y[0]
		}
		return l, b, s
	}
	n := 0
	for i := 0; i < m; i++ {
		if !math.IsNaN(y[i]) {
			l += y[i]
			n++
		}
	}
	if n > 0 {
		l /= float64(n)
	}
	n = 0
	for i := 0; i < m && i+m < len(y); i++ {
		if !math.IsNaN(y[i]) && !math.IsNaN(y[i+m]) {
			b += (y[i+m] - y[i]) / float64(m)
			n++
		}
	}
	if n > 0 {
		b /= float64(n)
	}
	for i := 0; i < m; i++ {
		if !math.IsNaN(y[i]) && l != 0 {
			s[i] = y[i] / l
		}
	}
	return l, b, s
}

// run smooths the series with params (alpha, beta, gamma, phi, clamped to
// [0, 1]) and returns the one-step-ahead fitted value of every window and h
// forecasts after the last.
func (mod *hwModel) run(params []float64, h int) (fit, forecast []float64) {
	alpha, beta, gamma, phi := clamp01(params[0]), clamp01(params[1]), clamp01(params[2]), clamp01(params[3])
	if mod.m == 1 {
		gamma = 0
	}
	l, b, s := mod.initial()
	m := mod.m
	fit = make([]float64, len(mod.y))
	for t, yt := range mod.y {
		si := s[t%m]
		base := l + phi*b
		fit[t] = base * si
		if math.IsNaN(yt) {
			l, b = base, phi*b
			continue
		}
		nl := alpha*(yt/si) + (1-alpha)*base
		b = beta*(nl-l) + (1-beta)*phi*b
		if m > 1 {
			s[t%m] = gamma*(yt/base) + (1-gamma)*si
		}
		l = nl
	}
	forecast = make([]float64, h)
	damp, pk := 0.0, 1.0
	for k := 1; k <= h; k++ {
		pk *= phi
		damp += pk
		forecast[k-1] = (l + damp*b) * s[(len(mod.y)+k-1)%m]
	}
	return fit, forecast
}

// sse is the objective: squared one-step-ahead errors over observed windows;
// a model that produces NaN or infinities is the worst possible.
func (mod *hwModel) sse(params []float64) float64 {
	fit, _ := mod.run(params, 0)
	sum := 0.0
	for i, v := range fit {
		if math.IsNaN(mod.y[i]) {
			continue
		}
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return math.Inf(1)
		}
		d := v - mod.y[i]
		sum += d * d
	}
	if math.IsNaN(sum) {
		return math.Inf(1)
	}
	return sum
}

// nelderMead minimises f from start with the downhill simplex method
// (reflection 1, expansion 2, contraction 1/2, shrink 1/2) until the values
// at the simplex's vertices differ by less than tol or maxIter iterations.
func nelderMead(f func([]float64) float64, start []float64, tol float64, maxIter int) []float64 {
	n := len(start)
	pts := make([][]float64, n+1)
	vals := make([]float64, n+1)
	for i := range pts {
		p := append([]float64(nil), start...)
		if i > 0 {
			p[i-1] += 0.1
		}
		pts[i], vals[i] = p, f(p)
	}
	point := func(c []float64, towards []float64, coef float64) []float64 {
		p := make([]float64, n)
		for j := range p {
			p[j] = c[j] + coef*(towards[j]-c[j])
		}
		return p
	}
	for iter := 0; iter < maxIter; iter++ {
		// Order the vertices best first (insertion sort: n is 4).
		for i := 1; i <= n; i++ {
			for j := i; j > 0 && vals[j] < vals[j-1]; j-- {
				vals[j], vals[j-1] = vals[j-1], vals[j]
				pts[j], pts[j-1] = pts[j-1], pts[j]
			}
		}
		if math.Abs(vals[n]-vals[0]) <= tol*(math.Abs(vals[0])+tol) {
			break
		}
		c := make([]float64, n)
		for _, p := range pts[:n] {
			for j := range c {
				c[j] += p[j] / float64(n)
			}
		}
		worst := pts[n]
		r := point(c, worst, -1)
		fr := f(r)
		switch {
		case fr < vals[0]:
			e := point(c, worst, -2)
			if fe := f(e); fe < fr {
				pts[n], vals[n] = e, fe
			} else {
				pts[n], vals[n] = r, fr
			}
		case fr < vals[n-1]:
			pts[n], vals[n] = r, fr
		default:
			k := point(c, worst, 0.5)
			if fr < vals[n] {
				k = point(c, r, 0.5)
			}
			if fk := f(k); fk < math.Min(fr, vals[n]) {
				pts[n], vals[n] = k, fk
				continue
			}
			for i := 1; i <= n; i++ {
				pts[i] = point(pts[0], pts[i], 0.5)
				vals[i] = f(pts[i])
			}
		}
	}
	best := 0
	for i := range vals {
		if vals[i] < vals[best] {
			best = i
		}
	}
	return pts[best]
}

package funcs

import (
	"math"
	"time"
)

// IntegralSeries computes integral() under GROUP BY time the way InfluxDB
// streams it over a whole group: the trapezoid rule between consecutive
// points, and when a point falls in a later window the area up to the end of
// the current window is closed with a value linearly interpolated there, so
// every window except the last ends exactly at its boundary. window maps a
// time to its GROUP BY window [start, end). Points sharing a time keep the
// later one. A last window whose only point sits on its start has no area and
// no output. Results are float points at their window starts.
//
// A WindowFunc cannot do this (it sees one window only); the executor uses
// IntegralSeries for integral() with GROUP BY time and NewWindowFunc's
// integral otherwise.
func IntegralSeries(pts []Point, unit time.Duration, window func(t int64) (start, end int64)) ([]Point, error) {
	t, err := checkType("integral", pts)
	if err != nil || t == Unknown {
		return nil, err
	}
	if unit <= 0 {
		return nil, errorf("duration argument must be positive, got %s", unit)
	}
	return integrate(pts, t, float64(unit), window), nil
}

// integralWindow is integral() over one window (no GROUP BY time): nothing to
// interpolate, the window never closes early.
func integralWindow(pts []Point, ws int64, unit time.Duration) ([]Point, error) {
	t, err := checkType("integral", pts)
	if err != nil || t == Unknown {
		return nil, err
	}
	out := integrate(pts, t, float64(unit), func(int64) (int64, int64) { return ws, math.MaxInt64 })
	if len(out) == 0 && t == Float {
		// All points share one time, the window start. InfluxDB's float
		// integral without GROUP BY compares that time with 0, not with the
		// range start, and reports an area of 0 unless it is 0.
		for i := range pts {
			if pts[i].Value != nil && pts[i].Time != 0 {
				return []Point{{Time: ws, Value: 0.0}}, nil
			}
		}
	}
	return out, nil
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

func integrate(pts []Point, typ Type, unit float64, window func(int64) (int64, int64)) []Point {
	var (
		out            []Point
		have           bool
		prevT          int64
		prevV          float64
		start, end     int64
		sum            float64
		integerQuirk   = typ != Float
		interpolated   float64
		useInterpolant bool
	)
	for i := range pts {
		if pts[i].Value == nil {
			continue
		}
		t, v := pts[i].Time, asFloat(pts[i].Value)
		if !have {
			have, prevT, prevV = true, t, v
			start, end = window(t)
			continue
		}
		if t == prevT {
			prevV = v
			continue
		}
		cur := v
		useInterpolant = false
		if t >= end {
			if prevT != end {
				interpolated = prevV + (v-prevV)/float64(t-prevT)*float64(end-prevT)
				sum += 0.5 * (interpolated + prevV) * (float64(end-prevT) / unit)
				prevT = end
				if integerQuirk {
					// InfluxDB's integer and unsigned integrals keep the old
					// value as the left side and use the interpolated one as the
					// right side of the next trapezoid; reproduced for equal numbers.
					useInterpolant = true
				} else {
					prevV = interpolated
				}
			}
			out = append(out, Point{Time: start, Value: sum})
			start, end = window(t)
			sum = 0
		}
		if useInterpolant {
			cur = interpolated
		}
		sum += 0.5 * (cur + prevV) * (float64(t-prevT) / unit)
		prevT, prevV = t, v
	}
	if have && prevT != start {
		out = append(out, Point{Time: start, Value: sum})
	}
	return out
}

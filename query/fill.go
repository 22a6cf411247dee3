// Operator: fill. It turns one call's per-window results (call.go) into its
// output points: each window timed per InfluxDB's rules, empty windows filled
// as fill() says (null, a number converted to the call's type, previous, or
// linear interpolation), then handed to the transformation if any
// (transform.go) and to projection (project.go).
package query

import (
	"github.com/strata-db/strata/query/funcs"
	"github.com/strata-db/strata/query/influxql"
)

// assembleCall turns one call's per-window results into its output points: times
// per InfluxDB's rules, fill applied, then the transformation if any.
func (r *selectRun) assembleCall(c *callPlan, res *callResult, starts []int64, ncalls int) ([]funcs.Point, error) {
	p := r.plan
	if c.path == pathRawTransform {
		var pts []funcs.Point
		for _, ws := range starts {
			pts = append(pts, res.points(ws)...)
		}
		return c.tfunc(pts)
	}
	// A lone selector without GROUP BY time keeps its point's time; everything else
	// is timed at the window (or range) start.
	ownTime := p.interval <= 0 && ncalls == 1 && c.fn.Kind == funcs.Selector && c.transform == ""
	if c.fn.MultiRow && c.name != "distinct" {
		ownTime = true
	}
	pts := make([]funcs.Point, 0, len(starts)) // a point per window, the common case
	var prev *funcs.Point
	cc := r.e.canceller(r.ctx)
	for _, ws := range starts {
		if err := cc.tick(); err != nil {
			return nil, err
		}
		got := res.points(ws)
		if len(got) == 0 {
			switch p.fill {
			case influxql.NoFill:
				continue
			case influxql.NullFill:
				if (c.name == "count" || c.name == "count_distinct") && p.interval > 0 && (res.windowCount() > 0 || res.elsewhere) {
					// An empty window of a field the group has counts zero points:
					// InfluxDB prints 0, not null.
					pts = append(pts, funcs.Point{Time: ws, Value: int64(0)})
				} else {
					pts = append(pts, funcs.Point{Time: ws})
				}
			case influxql.NumberFill:
				pts = append(pts, funcs.Point{Time: ws, Value: fillNumber(p.fillValue, res)})
			case influxql.PreviousFill:
				if prev != nil {
					pts = append(pts, funcs.Point{Time: ws, Value: prev.Value, Aux: prev.Aux})
				} else {
					pts = append(pts, funcs.Point{Time: ws})
				}
			case influxql.LinearFill:
				pts = append(pts, funcs.Point{Time: ws, Value: linearMarker{}})
			}
			continue
		}
		for _, pt := range got {
			if !ownTime {
				pt.Time = ws
			}
			pts = append(pts, pt)
		}
		last := got[len(got)-1]
		prev = &last
	}
	if p.fill == influxql.LinearFill {
		interpolate(pts)
	}
	if c.transform == "" {
		return pts, nil
	}
	return c.tfunc(pts)
}

type linearMarker struct{}

// interpolate replaces linear-fill markers with values on the line between the
// nearest windows with values; markers without both neighbours become null.
func interpolate(pts []funcs.Point) {
	for i := range pts {
		if _, ok := pts[i].Value.(linearMarker); !ok {
			continue
		}
		pts[i].Value = nil
		var l, h = -1, -1
		for j := i - 1; j >= 0; j-- {
			if _, ok := pts[j].Value.(linearMarker); !ok && pts[j].Value != nil {
				l = j
				break
			}
		}
		for j := i + 1; j < len(pts); j++ {
			if _, ok := pts[j].Value.(linearMarker); !ok && pts[j].Value != nil {
				h = j
				break
			}
		}
		if l < 0 || h < 0 {
			continue
		}
		lv, lok := funcs.AsFloat64(pts[l].Value)
		hv, hok := funcs.AsFloat64(pts[h].Value)
		if !lok || !hok {
			continue
		}
		frac := float64(pts[i].Time-pts[l].Time) / float64(pts[h].Time-pts[l].Time)
		v := lv + (hv-lv)*frac
		if _, isInt := pts[l].Value.(int64); isInt {
			pts[i].Value = int64(v)
		} else {
			pts[i].Value = v
		}
	}
}

// fillNumber converts the fill(<number>) value to the type of the call's other
// windows, as InfluxDB's fill iterators do (fill(2.5) on sum(int) prints 2): a
// fill value of another type would make SELECT INTO write a conflicting field.
func fillNumber(v any, res *callResult) any {
	var like any
	res.eachWindow(func(_ int64, pts []funcs.Point) {
		for _, pt := range pts {
			if like == nil && pt.Value != nil {
				like = pt.Value
			}
		}
	})
	f, ok := funcs.AsFloat64(v)
	if !ok {
		return v
	}
	switch like.(type) {
	case float64:
		return f
	case int64:
		if i, isInt := v.(int64); isInt {
			return i
		}
		return int64(f)
	case uint64:
		if f < 0 {
			return uint64(0)
		}
		return uint64(f)
	}
	return v
}

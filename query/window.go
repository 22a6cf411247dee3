// Windows of the aggregate operators: the GROUP BY time window of a
// timestamp, the next window, the start of a query without GROUP BY time, the
// windows to print for a group, and the range a query without lower time bound
// reads under max-select-buckets. call.go and aggregate.go key their results by
// these window starts; fill.go walks them.
package query

import (
	"math"
	"slices"
	"time"

	"github.com/strata-db/strata/query/funcs"
	"github.com/strata-db/strata/query/influxql"
)

// windowOf returns the start of the GROUP BY time window holding t.
func (r *selectRun) windowOf(t int64) int64 {
	p := r.plan
	if p.interval <= 0 {
		return r.rangeStart()
	}
	iv, off := int64(p.interval), int64(p.offset)
	if r.zonedDays() {
		// Day-multiple windows start at local midnight in tz(), across DST changes.
		_, zoff := time.Unix(0, t).In(p.loc).Zone()
		local := t + int64(zoff)*1e9
		ws := floorDiv(local-off, iv)*iv + off
		_, z2 := time.Unix(0, ws-int64(zoff)*1e9).In(p.loc).Zone()
		start := ws - int64(z2)*1e9
		if start > t { // the zone changed between the window start and t
			start = ws - int64(zoff)*1e9
		}
		return start
	}
	return floorDiv(t-off, iv)*iv + off
}

// zonedDays: day-multiple windows in a time zone other than UTC, which start
// at local midnight and so are not evenly spaced across DST changes.
func (r *selectRun) zonedDays() bool {
	p := r.plan
	return p.loc != nil && p.loc != time.UTC && p.interval%(24*time.Hour) == 0
}

// nextWindow returns the start of the window after the one starting at ws.
func (r *selectRun) nextWindow(ws int64) int64 {
	p := r.plan
	if r.zonedDays() {
		return r.windowOf(ws + int64(p.interval) + int64(2*time.Hour))
	}
	return ws + int64(p.interval)
}

// windowsInRange is how many windows the plan's time range spans: 1 without
// GROUP BY time, 0 when the range has no bounds or is too wide to count.
func (r *selectRun) windowsInRange() int {
	p := r.plan
	if p.interval <= 0 {
		return 1
	}
	if !p.tr.HasMin() || !p.tr.HasMax() {
		return 0
	}
	first, last := r.windowOf(p.tr.Min), r.windowOf(p.tr.Max)
	n := (last-first)/int64(p.interval) + 1
	if n <= 0 || n > math.MaxInt32 {
		return 0
	}
	return int(n)
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// rangeStart is the time InfluxDB gives aggregates without GROUP BY time: the
// range's lower bound, or the epoch when there is none.
func (r *selectRun) rangeStart() int64 {
	if r.plan.tr.HasMin() {
		return r.plan.tr.Min
	}
	return 0
}

// limitImplicitStart gives a GROUP BY time query without a lower time bound
// the start InfluxDB 1.x gives it under max-select-buckets: the last that many
// windows up to the range's end are read, not an error for older data.
func (r *selectRun) limitImplicitStart() {
	p, n := r.plan, r.e.limits.MaxBuckets
	if p.interval <= 0 || p.tr.HasMin() || n <= 0 || p.fill == influxql.NoFill {
		return
	}
	end := p.tr.Max
	if !p.tr.HasMax() {
		end = r.now.UnixNano()
	}
	last := r.windowOf(end)
	start := last - (n-1)*int64(p.interval)
	if start > last || (n-1) > math.MaxInt64/int64(p.interval) {
		return // before the start of time: nothing to cut
	}
	p.tr.Min = start
	r.implicitStart = true
}

// windowStarts lists the windows a group prints, in time order: those with a
// result, or with fill other than none every window of the range.
func (r *selectRun) windowStarts(windows map[int64]bool) ([]int64, error) {
	if r.fillsRange() {
		first, last := int64(math.MaxInt64), int64(math.MinInt64)
		for ws := range windows {
			first = min(first, ws)
			last = max(last, ws)
		}
		return r.rangeStarts(first, last)
	}
	starts := make([]int64, 0, len(windows))
	for ws := range windows {
		starts = append(starts, ws)
	}
	slices.Sort(starts)
	return starts, nil
}

// resultStarts is windowStarts of the windows the calls' results hold,
// without a set of them (with fill, only the first and the last matter);
// some is false when they hold none.
func (r *selectRun) resultStarts(results []*callResult) (starts []int64, some bool, err error) {
	if r.fillsRange() {
		first, last := int64(math.MaxInt64), int64(math.MinInt64)
		for _, res := range results {
			res.eachWindow(func(ws int64, _ []funcs.Point) {
				first = min(first, ws)
				last = max(last, ws)
			})
		}
		if first > last {
			return nil, false, nil
		}
		starts, err := r.rangeStarts(first, last)
		return starts, true, err
	}
	n := 0
	for _, res := range results {
		n += res.windowCount()
	}
	if n == 0 {
		return nil, false, nil
	}
	starts = make([]int64, 0, n)
	for _, res := range results {
		res.eachWindow(func(ws int64, _ []funcs.Point) { starts = append(starts, ws) })
	}
	slices.Sort(starts)
	return slices.Compact(starts), true, nil
}

// fillsRange: GROUP BY time with a fill other than none prints every window
// of the range, not only those with a result.
func (r *selectRun) fillsRange() bool {
	return r.plan.interval > 0 && r.plan.fill != influxql.NoFill
}

// rangeStarts lists the windows a filled group prints, given the first and
// last with a result: from the range's start (or first) to its end (or now).
func (r *selectRun) rangeStarts(first, last int64) ([]int64, error) {
	p := r.plan
	if p.tr.HasMin() && !r.implicitStart {
		first = r.windowOf(p.tr.Min)
	}
	end := p.tr.Max
	if !p.tr.HasMax() {
		end = r.now.UnixNano()
	}
	last = max(last, r.windowOf(end))
	var starts []int64
	if last >= first && !r.zonedDays() {
		if n := (last-first)/int64(p.interval) + 1; n > 0 && n <= r.e.limits.MaxBuckets {
			starts = make([]int64, 0, n)
		}
	}
	n := int64(0)
	for ws := first; ws <= last; ws = r.nextWindow(ws) {
		if n&(checkEvery-1) == 0 {
			if err := stopErr(r.ctx); err != nil {
				return nil, err
			}
		}
		if n++; n > r.e.limits.MaxBuckets {
			return nil, errorf("max-select-buckets limit exceeded: (%d/%d)", n, r.e.limits.MaxBuckets)
		}
		starts = append(starts, ws)
	}
	return starts, nil
}

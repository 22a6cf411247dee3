// Operator: window/aggregate, per call. aggregateRows drives an aggregate
// group: each call computed for every window (computeCall chooses the path the
// plan gave it: partial states in aggregate.go, the window function here, or a
// transformation over raw values), the windows to print chosen (window.go),
// each call's points filled and transformed (fill.go, transform.go), then
// joined into rows (project.go). It pulls points and rows from scan.go and
// filter.go.
package query

import (
	"sort"

	"github.com/strata-db/strata/query/funcs"
	"github.com/strata-db/strata/query/influxql"
)

// callResult is one call's output for one group: points in time order.
type callResult struct {
	// byWindow holds each window's points, unless dense is set.
	byWindow map[int64][]funcs.Point
	// dense, from dense window states (aggregate.go), holds them instead:
	// window first + k*ivl's points are pts[off[k]:off[k+1]], in two
	// allocations rather than a map and a slice per window.
	dense *denseResult
	// elsewhere: the call has points in windows byWindow does not hold (the
	// result cache served them, rowcache.go), which fill's rules count.
	elsewhere bool
}

type denseResult struct {
	first, ivl int64
	off        []int32
	pts        []funcs.Point
	windows    int        // windows with points
	bufs       *denseBufs // off's and pts' arrays, for release
}

// release hands a dense result's arrays back for reuse (Executor.denseBufs):
// nothing may read the result after.
func (r *selectRun) release(results []*callResult) {
	for _, res := range results {
		if d := res.dense; d != nil && d.bufs != nil {
			r.e.putDenseBufs(d.bufs)
			res.dense = nil
		}
	}
}

// points returns window ws's points (nil: none), not to be appended to.
func (c *callResult) points(ws int64) []funcs.Point {
	d := c.dense
	if d == nil {
		return c.byWindow[ws]
	}
	if ws < d.first || (ws-d.first)%d.ivl != 0 || (ws-d.first)/d.ivl >= int64(len(d.off)-1) {
		return nil
	}
	k := (ws - d.first) / d.ivl
	lo, hi := d.off[k], d.off[k+1]
	if lo == hi {
		return nil
	}
	return d.pts[lo:hi:hi]
}

// windowCount is how many windows have points.
func (c *callResult) windowCount() int {
	if c.dense != nil {
		return c.dense.windows
	}
	return len(c.byWindow)
}

// eachWindow calls f with every window that has points (in time order when
// dense, else in the map's).
func (c *callResult) eachWindow(f func(ws int64, pts []funcs.Point)) {
	d := c.dense
	if d == nil {
		for ws, pts := range c.byWindow {
			f(ws, pts)
		}
		return
	}
	for k := 0; k+1 < len(d.off); k++ {
		if lo, hi := d.off[k], d.off[k+1]; lo < hi {
			f(d.first+int64(k)*d.ivl, d.pts[lo:hi:hi])
		}
	}
}

func (r *selectRun) aggregateRows(g *group) ([]Row, error) {
	p := r.plan
	for range g.series {
		r.stats.series.Add(1)
	}
	// Aux references: VarRefs outside calls, filled from the selected point.
	auxNames := auxRefs(p.exprs)
	results := make([]*callResult, len(p.calls))
	for ci, c := range p.calls {
		res, err := r.computeCall(g, c, auxNames)
		if err != nil {
			return nil, err
		}
		results[ci] = res
	}
	starts, some, err := r.resultStarts(results)
	if err != nil || !some {
		return nil, err
	}

	rows, err := r.finishRows(g, results, starts, auxNames)
	r.release(results) // the rows hold copies of the values
	return r.dropLead(rows), err
}

// finishRows turns the calls' per-window results into the rows of the
// windows starts: one series of points per call, fill applied, then
// transformations, joined on time and projected.
func (r *selectRun) finishRows(g *group, results []*callResult, starts []int64, aux []string) ([]Row, error) {
	p := r.plan
	if err := r.holdGroup(g, int64(len(starts))*startBytes); err != nil {
		return nil, err
	}
	if !r.e.generalRows && r.windowRowsApply() {
		if rows, ok, err := r.windowRows(g, results, starts, aux); ok || err != nil {
			return rows, err
		}
	}
	perCall := make([][]funcs.Point, len(p.calls))
	for ci, c := range p.calls {
		pts, err := r.assembleCall(c, results[ci], starts, len(p.calls))
		if err != nil {
			return nil, err
		}
		if err := r.holdGroup(g, int64(len(pts))*pointBytes); err != nil {
			return nil, err
		}
		perCall[ci] = pts
	}
	rows := r.mergeCallRows(perCall, aux)
	return rows, stopErr(r.ctx) // mergeCallRows looks at the context too
}

// windowRowsApply tells whether windowRows may build the plan's rows: GROUP
// BY time, a fill other than linear, and calls of one point per window as
// they are (no transformation, no multi-row selector, no raw transform).
func (r *selectRun) windowRowsApply() bool {
	p := r.plan
	if p.interval <= 0 || p.fill == influxql.LinearFill {
		return false
	}
	for _, c := range p.calls {
		if c.path == pathRawTransform || c.transform != "" || c.fn == nil || c.fn.MultiRow {
			return false
		}
	}
	return true
}

// windowRows is assembleCall and mergeCallRows in one walk of the windows,
// for calls with at most one point per window (windowRowsApply): a row per
// window, each call's point or its fill, without a series of points per call
// nor the join on time. ok is false, and nothing is built, when a call has
// several points in a window: the general path does it.
func (r *selectRun) windowRows(g *group, results []*callResult, starts []int64, aux []string) ([]Row, bool, error) {
	p := r.plan
	nc, ne := len(p.calls), len(p.exprs)
	// What assembleCall and mergeCallRows would hold: a point per window
	// and call.
	if err := r.holdGroup(g, int64(len(starts)*nc)*pointBytes); err != nil {
		return nil, true, err
	}
	fills := make([]any, nc) // fill(<number>)'s value per call, made once
	if p.fill == influxql.NumberFill {
		for ci := range p.calls {
			fills[ci] = fillNumber(p.fillValue, results[ci])
		}
	}
	prev := make([]*funcs.Point, nc) // fill(previous): each call's last point
	vals := make([]funcs.Point, nc)  // buildRowInto keeps none of them
	// The rows and their values in arrays of at most rowChunk rows made as
	// the walk goes: two arrays sized for a million windows up front took a
	// stop half a second to notice (their zeroing looks at no context).
	var rows []Row
	var rowVals []any
	if g.lend && g.lent == nil && len(starts) <= rowChunk {
		g.lent = r.e.lendRowBuf(len(starts), ne)
		rows, rowVals = g.lent.rows, g.lent.vals
	} else {
		rows = make([]Row, 0, min(len(starts), rowChunk))
	}
	cc := r.e.canceller(r.ctx)
	for _, ws := range starts {
		if err := cc.tick(); err != nil {
			return nil, true, err
		}
		some := false
		for ci, c := range p.calls {
			got := results[ci].points(ws)
			if len(got) > 1 {
				return nil, false, nil
			}
			if len(got) == 1 {
				vals[ci] = got[0]
				vals[ci].Time = ws
				prev[ci] = &got[0]
				some = true
				continue
			}
			// The empty window's fill, as assembleCall gives it.
			switch p.fill {
			case influxql.NullFill:
				if (c.name == "count" || c.name == "count_distinct") && (results[ci].windowCount() > 0 || results[ci].elsewhere) {
					vals[ci] = funcs.Point{Time: ws, Value: int64(0)}
				} else {
					vals[ci] = funcs.Point{Time: ws}
				}
			case influxql.NumberFill:
				vals[ci] = funcs.Point{Time: ws, Value: fills[ci]}
			case influxql.PreviousFill:
				if pv := prev[ci]; pv != nil {
					vals[ci] = funcs.Point{Time: ws, Value: pv.Value, Aux: pv.Aux}
				} else {
					vals[ci] = funcs.Point{Time: ws}
				}
			default: // fill(none): no point; the row, if another call has one, a null
				vals[ci] = funcs.Point{Time: ws}
			}
		}
		if !some && p.fill == influxql.NoFill {
			continue // no call has a point: fill(none) prints no row
		}
		if len(rowVals) < ne {
			rowVals = make([]any, min(len(starts)-len(rows), rowChunk)*ne)
		}
		rows = append(rows, r.buildRowInto(ws, vals, aux, rowVals[:ne:ne]))
		rowVals = rowVals[ne:]
	}
	return rows, true, nil
}

// rowChunk is how many rows' values windowRows allocates at once: 4,096
// rows of a few values is tens of KB, one allocation for TSBS's 720
// windows, and short enough between two looks at the context.
const rowChunk = 4096

// computeCall computes one call for every window of a group.
func (r *selectRun) computeCall(g *group, c *callPlan, aux []string) (*callResult, error) {
	res := &callResult{byWindow: map[int64][]funcs.Point{}}
	if c.path == pathRawTransform {
		// derivative(x) and friends over the raw values: one "window".
		var pts []funcs.Point
		for _, s := range g.series {
			sp, err := r.readField(s, c.field, 0, false)
			if err != nil {
				return nil, err
			}
			if err := r.holdGroup(g, int64(len(sp))*2*pointBytes); err != nil {
				return nil, err
			}
			pts = append(pts, sp...)
		}
		sort.SliceStable(pts, func(i, j int) bool { return pts[i].Time < pts[j].Time })
		if len(pts) > 0 {
			res.byWindow[r.rangeStart()] = pts
		}
		return res, nil
	}
	if c.path == pathHeaders || c.path == pathPartial {
		return r.accumulate(g, c)
	}
	return r.windowCall(g, c, aux)
}

// windowCall computes a call through its window function: each window's points
// collected, then the function. It is the path of every call the partial
// states do not take (and of groups they give up on: mixed field types,
// integral over several series).
func (r *selectRun) windowCall(g *group, c *callPlan, aux []string) (*callResult, error) {
	res := &callResult{byWindow: map[int64][]funcs.Point{}}
	// Points
	// of equal time are ordered by descending series key, the order InfluxDB 1.x's
	// merge yields on the recorded data (order-sensitive float arithmetic, such as
	// stddev's running mean, then matches bit for bit).
	inputs := map[int64][]funcs.Point{}
	for si := len(g.series) - 1; si >= 0; si-- {
		s := g.series[si]
		var pts []funcs.Point
		if c.tag {
			var err error
			if pts, err = r.tagPoints(g, s, c, aux); err != nil {
				return nil, err
			}
		} else if len(aux) == 0 && r.plan.fieldCond == nil && (c.name != "top" && c.name != "bottom" || !hasStringArgs(c.args)) {
			var err error
			if pts, err = r.readField(s, c.field, 0, false); err != nil {
				return nil, err
			}
		} else {
			rr := newRowReader(r.rowFields(c, aux, s))
			rows, err := r.readRows(s, rr, 0, false)
			if err != nil {
				return nil, err
			}
			if err := r.holdGroup(g, int64(len(rows))*int64(rowBytes+valueBytes*len(rr.fields))); err != nil {
				return nil, err
			}
			for i := range rows {
				row := &rows[i]
				v := rr.value(row, c.field)
				if v == nil {
					continue
				}
				pt := funcs.Point{Time: row.time, Value: v}
				for _, name := range topTagArgs(c) {
					pt.Aux = append(pt.Aux, rr.value(row, name))
				}
				for _, name := range aux {
					pt.Aux = append(pt.Aux, rr.value(row, name))
				}
				pts = append(pts, pt)
			}
		}
		// The series' points, and their copy by window.
		if err := r.holdGroup(g, int64(len(pts))*2*pointBytes); err != nil {
			return nil, err
		}
		cc := r.e.canceller(r.ctx)
		for _, pt := range pts {
			if err := cc.tick(); err != nil {
				return nil, err
			}
			ws := r.windowOf(pt.Time)
			inputs[ws] = append(inputs[ws], pt)
		}
	}
	for ws, pts := range inputs {
		sort.SliceStable(pts, func(i, j int) bool { return pts[i].Time < pts[j].Time })
		out, err := c.window(pts, ws)
		if err != nil {
			return nil, err
		}
		if len(out) > 0 {
			res.byWindow[ws] = out
		}
	}
	return res, nil
}

func hasStringArgs(args []any) bool {
	for _, a := range args {
		if _, ok := a.(string); ok {
			return true
		}
	}
	return false
}

func topTagArgs(c *callPlan) []string {
	if c.name != "top" && c.name != "bottom" {
		return nil
	}
	var out []string
	for _, a := range c.args {
		if s, ok := a.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// extraColumns are the columns a call prints after its value, from its
// points' Aux: top's and bottom's tag arguments, approx_top_k's count and
// error bound.
func extraColumns(c *callPlan) []string {
	if c.fn != nil && c.fn.AuxColumns != nil {
		return c.fn.AuxColumns
	}
	return topTagArgs(c)
}

// rowFields lists the fields a row-path call reads.
func (r *selectRun) rowFields(c *callPlan, aux []string, s *seriesRef) []string {
	names := []string{c.field}
	for _, n := range append(topTagArgs(c), aux...) {
		if !r.isTagOf(s, n) {
			names = append(names, n)
		}
	}
	if r.plan.fieldCond != nil {
		influxql.Walk(r.plan.fieldCond, func(n influxql.Node) {
			if v, ok := n.(*influxql.VarRef); ok && !r.isTagOf(s, v.Val) {
				names = append(names, v.Val)
			}
		})
	}
	sort.Strings(names)
	out := names[:0]
	for i, n := range names {
		if i == 0 || names[i-1] != n {
			out = append(out, n)
		}
	}
	return out
}

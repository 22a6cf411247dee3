// Operator: project/math. It pulls each call's filled points (fill.go), joins
// them on time into rows and evaluates the select list for each row: math over
// calls, aux fields from a selector's point, the tags top() and bottom() print
// as columns. Rows go on to OFFSET/LIMIT (limit.go) and the output (stream.go).
package query

import (
	"sort"
	"strings"

	"github.com/strata-db/strata/query/funcs"
	"github.com/strata-db/strata/query/influxql"
)

// auxRefs lists the VarRefs of the select list outside any call.
func auxRefs(exprs []influxql.Expr) []string {
	var out []string
	var walk func(ex influxql.Expr)
	walk = func(ex influxql.Expr) {
		switch x := ex.(type) {
		case *influxql.VarRef:
			out = append(out, x.Val)
		case *influxql.BinaryExpr:
			walk(x.LHS)
			walk(x.RHS)
		case *influxql.ParenExpr:
			walk(x.Expr)
		case *influxql.Call:
			if funcs.IsMath(strings.ToLower(x.Name)) {
				for _, a := range x.Args {
					walk(a)
				}
			}
		}
	}
	for _, ex := range exprs {
		walk(ex)
	}
	return out
}

// mergeCallRows builds the output rows from each call's points, joined on time.
func (r *selectRun) mergeCallRows(perCall [][]funcs.Point, aux []string) []Row {
	times := alignedTimes(perCall)
	if times == nil {
		seen := map[int64]bool{}
		for _, pts := range perCall {
			for _, pt := range pts {
				if !seen[pt.Time] {
					seen[pt.Time] = true
					times = append(times, pt.Time)
				}
			}
		}
		sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	}
	// Multi-row results (top, distinct...) keep their rows as they come.
	if len(perCall) == 1 && len(perCall[0]) > len(times) {
		rows := make([]Row, 0, len(perCall[0]))
		for _, pt := range perCall[0] {
			rows = append(rows, r.buildRow(pt.Time, []funcs.Point{pt}, aux))
		}
		sort.SliceStable(rows, func(i, j int) bool { return rows[i].Time < rows[j].Time })
		return rows
	}
	idx := make([]int, len(perCall))
	rows := make([]Row, 0, len(times))
	// buildRow keeps none of a row's call values: one backing array serves all.
	valsBuf := make([]funcs.Point, len(times)*len(perCall))
	// The rows' values, one backing array (each row's slice capped at its own).
	ne := len(r.plan.exprs)
	rowVals := make([]any, len(times)*ne)
	cc := r.e.canceller(r.ctx)
	for ti, t := range times {
		if cc.tick() != nil {
			return nil // stopped: aggregateRows returns the context's error
		}
		vals := valsBuf[ti*len(perCall) : (ti+1)*len(perCall) : (ti+1)*len(perCall)]
		for ci, pts := range perCall {
			if idx[ci] < len(pts) && pts[idx[ci]].Time == t {
				vals[ci] = pts[idx[ci]]
				idx[ci]++
			} else {
				vals[ci] = funcs.Point{Time: t}
			}
		}
		rows = append(rows, r.buildRowInto(t, vals, aux, rowVals[ti*ne:(ti+1)*ne:(ti+1)*ne]))
	}
	return rows
}

// alignedTimes returns the times of the calls' points when every call has
// one point at each of the same, strictly rising times (calls over the same
// windows: the usual GROUP BY time), else nil; it spares the merge a map and
// a sort per group.
func alignedTimes(perCall [][]funcs.Point) []int64 {
	if len(perCall) == 0 || len(perCall[0]) == 0 {
		return nil
	}
	first := perCall[0]
	for _, pts := range perCall[1:] {
		if len(pts) != len(first) {
			return nil
		}
	}
	times := make([]int64, len(first))
	for i, pt := range first {
		if i > 0 && pt.Time <= times[i-1] {
			return nil
		}
		times[i] = pt.Time
		for _, pts := range perCall[1:] {
			if pts[i].Time != pt.Time {
				return nil
			}
		}
	}
	return times
}

// buildRow evaluates the select list for one row given each call's value.
func (r *selectRun) buildRow(t int64, vals []funcs.Point, aux []string) Row {
	return r.buildRowInto(t, vals, aux, make([]any, len(r.plan.exprs)))
}

// buildRowInto is buildRow with the row's values in dst (len(exprs), its
// capacity no more, so that appending the tag columns copies it).
func (r *selectRun) buildRowInto(t int64, vals []funcs.Point, aux []string, dst []any) Row {
	p := r.plan
	row := Row{Time: t, Values: dst}
	var auxVals []any
	auxOffset := -1
	for i, ex := range p.exprs {
		if p.exprCall != nil && p.exprCall[i] >= 0 {
			// A call as written: its value as it is (evalExpr's call case).
			row.Values[i] = vals[p.exprCall[i]].Value
			continue
		}
		if auxOffset < 0 {
			// Aux values come from the (single) selector's point.
			for _, v := range vals {
				if v.Aux != nil {
					auxVals = v.Aux
					break
				}
			}
			auxOffset = 0
			if len(p.calls) == 1 {
				auxOffset = len(extraColumns(p.calls[0]))
			}
		}
		row.Values[i] = evalExpr(ex, func(name string) any {
			for ai, a := range aux {
				if a == name && auxOffset+ai < len(auxVals) {
					return auxVals[auxOffset+ai]
				}
			}
			return nil
		}, func(c *influxql.Call) any {
			for ci, cp := range p.calls {
				if cp.expr == c {
					return vals[ci].Value
				}
			}
			return nil
		})
	}
	// top/bottom with tag arguments print those tags as columns after the
	// value; approx_top_k its count and max_error.
	if len(p.calls) == 1 && len(extraColumns(p.calls[0])) > 0 && len(vals) == 1 {
		tagVals := vals[0].Aux
		n := len(extraColumns(p.calls[0]))
		if len(tagVals) >= n {
			rest := append([]any(nil), row.Values[p.extraAt:]...)
			row.Values = append(append(row.Values[:p.extraAt], tagVals[:n]...), rest...)
		}
	}
	return row
}

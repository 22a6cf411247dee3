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
	var times []int64
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
	cc := r.e.canceller(r.ctx)
	for _, t := range times {
		if cc.tick() != nil {
			return nil // stopped: aggregateRows returns the context's error
		}
		vals := make([]funcs.Point, len(perCall))
		for ci, pts := range perCall {
			if idx[ci] < len(pts) && pts[idx[ci]].Time == t {
				vals[ci] = pts[idx[ci]]
				idx[ci]++
			} else {
				vals[ci] = funcs.Point{Time: t}
			}
		}
		rows = append(rows, r.buildRow(t, vals, aux))
	}
	return rows
}

// buildRow evaluates the select list for one row given each call's value.
func (r *selectRun) buildRow(t int64, vals []funcs.Point, aux []string) Row {
	p := r.plan
	callIndex := func(c *influxql.Call) int {
		for i, cp := range p.calls {
			if cp.expr == c {
				return i
			}
		}
		return -1
	}
	// Aux values come from the (single) selector's point.
	var auxVals []any
	for _, v := range vals {
		if v.Aux != nil {
			auxVals = v.Aux
			break
		}
	}
	auxOffset := 0
	if len(p.calls) == 1 {
		auxOffset = len(extraColumns(p.calls[0]))
	}
	row := Row{Time: t, Values: make([]any, len(p.exprs))}
	for i, ex := range p.exprs {
		row.Values[i] = evalExpr(ex, func(name string) any {
			for ai, a := range aux {
				if a == name && auxOffset+ai < len(auxVals) {
					return auxVals[auxOffset+ai]
				}
			}
			return nil
		}, func(c *influxql.Call) any {
			if ci := callIndex(c); ci >= 0 {
				return vals[ci].Value
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

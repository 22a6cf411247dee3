package query

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/strata-db/strata/query/influxql"
	"github.com/strata-db/strata/storage"
)

// executeExplain answers EXPLAIN [ANALYZE] SELECT with the plan as text rows in a
// "QUERY PLAN" column; ANALYZE also runs the statement and reports what it touched.
func (e *Executor) executeExplain(ctx context.Context, s *influxql.ExplainStatement, opts ExecOptions) (*StatementResult, error) {
	stmt := s.Statement
	if err := stmt.Validate(); err != nil {
		return nil, err
	}
	stats := &execStats{}
	start := time.Now()
	src, err := e.resolveSources(ctx, stmt, opts, stats)
	if err != nil {
		return nil, err
	}
	plan, err := e.planSelect(stmt, src.schema, opts.Now)
	if err != nil {
		return nil, err
	}
	run := &selectRun{e: e, ctx: ctx, plan: plan, now: opts.Now, stats: stats}
	refs, err := run.filterSeries(src)
	if err != nil {
		return nil, err
	}
	groups := run.groupSeries(refs)
	planned := time.Since(start)

	var lines []string
	add := func(format string, args ...any) { lines = append(lines, fmt.Sprintf(format, args...)) }
	add("QUERY: %s", stmt.String())
	add("TIME RANGE: %s", formatRange(plan.tr))
	if plan.tagCond != nil {
		add("TAG PREDICATE (roaring bitmap index): %s", describeTagExpr(plan.tagCond))
	}
	if plan.fieldCond != nil {
		add("FIELD FILTER (per row): %s", plan.fieldCond.String())
	}
	if plan.raw {
		add("MODE: raw points")
	} else {
		add("MODE: aggregate")
		if plan.interval > 0 {
			add("WINDOWS: GROUP BY time(%v, offset %v) fill(%s)", plan.interval, plan.offset, fillName(plan.fill))
		}
		for _, c := range plan.calls {
			path := "window function over points"
			switch {
			case c.rawTrans:
				path = "transformation of raw points"
			case accumulatorPath(c, plan):
				path = "streaming accumulator, block headers where a block fits one window"
			}
			desc := fmt.Sprintf("%s(%s)", c.name, c.field)
			if c.transform != "" {
				desc = fmt.Sprintf("%s(%s)", c.transform, desc)
			}
			add("CALL %s: %s", desc, path)
		}
	}
	add("COLUMNS: %s", strings.Join(append([]string{"time"}, plan.columns...), ", "))
	add("NUMBER OF SERIES: %d", len(refs))
	add("NUMBER OF OUTPUT SERIES (groups): %d", len(groups))
	if stored := countStored(refs); stored > 0 {
		blocks, err := e.countBlocks(refs, plan)
		if err != nil {
			return nil, err
		}
		add("NUMBER OF FIELDS READ PER SERIES: %d", len(run.neededFieldsForPlan(refs)))
		add("NUMBER OF BLOCKS (upper bound, before header pruning): %d", blocks)
	}
	add("PLANNING TIME: %v", planned.Round(time.Microsecond))
	if s.Analyze {
		execStart := time.Now()
		rows := 0 // counted as the rows stream by, not held
		if err := run.streamGroups(groups, func(rs *ResultSeries) error {
			rows += len(rs.Rows)
			return nil
		}); err != nil {
			return nil, err
		}
		add("EXECUTION TIME: %v", time.Since(execStart).Round(time.Microsecond))
		add("SERIES READ: %d", stats.series.Load())
		add("BLOCKS DECODED: %d", stats.blocksDecoded.Load())
		add("BLOCKS ANSWERED FROM HEADERS: %d", stats.blocksStats.Load())
		add("POINTS READ: %d", stats.points.Load())
		add("ROWS RETURNED: %d", rows)
	}
	rs := &ResultSeries{Columns: []string{"QUERY PLAN"}, NoTime: true}
	for _, l := range lines {
		rs.Rows = append(rs.Rows, Row{Values: []any{l}})
	}
	return &StatementResult{Series: []*ResultSeries{rs}}, nil
}

func accumulatorPath(c *callPlan, p *selectPlan) bool {
	switch c.name {
	case "count", "sum", "mean", "min", "max", "first", "last", "spread":
		return !c.rawTrans && p.fieldCond == nil && len(auxRefs(p.exprs)) == 0
	}
	return false
}

func countStored(refs []*seriesRef) int {
	n := 0
	for _, r := range refs {
		if r.mem == nil {
			n++
		}
	}
	return n
}

func (r *selectRun) neededFieldsForPlan(refs []*seriesRef) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range refs {
		if s.mem != nil {
			continue
		}
		names := r.neededFields(r.plan.exprs, s)
		for _, c := range r.plan.calls {
			names = append(names, c.field)
		}
		for _, n := range names {
			if !seen[n] {
				seen[n] = true
				out = append(out, n)
			}
		}
		break // every series of a measurement reads the same fields
	}
	return out
}

// countBlocks counts the blocks the cursors of a plan would visit.
func (e *Executor) countBlocks(refs []*seriesRef, p *selectPlan) (int, error) {
	run := &selectRun{e: e, plan: p, stats: &execStats{}}
	n := 0
	for _, s := range refs {
		if s.mem != nil {
			continue
		}
		for _, f := range run.neededFields(p.exprs, s) {
			n += e.blocksOf(run, s, f)
		}
		for _, c := range p.calls {
			n += e.blocksOf(run, s, c.field)
		}
	}
	return n, nil
}

func (e *Executor) blocksOf(run *selectRun, s *seriesRef, field string) int {
	fid, ok := run.fieldID(s, field)
	if !ok {
		return 0
	}
	cur, err := e.store.NewCursor(s.bucket, s.id, fid, run.plan.tr.Min, run.plan.tr.Max)
	if err != nil {
		return 0
	}
	defer cur.Close()
	n := 0
	for cur.Next() {
		n++
	}
	return n
}

func formatRange(tr influxql.TimeRange) string {
	f := func(t int64, bound bool) string {
		if !bound {
			return "unbounded"
		}
		return time.Unix(0, t).UTC().Format(time.RFC3339Nano)
	}
	return fmt.Sprintf("[%s, %s]", f(tr.Min, tr.HasMin() && tr.Min != math.MinInt64), f(tr.Max, tr.HasMax()))
}

func fillName(f influxql.FillOption) string {
	switch f {
	case influxql.NoFill:
		return "none"
	case influxql.NumberFill:
		return "number"
	case influxql.PreviousFill:
		return "previous"
	case influxql.LinearFill:
		return "linear"
	}
	return "null"
}

func describeTagExpr(x *storage.TagExpr) string {
	switch x.Op {
	case storage.TagAnd:
		return "(" + describeTagExpr(x.LHS) + " AND " + describeTagExpr(x.RHS) + ")"
	case storage.TagOr:
		return "(" + describeTagExpr(x.LHS) + " OR " + describeTagExpr(x.RHS) + ")"
	case storage.TagEq:
		return fmt.Sprintf("%s = '%s'", x.Key, x.Value)
	case storage.TagNotEq:
		return fmt.Sprintf("%s != '%s'", x.Key, x.Value)
	case storage.TagMatch:
		return fmt.Sprintf("%s =~ /%s/", x.Key, x.Regex)
	case storage.TagNotMatch:
		return fmt.Sprintf("%s !~ /%s/", x.Key, x.Regex)
	}
	return "?"
}

func fieldValueOf(name string, v any) (storage.FieldValue, bool) {
	f := storage.FieldValue{Key: []byte(name)}
	switch x := v.(type) {
	case float64:
		f.Type, f.Float = storage.Float, x
	case int64:
		f.Type, f.Int = storage.Integer, x
	case uint64:
		f.Type, f.Uint = storage.Unsigned, x
	case string:
		f.Type, f.Str = storage.String, []byte(x)
	case bool:
		f.Type, f.Bool = storage.Boolean, x
	default:
		return f, false
	}
	return f, true
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j] < out[j-1]; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

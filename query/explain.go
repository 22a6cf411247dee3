package query

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/strata-db/strata/query/funcs"
	"github.com/strata-db/strata/query/influxql"
	"github.com/strata-db/strata/storage"
)

// executeExplain answers EXPLAIN [ANALYZE] SELECT with the plan as text rows in a
// "QUERY PLAN" column: the plan's tree (selectPlan.String), then what resolving
// the tag predicate found. ANALYZE runs the same plan the SELECT would run
// (startPlan and streamGroups: the same paths, SLIMIT/SOFFSET, empty-range
// check) and reports
// what it touched; it does not write the INTO target.
func (e *Executor) executeExplain(ctx context.Context, s *influxql.ExplainStatement, opts ExecOptions) (*StatementResult, error) {
	stmt := s.Statement
	if err := stmt.Validate(funcs.Registry{}); err != nil {
		return nil, err
	}
	stats := &execStats{}
	start := time.Now()
	opts.noFanout = !s.Analyze // EXPLAIN names the peers; ANALYZE asks them
	if stmt.Target != nil {
		opts.AllowPartial = false // as executeSelect runs it
	}
	plan, err := e.prepareSelect(ctx, stmt, opts, stats)
	if err != nil {
		return nil, err
	}
	subqueryPoints := stats.points.Load()
	run, refs, groups, err := e.startPlan(ctx, plan, opts, stats)
	if err != nil {
		return nil, err
	}
	planned := time.Since(start)
	lines := plan.lines()
	add := func(format string, args ...any) { lines = append(lines, fmt.Sprintf(format, args...)) }
	if run != nil {
		fl, err := run.fanoutLines(ctx, opts)
		if err != nil {
			return nil, err
		}
		lines = append(lines, fl...)
	}
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
		if run != nil {
			if stmt.Target == nil {
				run.rowEnc = opts.RowEncoder // the cache SELECT uses, so the counts are its own
			}
			if err := run.streamGroups(groups, func(rs *ResultSeries) error {
				rows += len(rs.Rows)
				return nil
			}); err != nil {
				return nil, err
			}
		}
		add("EXECUTION TIME: %v", time.Since(execStart).Round(time.Microsecond))
		add("SERIES READ: %d", stats.series.Load())
		add("BLOCKS DECODED: %d", stats.blocksDecoded.Load())
		add("BLOCKS ANSWERED FROM HEADERS: %d", stats.blocksStats.Load())
		add("POINTS READ: %d", stats.points.Load())
		if n := stats.windowsCacheable.Load(); n > 0 {
			add("WINDOWS FROM THE RESULT CACHE: %d of %d cacheable (per call and group)", stats.windowsCached.Load(), n)
		}
		if n := stats.rowsRejoined.Load(); n > 0 {
			add("RESULT CACHE ROWS REJOINED: %d groups (their cached rows lay in more than %d pieces)", n, maxJoinedPieces)
		}
		if n := stats.cacheUnadmitted.Load(); n > 0 {
			add("RESULT CACHE NOT USED: %d groups or calls at their first sight (cached from a second whose range overlaps it)", n)
		}
		if subqueryPoints > 0 {
			add("POINTS READ BY SUBQUERIES (included above): %d", subqueryPoints)
		}
		add("ROWS RETURNED: %d", rows)
	}
	rs := &ResultSeries{Columns: []string{"QUERY PLAN"}, NoTime: true}
	for _, l := range lines {
		rs.Rows = append(rs.Rows, Row{Values: []any{l}})
	}
	return &StatementResult{Series: []*ResultSeries{rs}}, nil
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
		// Each field once: a call's field is also among the expressions' names.
		seen := map[string]bool{}
		fields := run.neededFields(p.exprs, s)
		for _, c := range p.calls {
			fields = append(fields, c.field)
		}
		for _, f := range fields {
			if !seen[f] {
				seen[f] = true
				n += e.blocksOf(run, s, f)
			}
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

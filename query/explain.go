package query

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"time"

	"github.com/strata-db/strata/query/funcs"
	"github.com/strata-db/strata/query/influxql"
	"github.com/strata-db/strata/storage"
)

// executeExplain answers EXPLAIN [ANALYZE] SELECT with the plan as text rows in a
// "QUERY PLAN" column: the plan's tree (selectPlan.String), then what resolving
// the tag predicate found. ANALYZE runs the same plan the SELECT would run
// (executePlan: the same paths, SLIMIT/SOFFSET, empty-range check) and reports
// what it touched; it does not write the INTO target.
func (e *Executor) executeExplain(ctx context.Context, s *influxql.ExplainStatement, opts ExecOptions) (*StatementResult, error) {
	stmt := s.Statement
	if err := stmt.Validate(funcs.Registry{}); err != nil {
		return nil, err
	}
	stats := &execStats{}
	start := time.Now()
	plan, err := e.prepareSelect(ctx, stmt, opts, stats)
	if err != nil {
		return nil, err
	}
	var (
		run            *selectRun
		refs           []*seriesRef
		groups         []*group
		planned        time.Duration
		execStart      time.Time
		subqueryPoints = stats.points.Load()
	)
	series, err := e.executePlan(ctx, plan, opts, stats, func(r *selectRun, rf []*seriesRef, g []*group) bool {
		run, refs, groups = r, rf, g
		planned = time.Since(start)
		execStart = time.Now()
		return s.Analyze
	})
	if err != nil {
		return nil, err
	}
	lines := plan.lines()
	add := func(format string, args ...any) { lines = append(lines, fmt.Sprintf(format, args...)) }
	if run == nil { // empty time range: executePlan stopped before the index
		planned = time.Since(start)
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
		rows := 0
		for _, rs := range series {
			rows += len(rs.Rows)
		}
		var elapsed time.Duration
		if run != nil {
			elapsed = time.Since(execStart)
		}
		add("EXECUTION TIME: %v", elapsed.Round(time.Microsecond))
		add("SERIES READ: %d", stats.series.Load())
		add("BLOCKS DECODED: %d", stats.blocksDecoded.Load())
		add("BLOCKS ANSWERED FROM HEADERS: %d", stats.blocksStats.Load())
		add("POINTS READ: %d", stats.points.Load())
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

// writeInto runs SELECT ... INTO: the result rows become points of the target
// measurement (GROUP BY tags become tags), and the answer is the count written.
func (e *Executor) writeInto(stmt *influxql.SelectStatement, opts ExecOptions, series []*ResultSeries, tagCols []string) (*StatementResult, error) {
	t := stmt.Target.Measurement
	b, _, err := e.resolveBucket(t.Database, t.RetentionPolicy, opts)
	if err != nil {
		return nil, err
	}
	batch, err := e.store.NewBatch(b)
	if err != nil {
		return nil, err
	}
	written := int64(0)
	for _, rs := range series {
		name := t.Name
		if name == "" || name == ":MEASUREMENT" {
			name = rs.Name
		}
		tags := make([]storage.Tag, 0, len(rs.Tags))
		for _, k := range sortedKeys(rs.Tags) {
			if rs.Tags[k] != "" {
				tags = append(tags, storage.Tag{Key: []byte(k), Value: []byte(rs.Tags[k])})
			}
		}
		for _, row := range rs.Rows {
			var fields []storage.FieldValue
			rowTags := tags
			for i, v := range row.Values {
				if slices.Contains(tagCols, rs.Columns[i+1]) {
					if s, ok := v.(string); ok && s != "" && rs.Tags[rs.Columns[i+1]] == "" {
						rowTags = append(rowTags[:len(rowTags):len(rowTags)], storage.Tag{Key: []byte(rs.Columns[i+1]), Value: []byte(s)})
					}
					continue
				}
				f, ok := fieldValueOf(rs.Columns[i+1], v)
				if ok {
					fields = append(fields, f)
				}
			}
			if len(fields) == 0 {
				continue
			}
			if len(rowTags) > len(tags) {
				sort.Slice(rowTags, func(i, j int) bool { return string(rowTags[i].Key) < string(rowTags[j].Key) })
			}
			if err := batch.Add([]byte(name), rowTags, fields, row.Time); err == nil {
				written++
			}
		}
	}
	res, err := e.store.Write(batch)
	if err != nil {
		return nil, err
	}
	written = int64(res.Written)
	return &StatementResult{Series: []*ResultSeries{{
		Name:    "result",
		Columns: []string{"time", "written"},
		Rows:    []Row{{Time: 0, Values: []any{written}}},
	}}}, nil
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

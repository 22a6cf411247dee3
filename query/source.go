// Operator: source. It turns a SELECT's FROM clause into the series it reads
// and their union schema (source): stored measurements, whose tag predicate
// series.go resolves on the index later, or FROM subqueries, which run here to
// completion and hand their result series on as in-memory series. It pulls from
// the store's schema and the subquery executor and hands a source to the
// planner (plan.go) and then to series.go.
package query

import (
	"context"
	"slices"

	"github.com/strata-db/strata/query/funcs"
	"github.com/strata-db/strata/query/influxql"
	"github.com/strata-db/strata/storage"
)

// resolveSources finds the series a SELECT reads and their schema: stored
// measurements (tag predicates resolved on the index later, in filterSeries) or
// subquery results.
func (e *Executor) resolveSources(ctx context.Context, stmt *influxql.SelectStatement, opts ExecOptions, stats *execStats) (*source, error) {
	src := &source{schema: &schema{fields: map[string]storage.FieldType{}, tags: map[string]bool{}}}
	for _, s := range stmt.Sources {
		switch x := s.(type) {
		case *influxql.SubQuery:
			innerPlan, err := e.subquerySource(ctx, x, stmt, opts, stats, src)
			if err != nil {
				return nil, err
			}
			src.subqueries = append(src.subqueries, innerPlan)
		case *influxql.Measurement:
			if done, err := e.rollupSource(ctx, x, stmt, opts, stats, src); done || err != nil {
				if err != nil {
					return nil, err
				}
				continue
			}
			if err := e.measurementSource(x, opts, src); err != nil {
				return nil, err
			}
		}
	}
	return src, nil
}

// measurementSource adds the stored measurements x names (a name or a regex)
// to src: their fields and tag keys to the schema, and a placeholder series per
// measurement, expanded by filterSeries once the plan knows the tag predicate.
func (e *Executor) measurementSource(x *influxql.Measurement, opts ExecOptions, src *source) error {
	b, _, err := e.resolveBucket(x.Database, x.RetentionPolicy, opts)
	if err != nil {
		return err
	}
	ms, err := e.store.Measurements(b)
	if err != nil {
		return err
	}
	for _, m := range ms {
		if x.Regex != nil && !x.Regex.Val.MatchString(m) || x.Regex == nil && x.Name != m {
			continue
		}
		fields, err := e.store.Fields(b, m)
		if err != nil {
			return err
		}
		for _, f := range fields {
			if _, ok := src.schema.fields[f.Name]; !ok {
				src.schema.fields[f.Name] = f.Type
			}
		}
		keys, err := e.store.TagKeys(b, m)
		if err != nil {
			return err
		}
		for _, k := range keys {
			src.schema.tags[k] = true
		}
		// A placeholder: the series of this measurement are looked up once the
		// plan knows the tag predicate.
		src.series = append(src.series, &seriesRef{bucket: b, measurement: m})
	}
	return nil
}

// subquerySource runs a FROM subquery, restricted to the outer statement's
// time range, and adds its result series to src as in-memory series (points
// per column and the row times), their tags and fields to src's schema. It
// returns the inner plan, which EXPLAIN prints.
func (e *Executor) subquerySource(ctx context.Context, x *influxql.SubQuery, stmt *influxql.SelectStatement, opts ExecOptions, stats *execStats, src *source) (*selectPlan, error) {
	sub, err := withOuterTimeRange(x.Statement, stmt, opts)
	if err != nil {
		return nil, err
	}
	// The inner rows arrive as a stream (in batches when raw) and become
	// in-memory points piece by piece, never held twice.
	var last *seriesRef
	first := len(src.series)
	innerPlan, err := e.streamSelect(ctx, sub, opts, stats, func(rs *ResultSeries) error {
		key := seriesKey(rs.Name, rs.Tags)
		if last == nil || last.key != key {
			last = &seriesRef{measurement: rs.Name, tags: rs.Tags, key: key, mem: map[string][]funcs.Point{}}
			for k := range rs.Tags {
				src.schema.tags[k] = true
			}
			src.series = append(src.series, last)
		}
		for _, row := range rs.Rows {
			last.memTimes = append(last.memTimes, row.Time)
		}
		cc := e.canceller(ctx)
		for ci, col := range rs.Columns {
			if ci == 0 {
				continue // time
			}
			pts := last.mem[col]
			for _, row := range rs.Rows {
				if err := cc.tick(); err != nil {
					return err
				}
				v := row.Values[ci-1]
				if v == nil {
					continue
				}
				pts = append(pts, funcs.Point{Time: row.Time, Value: v})
				if _, ok := src.schema.fields[col]; !ok {
					src.schema.fields[col] = storage.FieldType(funcs.TypeOf(v))
				}
			}
			if err := memOf(ctx).hold(int64(len(pts)-len(last.mem[col])) * pointBytes); err != nil {
				return err // held until the statement ends
			}
			last.mem[col] = pts
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, ref := range src.series[first:] {
		slices.Sort(ref.memTimes) // the inner query may be ORDER BY time DESC
	}
	return innerPlan, nil
}

// withOuterTimeRange returns the subquery inner restricted to the outer
// statement's time range, as 1.x runs it: the inner query reads no more than the
// outer can use (and its GROUP BY time windows are those of that range).
func withOuterTimeRange(inner, outer *influxql.SelectStatement, opts ExecOptions) (*influxql.SelectStatement, error) {
	_, tr, err := influxql.TimeCondition(outer.Condition, opts.Now, outer.TimeZone())
	if err != nil || !tr.HasMin() && !tr.HasMax() {
		return inner, err
	}
	cond := inner.Condition
	if cond != nil {
		cond = &influxql.ParenExpr{Expr: cond}
	}
	bound := func(op influxql.Token, t int64) {
		b := &influxql.BinaryExpr{Op: op, LHS: &influxql.VarRef{Val: "time"}, RHS: &influxql.IntegerLiteral{Val: t}}
		if cond == nil {
			cond = b
		} else {
			cond = &influxql.BinaryExpr{Op: influxql.AND, LHS: cond, RHS: b}
		}
	}
	if tr.HasMin() {
		bound(influxql.GTE, tr.Min)
	}
	if tr.HasMax() {
		bound(influxql.LTE, tr.Max)
	}
	cp := *inner
	cp.Condition = cond
	return &cp, nil
}

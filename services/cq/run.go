package cq

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/strata-db/strata/query"
	"github.com/strata-db/strata/query/influxql"
	"github.com/strata-db/strata/storage"
)

// recompute runs def over the windows of x, for every group (group "") or
// for one series group. The rows go through SELECT ... INTO's durable write
// path: each window of a group is one point, written in one WAL record, so a
// crash leaves each window old or new, never half. For one group, the windows
// that no longer have data (a DELETE, a DROP SERIES) lose their rollup point.
func (s *Service) recompute(ctx context.Context, def *definition, group string, x span) error {
	sel := *def.stmt.Source
	if sel.Fill == influxql.NullFill && def.stmt.ResampleEvery == 0 && def.stmt.ResampleFor == 0 {
		// 1.x runs a basic query once per window and writes nothing for a
		// window without data; a span of several windows (a catch-up, a
		// late span) must not write its empty windows' count 0 either.
		sel.Fill = influxql.NoFill
	}
	var m []byte
	var tags []storage.Tag
	var src *influxql.Measurement
	var groupCond influxql.Expr
	if group != "" {
		var err error
		if m, tags, err = storage.ParseSeriesKey([]byte(group), nil); err != nil {
			return err
		}
		for _, so := range def.stmt.Source.Sources {
			if cand := so.(*influxql.Measurement); def.source(cand.Database, cand.RetentionPolicy, m) != nil {
				src = cand
				break
			}
		}
		if src == nil {
			return nil // the query no longer reads it
		}
		one := &influxql.Measurement{Database: src.Database, RetentionPolicy: src.RetentionPolicy, Name: string(m)}
		sel.Sources = influxql.Sources{one}
		if groupCond, err = s.groupCondition(def, src, m, tags); err != nil {
			return err
		}
		sel.Condition = and(sel.Condition, groupCond)
	}
	sel.Condition = and(sel.Condition, timeRange(x))
	var sink query.PointSink
	if s.cluster != nil {
		sink = s.cluster.Sink()
	}
	res, err := s.exec.RunContinuousQueryTo(ctx, &sel, query.ExecOptions{Database: def.db, Now: s.now(), Rollups: query.RollupsStored}, sink)
	if err != nil {
		return err
	}
	if group == "" || s.cluster != nil {
		// In a node set the rollup's points live on the nodes owning their
		// series, reached through the data topic, which carries no deletes:
		// the points of windows a DELETE emptied, and the columns it nulled,
		// stay (docs/scale-out.md). Late writes are recomputed in full.
		return nil
	}
	if err := s.deleteEmptied(def, m, tags, x, res.Windows); err != nil {
		return err
	}
	// A window whose new row has a null column (a DELETE took the last value
	// of a field) must lose the old value of that column: its point is
	// deleted and written again. Between the two a reader sees no row for
	// it; a crash there leaves the mark, which the restart recomputes.
	for w, complete := range res.Windows {
		if complete || w < x.from || w >= x.to {
			continue
		}
		if err := s.deleteWindows(def, m, tags, w, w+int64(def.sched.interval)); err != nil {
			return err
		}
		one := sel
		one.Condition = and(def.stmt.Source.Condition, and(groupCond, timeRange(span{w, w + int64(def.sched.interval)})))
		if _, err := s.exec.RunContinuousQuery(ctx, &one, query.ExecOptions{Database: def.db, Now: s.now(), Rollups: query.RollupsStored}); err != nil {
			return err
		}
	}
	return nil
}

// groupCondition pins every GROUP BY tag of the measurement to the group's
// value (” for a tag the group's series lack, which is how InfluxQL matches
// a missing tag).
func (s *Service) groupCondition(def *definition, src *influxql.Measurement, m []byte, tags []storage.Tag) (influxql.Expr, error) {
	b, err := s.store.Bucket(src.Database, src.RetentionPolicy)
	if err != nil {
		return nil, err
	}
	keys, err := s.store.TagKeys(b, string(m))
	if err != nil {
		return nil, err
	}
	for _, k := range def.groupBy.Keys {
		if !slices.Contains(keys, k) {
			keys = append(keys, k)
		}
	}
	var cond influxql.Expr
	for _, k := range keys {
		if !def.groupsBy(k) {
			continue
		}
		v := ""
		for _, t := range tags {
			if string(t.Key) == k {
				v = string(t.Value)
			}
		}
		cond = and(cond, &influxql.BinaryExpr{Op: influxql.EQ, LHS: &influxql.VarRef{Val: k}, RHS: &influxql.StringLiteral{Val: v}})
	}
	return cond, nil
}

// deleteEmptied removes the group's rollup points in the windows of x that
// the recomputation wrote nothing for, one delete per run of such windows.
func (s *Service) deleteEmptied(def *definition, m []byte, tags []storage.Tag, x span, wrote map[int64]bool) error {
	interval := int64(def.sched.interval)
	for w := x.from; w < x.to; w += interval {
		if _, ok := wrote[w]; ok {
			continue
		}
		end := w + interval
		for end < x.to {
			if _, ok := wrote[end]; ok {
				break
			}
			end += interval
		}
		if err := s.deleteWindows(def, m, tags, w, end); err != nil {
			return err
		}
		w = end - interval
	}
	return nil
}

// deleteWindows deletes the group's rollup points with times in [from, to).
func (s *Service) deleteWindows(def *definition, m []byte, tags []storage.Tag, from, to int64) error {
	t := def.stmt.Source.Target.Measurement
	name := t.Name
	if t.IsTarget || name == "" {
		name = string(m)
	}
	b, err := s.store.Bucket(t.Database, t.RetentionPolicy)
	if err != nil {
		return err
	}
	var expr *storage.TagExpr
	for _, tg := range tags {
		eq := &storage.TagExpr{Op: storage.TagEq, Key: string(tg.Key), Value: string(tg.Value)}
		if expr == nil {
			expr = eq
		} else {
			expr = &storage.TagExpr{Op: storage.TagAnd, LHS: expr, RHS: eq}
		}
	}
	if err := s.store.Delete(b, name, expr, from, to-1); err != nil {
		return fmt.Errorf("delete rollup windows: %w", err)
	}
	return nil
}

func and(a, b influxql.Expr) influxql.Expr {
	switch {
	case a == nil:
		return b
	case b == nil:
		return a
	}
	return &influxql.BinaryExpr{Op: influxql.AND, LHS: paren(a), RHS: paren(b)}
}

func paren(e influxql.Expr) influxql.Expr {
	if b, ok := e.(*influxql.BinaryExpr); ok && b.Op != influxql.AND {
		return &influxql.ParenExpr{Expr: e}
	}
	return e
}

func timeRange(x span) influxql.Expr {
	return &influxql.BinaryExpr{Op: influxql.AND,
		LHS: &influxql.BinaryExpr{Op: influxql.GTE, LHS: &influxql.VarRef{Val: "time"}, RHS: &influxql.TimeLiteral{Val: time.Unix(0, x.from).UTC()}},
		RHS: &influxql.BinaryExpr{Op: influxql.LT, LHS: &influxql.VarRef{Val: "time"}, RHS: &influxql.TimeLiteral{Val: time.Unix(0, x.to).UTC()}},
	}
}

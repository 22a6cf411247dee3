// Operator: real-time rollups. A SELECT that reads the target measurement of
// a continuous query (a rollup) gets, for the windows the CQ service has not
// computed yet (the current window and later, and the dirty windows of late
// data), the rows the service will write there, computed now from the raw
// source by the query's own SELECT; the stored rollup answers for every other
// window. So a dashboard on a rollup shows neither a hole (the window not yet
// computed) nor a stale value (a window late data changed).
//
// It runs inside resolveSources (source.go): the rollup measurement becomes
// in-memory series, as a subquery's result does: its stored points of the
// statement's time range outside the replaced windows, plus the computed rows.
// The rest of the pipeline does not know the difference. Which measurements
// are rollups and which windows are pending comes from the owner of continuous
// queries through the Rollups interface (services/cq implements it).
//
// The choice is per query (ExecOptions.Rollups, the HTTP parameter
// rollups=realtime|stored); the default is real time. EXPLAIN prints what was
// replaced under SOURCES.
package query

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/strata-db/strata/query/funcs"
	"github.com/strata-db/strata/query/influxql"
	"github.com/strata-db/strata/storage"
)

// Rollups is what the executor needs from the owner of continuous queries to
// answer rollups in real time.
type Rollups interface {
	// RollupsInto lists the continuous queries that write into measurement m
	// of db.rp, each with the windows it has not computed yet.
	RollupsInto(db, rp, m string) []RollupState
}

// RollupState is one continuous query writing into a rollup measurement.
type RollupState struct {
	Name string // db.name, for EXPLAIN
	// Select is the query's SELECT ... INTO, sources and target qualified.
	Select *influxql.SelectStatement
	// Uncomputed: windows starting at or after it are not computed yet (the
	// current window, and those of a service that is behind).
	Uncomputed int64
	// Pending are the windows before Uncomputed still to be (re)computed.
	Pending []RollupPending
}

// RollupPending is a run of windows [From, To) of one series group (or of
// every group) the service has still to compute.
type RollupPending struct {
	// Source is the measurement the group reads; nil: every group of every
	// source (a scheduled run not done yet).
	Source *influxql.Measurement
	// Tags are the group's tag values, which are its rollup series' tags;
	// Condition pins them in the source (nil with Source nil).
	Tags      map[string]string
	Condition influxql.Expr
	From, To  int64
}

// Values of ExecOptions.Rollups.
const (
	RollupsRealTime = "realtime" // the default ("" means it)
	RollupsStored   = "stored"   // read what the service wrote, nothing more
)

// SetRollups attaches the owner of continuous queries for real-time rollups.
func (e *Executor) SetRollups(r Rollups) { e.rollups = r }

// rollupsExpanding is the context key of the continuous queries whose windows
// are being computed, so that a query writing into its own source (or a cycle
// of them) is expanded once.
type rollupsExpanding struct{}

// rollupWindow is one replaced span of one series group of the rollup
// (group "" for every series).
type rollupWindow struct {
	group    string
	from, to int64
}

// rollupSource adds the rollup measurement x to src in real time when a
// continuous query writes into it and some window of the statement's range is
// pending. It reports false (and adds nothing) when the normal stored read is
// the answer: real time is off, x is no rollup, or nothing is pending.
func (e *Executor) rollupSource(ctx context.Context, x *influxql.Measurement, stmt *influxql.SelectStatement, opts ExecOptions, stats *execStats, src *source) (bool, error) {
	switch opts.Rollups {
	case "", RollupsRealTime:
	case RollupsStored:
		return false, nil
	default:
		return false, errorf("invalid rollups option %q: want %s or %s", opts.Rollups, RollupsRealTime, RollupsStored)
	}
	if e.rollups == nil || x.Regex != nil {
		return false, nil
	}
	q := *x
	if q.Database == "" {
		q.Database = opts.Database
	}
	if q.RetentionPolicy == "" {
		q.RetentionPolicy = opts.RetentionPolicy
	}
	target, err := e.qualify(&q, q.Database)
	if err != nil {
		return false, nil // the stored read reports it
	}
	states := e.rollups.RollupsInto(target.Database, target.RetentionPolicy, target.Name)
	if len(states) == 0 {
		return false, nil
	}
	_, tr, err := influxql.TimeCondition(stmt.Condition, opts.Now, stmt.TimeZone())
	if err != nil || tr.Empty() {
		return false, err
	}
	hi := opts.Now.UnixNano()
	if tr.HasMax() {
		hi = tr.Max
	}
	expanding, _ := ctx.Value(rollupsExpanding{}).([]string)
	type work struct {
		st   RollupState
		p    RollupPending
		w    rollupWindow
		name string // source measurement rows must come from ("": any)
	}
	var todo []work
	var notes []string
	for _, st := range states {
		if slices.Contains(expanding, st.Name) {
			continue
		}
		if opts.Auth != nil {
			sel := *st.Select
			sel.Target = nil
			if opts.Auth.AuthorizeStatement(&sel, opts.Database) != nil {
				// The raw source may be another database the requester cannot read.
				notes = append(notes, fmt.Sprintf("%s: read as stored, the requester may not read its sources", st.Name))
				continue
			}
		}
		interval, offset, err := st.Select.GroupByTime(opts.Now)
		if err != nil || interval <= 0 {
			continue
		}
		start := func(t int64) int64 {
			return floorTo(t-int64(offset), int64(interval)) + int64(offset)
		}
		lo, end := start(tr.Min), start(hi)+int64(interval)
		if !tr.HasMin() {
			lo = st.Uncomputed // only the pending windows are read, never the whole history
			for _, p := range st.Pending {
				lo = min(lo, p.From)
			}
		}
		backRef := st.Select.Target.Measurement.IsTarget || st.Select.Target.Measurement.Name == ""
		name := ""
		if backRef {
			name = target.Name
		}
		groups, windows := 0, int64(0)
		add := func(p RollupPending, from, to int64) {
			from, to = max(from, lo), min(to, end)
			if from >= to {
				return
			}
			g := ""
			if p.Source != nil {
				g = seriesKey(target.Name, nonEmpty(p.Tags))
				groups++
			}
			windows += (to - from) / int64(interval)
			todo = append(todo, work{st: st, p: p, w: rollupWindow{group: g, from: from, to: to}, name: name})
		}
		add(RollupPending{}, st.Uncomputed, end)
		for _, p := range st.Pending {
			add(p, p.From, p.To)
		}
		if windows == 0 {
			notes = append(notes, fmt.Sprintf("%s: every window of the range is computed, read as stored", st.Name))
			continue
		}
		notes = append(notes, fmt.Sprintf("%s: %d window(s) from raw data (uncomputed from %s; %d dirty group span(s)), the rest as stored",
			st.Name, windows, time.Unix(0, st.Uncomputed).UTC().Format(time.RFC3339Nano), groups))
	}
	src.rollupNotes = append(src.rollupNotes, notes...)
	if len(todo) == 0 {
		return false, nil
	}
	ov := &rollupOverlay{e: e, ctx: ctx, measurement: target.Name, series: map[string]*overlaySeries{}}
	for _, t := range todo {
		ov.replaced = append(ov.replaced, t.w)
	}
	// The stored rollup points of the range, without the replaced windows.
	stored := &influxql.SelectStatement{
		Fields:     influxql.Fields{{Expr: &influxql.Wildcard{}}},
		Sources:    influxql.Sources{target},
		Dimensions: influxql.Dimensions{{Expr: &influxql.Wildcard{}}},
	}
	// The whole range of the statement: the measurement is read from here only.
	if stored, err = withOuterTimeRange(stored, stmt, opts); err != nil {
		return false, err
	}
	inner := opts
	inner.Rollups = RollupsStored
	if _, err := e.streamSelect(ctx, stored, inner, stats, func(rs *ResultSeries) error { return ov.add(rs, false) }); err != nil {
		return false, err
	}
	// The pending windows, as the service will compute them.
	cctx := context.WithValue(ctx, rollupsExpanding{}, append(slices.Clip(expanding), statesNames(states)...))
	for _, t := range todo {
		sel := *t.st.Select
		sel.Target = nil
		if t.p.Source != nil {
			sel.Sources = influxql.Sources{t.p.Source}
		}
		sel.Condition = andExpr(andExpr(sel.Condition, t.p.Condition), timeBetween(t.w.from, t.w.to))
		if _, err := e.streamSelect(cctx, &sel, opts, stats, func(rs *ResultSeries) error {
			if t.name != "" && rs.Name != t.name {
				return nil
			}
			return ov.add(rs, true)
		}); err != nil {
			return false, err
		}
	}
	return true, ov.addTo(src)
}

func statesNames(states []RollupState) []string {
	out := make([]string, len(states))
	for i, s := range states {
		out[i] = s.Name
	}
	return out
}

// rollupOverlay assembles the real-time series of one rollup measurement.
type rollupOverlay struct {
	e           *Executor
	ctx         context.Context
	measurement string
	replaced    []rollupWindow
	series      map[string]*overlaySeries
	order       []string
}

// overlaySeries is one rollup series: its rows by time, column -> value.
type overlaySeries struct {
	tags map[string]string
	rows map[int64]map[string]any
}

// isReplaced tells whether the stored row of series key at t is in a
// window computed from raw data.
func (o *rollupOverlay) isReplaced(key string, t int64) bool {
	for _, w := range o.replaced {
		if t >= w.from && t < w.to && (w.group == "" || w.group == key) {
			return true
		}
	}
	return false
}

// add takes one piece of a result: stored rows outside the replaced windows,
// or computed rows (which win), as the INTO writer would turn them into
// points: tags without empty values, rows with no value skipped.
func (o *rollupOverlay) add(rs *ResultSeries, computed bool) error {
	tags := nonEmpty(rs.Tags)
	key := seriesKey(o.measurement, tags)
	s := o.series[key]
	cc := o.e.canceller(o.ctx)
	for _, row := range rs.Rows {
		if err := cc.tick(); err != nil {
			return err
		}
		if !computed && o.isReplaced(key, row.Time) {
			continue
		}
		vals := map[string]any{}
		for i, v := range row.Values {
			if _, ok := fieldValueOf(rs.Columns[i+1], v); ok {
				vals[rs.Columns[i+1]] = v
			}
		}
		if len(vals) == 0 {
			continue
		}
		if s == nil {
			s = &overlaySeries{tags: tags, rows: map[int64]map[string]any{}}
			o.series[key] = s
			o.order = append(o.order, key)
		}
		if computed {
			s.rows[row.Time] = vals // a window's point is written whole
		} else if _, ok := s.rows[row.Time]; !ok {
			s.rows[row.Time] = vals
		}
		if err := memOf(o.ctx).hold(int64(len(vals)) * pointBytes); err != nil {
			return err // held until the statement ends
		}
	}
	return nil
}

// addTo hands the assembled series to src as in-memory series.
func (o *rollupOverlay) addTo(src *source) error {
	sort.Strings(o.order)
	for _, key := range o.order {
		s := o.series[key]
		ref := &seriesRef{measurement: o.measurement, tags: s.tags, key: key, mem: map[string][]funcs.Point{}}
		for k := range s.tags {
			src.schema.tags[k] = true
		}
		for t := range s.rows {
			ref.memTimes = append(ref.memTimes, t)
		}
		slices.Sort(ref.memTimes)
		for _, t := range ref.memTimes {
			for col, v := range s.rows[t] {
				ref.mem[col] = append(ref.mem[col], funcs.Point{Time: t, Value: v})
				if _, ok := src.schema.fields[col]; !ok {
					src.schema.fields[col] = storage.FieldType(funcs.TypeOf(v))
				}
			}
		}
		src.series = append(src.series, ref)
	}
	return nil
}

func nonEmpty(tags map[string]string) map[string]string {
	out := make(map[string]string, len(tags))
	for k, v := range tags {
		if v != "" {
			out[k] = v
		}
	}
	return out
}

// floorTo rounds ns down to a multiple of d (d > 0), also for negative ns.
func floorTo(ns, d int64) int64 {
	r := ns % d
	if r < 0 {
		r += d
	}
	return ns - r
}

// timeBetween is the condition time >= from AND time < to.
func timeBetween(from, to int64) influxql.Expr {
	return &influxql.BinaryExpr{Op: influxql.AND,
		LHS: &influxql.BinaryExpr{Op: influxql.GTE, LHS: &influxql.VarRef{Val: "time"}, RHS: &influxql.IntegerLiteral{Val: from}},
		RHS: &influxql.BinaryExpr{Op: influxql.LT, LHS: &influxql.VarRef{Val: "time"}, RHS: &influxql.IntegerLiteral{Val: to}},
	}
}

// andExpr joins two conditions (either may be nil), parenthesized.
func andExpr(a, b influxql.Expr) influxql.Expr {
	switch {
	case a == nil:
		return b
	case b == nil:
		return a
	}
	return &influxql.BinaryExpr{Op: influxql.AND, LHS: &influxql.ParenExpr{Expr: a}, RHS: &influxql.ParenExpr{Expr: b}}
}

// allStored tells whether every series of s is stored (none is a subquery's
// or a real-time rollup's in-memory series), which partial states over block
// headers need.
func (s *source) allStored() bool {
	for _, ref := range s.series {
		if ref.mem != nil {
			return false
		}
	}
	return true
}

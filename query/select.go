package query

import (
	"context"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/strata-db/strata/query/funcs"
	"github.com/strata-db/strata/query/influxql"
	"github.com/strata-db/strata/storage"
	"github.com/strata-db/strata/storage/block"
)

// seriesRef is one input series of a SELECT: a stored series, or a series of a
// subquery's result held in memory.
type seriesRef struct {
	bucket      storage.BucketID
	id          storage.SeriesID
	measurement string
	tags        map[string]string
	key         string // measurement and sorted tags: the output order
	mem         map[string][]funcs.Point
	memTimes    []int64           // a subquery series' row times, rows of null values too
	info        *measurementInfo  // cached by measurementInfo; a series belongs to one group, one worker
	snap        *storage.Snapshot // its group's view of the store while the group runs
}

// group is the set of input series that make one output series.
type group struct {
	measurement string
	tags        map[string]string
	key         string
	series      []*seriesRef
	held        int64 // bytes of transient data accounted while it runs (holdGroup)
}

// execStats counts what a SELECT touched, for EXPLAIN ANALYZE and limits.
type execStats struct {
	series        atomic.Int64
	blocksDecoded atomic.Int64
	blocksStats   atomic.Int64
	points        atomic.Int64
}

// source is the resolved input of a SELECT: its series and their union schema.
type source struct {
	series     []*seriesRef
	schema     *schema
	subqueries []*selectPlan // the plans of the FROM subqueries, for EXPLAIN
}

// selectRun is one execution of a planned SELECT.
type selectRun struct {
	e     *Executor
	ctx   context.Context
	plan  *selectPlan
	now   time.Time
	stats *execStats
	// keepFrom, when set, drops output rows before it: the range was extended
	// back so that derivative(mean(x)) and friends have their earlier windows.
	keepFrom *int64
	// implicitStart: the range had no lower bound and reads only the last
	// max-select-buckets windows; output still starts at the first with data.
	implicitStart bool

	infoMu sync.Mutex
	infos  map[string]*measurementInfo
}

func (e *Executor) executeSelect(ctx context.Context, stmt *influxql.SelectStatement, opts ExecOptions, out *stmtSink) (*StatementResult, error) {
	if err := stmt.Validate(funcs.Registry{}); err != nil {
		return nil, err
	}
	stats := &execStats{}
	plan, err := e.prepareSelect(ctx, stmt, opts, stats)
	if err != nil {
		return nil, err
	}
	run, _, groups, err := e.startPlan(ctx, plan, opts, stats)
	if err != nil {
		return nil, err
	}
	if stmt.Target != nil {
		// SELECT ... INTO writes the rows as they stream, a batch at a time; the
		// tags top() and bottom() print stay tags in the target, as in 1.x.
		w := &intoWriter{e: e, ctx: ctx, stmt: stmt, opts: opts, tagCols: plan.extraCols}
		if run != nil {
			if err := run.streamGroups(groups, w.add); err != nil {
				return nil, err
			}
		}
		return w.result()
	}
	if run != nil {
		// Rows leave in batches as they are produced: while the scan goes on for
		// raw rows, group by group for aggregates (stream.go).
		out.loc = stmt.Location
		if err := run.streamGroups(groups, out.send); err != nil {
			return nil, err
		}
	}
	return &StatementResult{Location: stmt.Location}, nil
}

// streamSelect plans and executes stmt, handing its output series to emit as
// they are produced, in batches (consecutive pieces of one series). It returns
// the plan, which EXPLAIN prints for subqueries.
func (e *Executor) streamSelect(ctx context.Context, stmt *influxql.SelectStatement, opts ExecOptions, stats *execStats, emit func(*ResultSeries) error) (*selectPlan, error) {
	plan, err := e.prepareSelect(ctx, stmt, opts, stats)
	if err != nil {
		return nil, err
	}
	run, _, groups, err := e.startPlan(ctx, plan, opts, stats)
	if err != nil || run == nil {
		return plan, err
	}
	return plan, run.streamGroups(groups, emit)
}

// startPlan readies the execution of a prepared plan: the series matching its
// tag predicate, grouped into output series, SLIMIT/SOFFSET applied. SELECT and
// EXPLAIN ANALYZE run the groups it returns with streamGroups. A nil run means
// the time range is empty (no rows).
func (e *Executor) startPlan(ctx context.Context, plan *selectPlan, opts ExecOptions, stats *execStats) (*selectRun, []*seriesRef, []*group, error) {
	if plan.emptyRange {
		return nil, nil, nil, nil
	}
	run := &selectRun{e: e, ctx: ctx, plan: plan, now: opts.Now, stats: stats}
	refs, err := run.filterSeries(plan.src)
	if err != nil {
		return nil, nil, nil, err
	}
	groups := plan.limitSeries(run.groupSeries(refs))
	// The windows read beyond the statement's range (EXPLAIN prints that
	// range): on a copy, so the plan stays what was prepared.
	read := *plan
	run.plan = &read
	run.limitImplicitStart()
	run.extendForTransforms()
	return run, refs, groups, nil
}

// resolveSources finds the series a SELECT reads and their schema: stored
// measurements (tag predicates resolved on the index later, in filterSeries) or
// subquery results.
func (e *Executor) resolveSources(ctx context.Context, stmt *influxql.SelectStatement, opts ExecOptions, stats *execStats) (*source, error) {
	src := &source{schema: &schema{fields: map[string]storage.FieldType{}, tags: map[string]bool{}}}
	for _, s := range stmt.Sources {
		switch x := s.(type) {
		case *influxql.SubQuery:
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
			src.subqueries = append(src.subqueries, innerPlan)
			for _, ref := range src.series[first:] {
				slices.Sort(ref.memTimes) // the inner query may be ORDER BY time DESC
			}
		case *influxql.Measurement:
			b, _, err := e.resolveBucket(x.Database, x.RetentionPolicy, opts)
			if err != nil {
				return nil, err
			}
			ms, err := e.store.Measurements(b)
			if err != nil {
				return nil, err
			}
			for _, m := range ms {
				if x.Regex != nil && !x.Regex.Val.MatchString(m) || x.Regex == nil && x.Name != m {
					continue
				}
				fields, err := e.store.Fields(b, m)
				if err != nil {
					return nil, err
				}
				for _, f := range fields {
					if _, ok := src.schema.fields[f.Name]; !ok {
						src.schema.fields[f.Name] = f.Type
					}
				}
				keys, err := e.store.TagKeys(b, m)
				if err != nil {
					return nil, err
				}
				for _, k := range keys {
					src.schema.tags[k] = true
				}
				// A placeholder: the series of this measurement are looked up once the
				// plan knows the tag predicate.
				src.series = append(src.series, &seriesRef{bucket: b, measurement: m})
			}
		}
	}
	return src, nil
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

// filterSeries expands stored measurements into their series matching the tag
// predicate (on the index) and filters subquery series by it.
func (r *selectRun) filterSeries(src *source) ([]*seriesRef, error) {
	var out []*seriesRef
	for _, s := range src.series {
		if s.mem != nil {
			if matchTags(r.plan.tagCond, s.tags) {
				out = append(out, s)
			}
			continue
		}
		ids, err := r.e.store.SeriesIDs(s.bucket, s.measurement, r.plan.tagCond)
		if err != nil {
			return nil, err
		}
		if n := len(out) + int(ids.GetCardinality()); n > r.e.limits.MaxSeries {
			return nil, errorf("max-select-series limit exceeded: (%d/%d)", n, r.e.limits.MaxSeries)
		}
		it := ids.Iterator()
		cc := r.e.canceller(r.ctx)
		for it.HasNext() {
			if err := cc.tick(); err != nil {
				return nil, err
			}
			sid := storage.SeriesID(it.Next())
			m, tags, ok := r.e.store.Series(sid)
			if !ok {
				continue
			}
			ref := &seriesRef{bucket: s.bucket, id: sid, measurement: string(m), tags: make(map[string]string, len(tags))}
			for _, t := range tags {
				ref.tags[string(t.Key)] = string(t.Value)
			}
			ref.key = seriesKey(ref.measurement, ref.tags)
			out = append(out, ref)
		}
	}
	return out, nil
}

// matchTags evaluates a tag predicate on a tag set (for in-memory series).
func matchTags(x *storage.TagExpr, tags map[string]string) bool {
	if x == nil {
		return true
	}
	switch x.Op {
	case storage.TagAnd:
		return matchTags(x.LHS, tags) && matchTags(x.RHS, tags)
	case storage.TagOr:
		return matchTags(x.LHS, tags) || matchTags(x.RHS, tags)
	case storage.TagEq:
		return tags[x.Key] == x.Value
	case storage.TagNotEq:
		return tags[x.Key] != x.Value
	case storage.TagMatch:
		return x.Regex.MatchString(tags[x.Key])
	case storage.TagNotMatch:
		return !x.Regex.MatchString(tags[x.Key])
	}
	return false
}

func seriesKey(m string, tags map[string]string) string {
	keys := make([]string, 0, len(tags))
	for k := range tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString(m)
	for _, k := range keys {
		b.WriteByte(0)
		b.WriteString(k)
		b.WriteByte(0)
		b.WriteString(tags[k])
	}
	return b.String()
}

// groupSeries splits series into output series: by measurement and the values of
// the GROUP BY tags.
func (r *selectRun) groupSeries(refs []*seriesRef) []*group {
	sort.Slice(refs, func(i, j int) bool { return refs[i].key < refs[j].key })
	// The set of GROUP BY keys is the same for every series of a statement: with
	// GROUP BY * or a regex, the union of the matching tag keys.
	var all []string
	seen := map[string]bool{}
	for _, s := range refs {
		for k := range s.tags {
			if !seen[k] {
				seen[k] = true
				all = append(all, k)
			}
		}
	}
	sort.Strings(all)
	keys := r.plan.groupTagKeys(all)
	byKey := map[string]*group{}
	var out []*group
	for _, s := range refs {
		var tags map[string]string
		if len(keys) > 0 {
			tags = make(map[string]string, len(keys))
			for _, k := range keys {
				tags[k] = s.tags[k]
			}
		}
		k := seriesKey(s.measurement, tags)
		g := byKey[k]
		if g == nil {
			g = &group{measurement: s.measurement, tags: tags, key: k}
			byKey[k] = g
			out = append(out, g)
		}
		g.series = append(g.series, s)
	}
	// Series come in key order; under ORDER BY time DESC, InfluxDB 1.x emits them
	// in reverse key order too.
	sort.Slice(out, func(i, j int) bool {
		if r.plan.ascending {
			return out[i].key < out[j].key
		}
		return out[i].key > out[j].key
	})
	return out
}

// executeGroup computes one aggregate group's output series (raw groups stream
// through scanGroup instead).
func (r *selectRun) executeGroup(g *group) (*ResultSeries, error) {
	p := r.plan
	// One snapshot per group: its cursors (one per series and field, opened one at a
	// time by this worker) share a Pebble iterator instead of creating one each.
	if !allMem(g) {
		snap, err := r.e.store.Snapshot()
		if err != nil {
			return nil, err
		}
		defer snap.Close()
		for _, s := range g.series {
			s.snap = snap
		}
		defer func() {
			for _, s := range g.series {
				s.snap = nil
			}
		}()
	}
	rs := &ResultSeries{Name: g.measurement, Tags: g.tags, Columns: r.columnsOf()}
	mem := memOf(r.ctx)
	defer func() { mem.release(g.held); g.held = 0 }()
	rows, err := r.aggregateRows(g)
	if err != nil {
		return nil, err
	}
	if !p.ascending {
		for i, j := 0, len(rows)-1; i < j; i, j = i+1, j-1 {
			rows[i], rows[j] = rows[j], rows[i]
		}
	}
	if off := p.stmt.Offset; off > 0 {
		if off >= len(rows) {
			rows = nil
		} else {
			rows = rows[off:]
		}
	}
	if lim := p.stmt.Limit; lim > 0 && len(rows) > lim {
		rows = rows[:lim]
	}
	rs.Rows = rows
	return rs, nil
}

// holdGroup accounts n bytes of a group's working data (window inputs,
// accumulators, per-call points) until the group is done.
func (r *selectRun) holdGroup(g *group, n int64) error {
	if err := memOf(r.ctx).hold(n); err != nil {
		return err
	}
	g.held += n
	return nil
}

// ---- reading ----

// measurementInfo caches what every series of one stored measurement shares: its
// tag keys and fields, looked up once per statement instead of once per row.
type measurementInfo struct {
	tags   map[string]bool
	fields map[string]storage.FieldInfo
}

func (r *selectRun) measurementInfo(s *seriesRef) *measurementInfo {
	if s.info != nil {
		return s.info
	}
	s.info = r.lookupMeasurementInfo(s)
	return s.info
}

func (r *selectRun) lookupMeasurementInfo(s *seriesRef) *measurementInfo {
	key := strconv.FormatUint(uint64(s.bucket), 10) + "\x00" + s.measurement
	r.infoMu.Lock()
	defer r.infoMu.Unlock()
	if mi := r.infos[key]; mi != nil {
		return mi
	}
	mi := &measurementInfo{tags: map[string]bool{}, fields: map[string]storage.FieldInfo{}}
	if keys, err := r.e.store.TagKeys(s.bucket, s.measurement); err == nil {
		for _, k := range keys {
			mi.tags[k] = true
		}
	}
	if fields, err := r.e.store.Fields(s.bucket, s.measurement); err == nil {
		for _, f := range fields {
			mi.fields[f.Name] = f
		}
	}
	if r.infos == nil {
		r.infos = map[string]*measurementInfo{}
	}
	r.infos[key] = mi
	return mi
}

// readField returns the points of one field of one series within the plan's range,
// in time order (newest first if desc); at most max points when max > 0.
func (r *selectRun) readField(s *seriesRef, field string, max int, desc bool) ([]funcs.Point, error) {
	if s.mem != nil {
		var out []funcs.Point
		cc := r.e.canceller(r.ctx)
		for _, pt := range s.mem[field] {
			if err := cc.tick(); err != nil {
				return nil, err
			}
			if pt.Time >= r.plan.tr.Min && pt.Time <= r.plan.tr.Max {
				out = append(out, pt)
			}
		}
		if desc {
			reversePoints(out)
		}
		if max > 0 && len(out) > max {
			out = out[:max]
		}
		return out, nil
	}
	col, err := r.readColumn(s, field, max, desc)
	if err != nil || col == nil {
		return nil, err
	}
	return appendPoints(nil, col), nil
}

// readColumn reads one field of a stored series within the plan's range as a typed
// column, newest first if desc, at most max values when max > 0. Nil if the
// series' measurement lacks the field.
func (r *selectRun) readColumn(s *seriesRef, field string, max int, desc bool) (*block.Column, error) {
	fid, ok := r.fieldID(s, field)
	if !ok {
		return nil, nil
	}
	cur, err := r.cursor(s, fid)
	if err != nil {
		return nil, err
	}
	defer cur.Close()
	if desc {
		cur.Descending()
	}
	var out *block.Column
	cc := r.e.canceller(r.ctx)
	for cur.Next() {
		if desc && max == 1 {
			// The newest point of an untouched block is in its header: ORDER BY time
			// DESC LIMIT 1 (TSBS lastpoint) decodes nothing.
			if h := cur.Stats(); h != nil {
				if c, ok := lastOfHeader(h); ok {
					out = c
					r.stats.blocksStats.Add(1)
					break
				}
			}
		}
		col, err := cur.Column()
		if err != nil {
			return nil, err
		}
		if err := cc.add(col.Len()); err != nil {
			return nil, err
		}
		if out == nil {
			out = &block.Column{Type: col.Type}
		}
		if desc {
			n := out.Len()
			for i := col.Len() - 1; i >= 0 && (max <= 0 || out.Len() < max); i-- {
				out.AppendRow(col, i)
			}
			out.OwnStrings(n) // the cursor reuses its decode buffer
		} else {
			n, start := col.Len(), out.Len()
			if max > 0 && out.Len()+n > max {
				n = max - out.Len()
			}
			out.AppendRows(col, 0, n)
			out.OwnStrings(start) // the cursor reuses its decode buffer
		}
		if max > 0 && out.Len() >= max {
			break
		}
	}
	r.stats.blocksDecoded.Add(int64(cur.BlocksDecoded()))
	if err := cur.Err(); err != nil {
		return nil, err
	}
	if out == nil {
		return nil, nil
	}
	r.stats.points.Add(int64(out.Len()))
	if lim := r.e.limits.MaxPoints; lim > 0 && r.stats.points.Load() > lim {
		return nil, errorf("max-select-point limit exceeded: (%d/%d)", r.stats.points.Load(), lim)
	}
	return out, nil
}

// cursor opens a cursor over one field of a stored series within the plan's range,
// through the series' group snapshot when it has one.
func (r *selectRun) cursor(s *seriesRef, fid storage.FieldID) (*storage.Cursor, error) {
	if s.snap != nil {
		return s.snap.NewCursor(s.bucket, s.id, fid, r.plan.tr.Min, r.plan.tr.Max)
	}
	return r.e.store.NewCursor(s.bucket, s.id, fid, r.plan.tr.Min, r.plan.tr.Max)
}

func allMem(g *group) bool {
	for _, s := range g.series {
		if s.mem == nil {
			return false
		}
	}
	return true
}

// lastOfHeader returns a block's newest value from its header (numeric types).
func lastOfHeader(h *block.Header) (*block.Column, bool) {
	c := &block.Column{Type: h.Type, Times: []int64{h.MaxTime}}
	switch h.Type {
	case block.Float:
		c.Floats = []float64{h.FLast}
	case block.Integer:
		c.Ints = []int64{h.ILast}
	case block.Unsigned:
		c.Uints = []uint64{h.ULast}
	default:
		return nil, false
	}
	return c, true
}

// cell boxes row i of a column.
func cell(c *block.Column, i int) any {
	switch c.Type {
	case block.Float:
		return c.Floats[i]
	case block.Integer:
		return c.Ints[i]
	case block.Unsigned:
		return c.Uints[i]
	case block.String:
		return string(c.Strings[i])
	case block.Boolean:
		return c.Bools[i]
	}
	return nil
}

func reversePoints(p []funcs.Point) {
	for i, j := 0, len(p)-1; i < j; i, j = i+1, j-1 {
		p[i], p[j] = p[j], p[i]
	}
}

// fieldID finds the ID of a stored series' field.
func (r *selectRun) fieldID(s *seriesRef, field string) (storage.FieldID, bool) {
	f, ok := r.measurementInfo(s).fields[field]
	return f.ID, ok
}

func appendPoints(out []funcs.Point, c *block.Column) []funcs.Point {
	for i, t := range c.Times {
		var v any
		switch c.Type {
		case block.Float:
			v = c.Floats[i]
		case block.Integer:
			v = c.Ints[i]
		case block.Unsigned:
			v = c.Uints[i]
		case block.String:
			v = string(c.Strings[i])
		case block.Boolean:
			v = c.Bools[i]
		}
		out = append(out, funcs.Point{Time: t, Value: v})
	}
	return out
}

// seriesRow is one timestamp of one series with the values of the fields read,
// indexed like the fields list it was read with.
type seriesRow struct {
	time   int64
	vals   []any
	series *seriesRef
}

// rowReader reads rows of given fields; index maps a field name to its position.
// cols, set by layout, says per select-list expression where its value comes
// from, so that the row loop does no name lookups.
type rowReader struct {
	fields []string
	index  map[string]int
	cols   []exprSource
	sel    []int // the fields the expressions read: a row with one of them prints
}

type exprSource struct {
	field int               // index into fields for a plain field reference, else -1
	cast  influxql.DataType // the reference's ::type
	tag   bool              // a plain tag reference
	name  string            // the tag's name
}

// layout resolves each expression of a series' rows once.
func (rr *rowReader) layout(exprs []influxql.Expr, s *seriesRef, r *selectRun) {
	rr.cols = make([]exprSource, len(exprs))
	seen := map[int]bool{}
	for _, ex := range exprs {
		influxql.Walk(ex, func(n influxql.Node) {
			v, ok := n.(*influxql.VarRef)
			if !ok || v.Type == influxql.Tag || v.Type != influxql.AnyField && r.isTagOf(s, v.Val) {
				return
			}
			if k, ok := rr.index[v.Val]; ok && !seen[k] {
				seen[k] = true
				rr.sel = append(rr.sel, k)
			}
		})
	}
	for i, ex := range exprs {
		rr.cols[i] = exprSource{field: -1}
		v, ok := ex.(*influxql.VarRef)
		if !ok {
			continue
		}
		// A typed reference (SELECT * of a key that is both) reads what it names.
		if v.Type == influxql.Tag || v.Type != influxql.AnyField && r.isTagOf(s, v.Val) {
			rr.cols[i].tag, rr.cols[i].name = true, v.Val
		} else if k, ok := rr.index[v.Val]; ok {
			rr.cols[i].field, rr.cols[i].cast = k, v.Type
		}
	}
}

func newRowReader(fields []string) *rowReader {
	rr := &rowReader{fields: fields, index: make(map[string]int, len(fields))}
	for i, f := range fields {
		rr.index[f] = i
	}
	return rr
}

// value resolves a name in a row: a field read, else a tag of the row's series.
func (rr *rowReader) value(row *seriesRow, name string) any {
	if i, ok := rr.index[name]; ok {
		return row.vals[i]
	}
	if v, ok := row.series.tags[name]; ok {
		return v
	}
	return nil
}

// memTimesColumn is a column of a subquery series' row times within the range
// (values unused), in time order: a fieldStream walks it backwards when desc.
func (r *selectRun) memTimesColumn(s *seriesRef) *block.Column {
	c := &block.Column{Type: block.Boolean}
	for _, t := range s.memTimes {
		if t >= r.plan.tr.Min && t <= r.plan.tr.Max && (len(c.Times) == 0 || t != c.Times[len(c.Times)-1]) {
			c.Times = append(c.Times, t)
			c.Bools = append(c.Bools, false)
		}
	}
	return c
}

// pointsColumn turns in-memory points (a subquery's column) into a typed column of
// the first point's type. A subquery column mixing types keeps only the values of
// that type.
func pointsColumn(pts []funcs.Point) *block.Column {
	c := &block.Column{}
	if len(pts) == 0 {
		return c
	}
	c.Type = block.Type(funcs.TypeOf(pts[0].Value))
	for _, p := range pts {
		if block.Type(funcs.TypeOf(p.Value)) != c.Type {
			continue // a subquery column mixing types: keep the first type's values
		}
		c.Times = append(c.Times, p.Time)
		switch v := p.Value.(type) {
		case float64:
			c.Floats = append(c.Floats, v)
		case int64:
			c.Ints = append(c.Ints, v)
		case uint64:
			c.Uints = append(c.Uints, v)
		case string:
			c.Strings = append(c.Strings, []byte(v))
		case bool:
			c.Bools = append(c.Bools, v)
		}
	}
	return c
}

// neededFields lists the stored fields an expression list reads (not tags).
func (r *selectRun) neededFields(exprs []influxql.Expr, s *seriesRef) []string {
	seen := map[string]bool{}
	var out []string
	add := func(n influxql.Node) {
		if v, ok := n.(*influxql.VarRef); ok && (v.Type == influxql.AnyField || v.Type != influxql.Tag && !r.isTagOf(s, v.Val)) && !seen[v.Val] {
			seen[v.Val] = true
			out = append(out, v.Val)
		}
	}
	for _, ex := range exprs {
		influxql.Walk(ex, add)
	}
	if r.plan.fieldCond != nil {
		influxql.Walk(r.plan.fieldCond, add)
	}
	sort.Strings(out)
	return out
}

func (r *selectRun) isTagOf(s *seriesRef, name string) bool {
	if _, ok := s.tags[name]; ok {
		if s.mem == nil {
			// A field of the same name wins, as in 1.x (k::tag reads the tag).
			_, isField := r.measurementInfo(s).fields[name]
			return !isField
		}
		return true
	}
	if s.mem != nil {
		_, isField := s.mem[name]
		return !isField
	}
	// A tag key of the measurement that this series lacks is still a tag.
	return r.measurementInfo(s).tags[name]
}

// ---- raw queries: stream.go ----

// ---- aggregates ----

// windowOf returns the start of the GROUP BY time window holding t.
func (r *selectRun) windowOf(t int64) int64 {
	p := r.plan
	if p.interval <= 0 {
		return r.rangeStart()
	}
	iv, off := int64(p.interval), int64(p.offset)
	if p.loc != nil && p.loc != time.UTC && p.interval%(24*time.Hour) == 0 {
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

// nextWindow returns the start of the window after the one starting at ws.
func (r *selectRun) nextWindow(ws int64) int64 {
	p := r.plan
	if p.loc != nil && p.loc != time.UTC && p.interval%(24*time.Hour) == 0 {
		return r.windowOf(ws + int64(p.interval) + int64(2*time.Hour))
	}
	return ws + int64(p.interval)
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

// transformLead is how many GROUP BY time windows before the range a
// transformation of an aggregate needs, as InfluxDB 1.x reads them: one for
// derivative, difference and elapsed, N-1 for moving_average(_, N).
func transformLead(c *callPlan) int64 {
	if c.rawTrans {
		return 0
	}
	switch c.transform {
	case "derivative", "non_negative_derivative", "difference", "non_negative_difference", "elapsed":
		return 1
	case "moving_average":
		if len(c.targs) > 0 {
			if n, ok := c.targs[0].(int64); ok && n > 1 {
				return n - 1
			}
		}
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

// extendForTransforms moves the start of a GROUP BY time range back by the
// windows the transformations need, so that the first window of the range has
// its predecessors (filled as the statement says); rows before the range are
// dropped again in aggregateRows.
func (r *selectRun) extendForTransforms() {
	p := r.plan
	if p.interval <= 0 || !p.tr.HasMin() || r.implicitStart || !p.ascending {
		return
	}
	var lead int64
	for _, c := range p.calls {
		lead = max(lead, transformLead(c))
	}
	if lead == 0 {
		return
	}
	first := r.windowOf(p.tr.Min)
	ext := first - lead*int64(p.interval)
	if ext > first { // overflow near the start of time: leave the range alone
		return
	}
	r.keepFrom = &first
	p.tr.Min = ext
}

// callResult is one call's output for one group: points in time order.
type callResult struct {
	byWindow map[int64][]funcs.Point
}

func (r *selectRun) aggregateRows(g *group) ([]Row, error) {
	p := r.plan
	for range g.series {
		r.stats.series.Add(1)
	}
	// Aux references: VarRefs outside calls, filled from the selected point.
	auxNames := auxRefs(p.exprs)
	results := make([]*callResult, len(p.calls))
	windows := map[int64]bool{}
	for ci, c := range p.calls {
		res, err := r.computeCall(g, c, auxNames)
		if err != nil {
			return nil, err
		}
		results[ci] = res
		for ws := range res.byWindow {
			windows[ws] = true
		}
	}
	if len(windows) == 0 {
		return nil, nil
	}
	// The windows to print: with fill other than none, every window of the range.
	var starts []int64
	if p.interval > 0 && p.fill != influxql.NoFill {
		first, last := int64(math.MaxInt64), int64(math.MinInt64)
		for ws := range windows {
			first = min(first, ws)
			last = max(last, ws)
		}
		if p.tr.HasMin() && !r.implicitStart {
			first = r.windowOf(p.tr.Min)
		}
		end := p.tr.Max
		if !p.tr.HasMax() {
			end = r.now.UnixNano()
		}
		last = max(last, r.windowOf(end))
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
	} else {
		for ws := range windows {
			starts = append(starts, ws)
		}
		sort.Slice(starts, func(i, j int) bool { return starts[i] < starts[j] })
	}

	if err := r.holdGroup(g, int64(len(starts))*startBytes); err != nil {
		return nil, err
	}
	// One series of points per call, fill applied, then transformations.
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
	rows := r.mergeCallRows(perCall, auxNames)
	if r.keepFrom != nil {
		i := 0
		for i < len(rows) && rows[i].Time < *r.keepFrom {
			i++
		}
		rows = rows[i:]
	}
	return rows, stopErr(r.ctx) // mergeCallRows looks at the context too
}

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
		if len(aux) == 0 && r.plan.fieldCond == nil && (c.name != "top" && c.name != "bottom" || !hasStringArgs(c.args)) {
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

// accumulate is the hot path: partial states per window (aggregate.go), fed
// block by block, answering from block headers when a block lies in one window.
func (r *selectRun) accumulate(g *group, c *callPlan) (*callResult, error) {
	if c.name == "integral" && len(g.series) > 1 {
		// InfluxDB integrates the group's time-merged points; per-series
		// integral partials overlap in time and do not merge.
		return r.windowCall(g, c, nil)
	}
	w, mixed, err := r.groupStates(g, c)
	if err != nil {
		return nil, err
	}
	if mixed {
		// Series storing the field in different types: the window function
		// reports them as InfluxDB does.
		return r.windowCall(g, c, nil)
	}
	return w.result(), nil
}

// accumulateSeries folds one series' values of c's field into the window
// states.
func (r *selectRun) accumulateSeries(s *seriesRef, c *callPlan, w *windowStates, points *int64) error {
	p := r.plan
	fid, ok := r.fieldID(s, c.field)
	if !ok {
		return nil
	}
	cur, err := r.cursor(s, fid)
	if err != nil {
		return err
	}
	defer cur.Close()
	var desc []*block.Column
	cc := r.e.canceller(r.ctx)
	for cur.Next() {
		if err := stopErr(r.ctx); err != nil {
			return err
		}
		if h := cur.Stats(); h != nil && c.path == pathHeaders && (p.interval <= 0 || r.windowOf(h.MinTime) == r.windowOf(h.MaxTime)) {
			ok, err := w.addStats(r.windowOf(h.MinTime), statsOf(h))
			if err != nil {
				return err
			}
			if ok {
				r.stats.blocksStats.Add(1)
				*points += int64(h.Count)
				continue
			}
		}
		col, err := cur.Column()
		if err != nil {
			return err
		}
		*points += int64(col.Len())
		if err := cc.add(col.Len()); err != nil {
			return err
		}
		if !p.ascending {
			// ORDER BY time DESC: InfluxDB folds the points newest first, and float
			// sums depend on the order; feed them reversed, last chunk first.
			desc = append(desc, reversedColumn(col))
			continue
		}
		if err := r.feed(col, w); err != nil {
			return err
		}
	}
	for i := len(desc) - 1; i >= 0; i-- {
		if err := r.feed(desc[i], w); err != nil {
			return err
		}
	}
	r.stats.blocksDecoded.Add(int64(cur.BlocksDecoded()))
	return cur.Err()
}

// feed folds a column into the states of its windows; its times run in one
// direction (ascending, or descending for ORDER BY DESC).
func (r *selectRun) feed(col *block.Column, w *windowStates) error {
	n := col.Len()
	for i := 0; i < n; {
		ws := r.windowOf(col.Times[i])
		j := n
		if r.plan.interval > 0 {
			j = i + 1
			if r.plan.ascending {
				end := r.nextWindow(ws)
				j = i + sort.Search(n-i, func(k int) bool { return col.Times[i+k] >= end })
			} else {
				for j < n && col.Times[j] >= ws {
					j++
				}
			}
			if j <= i {
				j = i + 1
			}
		}
		if err := w.add(ws, col, i, j); err != nil {
			return err
		}
		i = j
	}
	return nil
}

func reversedColumn(c *block.Column) *block.Column {
	out := &block.Column{Type: c.Type}
	for i := c.Len() - 1; i >= 0; i-- {
		out.Times = append(out.Times, c.Times[i])
		switch c.Type {
		case block.Float:
			out.Floats = append(out.Floats, c.Floats[i])
		case block.Integer:
			out.Ints = append(out.Ints, c.Ints[i])
		case block.Unsigned:
			out.Uints = append(out.Uints, c.Uints[i])
		case block.String:
			out.Strings = append(out.Strings, c.Strings[i])
		case block.Boolean:
			out.Bools = append(out.Bools, c.Bools[i])
		}
	}
	return out
}

func statsOf(h *block.Header) funcs.Stats {
	return funcs.Stats{
		Type: uint8(h.Type), Count: h.Count, MinTime: h.MinTime, MaxTime: h.MaxTime,
		FMin: h.FMin, FMax: h.FMax, FSum: h.FSum, FFirst: h.FFirst, FLast: h.FLast,
		IMin: h.IMin, IMax: h.IMax, ISum: h.ISum, IFirst: h.IFirst, ILast: h.ILast,
		UMin: h.UMin, UMax: h.UMax, USum: h.USum, UFirst: h.UFirst, ULast: h.ULast,
	}
}

// assembleCall turns one call's per-window results into its output points: times
// per InfluxDB's rules, fill applied, then the transformation if any.
func (r *selectRun) assembleCall(c *callPlan, res *callResult, starts []int64, ncalls int) ([]funcs.Point, error) {
	p := r.plan
	if c.path == pathRawTransform {
		var pts []funcs.Point
		for _, ws := range starts {
			pts = append(pts, res.byWindow[ws]...)
		}
		return c.tfunc(pts)
	}
	// A lone selector without GROUP BY time keeps its point's time; everything else
	// is timed at the window (or range) start.
	ownTime := p.interval <= 0 && ncalls == 1 && c.fn.Kind == funcs.Selector && c.transform == ""
	if c.fn.MultiRow && c.name != "distinct" {
		ownTime = true
	}
	var pts []funcs.Point
	var prev *funcs.Point
	cc := r.e.canceller(r.ctx)
	for _, ws := range starts {
		if err := cc.tick(); err != nil {
			return nil, err
		}
		got := res.byWindow[ws]
		if len(got) == 0 {
			switch p.fill {
			case influxql.NoFill:
				continue
			case influxql.NullFill:
				if (c.name == "count" || c.name == "count_distinct") && p.interval > 0 && len(res.byWindow) > 0 {
					// An empty window of a field the group has counts zero points:
					// InfluxDB prints 0, not null.
					pts = append(pts, funcs.Point{Time: ws, Value: int64(0)})
				} else {
					pts = append(pts, funcs.Point{Time: ws})
				}
			case influxql.NumberFill:
				pts = append(pts, funcs.Point{Time: ws, Value: fillNumber(p.fillValue, res)})
			case influxql.PreviousFill:
				if prev != nil {
					pts = append(pts, funcs.Point{Time: ws, Value: prev.Value, Aux: prev.Aux})
				} else {
					pts = append(pts, funcs.Point{Time: ws})
				}
			case influxql.LinearFill:
				pts = append(pts, funcs.Point{Time: ws, Value: linearMarker{}})
			}
			continue
		}
		for _, pt := range got {
			if !ownTime {
				pt.Time = ws
			}
			pts = append(pts, pt)
		}
		last := got[len(got)-1]
		prev = &last
	}
	if p.fill == influxql.LinearFill {
		interpolate(pts)
	}
	if c.transform == "" {
		return pts, nil
	}
	return c.tfunc(pts)
}

type linearMarker struct{}

// interpolate replaces linear-fill markers with values on the line between the
// nearest windows with values; markers without both neighbours become null.
func interpolate(pts []funcs.Point) {
	for i := range pts {
		if _, ok := pts[i].Value.(linearMarker); !ok {
			continue
		}
		pts[i].Value = nil
		var l, h = -1, -1
		for j := i - 1; j >= 0; j-- {
			if _, ok := pts[j].Value.(linearMarker); !ok && pts[j].Value != nil {
				l = j
				break
			}
		}
		for j := i + 1; j < len(pts); j++ {
			if _, ok := pts[j].Value.(linearMarker); !ok && pts[j].Value != nil {
				h = j
				break
			}
		}
		if l < 0 || h < 0 {
			continue
		}
		lv, lok := toFloat(pts[l].Value)
		hv, hok := toFloat(pts[h].Value)
		if !lok || !hok {
			continue
		}
		frac := float64(pts[i].Time-pts[l].Time) / float64(pts[h].Time-pts[l].Time)
		v := lv + (hv-lv)*frac
		if _, isInt := pts[l].Value.(int64); isInt {
			pts[i].Value = int64(v)
		} else {
			pts[i].Value = v
		}
	}
}

// fillNumber converts the fill(<number>) value to the type of the call's other
// windows, as InfluxDB's fill iterators do (fill(2.5) on sum(int) prints 2): a
// fill value of another type would make SELECT INTO write a conflicting field.
func fillNumber(v any, res *callResult) any {
	var like any
	for _, pts := range res.byWindow {
		for _, pt := range pts {
			if pt.Value != nil {
				like = pt.Value
				break
			}
		}
		if like != nil {
			break
		}
	}
	f, ok := toFloat(v)
	if !ok {
		return v
	}
	switch like.(type) {
	case float64:
		return f
	case int64:
		if i, isInt := v.(int64); isInt {
			return i
		}
		return int64(f)
	case uint64:
		if f < 0 {
			return uint64(0)
		}
		return uint64(f)
	}
	return v
}

func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case int64:
		return float64(x), true
	case uint64:
		return float64(x), true
	}
	return 0, false
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
		auxOffset = len(topTagArgs(p.calls[0]))
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
	// top/bottom with tag arguments print those tags as columns after the value.
	if len(p.calls) == 1 && len(topTagArgs(p.calls[0])) > 0 && len(vals) == 1 {
		tagVals := vals[0].Aux
		n := len(topTagArgs(p.calls[0]))
		if len(tagVals) >= n {
			rest := append([]any(nil), row.Values[p.extraAt:]...)
			row.Values = append(append(row.Values[:p.extraAt], tagVals[:n]...), rest...)
		}
	}
	return row
}

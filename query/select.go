package query

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/strata-db/strata/query/funcs"
	"github.com/strata-db/strata/query/influxql"
	"github.com/strata-db/strata/storage"
)

// The SELECT pipeline, in the order its operators run (one file each):
//
//	plan.go        prepareSelect: the statement planned once into a selectPlan
//	source.go      resolveSources: FROM resolved to series and schema (subqueries run)
//	series.go      filterSeries, groupSeries: tag predicate, output series
//	limit.go       limitSeries: SLIMIT/SOFFSET over the groups
//	window.go      limitImplicitStart; transform.go extendForTransforms: the range read
//	stream.go      streamGroups: groups in parallel, output in order, in batches
//
// then per group, raw (merge.go scanGroup):
//
//	scan.go, fieldstream.go  cursor -> one field's points, a block at a time
//	filter.go      rowStream: fields joined into rows by time, WHERE field condition
//	merge.go       groupStream: the series' rows merged by time, OFFSET/LIMIT, projected
//
// or aggregate (executeGroup below):
//
//	call.go        aggregateRows, computeCall: each call for every window, by its path:
//	aggregate.go     partial states fed by columns and block headers (scan.go, column.go)
//	call.go          windowCall: the window function over collected points (filter.go rows)
//	call.go          a transformation over raw values: the group's points as one window
//	window.go      windowStarts: the windows to print
//	fill.go        assembleCall: points timed, empty windows filled, then the call's
//	                 transformation (its query/funcs entry) if any
//	project.go     mergeCallRows, buildRow: calls joined on time, select list evaluated
//	transform.go   dropLead: the windows read before the range for a transformation dropped
//	(DESC)         executeGroup reverses the rows
//	limit.go       limitRows: OFFSET/LIMIT
//
// executeSelect and streamSelect below are the driver.

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
	remote      *remote           // a series of another node (fanout.go); mem holds its raw points
}

// group is the set of input series that make one output series.
type group struct {
	measurement string
	tags        map[string]string
	key         string
	series      []*seriesRef
	held        int64 // bytes of transient data accounted while it runs (holdGroup)
	// lend says windowRows may build the rows in lent arrays (rowlend.go);
	// lent is them, given back when the group's pieces are written.
	lend bool
	lent *rowBuf
	// ident is the group's series identity for the result cache, made once
	// (groupIdentity).
	identOnce sync.Once
	ident     groupIdent
}

// execStats counts what a SELECT touched, for EXPLAIN ANALYZE and limits.
type execStats struct {
	series        atomic.Int64
	blocksDecoded atomic.Int64
	blocksStats   atomic.Int64
	points        atomic.Int64
	// windowsCached of windowsCacheable came from the result cache (cached.go).
	windowsCached, windowsCacheable atomic.Int64
	// cacheUnadmitted: groups (and calls) run without the cache at their
	// key's first sight, or one whose range is apart from the last's
	// (resultcache.Cache.Admit).
	cacheUnadmitted atomic.Int64
	// rowsRejoined: groups whose cached rows came in too many pieces and
	// were copied side by side (rowcache.go, rejoin).
	rowsRejoined atomic.Int64
}

// source is the resolved input of a SELECT: its series and their union schema.
type source struct {
	series      []*seriesRef
	schema      *schema
	subqueries  []*selectPlan // the plans of the FROM subqueries, for EXPLAIN
	rollupNotes []string      // what real-time rollups (rollup.go) replaced, for EXPLAIN
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

	warnings []string // nodes missing from a partial=true answer (fanout.go)

	// cacheSeq is the result cache's generation, read before any group's
	// snapshot is opened: it stamps the windows this run computes
	// (docs/cache.md). rowEnc renders the rows the cache keeps (rowcache.go);
	// nil: the run's rows are not cached.
	cacheSeq uint64
	rowEnc   RowEncoder
	// cacheRun is what every group's cache lookup shares, made once
	// (cached.go): the windows and the row key's statement part.
	cacheRunOnce sync.Once
	cacheRun     cacheRun
	geometryOnce sync.Once
	geometry     string // windowGeometry's, made once per run
	columnsOnce  sync.Once
	columns      []string // columnsOf's, made once per run: every series shares it

	layoutMu sync.Mutex
	layouts  []sharedLayout // see rowReaderFor

	// lendRows: the sink borrows rows (RowsBorrower) and the groups run
	// inline (streamGroupsInline), so a group's pieces are written before
	// its arrays are given back.
	lendRows bool

	// spare is how many cores each group may use, GOMAXPROCS over the
	// groups (streamGroups); above 1 a sketch call splits its series
	// (sketchsplit.go).
	spare int
}

func (e *Executor) executeSelect(ctx context.Context, stmt *influxql.SelectStatement, opts ExecOptions, out *stmtSink) (*StatementResult, error) {
	if err := stmt.Validate(funcs.Registry{}); err != nil {
		return nil, err
	}
	stats := &execStats{}
	if stmt.Target != nil {
		// The whole set's rows, written here; never from some nodes only,
		// which would store an incomplete aggregate without a warning.
		opts.AllowPartial = false
	}
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
		run.rowEnc = opts.RowEncoder
		_, run.lendRows = out.sink.(RowsBorrower)
		if err := run.streamGroups(groups, out.send); err != nil {
			return nil, err
		}
	}
	res := &StatementResult{Location: stmt.Location}
	if run != nil {
		for _, w := range run.warnings {
			res.Messages = append(res.Messages, ResponseMessage{Level: "warning", Text: w})
		}
		res.Incomplete = len(run.warnings) > 0
	}
	return res, nil
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
	if e.cache != nil {
		run.cacheSeq = e.cache.Seq() // before any data is read
	}
	refs, err := run.filterSeries(plan.src)
	if err != nil {
		return nil, nil, nil, err
	}
	others, err := run.remoteSeries()
	if err != nil {
		return nil, nil, nil, err
	}
	refs = append(refs, others...)
	if plan.fanout != nil {
		run.warnings = missingWarnings(plan.fanout.missing)
	}
	groups := run.groupSeries(refs)
	if !opts.partialExec { // SLIMIT is the receiver's, over every node's groups
		groups = plan.limitSeries(groups)
	}
	// The windows read beyond the statement's range (EXPLAIN prints that
	// range): on a copy, so the plan stays what was prepared.
	read := *plan
	run.plan = &read
	run.limitImplicitStart()
	run.extendForTransforms()
	return run, refs, groups, nil
}

// executeGroup computes one aggregate group's output series (raw groups stream
// through scanGroup instead): window/aggregate, fill, transform and project in
// aggregateRows (call.go), then order and OFFSET/LIMIT.
func (r *selectRun) executeGroup(g *group) (*ResultSeries, error) {
	p := r.plan
	snap, err := r.openSnapshot(g)
	if err != nil {
		return nil, err
	}
	defer closeSnapshot(g, snap)
	rs := &ResultSeries{Name: g.measurement, Tags: g.tags, Columns: r.columnsOf()}
	mem := memOf(r.ctx)
	defer func() { mem.release(g.held); g.held = 0 }()
	rows, cached, err := r.cachedRows(g)
	if !cached && err == nil {
		// Lent only here: the rows the result cache's path builds, it keeps.
		g.lend = r.lendRows
		rows, err = r.aggregateRows(g)
		g.lend = false
	}
	if err != nil {
		return nil, err
	}
	if !p.ascending {
		for i, j := 0, len(rows)-1; i < j; i, j = i+1, j-1 {
			rows[i], rows[j] = rows[j], rows[i]
		}
	}
	rs.Rows = limitRows(rows, p.stmt.Offset, p.stmt.Limit)
	return rs, nil
}

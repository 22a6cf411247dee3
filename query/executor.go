package query

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/strata-db/strata/query/influxql"
	"github.com/strata-db/strata/query/resultcache"
	"github.com/strata-db/strata/storage"
)

// Store is what the query engine needs from the storage engine.
type Store interface {
	CreateDatabase(name string, rp *storage.RetentionPolicy) error
	DropDatabase(name string) error
	Databases() []string
	RetentionPolicies(db string) ([]storage.RetentionPolicyInfo, error)
	CreateRetentionPolicy(db string, rp storage.RetentionPolicy, makeDefault bool) error
	AlterRetentionPolicy(db, name string, u storage.RetentionPolicyUpdate) error
	DropRetentionPolicy(db, name string) error
	Bucket(db, rp string) (storage.BucketID, error)

	Measurements(b storage.BucketID) ([]string, error)
	Fields(b storage.BucketID, m string) ([]storage.FieldInfo, error)
	TagKeys(b storage.BucketID, m string) ([]string, error)
	TagValues(b storage.BucketID, m, k string) ([]string, []*roaring.Bitmap, error)
	SeriesIDs(b storage.BucketID, m string, expr *storage.TagExpr) (*roaring.Bitmap, error)
	Series(id storage.SeriesID) (m []byte, tags []storage.Tag, ok bool)
	NewCursor(b storage.BucketID, s storage.SeriesID, f storage.FieldID, min, max int64) (*storage.Cursor, error)
	Snapshot() (*storage.Snapshot, error)
	HasPoints(b storage.BucketID, s storage.SeriesID, f storage.FieldID, min, max int64) (bool, error)

	DropMeasurement(b storage.BucketID, m string) error
	DropSeries(b storage.BucketID, m string, expr *storage.TagExpr) (int, error)
	Delete(b storage.BucketID, m string, expr *storage.TagExpr, min, max int64) error

	NewBatch(b storage.BucketID) (*storage.Batch, error)
	Write(b *storage.Batch) (storage.WriteResult, error)
}

// Limits bound what one query may cost. Zero values take the defaults.
type Limits struct {
	// MaxSeries is the most series one SELECT may read (0: 1,000,000).
	MaxSeries int
	// MaxPoints is the most points one SELECT may read, across series (0: no limit
	// beyond MaxBuckets; raw queries stream).
	MaxPoints int64
	// MaxBuckets is the most GROUP BY time windows one series may produce (0:
	// 1,000,000): GROUP BY time(1ns) over a day must fail cleanly, not exhaust
	// memory.
	MaxBuckets int64
	// Timeout ends a statement that runs longer (0: none).
	Timeout time.Duration
	// MaxMemory is the most memory, in bytes, one query may hold (see Budget;
	// 0: no limit).
	MaxMemory int64
}

// Executor runs parsed InfluxQL statements against a Store.
type Executor struct {
	store   Store
	log     *slog.Logger
	limits  Limits
	now     func() time.Time
	queries *queryRegistry
	started time.Time // for SHOW DIAGNOSTICS' uptime

	rowsExamined atomic.Int64 // see RowsExamined

	users UserStore // see SetUsers; nil: user statements fail

	cqs ContinuousQueries // see SetContinuousQueries; nil: CQ statements fail

	cache   *resultcache.Cache // see SetResultCache; nil: no result cache
	lookups lookupPool         // the row cache's lookup slices, reused

	fanout  Fanout  // see SetFanout; nil: this node alone
	rollups Rollups // see SetRollups; nil: rollups read as stored

	// denseBufs holds *denseBufs: the arrays of dense window states and
	// results (aggregate.go), reused by the next group's call.
	denseBufs sync.Pool
	// rowBufs holds *rowBuf: a group's row arrays, lent when the sink
	// borrows rows (rowlend.go).
	rowBufs sync.Pool
	metas   seriesMetas // stored series' keys, parsed (series.go)
	// generalRows makes every aggregate's rows through assembleCall and
	// mergeCallRows, never windowRows: tests compare the two.
	generalRows bool
}

// NewExecutor returns an executor over store.
func NewExecutor(store Store, log *slog.Logger, limits Limits) *Executor {
	if limits.MaxSeries <= 0 {
		limits.MaxSeries = 1_000_000
	}
	if limits.MaxBuckets <= 0 {
		limits.MaxBuckets = 1_000_000
	}
	if log == nil {
		log = slog.Default()
	}
	return &Executor{store: store, log: log, limits: limits, now: time.Now, queries: newQueryRegistry(), started: time.Now()}
}

// ExecOptions are the request-level settings of one query.
type ExecOptions struct {
	Database        string // db parameter: default database
	RetentionPolicy string // rp parameter: default retention policy
	Now             time.Time
	// Auth is who runs the query (nil: authentication disabled, everything
	// allowed); each statement is authorized before it runs.
	Auth Authorizer
	// Budget accounts the query's memory; nil: Execute makes one from the
	// executor's limits. A caller that also buffers the answer (httpapi's
	// non-chunked renderer) passes the budget it accounts that buffer in.
	Budget *Budget
	// AllowPartial (partial=true) answers from the nodes that answered when
	// a peer does not, with a warning naming it (fanout.go).
	AllowPartial bool
	partialExec  bool // ExecutePartial: this node's share only, no fan-out
	// noFanout: this node's data only. A plain EXPLAIN (the peers are
	// named, not asked), and a continuous query written into this node's
	// engine (RunContinuousQueryTo without a sink: a set without Kafka
	// ingest runs its CQs on every node over its own data; with it, one
	// runner fans out and publishes: services/cq/cluster.go).
	noFanout bool
	// Rollups: RollupsRealTime ("" too) or RollupsStored, see rollup.go.
	Rollups string
	// RowEncoder, when the executor has a result cache, lets it keep and
	// serve whole rendered rows of GROUP BY time aggregates (rowcache.go):
	// the rows it serves come with Row.Encoded set by this encoder, so the
	// caller's sink must print Encoded as is. nil: rows always carry values.
	RowEncoder RowEncoder
}

// errorf makes a statement error: reported in results[i].error, not as an HTTP
// failure.
func errorf(format string, args ...any) error { return fmt.Errorf(format, args...) }

// Execute runs every statement of q in order, streaming each one's results into
// sink as they are produced (see ResultSink for the protocol). After a failing
// statement the rest are not run (InfluxDB 1.x behaves so). The error is the
// sink's, or the context's when the query was stopped between statements; a
// statement's own failure is its result's Err.
func (e *Executor) Execute(ctx context.Context, q *influxql.Query, opts ExecOptions, sink ResultSink) error {
	if opts.Now.IsZero() {
		opts.Now = e.now()
	}
	if opts.Budget == nil {
		opts.Budget = e.NewBudget()
	}
	ctx, done := e.queries.register(ctx, q.String(), opts.Database)
	defer done()
	for i, stmt := range q.Statements {
		out := &stmtSink{sink: sink, id: i}
		mem := &stmtMem{b: opts.Budget}
		var res *StatementResult
		if err := authorize(stmt, opts); err != nil {
			res = &StatementResult{Err: err.Error()}
		} else {
			res = e.executeStatement(withMem(ctx, mem), stmt, opts, out)
		}
		mem.end() // the final piece is plain data now: rendering it is the sink's
		if out.err != nil {
			return out.err // the sink failed: nobody to answer
		}
		res.StatementID = i
		if err := sink.WriteResult(res); err != nil {
			return err
		}
		if res.Err != "" {
			break
		}
	}
	return nil
}

func (e *Executor) executeStatement(ctx context.Context, stmt influxql.Statement, opts ExecOptions, out *stmtSink) *StatementResult {
	if e.limits.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, e.limits.Timeout, errTimeout)
		defer cancel()
	}
	var res *StatementResult
	var err error
	switch s := stmt.(type) {
	case *influxql.SelectStatement:
		res, err = e.executeSelect(ctx, s, opts, out)
	case *influxql.ExplainStatement:
		res, err = e.executeExplain(ctx, s, opts)
	default:
		var merged bool
		if res, merged, err = e.showFanout(ctx, stmt, opts); !merged {
			res, err = e.executeMeta(ctx, stmt, opts)
		}
	}
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
			// A loop that returned the bare context error: say why it stopped.
			if stop := stopErr(ctx); stop != nil {
				err = stop
			}
		}
		return &StatementResult{Err: err.Error()}
	}
	if res == nil {
		res = &StatementResult{}
	}
	return res
}

// stmtSink is one statement's way into the query's sink: it numbers the pieces a
// streaming statement sends before its final result and remembers a sink failure.
type stmtSink struct {
	sink ResultSink
	id   int
	loc  *time.Location
	err  error
}

// send hands one series piece to the sink as a partial result of the statement.
func (o *stmtSink) send(s *ResultSeries) error {
	if o.err != nil {
		return o.err
	}
	err := o.sink.WriteResult(&StatementResult{StatementID: o.id, Series: []*ResultSeries{s}, Partial: true, Location: o.loc})
	if errors.Is(err, ErrMemoryBudget) {
		return err // the statement fails with it; the sink still takes its answer
	}
	o.err = err
	return err
}

// IsMutation tells the statements that change something: data, schema, users,
// or the running queries (KILL). The /query handler refuses them over GET;
// InfluxDB 1.x only warns. DELETE is one, although 1.x does not even warn.
func IsMutation(stmt influxql.Statement) bool {
	switch s := stmt.(type) {
	case *influxql.SelectStatement:
		return s.Target != nil
	case *influxql.ShowDatabasesStatement, *influxql.ShowMeasurementsStatement, *influxql.ShowTagKeysStatement,
		*influxql.ShowTagValuesStatement, *influxql.ShowFieldKeysStatement, *influxql.ShowSeriesStatement,
		*influxql.ShowRetentionPoliciesStatement, *influxql.ShowUsersStatement, *influxql.ShowContinuousQueriesStatement,
		*influxql.ShowQueriesStatement, *influxql.ShowSeriesCardinalityStatement, *influxql.ShowMeasurementCardinalityStatement,
		*influxql.ShowTagKeyCardinalityStatement, *influxql.ShowTagValuesCardinalityStatement, *influxql.ShowFieldKeyCardinalityStatement,
		*influxql.ShowStatsStatement, *influxql.ShowDiagnosticsStatement,
		*influxql.ShowGrantsForUserStatement:
		return false
	case *influxql.ExplainStatement:
		// EXPLAIN ANALYZE runs its SELECT: with INTO it writes.
		return s.Analyze && s.Statement != nil && s.Statement.Target != nil
	}
	return true
}

// resolveBucket finds the bucket a statement reads: the database and retention
// policy named in the source if any, else the request's.
func (e *Executor) resolveBucket(db, rp string, opts ExecOptions) (storage.BucketID, string, error) {
	if db == "" {
		db = opts.Database
	}
	if rp == "" {
		rp = opts.RetentionPolicy
	}
	if db == "" {
		return 0, "", errorf("database name required")
	}
	b, err := e.store.Bucket(db, rp)
	if err != nil {
		var nf *storage.DatabaseNotFoundError
		if errors.As(err, &nf) {
			return 0, db, errorf("database not found: %s", db)
		}
		return 0, db, err
	}
	return b, db, nil
}

// tagExpr converts a condition that references only tags into a storage predicate.
// isTag tells which names are tags; time conditions must have been removed
// (influxql.TimeCondition). It returns nil for a nil condition (every series).
func tagExpr(cond influxql.Expr) (*storage.TagExpr, error) {
	switch c := cond.(type) {
	case nil:
		return nil, nil
	case *influxql.ParenExpr:
		return tagExpr(c.Expr)
	case *influxql.BooleanLiteral:
		if c.Val {
			return nil, nil
		}
		// false: match nothing (a regex that never matches a key's absence or value).
		return &storage.TagExpr{Op: storage.TagMatch, Key: "\x00", Regex: regexp.MustCompile(`a\A`)}, nil
	case *influxql.BinaryExpr:
		switch c.Op {
		case influxql.AND, influxql.OR:
			l, err := tagExpr(c.LHS)
			if err != nil {
				return nil, err
			}
			r, err := tagExpr(c.RHS)
			if err != nil {
				return nil, err
			}
			if l == nil || r == nil { // "true" on one side
				if c.Op == influxql.AND {
					if l == nil {
						return r, nil
					}
					return l, nil
				}
				return nil, nil
			}
			op := storage.TagAnd
			if c.Op == influxql.OR {
				op = storage.TagOr
			}
			return &storage.TagExpr{Op: op, LHS: l, RHS: r}, nil
		case influxql.EQ, influxql.NEQ, influxql.EQREGEX, influxql.NEQREGEX:
			ref, lit := c.LHS, c.RHS
			if _, ok := ref.(*influxql.VarRef); !ok {
				ref, lit = lit, ref
			}
			v, ok := ref.(*influxql.VarRef)
			if !ok {
				return nil, errorf("invalid tag comparison: %s", c.String())
			}
			switch l := lit.(type) {
			case *influxql.StringLiteral:
				switch c.Op {
				case influxql.EQ:
					return &storage.TagExpr{Op: storage.TagEq, Key: v.Val, Value: l.Val}, nil
				case influxql.NEQ:
					return &storage.TagExpr{Op: storage.TagNotEq, Key: v.Val, Value: l.Val}, nil
				}
			case *influxql.RegexLiteral:
				switch c.Op {
				case influxql.EQREGEX:
					return &storage.TagExpr{Op: storage.TagMatch, Key: v.Val, Regex: l.Val}, nil
				case influxql.NEQREGEX:
					return &storage.TagExpr{Op: storage.TagNotMatch, Key: v.Val, Regex: l.Val}, nil
				}
			case *influxql.VarRef:
				// Tag against tag compares keys, not values, as 1.x's index does:
				// k = j holds for series that have both keys, k != j for those with
				// k and not j. So comparing a tag to an identifier that is no tag
				// ("value" in double quotes) matches nothing.
				has := func(k string) *storage.TagExpr {
					return &storage.TagExpr{Op: storage.TagMatch, Key: k, Regex: anyValue}
				}
				switch c.Op {
				case influxql.EQ:
					return &storage.TagExpr{Op: storage.TagAnd, LHS: has(v.Val), RHS: has(l.Val)}, nil
				case influxql.NEQ:
					lacks := &storage.TagExpr{Op: storage.TagNotMatch, Key: l.Val, Regex: anyValue}
					return &storage.TagExpr{Op: storage.TagAnd, LHS: has(v.Val), RHS: lacks}, nil
				}
			}
			return nil, errorf("invalid tag comparison: %s", c.String())
		}
	}
	return nil, errorf("invalid tag condition: %s", cond.String())
}

// queryRegistry tracks running queries for SHOW QUERIES and KILL QUERY.
type queryRegistry struct {
	mu      sync.Mutex
	next    uint64
	running map[uint64]*runningQuery
}

type runningQuery struct {
	id     uint64
	text   string
	db     string
	start  time.Time
	cancel context.CancelCauseFunc
	status string // "running", or "queued" while it waits for admission
}

func newQueryRegistry() *queryRegistry {
	return &queryRegistry{running: map[uint64]*runningQuery{}}
}

// register records a starting query; done must be called when it ends.
func (r *queryRegistry) register(ctx context.Context, text, db string) (context.Context, func()) {
	return r.registerAs(ctx, text, db, "running")
}

// registerAs records a query in the given status; done must be called when it
// leaves that status.
func (r *queryRegistry) registerAs(ctx context.Context, text, db, status string) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(ctx)
	r.mu.Lock()
	r.next++
	q := &runningQuery{id: r.next, text: text, db: db, start: time.Now(), cancel: cancel, status: status}
	r.running[q.id] = q
	r.mu.Unlock()
	return ctx, func() {
		r.mu.Lock()
		delete(r.running, q.id)
		r.mu.Unlock()
		cancel(nil)
	}
}

// Enqueue records q as waiting for admission (an HTTP layer's concurrency
// limit): SHOW QUERIES lists it with status "queued", and KILL QUERY cancels
// the returned context, which the waiter must watch. done must be called when
// the wait ends; once admitted, Execute registers the query anew as running
// (with a new id).
func (e *Executor) Enqueue(ctx context.Context, q *influxql.Query, db string) (context.Context, func()) {
	return e.queries.registerAs(ctx, q.String(), db, "queued")
}

// counts returns how many queries run now and how many registrations there
// have been (a query that waited in the queue counts twice).
func (r *queryRegistry) counts() (active int, started uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, q := range r.running {
		if q.status == "running" {
			active++
		}
	}
	return active, r.next
}

// list returns the running queries ordered by ID.
func (r *queryRegistry) list() []runningQuery {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]runningQuery, 0, len(r.running))
	for _, q := range r.running {
		out = append(out, *q)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	return out
}

// kill cancels query id; false if no such query runs.
func (r *queryRegistry) kill(id uint64) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	q := r.running[id]
	if q == nil {
		return false
	}
	q.cancel(errKilled)
	return true
}

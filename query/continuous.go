package query

import (
	"context"
	"errors"
	"sort"
	"time"

	"github.com/strata-db/strata/query/funcs"
	"github.com/strata-db/strata/query/influxql"
	"github.com/strata-db/strata/storage"
)

// Continuous query statements. The executor checks and normalizes them (the
// answers and error texts are InfluxDB 1.x's); the definitions belong to the
// owner of continuous queries, the CQ service (services/cq), which the server
// attaches with SetContinuousQueries. Without one, CQ statements fail.

// ContinuousQueries is what the executor needs from the owner of continuous
// queries.
type ContinuousQueries interface {
	// CreateContinuousQuery stores a definition durably; stmt is normalized
	// (every source and the target name their database and retention policy)
	// and stmt.String() is the text SHOW lists. Creating the same definition
	// again is not an error; another under a taken name is
	// ErrContinuousQueryExists.
	CreateContinuousQuery(stmt *influxql.CreateContinuousQueryStatement) error
	// DropContinuousQuery removes one; ErrContinuousQueryNotFound if absent.
	DropContinuousQuery(db, name string) error
	// DropDatabaseContinuousQueries removes those of a dropped database.
	DropDatabaseContinuousQueries(db string) error
	// ContinuousQueryStatus lists every definition with its health.
	ContinuousQueryStatus() []ContinuousQueryInfo
}

// ContinuousQueryInfo is one continuous query as SHOW CONTINUOUS QUERIES lists it.
type ContinuousQueryInfo struct {
	Database, Name, Query string
	// Err is the last run's failure while the query is backing off ("" when
	// healthy); RetryAt is when it runs again.
	Err     string
	RetryAt time.Time
}

// Errors of continuous query statements, with InfluxDB 1.x's texts.
var (
	ErrContinuousQueryExists   = errors.New("continuous query already exists")
	ErrContinuousQueryNotFound = errors.New("continuous query not found")
	errCQNotAggregate          = errors.New("continuous queries must be aggregate queries")
)

// SetContinuousQueries attaches the owner of continuous queries.
func (e *Executor) SetContinuousQueries(c ContinuousQueries) { e.cqs = c }

func (e *Executor) createContinuousQuery(s *influxql.CreateContinuousQueryStatement) error {
	if e.cqs == nil {
		return errCQUnsupported
	}
	if !e.databaseExists(s.Database) {
		return errorf("database not found: %s", s.Database)
	}
	norm, err := e.NormalizeContinuousQuery(s)
	if err != nil {
		return err
	}
	return e.cqs.CreateContinuousQuery(norm)
}

// NormalizeContinuousQuery checks a CREATE CONTINUOUS QUERY as 1.x does at
// CREATE (the retention policies it names must exist) and as Strata's engine
// does before any SELECT runs (functions, arguments, dimensions), and returns
// a copy whose sources and target name their database and retention policy,
// as 1.x stores and lists them.
func (e *Executor) NormalizeContinuousQuery(s *influxql.CreateContinuousQueryStatement) (*influxql.CreateContinuousQueryStatement, error) {
	if s.Source.IsRawQuery() {
		return nil, errCQNotAggregate
	}
	if err := s.Source.Validate(funcs.Registry{}); err != nil {
		return nil, err
	}
	src := *s.Source
	src.Sources = make(influxql.Sources, len(s.Source.Sources))
	for i, source := range s.Source.Sources {
		m, ok := source.(*influxql.Measurement)
		if !ok {
			src.Sources[i] = source // a subquery reads what its own FROM names
			continue
		}
		q, err := e.qualify(m, s.Database)
		if err != nil {
			return nil, err
		}
		src.Sources[i] = q
	}
	if src.Target != nil {
		t, err := e.qualify(src.Target.Measurement, s.Database)
		if err != nil {
			return nil, err
		}
		src.Target = &influxql.Target{Measurement: t}
	}
	out := *s
	out.Source = &src
	return &out, nil
}

// qualify returns m with its database (default db) and retention policy (the
// database's default) filled in, failing as 1.x does when the policy is missing.
func (e *Executor) qualify(m *influxql.Measurement, db string) (*influxql.Measurement, error) {
	q := *m
	if q.Database == "" {
		q.Database = db
	}
	rps, err := e.store.RetentionPolicies(q.Database)
	if err != nil {
		return nil, errorf("database not found: %s", q.Database)
	}
	found := false
	for _, rp := range rps {
		if q.RetentionPolicy == "" && rp.Default {
			q.RetentionPolicy = rp.Name
		}
		found = found || rp.Name == q.RetentionPolicy
	}
	if q.RetentionPolicy == "" || !found {
		return nil, errorf("retention policy not found: %s.%s", q.Database, q.RetentionPolicy)
	}
	return &q, nil
}

func (e *Executor) databaseExists(db string) bool {
	for _, d := range e.store.Databases() {
		if d == db {
			return true
		}
	}
	return false
}

func (e *Executor) dropContinuousQuery(s *influxql.DropContinuousQueryStatement) error {
	if e.cqs == nil {
		return errCQUnsupported
	}
	if !e.databaseExists(s.Database) {
		return errorf("database not found: %s", s.Database)
	}
	return e.cqs.DropContinuousQuery(s.Database, s.Name)
}

// showContinuousQueries lists every database, each with its continuous queries
// by name, in 1.x's shape (name, query). A database with a query that is
// backing off after a failure gets two more columns, status and error, so the
// failure shows where operators look; healthy servers answer exactly as 1.x.
func (e *Executor) showContinuousQueries() *StatementResult {
	byDB := map[string][]ContinuousQueryInfo{}
	if e.cqs != nil {
		for _, c := range e.cqs.ContinuousQueryStatus() {
			byDB[c.Database] = append(byDB[c.Database], c)
		}
	}
	res := &StatementResult{}
	for _, db := range e.store.Databases() {
		cqs := byDB[db]
		sort.Slice(cqs, func(i, j int) bool { return cqs[i].Name < cqs[j].Name })
		failing := false
		for _, c := range cqs {
			failing = failing || c.Err != ""
		}
		ser := &ResultSeries{Name: db, Columns: []string{"name", "query"}, NoTime: true}
		if failing {
			ser.Columns = append(ser.Columns, "status", "error")
		}
		for _, c := range cqs {
			row := []any{c.Name, c.Query}
			if failing {
				status := "ok"
				if c.Err != "" {
					status = "retrying at " + c.RetryAt.UTC().Format(time.RFC3339)
				}
				row = append(row, status, c.Err)
			}
			ser.Rows = append(ser.Rows, Row{Values: row})
		}
		res.Series = append(res.Series, ser)
	}
	return res
}

// ContinuousRun is what one run of a continuous query's SELECT ... INTO did.
type ContinuousRun struct {
	Written int64
	// Windows holds the time of every row written: the start of each GROUP BY
	// window that had data, true when the row had a value in every column.
	// The CQ service deletes the rollup's points of the windows that no
	// longer have data, and rewrites those with a null column whole.
	Windows map[int64]bool
}

// Point is one point of a continuous query's result, as a PointSink takes it.
type Point struct {
	Measurement string
	Tags        []storage.Tag // sorted by key
	Fields      []storage.FieldValue
	Time        int64 // ns
}

// PointSink takes the points of a continuous query's run instead of this
// node's engine: in a node set, the runner publishes them to the data topic,
// so that each lands on the node owning its series (services/cq, cmd/strata).
// WritePoints returns once the points are durable there (published), or
// fails; the points' slices are the sink's to keep.
type PointSink interface {
	WritePoints(ctx context.Context, db, rp string, points []Point) error
}

// RunContinuousQuery runs stmt, a SELECT ... INTO, as SELECT ... INTO runs
// (the same plan, the same durable write path, the same limits), and reports
// the windows it wrote.
func (e *Executor) RunContinuousQuery(ctx context.Context, stmt *influxql.SelectStatement, opts ExecOptions) (ContinuousRun, error) {
	return e.RunContinuousQueryTo(ctx, stmt, opts, nil)
}

// RunContinuousQueryTo is RunContinuousQuery writing the points into sink
// (nil: this node's engine). The target must exist here all the same.
func (e *Executor) RunContinuousQueryTo(ctx context.Context, stmt *influxql.SelectStatement, opts ExecOptions, sink PointSink) (ContinuousRun, error) {
	run := ContinuousRun{Windows: map[int64]bool{}}
	if stmt.Target == nil {
		return run, errorf("continuous query without INTO")
	}
	if opts.Now.IsZero() {
		opts.Now = e.now()
	}
	if opts.Budget == nil {
		opts.Budget = e.NewBudget()
	}
	if e.limits.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, e.limits.Timeout, errTimeout)
		defer cancel()
	}
	ctx, done := e.queries.register(ctx, stmt.String(), opts.Database)
	defer done()
	mem := &stmtMem{b: opts.Budget}
	defer mem.end()
	ctx = withMem(ctx, mem)
	if err := stmt.Validate(funcs.Registry{}); err != nil {
		return run, err
	}
	stats := &execStats{}
	// The SELECT without its INTO: that is what the peers of a node set
	// compute partials of (fanout.go); the rows are written here. Only a
	// run that publishes (sink: the set's one runner) fans out: one written
	// into this node's engine runs over this node's data, its subqueries'
	// too, or every node of a set without Kafka ingest would store the
	// whole set's rollup.
	sel := *stmt
	sel.Target = nil
	if sink == nil {
		opts.noFanout = true
	}
	plan, err := e.prepareSelect(ctx, &sel, opts, stats)
	if err != nil {
		return run, err
	}
	r, _, groups, err := e.startPlan(ctx, plan, opts, stats)
	if err != nil {
		return run, err
	}
	w := &intoWriter{e: e, ctx: ctx, stmt: stmt, opts: opts, tagCols: plan.extraCols, sink: sink,
		seen: func(t int64, complete bool) { run.Windows[t] = complete }}
	if r != nil {
		if err := r.streamGroups(groups, w.add); err != nil {
			return run, err
		}
	}
	if _, err := w.result(); err != nil {
		return run, err
	}
	run.Written = w.written
	return run, nil
}

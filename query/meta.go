package query

import (
	"context"
	"errors"
	"math"
	"regexp"
	"sort"
	"strings"
	"time"
	"unicode"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/strata-db/strata/query/influxql"
	"github.com/strata-db/strata/storage"
)

// Meta statements: everything but SELECT and EXPLAIN. Each answers what InfluxDB
// 1.x answers (series names, columns, value order and error texts), because
// clients such as Grafana and Telegraf parse these results. Where InfluxDB's
// answer comes from a particular code path, the function says which, so the
// reason for an odd-looking choice stays visible:
//
//   - SHOW MEASUREMENTS, SHOW TAG VALUES, DROP SERIES, DROP MEASUREMENT and
//     DELETE work on every retention policy of the database, as InfluxDB's
//     store does across all of a database's shards.
//   - SHOW TAG KEYS, SHOW FIELD KEYS, SHOW SERIES and the exact cardinalities
//     are SELECTs over system sources in InfluxDB, so they read one retention
//     policy: the one named in FROM, else the rp parameter, else the default.
//   - Tag conditions always resolve on the tag index (tagExpr); series are never
//     scanned to evaluate them.

// Errors InfluxDB answers with, by text.
var (
	errDatabaseNameRequired    = errors.New("database name required")
	errInvalidName             = errors.New("invalid name")
	errRPDurationTooLow        = errors.New("retention policy duration must be at least 1h0m0s")
	errRPIncompatibleDurations = errors.New("retention policy duration must be greater than the shard duration")
	errRPReplicationTooLow     = errors.New("replication factor must be greater than 0")
	errRPConflict              = errors.New("retention policy conflicts with an existing policy")
	errCQUnsupported           = errors.New("continuous queries are not supported")
	// InfluxDB prefixes this one with the shard it failed in ("shard 31: ...");
	// Strata has no shards, so the prefix is left out.
	errDeleteFields = errors.New("fields not supported in WHERE clause during deletion")
)

// minRetention is InfluxDB's shortest finite retention duration: shorter ones are
// refused so that a shard group is never older than its data.
const minRetention = time.Hour

// executeMeta runs every statement that is not a SELECT or EXPLAIN.
func (e *Executor) executeMeta(ctx context.Context, stmt influxql.Statement, opts ExecOptions) (*StatementResult, error) {
	if res, ok, err := e.executeUserStatement(stmt, opts); ok {
		return res, err
	}
	switch s := stmt.(type) {
	case *influxql.ShowDatabasesStatement:
		return e.showDatabases(opts), nil
	case *influxql.ShowMeasurementsStatement:
		return e.showMeasurements(ctx, s, opts)
	case *influxql.ShowTagKeysStatement:
		return e.showTagKeys(ctx, s, opts)
	case *influxql.ShowTagValuesStatement:
		return e.showTagValues(ctx, s, opts)
	case *influxql.ShowFieldKeysStatement:
		return e.showFieldKeys(s, opts)
	case *influxql.ShowSeriesStatement:
		return e.showSeries(ctx, s, opts)
	case *influxql.ShowTagKeyCardinalityStatement:
		return e.showTagKeyCardinality(ctx, s, opts)
	case *influxql.ShowTagValuesCardinalityStatement:
		return e.showTagValuesCardinality(ctx, s, opts)
	case *influxql.ShowFieldKeyCardinalityStatement:
		return e.showFieldKeyCardinality(ctx, s, opts)
	case *influxql.ShowSeriesCardinalityStatement:
		return e.showSeriesCardinality(ctx, s, opts)
	case *influxql.ShowMeasurementCardinalityStatement:
		return e.showMeasurementCardinality(ctx, s, opts)
	case *influxql.ShowRetentionPoliciesStatement:
		return e.showRetentionPolicies(s, opts)
	case *influxql.ShowContinuousQueriesStatement:
		return e.showContinuousQueries(), nil
	case *influxql.ShowQueriesStatement:
		return e.showQueries(), nil
	case *influxql.ShowStatsStatement:
		return e.showStats(s)
	case *influxql.ShowDiagnosticsStatement:
		return e.showDiagnostics(s)
	case *influxql.KillQueryStatement:
		if !e.queries.kill(s.QueryID) {
			return nil, errorf("no such query id: %d", s.QueryID)
		}
		return &StatementResult{}, nil
	case *influxql.CreateDatabaseStatement:
		return nil, e.createDatabase(s)
	case *influxql.DropDatabaseStatement:
		if err := e.store.DropDatabase(s.Name); err != nil {
			return nil, err
		}
		if e.cqs != nil {
			// As 1.x: a database's continuous queries go with it.
			if err := e.cqs.DropDatabaseContinuousQueries(s.Name); err != nil {
				return nil, err
			}
		}
		if e.users != nil {
			// As 1.x: a database created again under the name starts with no grants.
			return nil, e.users.DropDatabasePrivileges(s.Name)
		}
		return nil, nil
	case *influxql.CreateRetentionPolicyStatement:
		return nil, e.createRetentionPolicy(s)
	case *influxql.AlterRetentionPolicyStatement:
		return nil, e.alterRetentionPolicy(s)
	case *influxql.DropRetentionPolicyStatement:
		return nil, e.dropRetentionPolicy(s)
	case *influxql.CreateContinuousQueryStatement:
		return nil, e.createContinuousQuery(s)
	case *influxql.DropContinuousQueryStatement:
		return nil, e.dropContinuousQuery(s)
	case *influxql.DropMeasurementStatement:
		return nil, e.dropMeasurement(s, opts)
	case *influxql.DropSeriesStatement:
		return nil, e.dropSeries(ctx, s, opts)
	case *influxql.DeleteSeriesStatement:
		return nil, e.deleteSeries(ctx, s, opts)
	case nil:
		return nil, errorf("empty statement")
	}
	return nil, errorf("statement not supported: %s", stmt.String())
}

// result wraps series into a statement result; without series it is the bare
// {"statement_id":N} InfluxDB answers for an empty SHOW.
func result(series ...*ResultSeries) *StatementResult {
	return &StatementResult{Series: series}
}

// stringRows makes one single-column row per value.
func stringRows(vals []string) []Row {
	rows := make([]Row, len(vals))
	for i, v := range vals {
		rows[i] = Row{Values: []any{v}}
	}
	return rows
}

// paginate applies OFFSET then LIMIT (0: none) to n items and returns the bounds.
func paginate(n, limit, offset int) (lo, hi int) {
	if offset >= n {
		return n, n
	}
	lo, hi = max(offset, 0), n
	if limit > 0 && lo+limit < hi {
		hi = lo + limit
	}
	return lo, hi
}

// ---- databases and retention policies ----

// statementDB picks the database of a statement: its ON clause, else the request's.
func statementDB(on string, opts ExecOptions) (string, error) {
	if on != "" {
		return on, nil
	}
	if opts.Database == "" {
		return "", errDatabaseNameRequired
	}
	return opts.Database, nil
}

// retentionPolicies lists db's retention policies; a missing database is
// InfluxDB's "database not found: x".
func (e *Executor) retentionPolicies(db string) ([]storage.RetentionPolicyInfo, error) {
	rps, err := e.store.RetentionPolicies(db)
	if err != nil {
		var nf *storage.DatabaseNotFoundError
		if errors.As(err, &nf) {
			return nil, errorf("database not found: %s", db)
		}
		return nil, err
	}
	return rps, nil
}

// buckets returns the buckets of every retention policy of db, in creation order.
func (e *Executor) buckets(db string) ([]storage.BucketID, error) {
	rps, err := e.retentionPolicies(db)
	if err != nil {
		return nil, err
	}
	out := make([]storage.BucketID, 0, len(rps))
	for _, rp := range rps {
		b, err := e.store.Bucket(db, rp.Name)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}

func (e *Executor) showDatabases(opts ExecOptions) *StatementResult {
	// InfluxDB always answers with the series, even when it has no rows.
	return result(&ResultSeries{
		Name:    "databases",
		Columns: []string{"name"},
		NoTime:  true,
		Rows:    stringRows(readableDatabases(e.store.Databases(), opts)),
	})
}

func (e *Executor) showRetentionPolicies(s *influxql.ShowRetentionPoliciesStatement, opts ExecOptions) (*StatementResult, error) {
	db, err := statementDB(s.Database, opts)
	if err != nil {
		return nil, err
	}
	rps, err := e.retentionPolicies(db)
	if err != nil {
		return nil, err
	}
	ser := &ResultSeries{Columns: []string{"name", "duration", "shardGroupDuration", "replicaN", "default"}, NoTime: true}
	for _, rp := range rps {
		ser.Rows = append(ser.Rows, Row{Values: []any{
			rp.Name, rp.Duration.String(), rp.ShardGroupDuration.String(), rp.Replication, rp.Default,
		}})
	}
	return result(ser), nil
}

func (e *Executor) showQueries() *StatementResult {
	now := time.Now()
	ser := &ResultSeries{Columns: []string{"qid", "query", "database", "duration", "status"}, NoTime: true}
	for _, q := range e.queries.list() {
		ser.Rows = append(ser.Rows, Row{Values: []any{q.id, q.text, q.db, queryDuration(now.Sub(q.start)), q.status}})
	}
	return result(ser)
}

// queryDuration truncates a running time to its largest unit, as InfluxDB prints
// it ("8µs", "1.234s" becomes "1s").
func queryDuration(d time.Duration) string {
	for _, unit := range []time.Duration{time.Second, time.Millisecond, time.Microsecond} {
		if d >= unit {
			return (d - d%unit).String()
		}
	}
	return d.String()
}

// validName is InfluxDB's rule for database and retention policy names: printable,
// not empty, not a path element or separator (they name directories there).
func validName(name string) bool {
	for _, r := range name {
		if !unicode.IsPrint(r) {
			return false
		}
	}
	return name != "" && name != "." && name != ".." && !strings.ContainsAny(name, `/\`)
}

// shardGroupDuration is InfluxDB's default shard group duration for a retention
// duration: a week for infinite or at least 180 days, a day from 2 days, else
// an hour.
func shardGroupDuration(d time.Duration) time.Duration {
	switch {
	case d == 0 || d >= 180*24*time.Hour:
		return 7 * 24 * time.Hour
	case d >= 2*24*time.Hour:
		return 24 * time.Hour
	}
	return time.Hour
}

// normalShardDuration applies the default to an unset shard duration and raises
// one below the minimum retention to that minimum's default, as InfluxDB does.
func normalShardDuration(sgd, d time.Duration) time.Duration {
	switch {
	case sgd == 0:
		return shardGroupDuration(d)
	case sgd < minRetention:
		return shardGroupDuration(minRetention)
	}
	return sgd
}

func checkRetention(d time.Duration) error {
	if d != 0 && d < minRetention {
		return errRPDurationTooLow
	}
	return nil
}

func findRP(rps []storage.RetentionPolicyInfo, name string) *storage.RetentionPolicyInfo {
	for i := range rps {
		if rps[i].Name == name {
			return &rps[i]
		}
	}
	return nil
}

func (e *Executor) createDatabase(s *influxql.CreateDatabaseStatement) error {
	if !validName(s.Name) {
		return errInvalidName
	}
	if !s.RetentionPolicyCreate {
		return e.store.CreateDatabase(s.Name, nil)
	}
	if s.RetentionPolicyName != "" && !validName(s.RetentionPolicyName) {
		return errInvalidName
	}
	rp := storage.DefaultRetentionPolicy()
	if s.RetentionPolicyName != "" {
		rp.Name = s.RetentionPolicyName
	}
	if s.RetentionPolicyDuration != nil {
		if err := checkRetention(*s.RetentionPolicyDuration); err != nil {
			return err
		}
		rp.Duration = *s.RetentionPolicyDuration
	}
	if s.RetentionPolicyReplication != nil {
		rp.Replication = *s.RetentionPolicyReplication
	}
	rp.ShardGroupDuration = normalShardDuration(s.RetentionPolicyShardGroupDuration, rp.Duration)
	if rps, err := e.store.RetentionPolicies(s.Name); err == nil {
		// The database exists: the statement is idempotent only if it names the
		// default policy with the same settings.
		old := findRP(rps, rp.Name)
		if old == nil || old.RetentionPolicy != rp || !old.Default {
			return errRPConflict
		}
		return nil
	}
	if rp.Replication < 1 {
		return errRPReplicationTooLow
	}
	if rp.Duration > 0 && rp.Duration < rp.ShardGroupDuration {
		return errRPIncompatibleDurations
	}
	return e.store.CreateDatabase(s.Name, &rp)
}

func (e *Executor) createRetentionPolicy(s *influxql.CreateRetentionPolicyStatement) error {
	if !validName(s.Name) {
		return errInvalidName
	}
	if err := checkRetention(s.Duration); err != nil {
		return err
	}
	if s.Replication < 1 {
		return errRPReplicationTooLow
	}
	rp := storage.RetentionPolicy{
		Name:               s.Name,
		Duration:           s.Duration,
		ShardGroupDuration: normalShardDuration(s.ShardGroupDuration, s.Duration),
		Replication:        s.Replication,
	}
	if rp.Duration > 0 && rp.Duration < rp.ShardGroupDuration {
		return errRPIncompatibleDurations
	}
	rps, err := e.retentionPolicies(s.Database)
	if err != nil {
		return err
	}
	if old := findRP(rps, s.Name); old != nil {
		if old.RetentionPolicy != rp {
			return storage.ErrRetentionPolicyExists
		}
		if s.Default && !old.Default {
			return errRPConflict
		}
		return nil
	}
	return e.store.CreateRetentionPolicy(s.Database, rp, s.Default)
}

func (e *Executor) alterRetentionPolicy(s *influxql.AlterRetentionPolicyStatement) error {
	rps, err := e.retentionPolicies(s.Database)
	if err != nil {
		return err
	}
	old := findRP(rps, s.Name)
	if old == nil {
		return errorf("retention policy not found: %s", s.Name)
	}
	if s.Duration != nil {
		if err := checkRetention(*s.Duration); err != nil {
			return err
		}
	}
	// The new duration must not be shorter than the (new or kept) shard duration.
	d, sgd := old.Duration, old.ShardGroupDuration
	if s.Duration != nil {
		d = *s.Duration
	}
	if s.ShardGroupDuration != nil {
		sgd = *s.ShardGroupDuration
	}
	if (s.Duration != nil || s.ShardGroupDuration != nil) && d > 0 && d < sgd {
		return errRPIncompatibleDurations
	}
	if s.Replication != nil && *s.Replication < 1 {
		return errRPReplicationTooLow
	}
	u := storage.RetentionPolicyUpdate{Duration: s.Duration, Replication: s.Replication, MakeDefault: s.Default}
	if s.ShardGroupDuration != nil {
		n := normalShardDuration(*s.ShardGroupDuration, d)
		u.ShardGroupDuration = &n
	}
	return e.store.AlterRetentionPolicy(s.Database, s.Name, u)
}

func (e *Executor) dropRetentionPolicy(s *influxql.DropRetentionPolicyStatement) error {
	// Dropping from a missing database or a missing policy is not an error in
	// InfluxDB.
	rps, err := e.store.RetentionPolicies(s.Database)
	if err != nil || findRP(rps, s.Name) == nil {
		return nil
	}
	return e.store.DropRetentionPolicy(s.Database, s.Name)
}

// ---- schema exploration ----

// target is the measurements one statement reads from one bucket.
type target struct {
	bucket storage.BucketID
	names  []string
}

// measurementFilter tells whether a measurement name is selected by a FROM list
// (or a WITH MEASUREMENT clause); no sources select every measurement.
func measurementFilter(srcs []*influxql.Measurement) func(string) bool {
	if len(srcs) == 0 {
		return func(string) bool { return true }
	}
	return func(name string) bool {
		for _, m := range srcs {
			if m.Regex != nil && m.Regex.Val.MatchString(name) || m.Regex == nil && m.Name == name {
				return true
			}
		}
		return false
	}
}

// filterNames keeps the names sel selects, in order.
func filterNames(names []string, sel func(string) bool) []string {
	out := names[:0:0]
	for _, n := range names {
		if sel(n) {
			out = append(out, n)
		}
	}
	return out
}

// eachMeasurement calls fn for every measurement of targets that has a series
// matching expr (every measurement when expr is nil), looking at ctx between
// measurements: the walk of SHOW MEASUREMENT CARDINALITY and SHOW FIELD KEY
// CARDINALITY.
func (e *Executor) eachMeasurement(ctx context.Context, targets []target, expr *storage.TagExpr, fn func(b storage.BucketID, m string) error) error {
	for _, t := range targets {
		for _, m := range t.names {
			if err := ctx.Err(); err != nil {
				return err
			}
			if expr != nil {
				ids, err := e.store.SeriesIDs(t.bucket, m, expr)
				if err != nil {
					return err
				}
				if ids.IsEmpty() {
					continue
				}
			}
			if err := fn(t.bucket, m); err != nil {
				return err
			}
		}
	}
	return nil
}

// sourceTargets resolves a FROM list the way InfluxDB normalises the sources of
// a SELECT: each measurement reads its own db.rp if given, else db (the ON
// clause; "" for the request's) and the request's (or the default) retention
// policy, so a fully qualified FROM needs no database parameter. Targets of the same bucket merge;
// measurements without series are left out.
func (e *Executor) sourceTargets(db string, srcs influxql.Sources, opts ExecOptions) ([]target, error) {
	ms := srcs.Measurements()
	if len(ms) == 0 {
		ms = []*influxql.Measurement{{}}
	}
	var out []target
	byBucket := map[storage.BucketID]int{}
	for _, m := range ms {
		mdb := m.Database
		if mdb == "" {
			mdb = db
		}
		b, _, err := e.resolveBucket(mdb, m.RetentionPolicy, opts)
		if err != nil {
			return nil, err
		}
		names, err := e.store.Measurements(b)
		if err != nil {
			return nil, err
		}
		if m.Name != "" || m.Regex != nil {
			names = filterNames(names, measurementFilter([]*influxql.Measurement{m}))
		}
		i, ok := byBucket[b]
		if !ok {
			i = len(out)
			byBucket[b] = i
			out = append(out, target{bucket: b})
		}
		out[i].names = append(out[i].names, names...)
	}
	for i := range out {
		out[i].names = sortedUnique(out[i].names)
	}
	return out, nil
}

func sortedUnique(s []string) []string {
	sort.Strings(s)
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

// hasTimeRef tells whether a condition compares time.
func hasTimeRef(cond influxql.Expr) bool {
	found := false
	influxql.Walk(cond, func(n influxql.Node) {
		if ref, ok := n.(*influxql.VarRef); ok && strings.EqualFold(ref.Val, "time") {
			found = true
		}
	})
	return found
}

// indexCondition splits a SHOW statement's WHERE into a tag predicate and a time
// range.
func indexCondition(cond influxql.Expr, opts ExecOptions) (*storage.TagExpr, influxql.TimeRange, error) {
	rest, tr, err := influxql.TimeCondition(cond, opts.Now, nil)
	if err != nil {
		return nil, tr, err
	}
	expr, err := tagExpr(rest)
	return indexNotMatch(expr), tr, err
}

// indexNotMatch gives `key !~ /re/` the meaning InfluxDB 1.x's index gives it in
// SHOW TAG KEYS, TAG VALUES and SERIES: a series without the key matches exactly
// when re matches the empty string (as it would for =~), not the other way round.
// So `region !~ /us/` leaves out series that have no region.
func indexNotMatch(x *storage.TagExpr) *storage.TagExpr {
	if x == nil {
		return nil
	}
	switch x.Op {
	case storage.TagAnd, storage.TagOr:
		return &storage.TagExpr{Op: x.Op, LHS: indexNotMatch(x.LHS), RHS: indexNotMatch(x.RHS)}
	case storage.TagNotMatch:
		has := &storage.TagExpr{Op: storage.TagMatch, Key: x.Key, Regex: anyValue}
		if x.Regex.MatchString("") {
			lacks := &storage.TagExpr{Op: storage.TagNotMatch, Key: x.Key, Regex: anyValue}
			return &storage.TagExpr{Op: storage.TagOr, LHS: x, RHS: lacks}
		}
		return &storage.TagExpr{Op: storage.TagAnd, LHS: x, RHS: has}
	}
	return x
}

// anyValue matches every tag value a series can carry (they are never empty),
// and not the empty string that stands for a missing key.
var anyValue = regexp.MustCompile(`.`)

// matchingSeries returns the series of measurement m matching expr, and when tr is
// bounded only those with a point in it (InfluxDB reads the data then, not the
// index).
func (e *Executor) matchingSeries(ctx context.Context, b storage.BucketID, m string, expr *storage.TagExpr, tr influxql.TimeRange) (*roaring.Bitmap, error) {
	ids, err := e.store.SeriesIDs(b, m, expr)
	if err != nil || ids.IsEmpty() || (!tr.HasMin() && !tr.HasMax()) {
		return ids, err
	}
	if tr.Empty() {
		return roaring.New(), nil
	}
	fields, err := e.store.Fields(b, m)
	if err != nil {
		return nil, err
	}
	out := roaring.New()
	it := ids.Iterator()
	for it.HasNext() {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		sid := it.Next()
		ok, err := e.hasPoints(b, storage.SeriesID(sid), fields, tr)
		if err != nil {
			return nil, err
		}
		if ok {
			out.Add(sid)
		}
	}
	return out, nil
}

// hasPoints tells whether series sid has a point of any field within tr.
func (e *Executor) hasPoints(b storage.BucketID, sid storage.SeriesID, fields []storage.FieldInfo, tr influxql.TimeRange) (bool, error) {
	for _, f := range fields {
		found, err := e.store.HasPoints(b, sid, f.ID, tr.Min, tr.Max)
		if err != nil || found {
			return found, err
		}
	}
	return false, nil
}

func (e *Executor) showMeasurements(ctx context.Context, s *influxql.ShowMeasurementsStatement, opts ExecOptions) (*StatementResult, error) {
	db, err := statementDB(s.Database, opts)
	if err != nil {
		return nil, err
	}
	if hasTimeRef(s.Condition) {
		return nil, errorf("SHOW MEASUREMENTS doesn't support time in WHERE clause")
	}
	expr, err := tagExpr(s.Condition)
	if err != nil {
		return nil, err
	}
	bs, err := e.buckets(db)
	if err != nil {
		// InfluxDB checks the database only when WITH MEASUREMENT names a
		// source; otherwise a missing database just has no measurements.
		if s.Source == nil {
			return &StatementResult{}, nil
		}
		return nil, err
	}
	var srcs []*influxql.Measurement
	if s.Source != nil {
		srcs = []*influxql.Measurement{s.Source}
	}
	sel := measurementFilter(srcs)
	var names []string
	for _, b := range bs {
		ms, err := e.store.Measurements(b)
		if err != nil {
			return nil, err
		}
		for _, m := range filterNames(ms, sel) {
			if expr != nil {
				if err := ctx.Err(); err != nil {
					return nil, err
				}
				ok, err := e.measurementMatches(b, m, expr)
				if err != nil {
					return nil, err
				}
				if !ok {
					continue
				}
			}
			names = append(names, m)
		}
	}
	names = sortedUnique(names)
	lo, hi := paginate(len(names), s.Limit, s.Offset)
	if lo == hi {
		return &StatementResult{}, nil
	}
	return result(&ResultSeries{Name: "measurements", Columns: []string{"name"}, NoTime: true, Rows: stringRows(names[lo:hi])}), nil
}

// measurementMatches evaluates SHOW MEASUREMENTS' WHERE on the measurement as
// InfluxDB 1.x's index does: `k = v` and `k =~ /re/` hold if some series
// matches; `k != v` and `k !~ /re/` hold if the measurement has key k and no
// series carries a value that `=` or `=~` would match; AND and OR combine those.
func (e *Executor) measurementMatches(b storage.BucketID, m string, x *storage.TagExpr) (bool, error) {
	some := func(x *storage.TagExpr) (bool, error) {
		ids, err := e.store.SeriesIDs(b, m, x)
		return err == nil && !ids.IsEmpty(), err
	}
	switch x.Op {
	case storage.TagAnd, storage.TagOr:
		l, err := e.measurementMatches(b, m, x.LHS)
		if err != nil || l == (x.Op == storage.TagOr) {
			return l, err
		}
		return e.measurementMatches(b, m, x.RHS)
	case storage.TagNotEq, storage.TagNotMatch:
		has := &storage.TagExpr{Op: storage.TagMatch, Key: x.Key, Regex: anyValue}
		if ok, err := some(has); err != nil || !ok {
			return false, err
		}
		pos := &storage.TagExpr{Op: storage.TagEq, Key: x.Key, Value: x.Value}
		if x.Op == storage.TagNotMatch {
			pos = &storage.TagExpr{Op: storage.TagMatch, Key: x.Key, Regex: x.Regex}
		}
		ok, err := some(&storage.TagExpr{Op: storage.TagAnd, LHS: pos, RHS: has})
		return !ok, err
	}
	return some(x)
}

// existingDB resolves a statement's database and checks that it exists.
func (e *Executor) existingDB(on string, opts ExecOptions) (string, error) {
	db, err := statementDB(on, opts)
	if err != nil {
		return "", err
	}
	if _, err := e.retentionPolicies(db); err != nil {
		return "", err
	}
	return db, nil
}

// tagKeysOf returns the tag keys of measurement m carried by at least one series
// of ids (every key when ids is nil).
func (e *Executor) tagKeysOf(b storage.BucketID, m string, ids *roaring.Bitmap) ([]string, error) {
	keys, err := e.store.TagKeys(b, m)
	if err != nil || ids == nil {
		return keys, err
	}
	out := keys[:0:0]
	for _, k := range keys {
		_, series, err := e.store.TagValues(b, m, k)
		if err != nil {
			return nil, err
		}
		for _, bm := range series {
			if bm.Intersects(ids) {
				out = append(out, k)
				break
			}
		}
	}
	return out, nil
}

// addTagKeys appends measurement m's tag keys to res as SHOW TAG KEYS pages
// them: LIMIT and OFFSET within the measurement, SOFFSET (skip, counted down)
// and SLIMIT over measurements. It reports false once SLIMIT is reached.
func addTagKeys(res *StatementResult, s *influxql.ShowTagKeysStatement, skip *int, m string, keys []string) bool {
	lo, hi := paginate(len(keys), s.Limit, s.Offset)
	if lo == hi {
		return true
	}
	if *skip > 0 {
		*skip--
		return true
	}
	if s.SLimit > 0 && len(res.Series) >= s.SLimit {
		return false
	}
	res.Series = append(res.Series, &ResultSeries{Name: m, Columns: []string{"tagKey"}, NoTime: true, Rows: stringRows(keys[lo:hi])})
	return true
}

func (e *Executor) showTagKeys(ctx context.Context, s *influxql.ShowTagKeysStatement, opts ExecOptions) (*StatementResult, error) {
	db, err := e.existingDB(s.Database, opts)
	if err != nil {
		return nil, err
	}
	expr, tr, err := indexCondition(s.Condition, opts)
	if err != nil {
		return nil, err
	}
	targets, err := e.sourceTargets(db, s.Sources, opts)
	if err != nil {
		return nil, err
	}
	res := &StatementResult{}
	skip := s.SOffset
	for _, t := range targets {
		for _, m := range t.names {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			var ids *roaring.Bitmap
			if expr != nil || tr.HasMin() || tr.HasMax() {
				if ids, err = e.matchingSeries(ctx, t.bucket, m, expr, tr); err != nil {
					return nil, err
				}
			}
			keys, err := e.tagKeysOf(t.bucket, m, ids)
			if err != nil {
				return nil, err
			}
			if !addTagKeys(res, s, &skip, m, keys) {
				return res, nil
			}
		}
	}
	return res, nil
}

// tagKeyMatcher turns SHOW TAG VALUES' WITH KEY clause into a predicate.
func tagKeyMatcher(s *influxql.ShowTagValuesStatement) (func(string) bool, error) {
	switch k := s.TagKeyExpr.(type) {
	case *influxql.VarRef:
		switch s.Op {
		case influxql.EQ:
			return func(x string) bool { return x == k.Val }, nil
		case influxql.NEQ:
			return func(x string) bool { return x != k.Val }, nil
		}
	case *influxql.RegexLiteral:
		switch s.Op {
		case influxql.EQREGEX:
			return k.Val.MatchString, nil
		case influxql.NEQREGEX:
			return func(x string) bool { return !k.Val.MatchString(x) }, nil
		}
	case *influxql.ListLiteral:
		if s.Op == influxql.IN {
			return func(x string) bool {
				for _, v := range k.Vals {
					if v == x {
						return true
					}
				}
				return false
			}, nil
		}
	}
	return nil, errorf("invalid WITH KEY clause: %s", s.String())
}

func (e *Executor) showTagValues(ctx context.Context, s *influxql.ShowTagValuesStatement, opts ExecOptions) (*StatementResult, error) {
	db, err := e.existingDB(s.Database, opts)
	if err != nil {
		return nil, err
	}
	keyOK, err := tagKeyMatcher(s)
	if err != nil {
		return nil, err
	}
	expr, tr, err := indexCondition(s.Condition, opts)
	if err != nil {
		return nil, err
	}
	bs, err := e.buckets(db)
	if err != nil {
		return nil, err
	}
	sel := measurementFilter(s.Sources.Measurements())
	type kv struct{ k, v string }
	perM := map[string]map[kv]struct{}{}
	for _, b := range bs {
		ms, err := e.store.Measurements(b)
		if err != nil {
			return nil, err
		}
		for _, m := range filterNames(ms, sel) {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			keys, err := e.store.TagKeys(b, m)
			if err != nil {
				return nil, err
			}
			keys = filterNames(keys, keyOK)
			if len(keys) == 0 {
				continue
			}
			var ids *roaring.Bitmap
			if expr != nil || tr.HasMin() || tr.HasMax() {
				if ids, err = e.matchingSeries(ctx, b, m, expr, tr); err != nil {
					return nil, err
				}
			}
			for _, k := range keys {
				vals, series, err := e.store.TagValues(b, m, k)
				if err != nil {
					return nil, err
				}
				cc := e.canceller(ctx)
				for i, v := range vals {
					if err := cc.tick(); err != nil {
						return nil, err
					}
					if ids != nil && !series[i].Intersects(ids) {
						continue
					}
					if perM[m] == nil {
						perM[m] = map[kv]struct{}{}
					}
					perM[m][kv{k, v}] = struct{}{}
				}
			}
		}
	}
	names := make([]string, 0, len(perM))
	for m := range perM {
		names = append(names, m)
	}
	sort.Strings(names)
	res := &StatementResult{}
	for _, m := range names {
		pairs := make([]kv, 0, len(perM[m]))
		for p := range perM[m] {
			pairs = append(pairs, p)
		}
		sort.Slice(pairs, func(i, j int) bool {
			if pairs[i].k != pairs[j].k {
				return pairs[i].k < pairs[j].k
			}
			return pairs[i].v < pairs[j].v
		})
		lo, hi := paginate(len(pairs), s.Limit, s.Offset)
		if lo == hi {
			continue
		}
		ser := &ResultSeries{Name: m, Columns: []string{"key", "value"}, NoTime: true}
		for _, p := range pairs[lo:hi] {
			ser.Rows = append(ser.Rows, Row{Values: []any{p.k, p.v}})
		}
		res.Series = append(res.Series, ser)
	}
	return res, nil
}

func (e *Executor) showFieldKeys(s *influxql.ShowFieldKeysStatement, opts ExecOptions) (*StatementResult, error) {
	targets, err := e.sourceTargets(s.Database, s.Sources, opts)
	if err != nil {
		return nil, err
	}
	res := &StatementResult{}
	for _, t := range targets {
		for _, m := range t.names {
			fields, err := e.store.Fields(t.bucket, m)
			if err != nil {
				return nil, err
			}
			lo, hi := paginate(len(fields), s.Limit, s.Offset)
			if lo == hi {
				continue
			}
			ser := &ResultSeries{Name: m, Columns: []string{"fieldKey", "fieldType"}, NoTime: true}
			for _, f := range fields[lo:hi] {
				ser.Rows = append(ser.Rows, Row{Values: []any{f.Name, f.Type.String()}})
			}
			res.Series = append(res.Series, ser)
		}
	}
	return res, nil
}

func (e *Executor) showSeries(ctx context.Context, s *influxql.ShowSeriesStatement, opts ExecOptions) (*StatementResult, error) {
	targets, err := e.sourceTargets(s.Database, s.Sources, opts)
	if err != nil {
		return nil, err
	}
	expr, tr, err := indexCondition(s.Condition, opts)
	if err != nil {
		return nil, err
	}
	// The whole listing is one series, so LIMIT and OFFSET count keys across
	// measurements.
	var keys []string
	var buf []byte
	for _, t := range targets {
		for _, m := range t.names {
			ids, err := e.matchingSeries(ctx, t.bucket, m, expr, tr)
			if err != nil {
				return nil, err
			}
			start := len(keys)
			it := ids.Iterator()
			cc := e.canceller(ctx)
			for it.HasNext() {
				if err := cc.tick(); err != nil {
					return nil, err
				}
				mm, tags, ok := e.store.Series(storage.SeriesID(it.Next()))
				if !ok {
					continue // dropped meanwhile
				}
				buf = appendSeriesKey(buf[:0], mm, tags)
				if err := memOf(ctx).hold(int64(len(buf)) + valueBytes); err != nil {
					return nil, err // held until the statement ends
				}
				keys = append(keys, string(buf))
			}
			sort.Strings(keys[start:])
		}
	}
	lo, hi := paginate(len(keys), s.Limit, s.Offset)
	if lo == hi {
		return &StatementResult{}, nil
	}
	return result(&ResultSeries{Columns: []string{"key"}, NoTime: true, Rows: stringRows(keys[lo:hi])}), nil
}

// appendSeriesKey renders a series key as line protocol writes it, with the
// escapes InfluxDB prints in SHOW SERIES.
func appendSeriesKey(dst, m []byte, tags []storage.Tag) []byte {
	dst = appendEscaped(dst, m, ", ")
	for _, t := range tags {
		dst = append(dst, ',')
		dst = appendEscaped(dst, t.Key, ", =")
		dst = append(dst, '=')
		dst = appendEscaped(dst, t.Value, ", =")
	}
	return dst
}

func appendEscaped(dst, s []byte, special string) []byte {
	for _, c := range s {
		if strings.IndexByte(special, c) >= 0 {
			dst = append(dst, '\\')
		}
		dst = append(dst, c)
	}
	return dst
}

// estimated tells whether a cardinality statement is answered from totals: the
// bare form, as InfluxDB answers it from its sketches.
func estimated(exact bool, srcs influxql.Sources, cond influxql.Expr) bool {
	return !exact && len(srcs) == 0 && cond == nil
}

func (e *Executor) showSeriesCardinality(ctx context.Context, s *influxql.ShowSeriesCardinalityStatement, opts ExecOptions) (*StatementResult, error) {
	if estimated(s.Exact, s.Sources, s.Condition) {
		db, err := statementDB(s.Database, opts)
		if err != nil {
			return nil, err
		}
		// Every retention policy counts; a missing database has none.
		var n int64
		bs, _ := e.buckets(db)
		for _, b := range bs {
			ms, err := e.store.Measurements(b)
			if err != nil {
				return nil, err
			}
			for _, m := range ms {
				ids, err := e.store.SeriesIDs(b, m, nil)
				if err != nil {
					return nil, err
				}
				n += int64(ids.GetCardinality())
			}
		}
		return result(&ResultSeries{Columns: []string{"cardinality estimation"}, NoTime: true, Rows: []Row{{Values: []any{n}}}}), nil
	}
	if hasTimeRef(s.Condition) {
		return nil, errorf("SHOW SERIES EXACT CARDINALITY doesn't support time in WHERE clause")
	}
	expr, err := tagExpr(s.Condition)
	if err != nil {
		return nil, err
	}
	targets, err := e.sourceTargets(s.Database, s.Sources, opts)
	if err != nil {
		return nil, err
	}
	res := &StatementResult{}
	for _, t := range targets {
		for _, m := range t.names {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			ids, err := e.store.SeriesIDs(t.bucket, m, expr)
			if err != nil {
				return nil, err
			}
			if ids.IsEmpty() {
				continue
			}
			res.Series = append(res.Series, &ResultSeries{Name: m, Columns: []string{"count"}, NoTime: true,
				Rows: []Row{{Values: []any{int64(ids.GetCardinality())}}}})
		}
	}
	return res, nil
}

func (e *Executor) showMeasurementCardinality(ctx context.Context, s *influxql.ShowMeasurementCardinalityStatement, opts ExecOptions) (*StatementResult, error) {
	if estimated(s.Exact, s.Sources, s.Condition) {
		db, err := statementDB(s.Database, opts)
		if err != nil {
			return nil, err
		}
		var names []string
		bs, _ := e.buckets(db)
		for _, b := range bs {
			ms, err := e.store.Measurements(b)
			if err != nil {
				return nil, err
			}
			names = append(names, ms...)
		}
		n := int64(len(sortedUnique(names)))
		return result(&ResultSeries{Columns: []string{"cardinality estimation"}, NoTime: true, Rows: []Row{{Values: []any{n}}}}), nil
	}
	if hasTimeRef(s.Condition) {
		return nil, errorf("SHOW MEASUREMENT EXACT CARDINALITY doesn't support time in WHERE clause")
	}
	expr, err := tagExpr(s.Condition)
	if err != nil {
		return nil, err
	}
	targets, err := e.sourceTargets(s.Database, s.Sources, opts)
	if err != nil {
		return nil, err
	}
	var n int64
	if err := e.eachMeasurement(ctx, targets, expr, func(storage.BucketID, string) error {
		n++
		return nil
	}); err != nil {
		return nil, err
	}
	if n == 0 {
		return &StatementResult{}, nil
	}
	return result(&ResultSeries{Columns: []string{"count"}, NoTime: true, Rows: []Row{{Values: []any{n}}}}), nil
}

// ---- deletion ----

// deletionDB is the database DROP SERIES, DROP MEASUREMENT and DELETE work on: the
// request's, as they have no ON clause. InfluxDB reports a missing one (even an
// empty name) as not found.
func (e *Executor) deletionDB(opts ExecOptions) ([]storage.BucketID, error) {
	return e.buckets(opts.Database)
}

func (e *Executor) dropMeasurement(s *influxql.DropMeasurementStatement, opts ExecOptions) error {
	bs, err := e.deletionDB(opts)
	if err != nil {
		return err
	}
	for _, b := range bs {
		if err := e.store.DropMeasurement(b, s.Name); err != nil {
			return err
		}
	}
	return nil
}

// deletionTargets selects the measurements of every bucket a DROP SERIES or
// DELETE works on, and refuses conditions on fields as InfluxDB does: its index
// can only delete by tags.
func (e *Executor) deletionTargets(bs []storage.BucketID, srcs influxql.Sources, cond influxql.Expr) ([]target, error) {
	sel := measurementFilter(srcs.Measurements())
	var out []target
	for _, b := range bs {
		ms, err := e.store.Measurements(b)
		if err != nil {
			return nil, err
		}
		ms = filterNames(ms, sel)
		for _, m := range ms {
			if err := e.checkNoFields(b, m, cond); err != nil {
				return nil, err
			}
		}
		if len(ms) > 0 {
			out = append(out, target{bucket: b, names: ms})
		}
	}
	return out, nil
}

func (e *Executor) checkNoFields(b storage.BucketID, m string, cond influxql.Expr) error {
	if cond == nil {
		return nil
	}
	fields, err := e.store.Fields(b, m)
	if err != nil || len(fields) == 0 {
		return err
	}
	tags, err := e.store.TagKeys(b, m)
	if err != nil {
		return err
	}
	isField := func(name string) bool {
		i := sort.SearchStrings(tags, name)
		if i < len(tags) && tags[i] == name {
			return false
		}
		for _, f := range fields {
			if f.Name == name {
				return true
			}
		}
		return false
	}
	var bad bool
	influxql.Walk(cond, func(n influxql.Node) {
		if ref, ok := n.(*influxql.VarRef); ok && ref.Type != influxql.Tag && (ref.Type != influxql.Unknown || isField(ref.Val)) {
			bad = true
		}
	})
	if bad {
		return errDeleteFields
	}
	return nil
}

func (e *Executor) dropSeries(ctx context.Context, s *influxql.DropSeriesStatement, opts ExecOptions) error {
	bs, err := e.deletionDB(opts)
	if err != nil {
		return err
	}
	if hasTimeRef(s.Condition) {
		return errorf("DROP SERIES doesn't support time in WHERE clause")
	}
	targets, err := e.deletionTargets(bs, s.Sources, s.Condition)
	if err != nil {
		return err
	}
	expr, err := tagExpr(s.Condition)
	if err != nil {
		return err
	}
	for _, t := range targets {
		for _, m := range t.names {
			if err := ctx.Err(); err != nil {
				return err
			}
			if _, err := e.store.DropSeries(t.bucket, m, expr); err != nil {
				return err
			}
		}
	}
	return nil
}

func (e *Executor) deleteSeries(ctx context.Context, s *influxql.DeleteSeriesStatement, opts ExecOptions) error {
	bs, err := e.deletionDB(opts)
	if err != nil {
		return err
	}
	rest, tr, err := influxql.TimeCondition(s.Condition, opts.Now, nil)
	if err != nil {
		return err
	}
	targets, err := e.deletionTargets(bs, s.Sources, rest)
	if err != nil {
		return err
	}
	expr, err := tagExpr(rest)
	if err != nil {
		return err
	}
	if tr.Empty() {
		return nil
	}
	// An open side of the range reaches every representable time, including the
	// sentinels influxql keeps out of TimeRange.
	min, max := tr.Min, tr.Max
	if !tr.HasMin() {
		min = math.MinInt64
	}
	if !tr.HasMax() {
		max = math.MaxInt64
	}
	for _, t := range targets {
		for _, m := range t.names {
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := e.store.Delete(t.bucket, m, expr, min, max); err != nil {
				return err
			}
		}
	}
	return nil
}

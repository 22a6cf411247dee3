// Package query executes InfluxQL against the storage engine through the small
// Store interface it declares, so storage never depends on it. The language front
// end (lexer, parser, AST) is query/influxql; the HTTP API and InfluxDB's JSON
// and CSV renderers are in package httpapi, and nothing here imports net/http.
//
// A SELECT is planned once (plan.go) into a selectPlan: sources and their schema
// resolved, each call's registry entry, output type and execution path chosen
// (partial states of query/partial with or without block headers, window
// function, transformation; aggregate.go runs the partial states), windows,
// fill, order, limits and SLIMIT/SOFFSET. The executor runs that plan as a
// pipeline of operators, one file each; select.go lists them in the order they
// run and holds the driver. Where to add things:
//
//	source.go       FROM: stored measurements, subqueries
//	rollup.go       FROM a CQ target: pending windows computed from raw data (real-time rollups)
//	series.go       tag predicate, GROUP BY tags (output series and their order)
//	scan.go         reading a field of a series through storage's cursors
//	column.go       helpers over storage.Column and storage.BlockStats
//	fieldstream.go  one field's points streamed a block at a time (raw path)
//	filter.go       rows joined across fields, the WHERE field condition
//	merge.go        a raw group's series merged by time, OFFSET/LIMIT, projected
//	call.go         an aggregate group: each call by its path (aggregateRows)
//	aggregate.go    the partial-state path: states fed by columns and headers
//	sketchsplit.go  a group's series split across spare cores for exactly merging sketches
//	sketchfold.go   a block in one window folded into a sketch by its values alone
//	tagarg.go       a tag as an approximate function's argument: rows weighted per series
//	window.go       GROUP BY time windows, the windows a group prints
//	fill.go         fill(): null, number, previous, linear
//	transform.go    derivative and friends, the lead windows they need
//	project.go      calls joined on time, the select list (math, aux, top tags)
//	limit.go        SLIMIT/SOFFSET, and OFFSET/LIMIT of aggregate series
//	stream.go       groups in parallel, output in order and in batches
//	cached.go       the result cache of partial states per window (query/resultcache)
//	rowcache.go     the result cache of rendered rows, joined per group
//	edgecache.go    the result cache's kept points of the window a range start cuts
//	fanout.go       a node set's peers asked for their partials, merged here
//
// EXPLAIN prints the plan as a tree (plan_format.go) and EXPLAIN ANALYZE runs
// the same plan with counters.
// Golden plans of representative statements are in testdata/plans
// (go test -run TestPlanGolden -update).
//
// Executor.Execute streams each statement's results into a ResultSink as they
// are produced (result.go describes the protocol); raw SELECTs send bounded
// batches of rows while they scan. Long loops look at the statement's context
// through a canceller (cancel.go), so KILL QUERY, --query-timeout and a client
// that went away stop the work within milliseconds. A per-query Budget
// (budget.go) bounds what a statement may hold.
//
// Every other statement runs in meta.go (SHOW, CREATE, DROP, DELETE), with the
// SHOW ... CARDINALITY statements of tag keys, tag values and field keys in
// meta_cardinality.go, SHOW STATS / SHOW DIAGNOSTICS in meta_stats.go, and the
// user statements (CREATE USER, GRANT, SHOW GRANTS ...) in users.go, on the
// UserStore the server sets (auth.Service). ExecOptions.Auth, when set, is
// asked before every statement (users.go's authorize); which privileges a
// statement needs is auth.RequiredPrivileges'. Where
// InfluxDB 1.x's answer is the specification, its own HTTP test suite is
// replayed by cmd/strata's TestInfluxDBSuite.
//
// To add an InfluxQL function, touch one place: its entry in
// query/funcs/table.go (the function registry). The validator, the planner, the
// executor's choice of path and EXPLAIN all read that entry.
package query

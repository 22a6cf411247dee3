// Package query executes InfluxQL against the storage engine through the small
// Store interface it declares, so storage never depends on it. The language front
// end (lexer, parser, AST) is query/influxql; the HTTP API and InfluxDB's JSON
// and CSV renderers are in package httpapi, and nothing here imports net/http.
//
// A SELECT is planned once (plan.go) into a selectPlan: sources and their schema
// resolved, each call's registry entry, output type and execution path chosen
// (partial states of query/partial with or without block headers, window
// function, transformation; aggregate.go runs the partial states), windows,
// fill, order, limits and SLIMIT/SOFFSET. select.go and stream.go run that
// plan and read each call's path from it; EXPLAIN prints it as a tree
// (plan_format.go) and EXPLAIN ANALYZE runs the same plan with counters.
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

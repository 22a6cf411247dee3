// Package query answers InfluxQL over HTTP (/query) in InfluxDB 1.x's JSON. The
// language front end (lexer, parser, AST) is query/influxql; this package executes
// statements against the storage engine through the small Store interface it
// declares, so storage never depends on it.
//
// A SELECT is planned once (plan.go) into a selectPlan: sources and their schema
// resolved, each call's registry entry, output type and execution path chosen
// (block-header fast path, accumulator, window function, transformation),
// windows, fill, order, limits and SLIMIT/SOFFSET. select.go runs that plan
// (executePlan) and reads each call's path from it; EXPLAIN prints it as a tree
// (plan_format.go) and EXPLAIN ANALYZE runs the same executePlan with counters.
// Golden plans of representative statements are in testdata/plans
// (go test -run TestPlanGolden -update).
//
// Every other statement runs in meta.go (SHOW, CREATE, DROP, DELETE), with the
// SHOW ... CARDINALITY statements of tag keys, tag values and field keys in
// meta_cardinality.go and SHOW STATS / SHOW DIAGNOSTICS in meta_stats.go. Where
// InfluxDB 1.x's answer is the specification, its own HTTP test suite is
// replayed by cmd/strata's TestInfluxDBSuite.
//
// To add an InfluxQL function, touch one place: its entry in
// query/funcs/table.go (the function registry). The validator, the planner, the
// executor's choice of path and EXPLAIN all read that entry.
package query

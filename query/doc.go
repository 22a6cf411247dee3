// Package query answers InfluxQL over HTTP (/query) in InfluxDB 1.x's JSON. The
// language front end (lexer, parser, AST) is query/influxql; this package executes
// statements against the storage engine through the small Store interface it
// declares, so storage never depends on it.
//
// A SELECT is planned once (plan.go) into a selectPlan: sources and their schema
// resolved, each call's registry entry, output type and execution path chosen
// (partial states of query/partial with or without block headers, window
// function, transformation; aggregate.go runs the partial states and splits
// a group's series across idle cores),
// windows, fill, order, limits and SLIMIT/SOFFSET. select.go runs that plan
// (executePlan) and reads each call's path from it; EXPLAIN prints it as a tree
// (plan_format.go) and EXPLAIN ANALYZE runs the same executePlan with counters.
// Golden plans of representative statements are in testdata/plans
// (go test -run TestPlanGolden -update).
//
// To add an InfluxQL function, touch one place: its entry in
// query/funcs/table.go (the function registry). The validator, the planner, the
// executor's choice of path and EXPLAIN all read that entry.
package query

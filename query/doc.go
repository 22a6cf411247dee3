// Package query answers InfluxQL over HTTP (/query) in InfluxDB 1.x's JSON. The
// language front end (lexer, parser, AST) is query/influxql; this package executes
// statements against the storage engine through the small Store interface it
// declares, so storage never depends on it.
//
// To add an InfluxQL function, touch one place: its entry in
// query/funcs/table.go (the function registry). The validator, the planner, the
// executor's choice of path and EXPLAIN all read that entry.
package query

// Package influxql owns the InfluxQL (InfluxDB 1.x query language) front end of
// Strata: a hand-written scanner, a recursive-descent parser producing an AST,
// canonical printing of that AST, bound-parameter substitution, semantic
// validation of SELECT statements and the pure analyses a planner needs (time
// range extraction, tag/field predicate split, GROUP BY time and fill options).
//
// It exists so that Grafana's InfluxDB data source, the influx CLI and the 1.x
// client libraries work against Strata unchanged, which is why its error texts
// and positions match InfluxDB 1.6 byte for byte where they have been recorded
// (see testdata/influxql). The package knows nothing about storage or
// execution: the planner in query/ consumes the AST, and the HTTP layer turns
// a *ParseError into `error parsing query: <Error()>`.
//
// Layout:
//
//	token.go     tokens and the keyword table
//	scanner.go   the lexer (context-free, except regexes, which the parser asks for)
//	ast.go       expressions, sources, SELECT and their canonical String()
//	ast_stmt.go  SHOW, DDL, DELETE, CQ, EXPLAIN and KILL statements
//	parser.go    ParseQuery/ParseStatement/ParseExpr, ParseError, statements
//	parser_expr.go  expressions (precedence climbing) and SELECT clauses
//	duration.go  duration literals: <int><unit> groups, units ns u µ ms s m h d w
//	validate.go  InfluxDB's semantic checks on SELECT; the function rules come
//	             from a Functions (query/funcs.Registry), not from here
//	analyze.go   time ranges, predicate split, GROUP BY helpers for the planner
//	bind.go      $param substitution from JSON-decoded values
//
// Every AST node prints canonical InfluxQL such that parse(String(x)) prints
// the same String again; the fuzz target checks that property.
package influxql

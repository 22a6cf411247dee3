// Package query executes InfluxQL against the storage engine through the small
// Store interface it declares, so storage never depends on it. The language front
// end (lexer, parser, AST) is query/influxql; the HTTP API and InfluxDB's JSON
// and CSV renderers are in package httpapi, and nothing here imports net/http.
//
// Executor.Execute streams each statement's results into a ResultSink as they
// are produced (result.go describes the protocol); raw SELECTs send bounded
// batches of rows while they scan. Long loops look at the statement's context
// through a canceller (cancel.go), so KILL QUERY, --query-timeout and a client
// that went away stop the work within milliseconds.
package query

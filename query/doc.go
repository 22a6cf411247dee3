// Package query answers InfluxQL over HTTP (/query) in InfluxDB 1.x's JSON. The
// language front end (lexer, parser, AST) is query/influxql; this package executes
// statements against the storage engine through the small Store interface it
// declares, so storage never depends on it.
package query

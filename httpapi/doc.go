// Package httpapi is InfluxDB 1.x's HTTP API of queries: the /query handler
// (parameters, parsing, async) and the renderers of its answer (JSON, pretty,
// chunked, CSV, epoch) fed by the query engine's result stream.
//
// It sits between cmd and the engine (cmd → httpapi → query → storage) so that
// package query knows nothing of net/http and can be driven by anything that
// consumes a query.ResultSink; architecture_test.go holds both rules. It is a
// package at the top of the tree rather than query/httpquery because it must be
// able to import query while nothing under query/ may import net/http.
//
// With a user service set (SetAuth), the handler authenticates the request
// first (401), refuses statements that change something over GET (405),
// authorizes every statement before any runs (403), then hands the principal
// to the engine, which checks again per statement.
//
// Before a query runs, admission.go gives it a turn under
// --max-concurrent-queries or a place in a short queue (--max-queued-queries,
// listed as "queued" by SHOW QUERIES and ended by KILL QUERY); beyond the
// queue the answer is 503 with Retry-After. SHOW QUERIES and KILL QUERY never
// wait.
//
// partial.go serves the peers of a query fan-out (POST /internal/v2/partial,
// docs/format/node-protocol.md): it verifies the cluster secret's signature
// (cluster.Secret) before reading the statement, refuses every request on a
// node with --auth-enabled and no secret, and checks the signed user's
// privileges when this node knows the user.
//
// Add here: new /query parameters (handler in query.go) and output formats (a
// renderer next to response.go). Statement semantics belong in query; the
// /write endpoints live in ingest.
package httpapi

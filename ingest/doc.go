// Package ingest turns write requests into stored points: it serves InfluxDB's
// /write (1.x) and /api/v2/write (2.x) endpoints, reads and inflates the body under
// size limits, parses it with the pure line-protocol parser in ingest/lineprotocol
// and hands the points to the storage engine through the small Store interface it
// declares.
//
// Its answers are InfluxDB 1.x's, byte for byte where clients depend on them: a batch
// with some bad lines keeps the good ones and answers 400 "partial write: ...
// dropped=N"; an unknown database is 404; an oversized body is 413. Deliberate
// differences from 1.6.7: dropped=N counts the points really dropped (1.6.7 always
// says 0); the parser accepts unsigned integers and CRLF line endings; a line
// longer than 256 bytes is quoted by its prefix and line number, and
// X-Influxdb-Error is cut to 2 KB (errors.go), where 1.6.7 echoes whole lines.
//
// Memory is bounded before a byte is parsed: budget.go reads each body as it
// arrives into buffers reserved from one in-flight budget (429 with Retry-After
// when it is spent), never from the Content-Length a client declares; a line
// with more than MaxFieldsPerLine fields is refused (400).
//
// With Options.Auth enabled, auth.go authenticates the writer before anything
// else (401) and checks its WRITE privilege on the database (403), with 1.x's
// texts; nothing else here knows about users.
//
// promwrite.go serves Prometheus remote write (/api/v1/prom/write, as 1.x, and
// /api/v1/write) on the pure decoder in ingest/promremote; promread.go answers
// remote read (/api/v1/prom/read) from the same mapping, through the small
// PromReader interface. lines.go is the one
// conversion of line protocol into a storage batch, shared with the Kafka
// consumer (ingest/kafka). Every refused line or sample becomes a dead letter
// (deadletters.go, stored by ingest/deadletter) once its write succeeded. A new
// protocol gets a pure decoder package and a handler file here that ends in
// the same Store.
package ingest

// Package strata is the root of Strata, a single-binary time-series database that
// speaks InfluxDB's line protocol and InfluxQL. It holds no code: the tree is
// organised by the path data takes, and imports flow one way,
// cmd → ingest, httpapi, console, services, bench → query → storage → wal (architecture_test.go
// enforces it):
//
//	cmd/strata        the binary: flags, HTTP server wiring, metrics registry
//	ingest            /write, /api/v2/write, Prometheus remote write; ingest/lineprotocol and
//	                  ingest/promremote are the pure decoders, ingest/kafka the Kafka consumer,
//	                  ingest/deadletter the store of refused input
//	httpapi           /query over HTTP: parameters and InfluxDB 1.x's JSON/CSV renderers
//	console           the web console at / (embedded static pages over /query and /metrics)
//	auth              users, bcrypt credentials and InfluxDB 1.x privilege checks
//	query             the InfluxQL engine, streaming results; query/influxql is the front end,
//	                  query/funcs the function registry, query/partial the mergeable aggregate states,
//	                  query/sketch the approximate sketches (HLL, DDSketch, Space-Saving, Count-Min)
//	storage           series, tag index, head, column blocks (storage/block) in Pebble
//	compaction        merges and rewrites stored blocks
//	services          the lifecycle owner of background work (merging, retention, ...);
//	                  services/cq runs continuous queries and keeps rollups exact under late data
//	wal               the write-ahead log of opaque records
//	bench             the TSBS cpu-only load and query benchmark (strata bench)
//	docs/format       byte-level specifications of everything on disk
//	testdata          golden files and compatibility corpora
package strata

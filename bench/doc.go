// Package bench owns Strata's reproduction of the TSBS "cpu-only" benchmark: it
// generates the data set, loads it into any server that speaks the InfluxDB 1.x
// HTTP API, runs the TSBS query types as TSBS writes them in InfluxQL, and checks
// every answer against values computed here from the generated data.
//
// The package is independent of Strata's internals on purpose: it talks HTTP only,
// so the same run measures Strata, influxd or VictoriaMetrics. The one exception is
// a test-only dependency on ingest/lineprotocol, which proves that the generated
// bodies are valid line protocol. Starting an embedded Strata is the caller's job
// (cmd/strata wires it through Options.Embedded), which keeps this package free of
// the server and the server free of the benchmark.
//
// # Phases
//
//  1. Generate: every request body is built in memory before any timing starts, so
//     the load measures the server and the network, not the generator.
//  2. Load: Workers goroutines POST the bodies to /write in order of time, then host.
//  3. Queries: each TSBS query type is sent QueryRuns times with host sets and time
//     windows drawn from the seed; latency is median and p99, and every answer is
//     compared with Expected.
//  4. Measure: bytes on disk per value (embedded servers, after a graceful stop that
//     flushes) and the peak resident set size of the server process.
//
// # Data
//
// The data follow TSBS's devops host model for tags (region, datacenter, rack, os,
// arch, team, service, service_version, service_environment, drawn per host) and
// replace TSBS's CPU distributions with a documented random walk: each of the ten
// fields starts uniform in [0, 100] with two decimals and moves by a uniform step in
// [-1.00, +1.00] per interval, clamped to [0, 100]. Values are held as integer
// hundredths, so the expected answers are exact and independent of any server.
// Everything derives from the seed and the host number: host_7 has the same tags and
// values whether 10 or 1000 hosts are generated.
package bench

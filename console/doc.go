// Package console is Strata's built-in web console, served at "/": an InfluxQL
// editor with completion and history, a database / retention-policy / time-range
// picker, results as a time-series chart (uPlot) or a table with CSV download,
// a schema browser and a status page built from the server's own /metrics.
//
// Everything is static and embedded (assets/, go:embed): the page talks only to
// the server that served it, through the same /query and /metrics endpoints any
// client uses, so the console needs no API of its own and no build step. A
// Content-Security-Policy keeps the page from reaching anywhere else.
//
// Third-party front-end code lives in assets/third_party/<name>/ with its
// LICENSE and a VERSION file recording the release and the SHA-256 of each
// file; console_test.go checks those checksums.
//
// Imports: the standard library and the Prometheus client only; cmd/strata
// mounts Handler. Add here: new pages of the console (assets/) and the few
// server-side values the page needs that no endpoint has (see DiskUsage).
package console

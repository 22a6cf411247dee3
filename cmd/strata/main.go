// Command strata is the Strata time-series database: one binary, one process.
//
//	strata serve [flags]   run the server
//	strata bench [flags]   run the TSBS cpu-only benchmark against a server
//	strata check [flags]   verify every checksum of a data directory offline
//	strata repair [flags]  make a damaged data directory startable again
//	strata import [flags] FILE...  load line protocol, CSV or influx -import files into a server
//	strata export [flags]  write a database as line protocol
//	strata backup [flags] DIR      back up a running server, consistently, while it takes writes
//	strata restore --data-dir D DIR  restore a backup into an empty data directory
//	strata shell [flags]   an interactive InfluxQL shell (influx-style)
//	strata deadletter replay [flags]  write refused lines again once their cause is fixed
//	strata version         print the version
//
// Run `strata serve --help` for the server's flags.
package main

import (
	"fmt"
	"io"
	"os"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "0.1.0-dev"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	switch args[0] {
	case "serve":
		return serveCommand(args[1:], stdout, stderr)
	case "bench":
		return benchCommand(args[1:], stdout, stderr)
	case "check":
		return checkCommand(args[1:], stdout, stderr, false)
	case "repair":
		return checkCommand(args[1:], stdout, stderr, true)
	case "import":
		return importCommand(args[1:], stdout, stderr)
	case "export":
		return exportCommand(args[1:], stdout, stderr)
	case "backup":
		return backupCommand(args[1:], stdout, stderr)
	case "restore":
		return restoreCommand(args[1:], stdout, stderr)
	case "shell":
		return shellCommand(args[1:], stdout, stderr)
	case "deadletter":
		return deadletterCommand(args[1:], stdout, stderr)
	case "version", "--version", "-version":
		fmt.Fprintf(stdout, "strata %s\n", version)
		return 0
	case "help", "--help", "-help", "-h":
		usage(stdout)
		return 0
	}
	fmt.Fprintf(stderr, "strata: unknown command %q\n\n", args[0])
	usage(stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprint(w, `Strata: a time-series database speaking InfluxDB's line protocol and InfluxQL.

Usage:
  strata serve [flags]   run the server (see strata serve --help)
  strata bench [flags]   load a server with the TSBS cpu-only workload and time queries (see strata bench --help)
  strata check --data-dir D    verify every checksum of a stopped server's data offline (exit 1 on damage)
  strata repair --data-dir D   drop (and quarantine) what is damaged so the server starts, listing it
  strata import --db DB FILE...  load line protocol (.gz too), CSV or influx -import files, with progress
  strata export --db DB [--start T --end T --measurement M]  write a database as line protocol
  strata backup --url URL DIR   consistent online backup of a running server into DIR
  strata restore --data-dir D DIR  verify a backup and restore it into an empty data directory
  strata shell [--host H --port P | --url URL] [-execute Q]   an interactive InfluxQL shell
  strata deadletter replay --since 1h   write refused lines again through /write once their cause is fixed
  strata version         print the version
`)
}

package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/strata-db/strata/bench"
)

// benchCommand runs `strata bench`: the TSBS cpu-only load (and queries) against a
// server at --url, or against a Strata started in this process.
func benchCommand(args []string, stdout, stderr io.Writer) int {
	def := bench.DefaultGenConfig()
	opts := bench.Options{Gen: def}
	var (
		start    string
		seed     int64
		dataDir  string
		jsonPath string
		logLevel string
	)
	fs := flag.NewFlagSet("strata bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&opts.Gen.Hosts, "hosts", def.Hosts, "number of simulated hosts (TSBS --scale)")
	fs.DurationVar(&opts.Gen.Interval, "interval", def.Interval, "time between two points of a host")
	fs.DurationVar(&opts.Gen.Duration, "duration", def.Duration, "time span of the data")
	fs.StringVar(&start, "start", def.Start.Format(time.RFC3339), "time of the first point, RFC 3339")
	fs.Int64Var(&seed, "seed", int64(def.Seed), "seed of the data and of the queries")
	fs.IntVar(&opts.Gen.BatchLines, "batch", def.BatchLines, "lines per write request")
	fs.BoolVar(&opts.Gen.Gzip, "gzip", false, "send gzip-compressed bodies (compressed before timing)")
	fs.IntVar(&opts.Workers, "workers", 4, "concurrent writers")
	fs.StringVar(&opts.URL, "url", "", "base URL of a running server (InfluxDB 1.x API); empty: start an embedded Strata")
	fs.StringVar(&opts.DB, "db", "benchmark", "database to create and write to")
	fs.IntVar(&opts.PID, "pid", 0, "with --url: process id of the server, to report its peak RSS")
	fs.BoolVar(&opts.Queries, "queries", true, "run the TSBS query types after the load and check the answers")
	fs.IntVar(&opts.QueryRuns, "query-runs", 20, "queries per query type")
	fs.StringVar(&dataDir, "data-dir", "", "embedded server: data directory (default: a temporary one, removed afterwards)")
	fs.StringVar(&jsonPath, "json", "", "also write the report as JSON to this file")
	fs.StringVar(&logLevel, "log-level", "warn", "embedded server: log level")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: strata bench [flags]

Reproduces the TSBS cpu-only workload: generates the data in memory, loads it over
the InfluxDB 1.x /write API with concurrent writers, runs the TSBS query types and
checks every answer. Reports values/s, bytes on disk per value (embedded server)
and peak RSS.

Flags:
`)
		fs.PrintDefaults()
	}
	if status, ok := parseFlags(fs, args); !ok {
		return status
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "strata bench: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	t, err := time.Parse(time.RFC3339, start)
	if err != nil {
		fmt.Fprintf(stderr, "strata bench: bad --start: %v\n", err)
		return 2
	}
	opts.Gen.Start, opts.Gen.Seed = t, uint64(seed)
	opts.URL = strings.TrimRight(opts.URL, "/")
	opts.Progress = stderr

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	if opts.URL == "" {
		logger, err := newLogger(stderr, logLevel, "text")
		if err != nil {
			fmt.Fprintf(stderr, "strata bench: %v\n", err)
			return 2
		}
		if dataDir == "" {
			tmp, err := os.MkdirTemp("", "strata-bench-")
			if err != nil {
				fmt.Fprintf(stderr, "strata bench: %v\n", err)
				return 1
			}
			defer os.RemoveAll(tmp)
			dataDir = tmp
		}
		opts.Embedded = &bench.Embedded{DataDir: dataDir, Start: embeddedStrata(dataDir, logger)}
	}

	rep, runErr := bench.Run(ctx, opts)
	if rep != nil {
		rep.WriteTable(stdout)
		if jsonPath != "" {
			if err := writeJSONFile(jsonPath, rep); err != nil {
				fmt.Fprintf(stderr, "strata bench: %v\n", err)
				return 1
			}
		}
	}
	if runErr != nil {
		fmt.Fprintf(stderr, "strata bench: %v\n", runErr)
		return 1
	}
	return 0
}

// embeddedStrata returns a Start function for bench.Embedded that runs serve on
// 127.0.0.1:0 with the serve command's defaults (defaultServeConfig). Stopping cancels serve's context,
// which shuts down gracefully and flushes, and waits for serve to return.
func embeddedStrata(dataDir string, log *slog.Logger) func() (string, func() error, error) {
	return func() (string, func() error, error) {
		cfg := defaultServeConfig()
		cfg.dataDir, cfg.httpAddr, cfg.logLevel = dataDir, "127.0.0.1:0", "warn"
		ctx, cancel := context.WithCancel(context.Background())
		addrc := make(chan string, 1)
		done := make(chan error, 1)
		go func() { done <- serve(ctx, cfg, log, func(addr string) { addrc <- addr }) }()
		select {
		case addr := <-addrc:
			stop := func() error {
				cancel()
				return <-done
			}
			return "http://" + addr, stop, nil
		case err := <-done:
			cancel()
			if err == nil {
				err = errors.New("server stopped before listening")
			}
			return "", nil, err
		}
	}
}

func writeJSONFile(path string, rep *bench.Report) error {
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

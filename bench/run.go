package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"
)

// Options configure a whole benchmark run.
type Options struct {
	Gen       GenConfig
	URL       string // server to load; ignored when Embedded is set
	DB        string
	Workers   int
	Queries   bool
	QueryRuns int
	// PID is the server's process id for its peak RSS when URL points at another
	// process; 0 leaves it unknown.
	PID int
	// Embedded, if set, is a server started for the run and stopped after it.
	Embedded *Embedded
	// Progress receives one line per phase; nil discards them.
	Progress io.Writer
}

// Embedded is a server the run owns. Start returns its base URL and a stop function
// that shuts it down gracefully, which flushes everything to DataDir, and returns
// once it has stopped. The server must run in this process: its peak RSS is read
// from /proc/self.
type Embedded struct {
	DataDir string
	Start   func() (url string, stop func() error, err error)
}

// Report is the outcome of a run, printed as a table by WriteTable and as JSON by
// encoding/json.
type Report struct {
	Target  string `json:"target"`
	DataDir string `json:"data_dir,omitempty"`

	Hosts      int     `json:"hosts"`
	Start      string  `json:"start"`
	Interval   string  `json:"interval"`
	Duration   string  `json:"duration"`
	Seed       uint64  `json:"seed"`
	BatchLines int     `json:"batch_lines"`
	Gzip       bool    `json:"gzip"`
	Workers    int     `json:"workers"`
	GenSeconds float64 `json:"generate_seconds"`
	Lines      int64   `json:"lines"`
	Values     int64   `json:"values"`
	RawBytes   int64   `json:"line_protocol_bytes"`
	SentBytes  int64   `json:"sent_bytes"`

	Load         LoadResult `json:"load"`
	ValuesPerSec float64    `json:"values_per_second"`
	LinesPerSec  float64    `json:"lines_per_second"`
	MBPerSec     float64    `json:"mb_per_second"` // line protocol, 10^6 bytes

	Disk *DiskUsage `json:"disk,omitempty"`
	// BytesPerValue is file bytes (apparent sizes) per value accepted: what the
	// engine wrote. BytesPerValueDU uses allocated blocks, as du counts them, which
	// also charges space preallocated for logs.
	BytesPerValue   float64 `json:"bytes_per_value,omitempty"`
	BytesPerValueDU float64 `json:"bytes_per_value_du,omitempty"`

	PeakRSS       int64  `json:"peak_rss_bytes,omitempty"` // 0: unknown
	PeakRSSOf     string `json:"peak_rss_of,omitempty"`
	RSSBeforeLoad int64  `json:"rss_before_load_bytes,omitempty"` // embedded: generated data and an idle server

	Queries []QueryStats `json:"queries,omitempty"`
}

// Run generates the data, loads it, runs the queries and measures the server.
// The report is returned also with an error when a later phase failed, so that
// what was measured is not lost.
func Run(ctx context.Context, opts Options) (*Report, error) {
	progress := opts.Progress
	if progress == nil {
		progress = io.Discard
	}
	if opts.Workers <= 0 {
		return nil, fmt.Errorf("workers must be positive, got %d", opts.Workers)
	}
	g := opts.Gen
	rep := &Report{
		Target: opts.URL, Hosts: g.Hosts, Start: g.Start.UTC().Format(time.RFC3339),
		Interval: g.Interval.String(), Duration: g.Duration.String(), Seed: g.Seed,
		BatchLines: g.BatchLines, Gzip: g.Gzip, Workers: opts.Workers,
	}
	fmt.Fprintf(progress, "generating %d hosts × %v every %v…\n", g.Hosts, g.Duration, g.Interval)
	d, err := Generate(g)
	if err != nil {
		return nil, err
	}
	rep.GenSeconds = d.Elapsed.Seconds()
	rep.Lines, rep.Values, rep.RawBytes, rep.SentBytes = d.Lines, d.Values(), d.RawBytes, d.SentBytes()
	fmt.Fprintf(progress, "generated %d lines in %d bodies (%.1f MB) in %.1fs\n", d.Lines, len(d.Bodies), float64(d.RawBytes)/1e6, rep.GenSeconds)

	url := opts.URL
	var stop func() error
	if e := opts.Embedded; e != nil {
		rep.Target, rep.DataDir = "embedded", e.DataDir
		url, stop, err = e.Start()
		if err != nil {
			return rep, fmt.Errorf("start embedded server: %w", err)
		}
		fmt.Fprintf(progress, "embedded server on %s, data in %s\n", url, e.DataDir)
		defer func() {
			if stop != nil {
				stop()
			}
		}()
		if _, rss, err := ProcMemory(0); err == nil {
			rep.RSSBeforeLoad = rss
		}
	}
	if url == "" {
		return rep, errors.New("no server: set a URL or an embedded server")
	}
	client := NewClient(opts.Workers)
	if err := CreateDatabase(ctx, client, url, opts.DB); err != nil {
		return rep, err
	}

	fmt.Fprintf(progress, "loading with %d workers…\n", opts.Workers)
	lr, err := Load(ctx, LoadConfig{URL: url, DB: opts.DB, Workers: opts.Workers, Client: client}, d)
	if err != nil {
		return rep, err
	}
	rep.Load = lr
	if s := lr.Elapsed.Seconds(); s > 0 {
		rep.LinesPerSec = float64(lr.LinesAccepted) / s
		rep.ValuesPerSec = rep.LinesPerSec * NumFields
		rep.MBPerSec = float64(lr.BytesAccepted) / 1e6 / s
	}
	fmt.Fprintf(progress, "loaded in %.1fs: %.0f values/s, %d failed requests\n", lr.Seconds, rep.ValuesPerSec, lr.Failed)

	if opts.Queries {
		fmt.Fprintf(progress, "running %d query types × %d…\n", len(QueryTypes), opts.QueryRuns)
		qs, err := RunQueries(ctx, QueryConfig{URL: url, DB: opts.DB, Runs: opts.QueryRuns, Seed: g.Seed, Client: client}, d)
		rep.Queries = qs
		if err != nil {
			return rep, err
		}
	}

	switch {
	case opts.Embedded != nil:
		s := stop
		stop = nil
		fmt.Fprintf(progress, "stopping the embedded server (flush)…\n")
		if err := s(); err != nil {
			return rep, fmt.Errorf("stop embedded server: %w", err)
		}
		if hwm, _, err := ProcMemory(0); err == nil {
			rep.PeakRSS, rep.PeakRSSOf = hwm, "this process: embedded server and generated bodies"
		}
		du, err := MeasureDisk(opts.Embedded.DataDir)
		if err != nil {
			return rep, err
		}
		rep.Disk = &du
		if lr.LinesAccepted > 0 {
			n := float64(lr.LinesAccepted * NumFields)
			rep.BytesPerValue, rep.BytesPerValueDU = float64(du.Apparent)/n, float64(du.Allocated)/n
		}
	case opts.PID > 0:
		hwm, _, err := ProcMemory(opts.PID)
		if err != nil {
			return rep, err
		}
		rep.PeakRSS, rep.PeakRSSOf = hwm, fmt.Sprintf("pid %d", opts.PID)
	}
	return rep, nil
}

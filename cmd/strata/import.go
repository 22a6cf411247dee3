package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/schollz/progressbar/v3"
)

// importConfig is what `strata import` was asked to do.
type importConfig struct {
	conn       clientFlags
	db, rp     string
	precision  string
	format     string // auto, lp, csv, influx
	batchLines int
	batchBytes int
	writers    int
	rejects    string
	state      string
	resume     bool
	quiet      bool
	csv        csvMapping
	files      []string
}

// Defaults of the batching. 5,000 lines is influx -import's batch; 4 MiB keeps
// a batch far below the server's 25 MB body limit even for wide lines. Four
// writers keep a 2-core server busy (the server parses while the client reads
// the next batch); more only queue on its WAL commit.
const (
	defaultBatchLines = 5000
	defaultBatchBytes = 4 << 20
	defaultWriters    = 4
	// maxLineBytes bounds one input line (and a multi-line string value):
	// a longer one is rejected rather than buffered without limit.
	maxLineBytes = 4 << 20
	// maxBatchRetries bounds how often one batch is resent after 429/503 or a
	// connection error (with the server's Retry-After, at least 100 ms apart)
	// before the import stops: about a minute of an unavailable server.
	maxBatchRetries = 60
)

func importCommand(args []string, stdout, stderr io.Writer) int {
	var cfg importConfig
	fs := flag.NewFlagSet("strata import", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg.conn.bind(fs)
	fs.StringVar(&cfg.db, "db", "", "database to write to (influx -import files may name theirs with # CONTEXT-DATABASE)")
	fs.StringVar(&cfg.rp, "rp", "", "retention policy to write to (default: the database's default)")
	fs.StringVar(&cfg.precision, "precision", "ns", "unit of the input's timestamps: ns, us, ms, s, m or h")
	fs.StringVar(&cfg.format, "format", "auto", "input format: lp (line protocol), csv, influx (influx -import's # DDL/# DML file) or auto (by extension and first line)")
	fs.IntVar(&cfg.batchLines, "batch-size", defaultBatchLines, "lines per write request")
	fs.IntVar(&cfg.writers, "writers", defaultWriters, "write requests in flight at once")
	fs.StringVar(&cfg.rejects, "rejects", "strata-import.rejects", "file that receives every rejected line with its file, line number and reason")
	fs.StringVar(&cfg.state, "state", "strata-import.state", "file recording how far each input was imported, read by --resume")
	fs.BoolVar(&cfg.resume, "resume", false, "continue an interrupted import: skip the lines --state says were written")
	fs.BoolVar(&cfg.quiet, "quiet", false, "no progress bar")
	cfg.csv.bind(fs)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: strata import [flags] FILE...

Writes line protocol (plain or .gz), CSV, or influx -import's DDL/DML files into a
running server, in batches from parallel writers, with a progress bar. A line the
server or the parser rejects is written to --rejects with its reason and the rest
goes on; the exit status is 1 when any line was rejected. An interrupted import
continues with --resume. FILE "-" reads standard input (not resumable).

Flags:
`)
		fs.PrintDefaults()
	}
	if status, ok := parseFlags(fs, args); !ok {
		return status
	}
	cfg.files = fs.Args()
	if len(cfg.files) == 0 {
		fmt.Fprintln(stderr, "strata import: no input files (see --help)")
		return 2
	}
	cfg.batchBytes = defaultBatchBytes
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	sum, err := runImport(ctx, cfg, stderr)
	if sum != nil {
		fmt.Fprintln(stdout, sum)
	}
	if err != nil {
		fmt.Fprintf(stderr, "strata import: %v\n", err)
		var ue *usageError
		if errors.As(err, &ue) {
			return 2
		}
		return 1
	}
	if sum.rejected > 0 {
		fmt.Fprintf(stderr, "strata import: %d lines rejected, see %s\n", sum.rejected, cfg.rejects)
		return 1
	}
	return 0
}

// usageError is a mistake in the flags or the inputs' headers, found before
// anything was written (exit status 2).
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

// importSummary is the closing line of an import.
type importSummary struct {
	lines, rejected, bytes int64
	files                  int
	took                   time.Duration
}

func (s *importSummary) String() string {
	rate := float64(s.lines) / max(s.took.Seconds(), 1e-9)
	return fmt.Sprintf("imported %d lines (%d rejected) from %d files, %d bytes, in %v: %.0f lines/s",
		s.lines, s.rejected, s.files, s.bytes, s.took.Round(time.Millisecond), rate)
}

// importRun is one import's shared state: the writers' queue, the counters
// the progress bar shows and the resume bookkeeping.
type importRun struct {
	cfg     importConfig
	c       *client
	batches chan *importBatch
	tracker *resumeTracker
	rejects *rejectLog

	lines    atomic.Int64 // lines written
	rejected atomic.Int64
	inputs   []*importInput
	inflight sync.WaitGroup // batches queued or being written

	errMu sync.Mutex
	err   error // the first fatal error: the import stops
}

func (r *importRun) fail(err error) {
	r.errMu.Lock()
	if r.err == nil {
		r.err = err
	}
	r.errMu.Unlock()
}

func (r *importRun) failed() error {
	r.errMu.Lock()
	defer r.errMu.Unlock()
	return r.err
}

func runImport(ctx context.Context, cfg importConfig, progressOut io.Writer) (*importSummary, error) {
	c, err := cfg.conn.client(os.Getenv)
	if err != nil {
		return nil, &usageError{err}
	}
	prec, err := parsePrecision(cfg.precision)
	if err != nil {
		return nil, &usageError{err}
	}
	if cfg.batchLines <= 0 || cfg.writers <= 0 {
		return nil, &usageError{errors.New("--batch-size and --writers must be positive")}
	}
	// Open every input and check CSV headers before anything is written.
	inputs, err := openInputs(cfg, prec)
	if err != nil {
		return nil, &usageError{err}
	}
	defer func() {
		for _, in := range inputs {
			in.close()
		}
	}()
	tracker, err := openResumeTracker(cfg.state, cfg.resume)
	if err != nil {
		return nil, err
	}
	rejects, err := openRejectLog(cfg.rejects, cfg.resume)
	if err != nil {
		return nil, err
	}
	defer rejects.close()

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	run := &importRun{cfg: cfg, c: c, batches: make(chan *importBatch, cfg.writers), tracker: tracker, rejects: rejects, inputs: inputs}
	var total int64
	for _, in := range inputs {
		total += in.size
	}
	bar := newImportBar(run, total, progressOut, cfg.quiet)
	start := time.Now()
	var wg sync.WaitGroup
	for range cfg.writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range run.batches {
				if err := run.send(ctx, b); err != nil {
					run.fail(err)
					cancel()
				} else {
					tracker.done(b)
				}
				run.inflight.Done()
			}
		}()
	}
	stopBar := bar.start()
	for _, in := range inputs {
		if err := run.readInput(ctx, in); err != nil {
			run.fail(err)
			cancel()
			break
		}
	}
	close(run.batches)
	wg.Wait()
	stopBar()
	if err := tracker.save(); err != nil {
		run.fail(fmt.Errorf("save import state: %w", err))
	}
	sum := &importSummary{lines: run.lines.Load(), rejected: run.rejected.Load(), bytes: run.bytesRead(), files: len(inputs), took: time.Since(start)}
	if err := run.failed(); err != nil {
		if ctx.Err() != nil && errors.Is(err, context.Canceled) {
			err = fmt.Errorf("interrupted; continue with --resume --state %s", cfg.state)
		}
		return sum, err
	}
	return sum, nil
}

// importBar draws the progress bar: bytes read of the inputs' total (so the
// ETA follows the files), lines/s, lines written and rejected.
type importBar struct {
	run   *importRun
	bar   *progressbar.ProgressBar
	quiet bool
}

func newImportBar(run *importRun, total int64, w io.Writer, quiet bool) *importBar {
	if quiet {
		return &importBar{quiet: true}
	}
	bar := progressbar.NewOptions64(total,
		progressbar.OptionSetWriter(w),
		progressbar.OptionShowBytes(true),
		progressbar.OptionSetWidth(30),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionShowElapsedTimeOnFinish(),
		progressbar.OptionThrottle(200*time.Millisecond),
		progressbar.OptionSetRenderBlankState(true),
		progressbar.OptionOnCompletion(func() { fmt.Fprintln(w) }),
	)
	return &importBar{run: run, bar: bar}
}

// start refreshes the bar five times a second until the returned stop is
// called.
func (b *importBar) start() (stop func()) {
	if b.quiet {
		return func() {}
	}
	done := make(chan struct{})
	finished := make(chan struct{})
	begin := time.Now()
	update := func() {
		lines := b.run.lines.Load()
		rate := float64(lines) / max(time.Since(begin).Seconds(), 1e-3)
		b.bar.Describe(fmt.Sprintf("%d lines, %.0f lines/s, %d rejected", lines, rate, b.run.rejected.Load()))
		b.bar.Set64(b.run.bytesRead())
	}
	go func() {
		defer close(finished)
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				update()
				b.bar.Finish()
				return
			case <-t.C:
				update()
			}
		}
	}()
	return func() { close(done); <-finished }
}

// importInput is one opened input file.
type importInput struct {
	name   string // as given
	key    string // absolute path: the resume state's key
	size   int64  // bytes on disk (0 for stdin)
	format string
	read   atomic.Int64 // bytes read from the file, for the progress bar
	src    lineSource
	close  func()
}

func openInputs(cfg importConfig, prec int64) ([]*importInput, error) {
	var out []*importInput
	fail := func(err error) ([]*importInput, error) {
		for _, in := range out {
			in.close()
		}
		return nil, err
	}
	for _, name := range cfg.files {
		in, err := openInput(name, cfg, prec)
		if err != nil {
			return fail(err)
		}
		out = append(out, in)
	}
	return out, nil
}

func openInput(name string, cfg importConfig, prec int64) (*importInput, error) {
	in := &importInput{name: name, key: name}
	var f *os.File
	if name == "-" {
		if cfg.resume {
			return nil, errors.New("--resume cannot skip standard input: name a file")
		}
		f = os.Stdin
	} else {
		var err error
		if f, err = os.Open(name); err != nil {
			return nil, err
		}
		st, err := f.Stat()
		if err != nil {
			f.Close()
			return nil, err
		}
		in.size = st.Size()
		if abs, err := filepath.Abs(name); err == nil {
			in.key = abs
		}
	}
	r, closeR, err := openMaybeGzip(countingReader{f, &in.read})
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	in.close = func() { closeR(); f.Close() }
	format := cfg.format
	lines := newLineReader(r, maxLineBytes)
	if format == "auto" {
		format = detectFormat(name, lines)
	}
	in.format = format
	switch format {
	case "lp", "influx":
		in.src = newLPSource(lines, name, cfg.db, cfg.rp, prec)
	case "csv":
		src, err := newCSVSource(lines, name, cfg.db, cfg.rp, prec, cfg.csv)
		if err != nil {
			in.close()
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		in.src = src
	default:
		in.close()
		return nil, fmt.Errorf("unknown --format %q: use lp, csv, influx or auto", format)
	}
	return in, nil
}

// detectFormat picks csv by extension, influx by a first line of "# DDL" or
// "# DML", line protocol otherwise.
func detectFormat(name string, lines *lineReader) string {
	base := strings.TrimSuffix(strings.ToLower(name), ".gz")
	if strings.HasSuffix(base, ".csv") {
		return "csv"
	}
	first := strings.TrimSpace(string(lines.peek()))
	if first == "# DDL" || first == "# DML" {
		return "influx"
	}
	return "lp"
}

func parsePrecision(p string) (int64, error) {
	switch p {
	case "ns", "n", "":
		return 1, nil
	case "us", "u", "µ":
		return 1e3, nil
	case "ms":
		return 1e6, nil
	case "s":
		return 1e9, nil
	case "m":
		return 60e9, nil
	case "h":
		return 3600e9, nil
	}
	return 0, fmt.Errorf("invalid precision %q: use ns, us, ms, s, m or h", p)
}

package main

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/strata-db/strata/ingest/lineprotocol"
	"github.com/strata-db/strata/query/influxql"
)

type exportConfig struct {
	conn         clientFlags
	db, rp       string
	start, end   string
	measurements string
	out          string
	gzip         bool
	chunkSize    int
}

// defaultExportChunk is the rows per chunk of the streamed SELECT: the
// server's default chunk size, small enough that neither side holds much of a
// measurement at once.
const defaultExportChunk = 10000

func exportCommand(args []string, stdout, stderr io.Writer) int {
	var cfg exportConfig
	fs := flag.NewFlagSet("strata export", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg.conn.bind(fs)
	fs.StringVar(&cfg.db, "db", "", "database to export (required)")
	fs.StringVar(&cfg.rp, "rp", "", "retention policy to export (default: the database's default)")
	fs.StringVar(&cfg.start, "start", "", "export points at or after this time (RFC 3339 or Unix nanoseconds)")
	fs.StringVar(&cfg.end, "end", "", "export points before this time (RFC 3339 or Unix nanoseconds)")
	fs.StringVar(&cfg.measurements, "measurement", "", "comma-separated measurements to export (default: all)")
	fs.StringVar(&cfg.out, "out", "-", "output file (- for standard output; a name ending in .gz is gzipped)")
	fs.BoolVar(&cfg.gzip, "gzip", false, "gzip the output")
	fs.IntVar(&cfg.chunkSize, "chunk-size", defaultExportChunk, "rows per streamed chunk of the server's answer")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: strata export --db DB [flags]

Writes the points of a database as line protocol with nanosecond timestamps,
measurement by measurement, series by series, in time order; strata import
reads the output back to the same data.

Flags:
`)
		fs.PrintDefaults()
	}
	if status, ok := parseFlags(fs, args); !ok {
		return status
	}
	if cfg.db == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "strata export: --db is required and there are no arguments (see --help)")
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	n, m, err := runExport(ctx, cfg, stdout)
	if err != nil {
		fmt.Fprintf(stderr, "strata export: %v\n", err)
		return 1
	}
	fmt.Fprintf(stderr, "exported %d lines of %d measurements\n", n, m)
	return 0
}

func runExport(ctx context.Context, cfg exportConfig, stdout io.Writer) (lines int64, measurements int, err error) {
	c, err := cfg.conn.client(os.Getenv)
	if err != nil {
		return 0, 0, err
	}
	where, err := timeWhere(cfg.start, cfg.end)
	if err != nil {
		return 0, 0, err
	}
	names := splitList(cfg.measurements)
	if len(names) == 0 {
		res, err := c.queryAll(ctx, "SHOW MEASUREMENTS", cfg.db)
		if err != nil {
			return 0, 0, err
		}
		names = res[0].column(0)
	}
	slices.Sort(names)

	var w io.Writer = stdout
	var file *os.File
	if cfg.out != "-" {
		if file, err = os.Create(cfg.out); err != nil {
			return 0, 0, err
		}
		defer file.Close()
		w = file
	}
	bw := bufio.NewWriterSize(w, 256<<10)
	out := io.Writer(bw)
	var zw *gzip.Writer
	if cfg.gzip || strings.HasSuffix(cfg.out, ".gz") {
		zw = gzip.NewWriter(bw)
		out = zw
	}
	e := &exporter{c: c, cfg: cfg, w: out}
	for _, m := range names {
		n, err := e.measurement(ctx, m, where)
		lines += n
		if err != nil {
			return lines, measurements, fmt.Errorf("measurement %s: %w", m, err)
		}
		measurements++
	}
	if zw != nil {
		if err := zw.Close(); err != nil {
			return lines, measurements, err
		}
	}
	if err := bw.Flush(); err != nil {
		return lines, measurements, err
	}
	if file != nil {
		if err := file.Sync(); err != nil {
			return lines, measurements, err
		}
	}
	return lines, measurements, nil
}

// timeWhere builds the WHERE clause of --start/--end.
func timeWhere(start, end string) (string, error) {
	var conds []string
	for _, b := range []struct{ v, op string }{{start, ">="}, {end, "<"}} {
		if b.v == "" {
			continue
		}
		ns, err := parseTimeArg(b.v)
		if err != nil {
			return "", err
		}
		conds = append(conds, fmt.Sprintf("time %s %d", b.op, ns))
	}
	if len(conds) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(conds, " AND "), nil
}

func parseTimeArg(v string) (int64, error) {
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		return n, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return 0, fmt.Errorf("time %q: want RFC 3339 or Unix nanoseconds", v)
	}
	return t.UnixNano(), nil
}

type exporter struct {
	c   *client
	cfg exportConfig
	w   io.Writer
	buf []byte
	pt  lineprotocol.Point
}

// measurement streams one measurement: its field types from SHOW FIELD KEYS
// (JSON alone cannot tell 1.0 from 1i), then SELECT * GROUP BY * chunked.
func (e *exporter) measurement(ctx context.Context, m, where string) (int64, error) {
	from := influxql.QuoteIdent(m)
	if e.cfg.rp != "" {
		from = influxql.QuoteIdent(e.cfg.rp) + "." + from
	}
	res, err := e.c.queryAll(ctx, "SHOW FIELD KEYS FROM "+from, e.cfg.db)
	if err != nil {
		return 0, err
	}
	types := map[string]lineprotocol.FieldType{}
	for _, s := range res[0].Series {
		for _, row := range s.Values {
			if len(row) == 2 {
				name, _ := row[0].(string)
				typ, _ := row[1].(string)
				types[name] = fieldTypeByName(typ)
			}
		}
	}
	params := url.Values{"db": {e.cfg.db}, "epoch": {"ns"}, "chunked": {"true"}, "chunk_size": {strconv.Itoa(e.cfg.chunkSize)}}
	resp, err := e.c.query(ctx, "SELECT * FROM "+from+where+" GROUP BY *", params)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	dec := json.NewDecoder(resp.Body)
	dec.UseNumber()
	var n int64
	for {
		var chunk struct {
			Results []queryResult `json:"results"`
			Error   string        `json:"error"`
		}
		if err := dec.Decode(&chunk); errors.Is(err, io.EOF) {
			return n, nil
		} else if err != nil {
			return n, fmt.Errorf("decode answer: %w", err)
		}
		if chunk.Error != "" {
			return n, errors.New(chunk.Error)
		}
		for _, r := range chunk.Results {
			if r.Error != "" {
				return n, errors.New(r.Error)
			}
			for _, s := range r.Series {
				k, err := e.series(s, types)
				n += k
				if err != nil {
					return n, err
				}
			}
		}
	}
}

func fieldTypeByName(s string) lineprotocol.FieldType {
	switch s {
	case "integer":
		return lineprotocol.Integer
	case "unsigned":
		return lineprotocol.Unsigned
	case "string":
		return lineprotocol.String
	case "boolean":
		return lineprotocol.Boolean
	}
	return lineprotocol.Float
}

// series writes the rows of one answered series as lines.
func (e *exporter) series(s querySeries, types map[string]lineprotocol.FieldType) (int64, error) {
	pt := &e.pt
	pt.Measurement = []byte(s.Name)
	pt.Tags = pt.Tags[:0]
	keys := make([]string, 0, len(s.Tags))
	for k, v := range s.Tags {
		if v != "" {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		pt.Tags = append(pt.Tags, lineprotocol.Tag{Key: []byte(k), Value: []byte(s.Tags[k])})
	}
	var n int64
	for _, row := range s.Values {
		if len(row) != len(s.Columns) {
			return n, fmt.Errorf("row of %d values under %d columns", len(row), len(s.Columns))
		}
		pt.Fields = pt.Fields[:0]
		for i, col := range s.Columns {
			if col == "time" {
				t, err := jsonInt(row[i])
				if err != nil {
					return n, fmt.Errorf("time: %w", err)
				}
				pt.Time = t
				continue
			}
			if row[i] == nil {
				continue
			}
			f, err := exportField(col, types[col], row[i])
			if err != nil {
				return n, err
			}
			pt.Fields = append(pt.Fields, f)
		}
		if len(pt.Fields) == 0 {
			continue
		}
		e.buf = append(lineprotocol.AppendPoint(e.buf[:0], pt), '\n')
		if _, err := e.w.Write(e.buf); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

func jsonInt(v any) (int64, error) {
	num, ok := v.(json.Number)
	if !ok {
		return 0, fmt.Errorf("%v is not a number", v)
	}
	return strconv.ParseInt(string(num), 10, 64)
}

func exportField(name string, typ lineprotocol.FieldType, v any) (lineprotocol.Field, error) {
	f := lineprotocol.Field{Key: []byte(name), Type: typ}
	var err error
	switch typ {
	case lineprotocol.String:
		s, ok := v.(string)
		if !ok {
			return f, fmt.Errorf("field %s: %v is not a string", name, v)
		}
		f.Str = []byte(s)
	case lineprotocol.Boolean:
		b, ok := v.(bool)
		if !ok {
			return f, fmt.Errorf("field %s: %v is not a boolean", name, v)
		}
		f.Bool = b
	default:
		num, ok := v.(json.Number)
		if !ok {
			return f, fmt.Errorf("field %s: %v is not a number", name, v)
		}
		switch typ {
		case lineprotocol.Integer:
			f.Int, err = strconv.ParseInt(string(num), 10, 64)
		case lineprotocol.Unsigned:
			f.Uint, err = strconv.ParseUint(string(num), 10, 64)
		default:
			f.Float, err = strconv.ParseFloat(string(num), 64)
		}
	}
	if err != nil {
		return f, fmt.Errorf("field %s: %w", name, err)
	}
	return f, nil
}

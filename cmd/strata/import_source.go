package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/strata-db/strata/ingest/lineprotocol"
)

// importItem is one thing an input yields: a line to write (normalised line
// protocol with a nanosecond timestamp), a rejected line, or a DDL statement.
type importItem struct {
	kind    itemKind
	data    []byte // the line to write, the rejected text, or the statement
	db, rp  string
	line    int // first physical line of the item, 1-based
	endLine int // last physical line it consumed
	reason  string
}

type itemKind uint8

const (
	itemLine itemKind = iota
	itemReject
	itemStatement
)

// lineSource yields an input's items in order; io.EOF ends it.
type lineSource interface {
	next() (importItem, error)
}

// openMaybeGzip returns a reader of r's content, gunzipped when it starts
// with gzip's magic bytes (whatever the file's name).
func openMaybeGzip(r io.Reader) (io.Reader, func(), error) {
	br := bufio.NewReaderSize(r, 256<<10)
	magic, _ := br.Peek(2)
	if len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, nil, fmt.Errorf("gzip: %w", err)
		}
		return zr, func() { zr.Close() }, nil
	}
	return br, func() {}, nil
}

// countingReader adds the bytes read to n: the progress bar follows the bytes
// of the file on disk, compressed or not, so its total is known up front.
type countingReader struct {
	r io.Reader
	n *atomic.Int64
}

func (c countingReader) Read(p []byte) (int, error) {
	k, err := c.r.Read(p)
	c.n.Add(int64(k))
	return k, err
}

// lineReader reads physical lines, each at most max bytes: a longer one is
// reported and skipped, not buffered.
type lineReader struct {
	r    *bufio.Reader
	line int
	max  int
	buf  []byte
}

func newLineReader(r io.Reader, max int) *lineReader {
	return &lineReader{r: bufio.NewReaderSize(r, 64<<10), max: max}
}

// peek returns the first line of what is left, without consuming it (for
// format detection).
func (l *lineReader) peek() []byte {
	b, _ := l.r.Peek(4096)
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		b = b[:i]
	}
	return b
}

// next returns the next line without its '\n' (valid until the next call),
// its number, and whether it was longer than max (then text is empty).
func (l *lineReader) next() (text []byte, n int, tooLong bool, err error) {
	l.buf = l.buf[:0]
	for {
		chunk, err := l.r.ReadSlice('\n')
		if len(l.buf)+len(chunk) > l.max {
			tooLong = true
		} else {
			l.buf = append(l.buf, chunk...)
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err != nil && (err != io.EOF || len(l.buf) == 0 && !tooLong) {
			return nil, 0, false, err
		}
		l.line++
		if tooLong {
			l.buf = l.buf[:0]
		}
		return bytes.TrimSuffix(l.buf, []byte{'\n'}), l.line, tooLong, nil
	}
}

// lpSource reads line protocol, and influx -import's format: "# DDL" starts
// statements run through /query, "# DML" line protocol, and
// "# CONTEXT-DATABASE: db" / "# CONTEXT-RETENTION-POLICY: rp" set where the
// following lines go.
type lpSource struct {
	lines  *lineReader
	name   string
	db, rp string
	prec   int64
	ddl    bool
	parser *lineprotocol.Parser
	out    []byte
	joined []byte
}

func newLPSource(lines *lineReader, name, db, rp string, prec int64) *lpSource {
	return &lpSource{lines: lines, name: name, db: db, rp: rp, prec: prec, parser: lineprotocol.NewParser()}
}

func (s *lpSource) next() (importItem, error) {
	for {
		text, n, tooLong, err := s.lines.next()
		if err != nil {
			return importItem{}, err
		}
		if tooLong {
			return importItem{kind: itemReject, line: n, endLine: n, reason: fmt.Sprintf("line longer than %d bytes", s.lines.max)}, nil
		}
		trimmed := bytes.TrimSpace(text)
		if len(trimmed) == 0 {
			continue
		}
		if trimmed[0] == '#' {
			s.directive(string(trimmed))
			continue
		}
		if s.ddl {
			return importItem{kind: itemStatement, data: bytes.Clone(trimmed), line: n, endLine: n}, nil
		}
		return s.point(text, n)
	}
}

// directive applies an influx -import comment line; other comments are skipped.
func (s *lpSource) directive(c string) {
	switch {
	case c == "# DDL":
		s.ddl = true
	case c == "# DML":
		s.ddl = false
	case strings.HasPrefix(c, "# CONTEXT-DATABASE:"):
		s.db = strings.TrimSpace(strings.TrimPrefix(c, "# CONTEXT-DATABASE:"))
	case strings.HasPrefix(c, "# CONTEXT-RETENTION-POLICY:"):
		s.rp = strings.TrimSpace(strings.TrimPrefix(c, "# CONTEXT-RETENTION-POLICY:"))
	}
}

// point parses one line (joining the next ones while a quoted string value
// runs across line ends) and normalises it to a nanosecond timestamp: a line
// without one gets this client's clock now, so a resend or a --resume writes
// the same point again rather than a new one.
func (s *lpSource) point(text []byte, first int) (importItem, error) {
	body := text
	end := first
	for {
		s.parser.Reset(body, lineprotocol.Precision(s.prec), time.Now().UnixNano())
		pt, err := s.parser.Next()
		var pe *lineprotocol.ParseError
		if errors.As(err, &pe) && pe.Reason == "unbalanced quotes" && len(body) < s.lines.max {
			// body may be the line reader's buffer, which the next read reuses.
			joined := append(append(s.joined[:0:0], body...), '\n')
			more, n, tooLong, rerr := s.lines.next()
			if rerr == nil && !tooLong {
				s.joined = append(joined, more...)
				body, end = s.joined, n
				continue
			}
			body = joined[:len(joined)-1]
		}
		if pe != nil {
			return importItem{kind: itemReject, data: bytes.Clone(body), line: first, endLine: end, reason: pe.Reason}, nil
		}
		if err != nil { // io.EOF: a line of only blanks and comments
			return s.next()
		}
		if s.db == "" {
			return importItem{}, &usageError{fmt.Errorf("%s:%d: no database: give --db or a # CONTEXT-DATABASE line", s.name, first)}
		}
		s.out = lineprotocol.AppendPoint(s.out[:0], pt)
		return importItem{kind: itemLine, data: s.out, db: s.db, rp: s.rp, line: first, endLine: end}, nil
	}
}

// csvMapping maps CSV columns to a point: the --csv-* flags.
type csvMapping struct {
	measurement, measurementCol string
	tags, fields                string
	timeCol, timeFormat         string
	types                       string
}

func (m *csvMapping) bind(fs *flag.FlagSet) {
	fs.StringVar(&m.measurement, "csv-measurement", "", "CSV: the measurement of every row")
	fs.StringVar(&m.measurementCol, "csv-measurement-column", "", "CSV: the column holding each row's measurement (instead of --csv-measurement)")
	fs.StringVar(&m.tags, "csv-tags", "", "CSV: comma-separated columns that are tags")
	fs.StringVar(&m.fields, "csv-fields", "", "CSV: comma-separated columns that are fields (default: every column not otherwise mapped)")
	fs.StringVar(&m.timeCol, "csv-time", "time", "CSV: the time column (\"\": none, rows get the import's clock)")
	fs.StringVar(&m.timeFormat, "csv-time-format", "auto", "CSV: rfc3339, unix (a number in --precision units) or auto (a number is unix, anything else RFC 3339)")
	fs.StringVar(&m.types, "csv-types", "", "CSV: field types as col=TYPE,... with TYPE float (the default), integer, unsigned, boolean or string")
}

// csvSource turns CSV rows into points by a mapping checked against the
// header before anything is written.
type csvSource struct {
	r       *csv.Reader
	name    string
	db, rp  string
	meas    string
	measCol int
	timeCol int
	tags    []csvCol
	fields  []csvCol
	unit    int64
	format  string
	out     []byte
	pt      lineprotocol.Point
}

type csvCol struct {
	name string
	idx  int
	typ  lineprotocol.FieldType
}

func newCSVSource(lines *lineReader, name, db, rp string, prec int64, m csvMapping) (*csvSource, error) {
	if db == "" {
		return nil, errors.New("CSV input needs --db")
	}
	r := csv.NewReader(lines.r)
	r.ReuseRecord = true
	r.FieldsPerRecord = -1 // short rows are reported per line, not fatal
	header, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("read CSV header: %w", err)
	}
	s := &csvSource{r: r, name: name, db: db, rp: rp, measCol: -1, timeCol: -1, unit: prec, format: m.timeFormat}
	if err := s.mapHeader(slices.Clone(header), m); err != nil {
		return nil, fmt.Errorf("CSV header: %w", err)
	}
	return s, nil
}

// mapHeader resolves the mapping's column names against the header.
func (s *csvSource) mapHeader(header []string, m csvMapping) error {
	index := map[string]int{}
	for i, h := range header {
		h = strings.TrimSpace(h)
		if h == "" {
			return fmt.Errorf("column %d has no name", i+1)
		}
		if reason := badName(h); reason != "" {
			return fmt.Errorf("column %q: %s", h, reason)
		}
		if _, dup := index[h]; dup {
			return fmt.Errorf("column %q appears twice", h)
		}
		index[h] = i
	}
	col := func(what, name string) (int, error) {
		i, ok := index[name]
		if !ok {
			return 0, fmt.Errorf("%s column %q is not in the header (%s)", what, name, strings.Join(header, ","))
		}
		return i, nil
	}
	used := map[int]bool{}
	switch {
	case (m.measurement == "") == (m.measurementCol == ""):
		return errors.New("give exactly one of --csv-measurement and --csv-measurement-column")
	case m.measurement != "":
		s.meas = m.measurement
	default:
		i, err := col("measurement", m.measurementCol)
		if err != nil {
			return err
		}
		s.measCol, used[i] = i, true
	}
	if m.timeCol != "" {
		if i, ok := index[m.timeCol]; ok {
			s.timeCol, used[i] = i, true
		} else if m.timeCol != "time" { // the default may be absent
			return fmt.Errorf("time column %q is not in the header (%s)", m.timeCol, strings.Join(header, ","))
		}
	}
	switch m.timeFormat {
	case "auto", "rfc3339", "unix":
	default:
		return fmt.Errorf("invalid --csv-time-format %q: use rfc3339, unix or auto", m.timeFormat)
	}
	for _, t := range splitList(m.tags) {
		i, err := col("tag", t)
		if err != nil {
			return err
		}
		if used[i] {
			return fmt.Errorf("column %q is mapped twice", t)
		}
		used[i] = true
		s.tags = append(s.tags, csvCol{name: t, idx: i})
	}
	slices.SortFunc(s.tags, func(a, b csvCol) int { return strings.Compare(a.name, b.name) })
	types, err := parseCSVTypes(m.types)
	if err != nil {
		return err
	}
	fields := splitList(m.fields)
	if len(fields) == 0 {
		for i, h := range header {
			if !used[i] {
				fields = append(fields, strings.TrimSpace(h))
			}
		}
	}
	for _, f := range fields {
		i, err := col("field", f)
		if err != nil {
			return err
		}
		if used[i] {
			return fmt.Errorf("column %q is mapped twice", f)
		}
		used[i] = true
		typ := types[f]
		delete(types, f)
		if typ == 0 {
			typ = lineprotocol.Float
		}
		s.fields = append(s.fields, csvCol{name: f, idx: i, typ: typ})
	}
	for name := range types {
		return fmt.Errorf("--csv-types names %q, which is not a field column", name)
	}
	if len(s.fields) == 0 {
		return errors.New("no field columns")
	}
	return nil
}

// badName says why s cannot be a measurement, tag or field name in line
// protocol: line ends, tabs and NUL are separators there, and a trailing
// backslash would escape the next delimiter.
func badName(s string) string {
	switch {
	case s == "":
		return "empty name"
	case strings.ContainsAny(s, "\n\r\t\x00"):
		return "holds a line end, tab or NUL"
	case strings.HasSuffix(s, `\`):
		return "ends in a backslash"
	}
	return ""
}

func parseCSVTypes(s string) (map[string]lineprotocol.FieldType, error) {
	out := map[string]lineprotocol.FieldType{}
	for _, p := range splitList(s) {
		name, typ, ok := strings.Cut(p, "=")
		if !ok {
			return nil, fmt.Errorf("--csv-types entry %q: want column=type", p)
		}
		var t lineprotocol.FieldType
		switch typ {
		case "float":
			t = lineprotocol.Float
		case "integer":
			t = lineprotocol.Integer
		case "unsigned":
			t = lineprotocol.Unsigned
		case "boolean":
			t = lineprotocol.Boolean
		case "string":
			t = lineprotocol.String
		default:
			return nil, fmt.Errorf("--csv-types entry %q: type must be float, integer, unsigned, boolean or string", p)
		}
		out[name] = t
	}
	return out, nil
}

func (s *csvSource) next() (importItem, error) {
	rec, err := s.r.Read()
	if err != nil {
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return importItem{kind: itemReject, line: pe.StartLine, endLine: pe.Line, reason: pe.Err.Error()}, nil
		}
		return importItem{}, err
	}
	line, _ := s.r.FieldPos(0) // only valid after a successful Read
	it := importItem{line: line, endLine: line, db: s.db, rp: s.rp}
	if reason := s.row(rec); reason != "" {
		it.kind, it.reason, it.data = itemReject, reason, []byte(strings.Join(rec, ","))
		return it, nil
	}
	it.data = lineprotocol.AppendPoint(s.out[:0], &s.pt)
	s.out = it.data
	return it, nil
}

// row fills s.pt from one record, or says why it cannot.
func (s *csvSource) row(rec []string) string {
	cell := func(i int) (string, bool) {
		if i >= len(rec) {
			return "", false
		}
		return rec[i], true
	}
	pt := &s.pt
	pt.Tags, pt.Fields = pt.Tags[:0], pt.Fields[:0]
	pt.Measurement = []byte(s.meas)
	if s.measCol >= 0 {
		m, _ := cell(s.measCol)
		if reason := badName(m); reason != "" {
			return "measurement: " + reason
		}
		pt.Measurement = []byte(m)
	}
	for _, t := range s.tags {
		if v, _ := cell(t.idx); v != "" {
			if reason := badName(v); reason != "" {
				return fmt.Sprintf("tag %q: %s", t.name, reason)
			}
			pt.Tags = append(pt.Tags, lineprotocol.Tag{Key: []byte(t.name), Value: []byte(v)})
		}
	}
	for _, f := range s.fields {
		v, _ := cell(f.idx)
		if v == "" {
			continue // no value in this row
		}
		fv, reason := csvValue(f, v)
		if reason != "" {
			return reason
		}
		pt.Fields = append(pt.Fields, fv)
	}
	if len(pt.Fields) == 0 {
		return "no field values"
	}
	pt.Time = time.Now().UnixNano()
	if s.timeCol >= 0 {
		v, _ := cell(s.timeCol)
		t, err := s.parseTime(v)
		if err != nil {
			return err.Error()
		}
		pt.Time = t
	}
	return ""
}

func csvValue(f csvCol, v string) (lineprotocol.Field, string) {
	out := lineprotocol.Field{Key: []byte(f.name), Type: f.typ}
	var err error
	switch f.typ {
	case lineprotocol.Float:
		out.Float, err = strconv.ParseFloat(v, 64)
		if err == nil && (math.IsNaN(out.Float) || math.IsInf(out.Float, 0)) {
			err = errors.New("NaN and infinity cannot be stored")
		}
	case lineprotocol.Integer:
		out.Int, err = strconv.ParseInt(v, 10, 64)
	case lineprotocol.Unsigned:
		out.Uint, err = strconv.ParseUint(v, 10, 64)
	case lineprotocol.Boolean:
		out.Bool, err = strconv.ParseBool(v)
	case lineprotocol.String:
		out.Str = []byte(v)
	}
	if err != nil {
		return out, fmt.Sprintf("column %q: %q is not a valid %s: %v", f.name, v, f.typ, errors.Unwrap(err))
	}
	return out, ""
}

func (s *csvSource) parseTime(v string) (int64, error) {
	v = strings.TrimSpace(v)
	if s.format != "rfc3339" {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			if n > math.MaxInt64/s.unit || n < math.MinInt64/s.unit {
				return 0, fmt.Errorf("time %q out of range", v)
			}
			return n * s.unit, nil
		} else if s.format == "unix" {
			return 0, fmt.Errorf("time %q is not a whole number", v)
		}
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return 0, fmt.Errorf("time %q is not RFC 3339", v)
	}
	return t.UnixNano(), nil
}

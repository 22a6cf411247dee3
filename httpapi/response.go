package httpapi

import (
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/strata-db/strata/query"
)

// DefaultChunkSize is the number of rows per chunk when a chunked request gives no
// chunk_size (or 0): InfluxDB 1.x's default, which clients tune their readers to.
const DefaultChunkSize = 10000

// ErrRowWidth reports a row whose number of values does not match its series'
// columns: an executor bug, refused rather than rendered as a misaligned table.
var ErrRowWidth = errors.New("httpapi: row width does not match the columns")

// ErrValueType reports a row value of a type /query cannot render.
var ErrValueType = errors.New("httpapi: unsupported value type")

// errClosed is returned by WriteResult after Close.
var errClosed = errors.New("httpapi: response writer closed")

// Encoding selects how results are rendered.
type Encoding struct {
	// Epoch renders times as integers in this unit: "ns" or "n", "u" or "µ", "ms",
	// "s", "m", "h" (truncated toward zero); any other non-empty value means
	// nanoseconds, as in InfluxDB 1.x. "" renders RFC3339 with nanoseconds, trailing
	// zeros trimmed.
	Epoch string
	// Pretty indents JSON by four spaces.
	Pretty bool
	// Format is "json" (also for "") or "csv". "msgpack" is not implemented and
	// falls back to JSON, which every InfluxDB client also accepts.
	Format string
}

// ContentType is the Content-Type header of a response in this encoding.
func (e Encoding) ContentType() string {
	if e.Format == "csv" {
		return "text/csv"
	}
	return "application/json"
}

// RequestEncoding reads the epoch and pretty parameters and the Accept header of a
// /query request.
func RequestEncoding(r *http.Request) Encoding {
	enc := Encoding{
		Epoch:  strings.TrimSpace(r.FormValue("epoch")),
		Pretty: r.FormValue("pretty") == "true",
		Format: "json",
	}
	// InfluxDB compares the whole Accept header; a list whose first known entry is
	// CSV is honoured here too, as a browser or curl -H may send one.
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		switch mt {
		case "application/csv", "text/csv":
			enc.Format = "csv"
			return enc
		case "application/json", "application/x-msgpack":
			return enc
		}
	}
	return enc
}

// RequestChunking reads the chunked and chunk_size parameters of a /query request.
// A missing, zero, negative or malformed chunk_size means DefaultChunkSize.
func RequestChunking(r *http.Request) (chunked bool, chunkSize int) {
	if r.FormValue("chunked") != "true" {
		return false, DefaultChunkSize
	}
	n, err := strconv.Atoi(strings.TrimSpace(r.FormValue("chunk_size")))
	if err != nil || n <= 0 {
		n = DefaultChunkSize
	}
	return true, n
}

// epochDivisor maps Encoding.Epoch to nanoseconds per unit; 0 means RFC3339.
func epochDivisor(epoch string) int64 {
	switch epoch {
	case "":
		return 0
	case "u", "µ":
		return int64(time.Microsecond)
	case "ms":
		return int64(time.Millisecond)
	case "s":
		return int64(time.Second)
	case "m":
		return int64(time.Minute)
	case "h":
		return int64(time.Hour)
	}
	return 1
}

// flushThreshold is how many rendered bytes a non-chunked JSON response buffers
// before handing them to the connection. Only the statement in progress has to
// stay retractable (an error replaces it), so completed statements go out early;
// 64 KiB keeps syscalls few without holding a large answer twice.
const flushThreshold = 64 << 10

// ResponseWriter renders statement results as InfluxDB 1.x's /query answer and
// streams them to an io.Writer. It is not safe for concurrent use: one request's
// handler feeds it.
//
// Non-chunked, it writes one {"results":[...]} document. Pieces of the same
// statement (StatementResult.Partial) merge into one result, and the pieces of one
// series (ResultSeries.Partial) into one series; only the statement in progress is
// held in memory, rendered.
//
// Chunked, it writes one document per chunk, newline separated: a chunk holds one
// series piece of at most chunkSize rows, and "partial":true marks a series piece
// and a result that continue in a later chunk. The last rendered chunk is held
// back until the writer knows whether anything follows, so the flags are exact
// whatever the sizes of the pieces the executor feeds. If w is an http.Flusher it
// is flushed after every chunk.
type ResponseWriter struct {
	w         io.Writer
	flusher   http.Flusher
	pretty    bool
	csv       bool
	div       int64
	chunked   bool
	chunkSize int

	buf    []byte
	pool   *BufferPool // nil: buf is not reused after Close
	err    error       // sticky: the first write error, or errClosed
	closed bool

	budget  *query.Budget // nil: no accounting
	charged int64         // bytes of buf and refs accounted in budget
	// refs are rendered rows held by reference, not copied into buf: each
	// goes out at offset at of buf (ascending). The result cache hands a
	// group's rows over as one joined piece, 14 KB per dashboard series;
	// copying 1.4 MB of them into buf, through its growth, was a fifth of a
	// cached refresh's CPU.
	refs     []heldRef
	refBytes int
	// staged gathers the pieces sendPrefix interleaves (buf's between the
	// refs, and the refs) into writes of up to its size (stagingClasses, as
	// large as what is sent allows): written one by one, a refresh's 100
	// pieces were about 300 loopback syscalls, a quarter of its CPU.
	// Allocated on the first send with refs; charged with buf.
	staged []byte

	// JSON: non-chunked document state.
	docOpen bool // `{"results":[` is in buf or written

	// csv: what the output so far looks like.
	csvWrote bool     // some line was written (statements get a blank line between them)
	csvCols  []string // the header in force; nil before a statement's first series

	st *stmtState
}

// stmtState is the statement in progress.
type stmtState struct {
	id   int
	loc  *time.Location
	msgs []query.ResponseMessage
	err  string
	last bool // the last piece was Partial: the statement was cut if it ends now
	// incomplete: nodes of the set did not answer (query.StatementResult.Incomplete).
	incomplete bool
	// overBudget: the output outgrew the memory budget; the statement's answer is
	// that error, and later pieces render nothing.
	overBudget bool

	start     int  // offset in buf where the statement's output starts
	opened    bool // JSON: the result object is open in buf
	nseries   int  // JSON: series objects opened in the current result object
	csvWrote0 bool // csv: csvWrote when the statement started (for retraction)

	// The series piece open in buf.
	ser       bool
	serName   string
	serTags   map[string]string
	serCols   []string
	serNoTime bool
	serRows   int
	serCont   bool // the series said Partial: the next piece may continue it
}

// A ResponseWriter is the sink the /query handler streams the executor's results
// into. It renders every row as WriteResult gets it and holds on to nothing of
// it but the result cache's Encoded bytes, so it borrows rows.
var _ query.RowsBorrower = (*ResponseWriter)(nil)

// BorrowsRows marks the writer as a query.RowsBorrower: the executor may reuse
// a piece's row arrays once WriteResult returns.
func (r *ResponseWriter) BorrowsRows() {}

// NewResponseWriter returns a writer rendering to w. chunkSize <= 0 means
// DefaultChunkSize; it is ignored unless chunked.
func NewResponseWriter(w io.Writer, enc Encoding, chunked bool, chunkSize int) *ResponseWriter {
	if chunkSize <= 0 {
		chunkSize = DefaultChunkSize
	}
	rw := &ResponseWriter{
		w:         w,
		pretty:    enc.Pretty,
		csv:       enc.Format == "csv",
		div:       epochDivisor(enc.Epoch),
		chunked:   chunked,
		chunkSize: chunkSize,
	}
	rw.flusher, _ = w.(http.Flusher)
	return rw
}

// UseBuffers makes the writer render into a buffer from p, given back to p
// at Close. Call it before the first WriteResult.
func (r *ResponseWriter) UseBuffers(p *BufferPool) {
	r.pool = p
	r.buf = p.get()
}

// BufferPool keeps response buffers between requests. A 12-hour TSBS
// answer is ~40 KB of JSON, which the writer allocated anew for every
// query: with the collector's small heap goal at rest, that buffer was a
// quarter of single-groupby-1-1-12's allocated bytes per query. Buffers up
// to flushThreshold come back (any answer that size or smaller fits one);
// a larger one, from a big unchunked answer, is left to the collector.
//
// The staging buffers (ResponseWriter.staged) come back too, apart, by
// size class: making a new one for every answer with cached rows was a
// tenth of a dashboard refresh's server allocations.
type BufferPool struct {
	p       sync.Pool
	staging [stagingClasses]sync.Pool
}

// stagingClasses are the staging buffers' sizes, flushThreshold << class:
// 64 KiB to 1 MiB. A whole answer held until its end (one statement, the
// result cache's rows by reference) goes out in writes of the largest class
// it fills: a 1.16 MB dashboard answer fetched over loopback after an idle
// 50 ms took 1.68-1.81 ms in 64 KiB writes and 1.02-1.16 ms in 1 MiB ones
// (a static server and Go's client, three interleaved runs of 40), the
// reader woken once per write. The uncached path rendered the same answer
// into one buffer and wrote it at once, so the cache's answers paid ~0.6 ms
// more for the same bytes. 1 MiB asks a reader for 17 KB/s under the
// default minute's stall timeout (a deadline per write).
const stagingClasses = 5

// stagingClass is the smallest class of at least want bytes (the largest
// when none is).
func stagingClass(want int) int {
	c := 0
	for c < stagingClasses-1 && flushThreshold<<c < want {
		c++
	}
	return c
}

// getStaging returns an empty staging buffer of class c.
func (p *BufferPool) getStaging(c int) []byte {
	if p != nil {
		if b, ok := p.staging[c].Get().(*[]byte); ok {
			return (*b)[:0]
		}
	}
	return make([]byte, 0, flushThreshold<<c)
}

// putStaging gives a staging buffer back; nil p, or a b of no class, keeps
// nothing.
func (p *BufferPool) putStaging(b []byte) {
	if p == nil || cap(b) == 0 {
		return
	}
	if c := stagingClass(cap(b)); cap(b) == flushThreshold<<c {
		p.staging[c].Put(&b)
	}
}

// get returns an empty buffer, of some capacity when one was given back.
func (p *BufferPool) get() []byte {
	if b, ok := p.p.Get().(*[]byte); ok {
		return (*b)[:0]
	}
	return nil
}

// put gives b back for a later writer; nil p keeps nothing.
func (p *BufferPool) put(b []byte) {
	if p == nil || cap(b) == 0 || cap(b) > flushThreshold {
		return
	}
	p.p.Put(&b)
}

// WriteResult renders one statement result, or a piece of one. Results must come
// in statement order; a new StatementID ends the previous statement.
func (r *ResponseWriter) WriteResult(res *query.StatementResult) error {
	if r.err != nil {
		return r.err
	}
	if err := checkResult(res); err != nil {
		return err
	}
	if r.st != nil && r.st.id != res.StatementID {
		r.endStatement(r.st.last)
	}
	if r.st == nil {
		r.beginStatement(res.StatementID)
	}
	st := r.st
	if res.Location != nil {
		st.loc = res.Location
	}
	if res.Err != "" {
		r.failStatement()
	}
	var over error // the budget ran out while rendering this piece
	for _, s := range res.Series {
		if st.overBudget || over != nil {
			break // the statement's answer is its error now
		}
		if r.csv {
			r.csvSeries(s)
			over = r.charge()
			continue
		}
		if !(st.ser && st.serCont && sameSeries(st, s)) {
			if st.ser {
				r.cutSeries(false)
			}
			r.openSeries(s)
		}
		for i := range s.Rows {
			if r.chunked && st.serRows == r.chunkSize {
				r.cutSeries(true)
				r.openSeries(s)
			}
			n0 := len(r.buf)
			r.jsonRow(&s.Rows[i], s.NoTime)
			if i == 0 && len(s.Rows) > 1 {
				r.reserveRows(len(r.buf)-n0, len(s.Rows)-1)
			}
			st.serRows += max(1, s.Rows[i].EncodedRows)
			if i%256 == 255 {
				if over = r.charge(); over != nil {
					break
				}
			}
		}
		st.serCont = s.Partial
	}
	if over == nil {
		over = r.charge()
	}
	if over != nil {
		// Held output over the query's budget: the statement ends with the error,
		// its retractable output dropped (non-chunked) as for any statement error.
		r.failStatement()
		r.buf = append([]byte(nil), r.buf...) // let go of the grown capacity too
		st.overBudget, st.err = true, over.Error()
	}
	st.msgs = append(st.msgs, res.Messages...)
	st.incomplete = st.incomplete || res.Incomplete
	if res.Err != "" && !st.overBudget {
		st.err = res.Err
	}
	st.last = res.Partial
	if !res.Partial {
		r.endStatement(false)
	}
	r.maybeFlush()
	r.charge() // what went out or was dropped is given back
	if over != nil && res.Partial && r.err == nil {
		return over // the executor stops the statement; its answer is written
	}
	return r.err
}

// reserveRows grows buf once for n more rows like one of size bytes (a
// quarter more, for wider values), up to twice flushThreshold: appending a
// 720-row answer into a buffer doubling from empty allocated twice its size.
func (r *ResponseWriter) reserveRows(size, n int) {
	if r.chunked {
		n = min(n, r.chunkSize)
	}
	want := min(n*size*5/4, 2*flushThreshold)
	if cap(r.buf)-len(r.buf) < want {
		r.buf = slices.Grow(r.buf, want)
	}
}

// SetBudget makes the writer account the output it holds (the statement in
// progress, rendered, or the chunk being filled) in the query's memory budget:
// past the budget the statement ends with query.ErrMemoryBudget's error.
func (r *ResponseWriter) SetBudget(b *query.Budget) { r.budget = b }

// charge brings the buffer's accounted size up to date; an error (wrapping
// query.ErrMemoryBudget) when it may not grow. It charges the capacity: that is
// what the buffer holds (append doubles it as an unchunked answer grows).
func (r *ResponseWriter) charge() error {
	if cap(r.buf) > 2*flushThreshold && len(r.buf) < cap(r.buf)/4 {
		// A large answer went out: give the big buffer back rather than hold it.
		r.buf = append(make([]byte, 0, 2*flushThreshold), r.buf...)
	}
	delta := int64(cap(r.buf)+cap(r.staged)+r.refBytes) - r.charged
	if delta < 0 {
		r.budget.Release(-delta)
		r.charged += delta
		return nil
	}
	if err := r.budget.Grow(delta); err != nil {
		return err
	}
	r.charged += delta
	return nil
}

// Close ends the response. A statement left Partial is rendered as cut
// ("partial":true). Close does not close w.
func (r *ResponseWriter) Close() error {
	if r.closed {
		return r.err
	}
	r.closed = true
	if r.err != nil {
		return r.err
	}
	if r.st != nil {
		r.endStatement(r.st.last)
	}
	if !r.csv && !r.chunked {
		if !r.docOpen {
			r.buf = append(r.buf, "{}"...)
		} else {
			r.nl(1)
			r.buf = append(r.buf, ']')
			r.nl(0)
			r.buf = append(r.buf, '}')
		}
		r.buf = append(r.buf, '\n')
	}
	r.send()
	r.pool.put(r.buf)
	r.pool.putStaging(r.staged)
	r.buf, r.staged = nil, nil
	r.charge()
	if r.err == nil {
		r.err = errClosed
		return nil
	}
	return r.err
}

// beginStatement starts the statement in progress. Non-chunked JSON gives every
// statement a result object, so the document head or the separator goes out now,
// before the offset a retraction returns to.
func (r *ResponseWriter) beginStatement(id int) {
	if r.csv {
		r.csvCols = nil
	} else if !r.chunked {
		if !r.docOpen {
			r.docOpen = true
			r.openDoc()
		} else {
			r.buf = append(r.buf, ',')
		}
	}
	r.st = &stmtState{id: id, start: len(r.buf), csvWrote0: r.csvWrote}
}

// openDoc renders the head of a document, up to the results array.
func (r *ResponseWriter) openDoc() {
	r.buf = append(r.buf, '{')
	r.nl(1)
	r.buf = append(r.buf, `"results":`...)
	r.sp()
	r.buf = append(r.buf, '[')
}

// checkResult validates the shape of every row before anything is rendered, so a
// bad result never leaves half a series in the output.
func checkResult(res *query.StatementResult) error {
	for _, s := range res.Series {
		width := len(s.Columns)
		if !s.NoTime {
			width--
		}
		for i := range s.Rows {
			if s.Rows[i].Encoded != nil {
				continue // rendered by this writer's RowEncoder
			}
			if len(s.Rows[i].Values) != width {
				return fmt.Errorf("%w: series %q row %d has %d values for %d columns",
					ErrRowWidth, s.Name, i, len(s.Rows[i].Values), len(s.Columns))
			}
			for _, v := range s.Rows[i].Values {
				switch v.(type) {
				case nil, float64, int64, int, uint64, string, bool:
				default:
					return fmt.Errorf("%w: %T in series %q", ErrValueType, v, s.Name)
				}
			}
		}
	}
	return nil
}

func sameSeries(st *stmtState, s *query.ResultSeries) bool {
	if st.serName != s.Name || st.serNoTime != s.NoTime || len(st.serTags) != len(s.Tags) ||
		len(st.serCols) != len(s.Columns) {
		return false
	}
	for k, v := range s.Tags {
		if w, ok := st.serTags[k]; !ok || w != v {
			return false
		}
	}
	for i, c := range s.Columns {
		if st.serCols[i] != c {
			return false
		}
	}
	return true
}

// failStatement applies an error to the statement in progress. Non-chunked, the
// error replaces what the statement rendered so far. Chunked, that output is
// final, so the open series piece goes out as a chunk of its own and the error
// comes in the statement's last chunk.
func (r *ResponseWriter) failStatement() {
	st := r.st
	if r.chunked {
		if st.ser {
			r.cutSeries(false)
		}
		return
	}
	r.buf = r.buf[:st.start]
	r.dropRefsFrom(st.start)
	st.opened, st.nseries, st.ser, st.msgs = false, 0, false, nil
	if r.csv {
		r.csvWrote, r.csvCols = st.csvWrote0, nil
	}
}

// endStatement renders the end of the statement in progress; cut says it ended
// early ("partial":true on the result).
func (r *ResponseWriter) endStatement(cut bool) {
	st := r.st
	if !r.csv {
		r.openResult(st)
		if st.ser {
			r.closeSeries(cut)
		}
		r.closeResult(st.msgs, cut || st.incomplete, st.err)
		if r.chunked {
			r.closeChunk()
		}
	}
	r.st = nil
}

// cutSeries ends the open series piece while the statement goes on. Chunked, the
// chunk holding it is complete and is sent with "partial":true on the result.
func (r *ResponseWriter) cutSeries(partial bool) {
	r.closeSeries(partial)
	if r.chunked {
		r.closeResult(nil, true, "")
		r.closeChunk()
	}
}

// openResult opens the result object of st if it is not open yet: a new document
// when chunked, the next element of the results array otherwise.
func (r *ResponseWriter) openResult(st *stmtState) {
	if st.opened {
		return
	}
	st.opened = true
	st.nseries = 0
	if r.chunked {
		r.openDoc()
	}
	r.nl(2)
	r.buf = append(r.buf, '{')
	r.nl(3)
	r.buf = append(r.buf, `"statement_id":`...)
	r.sp()
	r.buf = strconv.AppendInt(r.buf, int64(st.id), 10)
}

// closeResult renders the tail of the open result object.
func (r *ResponseWriter) closeResult(msgs []query.ResponseMessage, partial bool, err string) {
	st := r.st
	if st.nseries > 0 {
		r.nl(3)
		r.buf = append(r.buf, ']')
	}
	if len(msgs) > 0 {
		r.buf = append(r.buf, ',')
		r.nl(3)
		r.buf = append(r.buf, `"messages":`...)
		r.sp()
		r.buf = append(r.buf, '[')
		for i, m := range msgs {
			if i > 0 {
				r.buf = append(r.buf, ',')
			}
			r.nl(4)
			r.buf = append(r.buf, '{')
			r.nl(5)
			r.buf = append(r.buf, `"level":`...)
			r.sp()
			r.buf = appendJSONString(r.buf, m.Level)
			r.buf = append(r.buf, ',')
			r.nl(5)
			r.buf = append(r.buf, `"text":`...)
			r.sp()
			r.buf = appendJSONString(r.buf, m.Text)
			r.nl(4)
			r.buf = append(r.buf, '}')
		}
		r.nl(3)
		r.buf = append(r.buf, ']')
	}
	if partial {
		r.buf = append(r.buf, ',')
		r.nl(3)
		r.buf = append(r.buf, `"partial":`...)
		r.sp()
		r.buf = append(r.buf, "true"...)
	}
	if err != "" {
		r.buf = append(r.buf, ',')
		r.nl(3)
		r.buf = append(r.buf, `"error":`...)
		r.sp()
		r.buf = appendJSONString(r.buf, err)
	}
	r.nl(2)
	r.buf = append(r.buf, '}')
	st.opened = false
	st.nseries = 0
}

// closeChunk ends a chunked document and sends it.
func (r *ResponseWriter) closeChunk() {
	r.nl(1)
	r.buf = append(r.buf, ']')
	r.nl(0)
	r.buf = append(r.buf, "}\n"...)
	r.send()
	if r.flusher != nil && r.err == nil {
		r.flusher.Flush()
	}
}

// openSeries renders the head of a series object (everything before its values).
func (r *ResponseWriter) openSeries(s *query.ResultSeries) {
	st := r.st
	r.openResult(st)
	if st.nseries == 0 {
		r.buf = append(r.buf, ',')
		r.nl(3)
		r.buf = append(r.buf, `"series":`...)
		r.sp()
		r.buf = append(r.buf, '[')
	} else {
		r.buf = append(r.buf, ',')
	}
	st.nseries++
	r.nl(4)
	r.buf = append(r.buf, '{')
	st.ser, st.serRows, st.serCont = true, 0, false
	st.serName, st.serTags, st.serCols, st.serNoTime = s.Name, s.Tags, s.Columns, s.NoTime
	keys := 0
	if s.Name != "" {
		r.key(&keys, "name")
		r.buf = appendJSONString(r.buf, s.Name)
	}
	if len(s.Tags) > 0 {
		r.key(&keys, "tags")
		r.buf = append(r.buf, '{')
		names := make([]string, 0, len(s.Tags))
		for k := range s.Tags {
			names = append(names, k)
		}
		sort.Strings(names)
		for i, k := range names {
			if i > 0 {
				r.buf = append(r.buf, ',')
			}
			r.nl(6)
			r.buf = appendJSONString(r.buf, k)
			r.buf = append(r.buf, ':')
			r.sp()
			r.buf = appendJSONString(r.buf, s.Tags[k])
		}
		r.nl(5)
		r.buf = append(r.buf, '}')
	}
	if len(s.Columns) > 0 {
		r.key(&keys, "columns")
		r.buf = append(r.buf, '[')
		for i, c := range s.Columns {
			if i > 0 {
				r.buf = append(r.buf, ',')
			}
			r.nl(6)
			r.buf = appendJSONString(r.buf, c)
		}
		r.nl(5)
		r.buf = append(r.buf, ']')
	}
	if keys == 0 {
		// Marks an object with no key yet, for closeSeries and jsonRow.
		st.serRows = -1
	}
}

// key renders the separator and name of the next key of a series object.
func (r *ResponseWriter) key(n *int, name string) {
	if *n > 0 {
		r.buf = append(r.buf, ',')
	}
	*n++
	r.nl(5)
	r.buf = append(r.buf, '"')
	r.buf = append(r.buf, name...)
	r.buf = append(r.buf, `":`...)
	r.sp()
}

// heldRef is a piece of output held by reference (ResponseWriter.refs).
type heldRef struct {
	at int
	b  []byte
}

// minRef is the smallest joined row piece held by reference: below it a
// copy costs less than the bookkeeping (a ref, and a look at it per flush
// check). It was 4 KiB: a late point splits a group's cached rows, and the
// two hours of rows after it (3.6 KB per series) were then copied into buf
// on every refresh, through buf's growth: 14% of a four-panel dashboard's
// CPU, and its garbage another 8% (TestGrafanaRefresh's profile: 7.8 ms
// a dashboard before, 5.6 ms after).
const minRef = 512

// refBytesBefore is the bytes of the refs that go out before buf[n:].
func (r *ResponseWriter) refBytesBefore(n int) int {
	b := 0
	for _, h := range r.refs {
		if h.at < n {
			b += len(h.b)
		}
	}
	return b
}

// jsonRow renders one row into the open series object.
func (r *ResponseWriter) jsonRow(row *query.Row, noTime bool) {
	st := r.st
	switch {
	case st.serRows <= 0:
		if st.serRows == 0 {
			r.buf = append(r.buf, ',')
		}
		st.serRows = 0
		r.buf = r.appendNL(r.buf, 5)
		r.buf = append(r.buf, `"values":`...)
		r.sp()
		r.buf = append(r.buf, '[')
	default:
		r.buf = append(r.buf, ',')
	}
	r.buf = r.appendNL(r.buf, 6)
	if row.Encoded != nil {
		// Rendered by AppendRow, for this format; a joined piece is
		// immutable (the cache's bytes), so it may be held as it is.
		if row.EncodedRows > 1 && len(row.Encoded) >= minRef {
			r.refs = append(r.refs, heldRef{at: len(r.buf), b: row.Encoded})
			r.refBytes += len(row.Encoded)
			return
		}
		r.buf = append(r.buf, row.Encoded...)
		return
	}
	r.buf = r.appendRow(r.buf, row, noTime, st.loc)
}

// appendRow renders a row's array: [time, values...].
func (r *ResponseWriter) appendRow(b []byte, row *query.Row, noTime bool, loc *time.Location) []byte {
	b = append(b, '[')
	n := 0
	if !noTime {
		b = r.appendNL(b, 7)
		b = r.appendJSONTime(b, row.Time, loc)
		n++
	}
	for _, v := range row.Values {
		if n > 0 {
			b = append(b, ',')
		}
		n++
		b = r.appendNL(b, 7)
		b = appendJSONValue(b, v)
	}
	if n > 0 {
		b = r.appendNL(b, 6)
	}
	return append(b, ']')
}

// jsonRows renders rows for the result cache as this writer prints them.
type jsonRows struct{ r *ResponseWriter }

// RowEncoder returns the encoder of the rows the executor's result cache may
// keep and serve rendered for this writer: JSON only (CSV rows are cut into
// per-series headers the cache does not know).
func (r *ResponseWriter) RowEncoder() (query.RowEncoder, bool) {
	if r.csv {
		return nil, false
	}
	return jsonRows{r}, true
}

// RowFormat names what a JSON row's bytes depend on: epoch precision and
// indentation.
func (j jsonRows) RowFormat() string {
	return fmt.Sprintf("json|epoch=%d|pretty=%t", j.r.div, j.r.pretty)
}

// RowSeparator is what jsonRow prints between two rows; joined rows are
// printed as is unless the response is chunked (cut by row count).
func (j jsonRows) RowSeparator() ([]byte, bool) {
	return j.r.appendNL([]byte{','}, 6), !j.r.chunked
}

// AppendRow renders a time-series row as jsonRow would.
func (j jsonRows) AppendRow(dst []byte, row *query.Row, loc *time.Location) []byte {
	return j.r.appendRow(dst, row, false, loc)
}

// closeSeries ends the open series object.
func (r *ResponseWriter) closeSeries(partial bool) {
	st := r.st
	empty := st.serRows < 0
	if !r.chunked && st.serRows > DefaultChunkSize {
		// 1.x builds a non-chunked answer from 10,000-row pieces and keeps the
		// first piece's "partial":true on the merged series; clients see it.
		partial = true
	}
	if st.serRows > 0 {
		r.nl(5)
		r.buf = append(r.buf, ']')
	}
	if partial {
		if !empty {
			r.buf = append(r.buf, ',')
		}
		r.nl(5)
		r.buf = append(r.buf, `"partial":`...)
		r.sp()
		r.buf = append(r.buf, "true"...)
		empty = false
	}
	if !empty {
		r.nl(4)
	}
	r.buf = append(r.buf, '}')
	st.ser = false
}

// nl starts a new line at the given depth when pretty printing.
func (r *ResponseWriter) nl(depth int) { r.buf = r.appendNL(r.buf, depth) }

// appendNL is nl into b.
func (r *ResponseWriter) appendNL(b []byte, depth int) []byte {
	if !r.pretty {
		return b
	}
	b = append(b, '\n')
	for range depth {
		b = append(b, "    "...)
	}
	return b
}

// sp is the space after a key's colon when pretty printing.
func (r *ResponseWriter) sp() {
	if r.pretty {
		r.buf = append(r.buf, ' ')
	}
}

// maybeFlush hands rendered output to w when it is final: chunked and CSV output
// once a statement ends, non-chunked JSON once enough is buffered outside the
// statement in progress.
func (r *ResponseWriter) maybeFlush() {
	if r.chunked && r.csv {
		if r.st == nil || len(r.buf) >= flushThreshold {
			r.send()
			if r.st != nil {
				r.st.start = 0
			}
			if r.flusher != nil && r.err == nil {
				r.flusher.Flush()
			}
		}
		return
	}
	if r.chunked {
		return
	}
	done := len(r.buf)
	if r.st != nil {
		done = r.st.start
	}
	if done+r.refBytesBefore(done) < flushThreshold {
		return
	}
	r.sendPrefix(done)
}

// send writes everything buffered.
func (r *ResponseWriter) send() { r.sendPrefix(len(r.buf)) }

// sendPrefix writes buf[:n], with the refs that go out before buf[n:] (all
// of them when n is all of buf), and keeps the rest.
func (r *ResponseWriter) sendPrefix(n int) {
	if n == 0 || r.err != nil {
		return
	}
	r.stageFor(n)
	from, k := 0, 0
	for ; k < len(r.refs) && (r.refs[k].at < n || n == len(r.buf)); k++ {
		h := r.refs[k]
		if !r.stage(r.buf[from:h.at]) || !r.stage(h.b) {
			return
		}
		from = h.at
		r.refBytes -= len(h.b)
	}
	if k == 0 {
		if !r.write(r.buf[from:n]) { // no refs: buf goes out as it is
			return
		}
	} else if !r.stage(r.buf[from:n]) || !r.write(r.staged) {
		return
	}
	r.staged = r.staged[:0]
	left := copy(r.refs, r.refs[k:])
	clear(r.refs[left:])
	r.refs = r.refs[:left]
	for i := range r.refs {
		r.refs[i].at -= n
	}
	rest := copy(r.buf, r.buf[n:])
	r.buf = r.buf[:rest]
	if r.st != nil {
		r.st.start -= n
	}
}

// stageFor makes the (empty) staging buffer as large as the bytes
// sendPrefix(n) sends through it, up to the largest class, when the budget
// allows it; nothing is staged without refs (buf goes out as it is).
func (r *ResponseWriter) stageFor(n int) {
	refs := r.refBytes // sending all of buf sends every ref
	if n < len(r.buf) {
		refs = r.refBytesBefore(n)
	}
	if refs == 0 {
		return
	}
	c := stagingClass(n + refs)
	if r.staged != nil && stagingClass(cap(r.staged)) >= c {
		return
	}
	grow := int64(flushThreshold<<c - cap(r.staged))
	if r.budget.Grow(grow) != nil {
		return // the buffer there (or stage's smallest) writes it all, in more writes
	}
	r.charged += grow
	r.pool.putStaging(r.staged)
	r.staged = r.pool.getStaging(c)
}

// stage adds b to the staged bytes, writing them first when b would not
// fit, and b itself when it alone fills a write.
func (r *ResponseWriter) stage(b []byte) bool {
	if r.staged == nil {
		r.staged = r.pool.getStaging(0)
	}
	if len(r.staged)+len(b) > cap(r.staged) {
		if !r.write(r.staged) {
			return false
		}
		r.staged = r.staged[:0]
	}
	if len(b) >= cap(r.staged) {
		return r.write(b)
	}
	r.staged = append(r.staged, b...)
	return true
}

// write writes b to the connection, recording the first error.
func (r *ResponseWriter) write(b []byte) bool {
	if len(b) == 0 {
		return true
	}
	if _, err := r.w.Write(b); err != nil {
		r.err = fmt.Errorf("httpapi: writing response: %w", err)
		return false
	}
	return true
}

// dropRefsFrom lets go of the refs at or past offset n of buf (a retracted
// statement's).
func (r *ResponseWriter) dropRefsFrom(n int) {
	k := len(r.refs)
	for k > 0 && r.refs[k-1].at >= n {
		k--
		r.refBytes -= len(r.refs[k].b)
	}
	clear(r.refs[k:])
	r.refs = r.refs[:k]
}

// appendJSONTime renders a time column value.
func (r *ResponseWriter) appendJSONTime(b []byte, t int64, loc *time.Location) []byte {
	if r.div != 0 {
		return strconv.AppendInt(b, t/r.div, 10)
	}
	if loc == nil || loc == time.UTC {
		b = append(b, '"')
		b = appendRFC3339NanoUTC(b, t)
		return append(b, '"')
	}
	b = append(b, '"')
	b = time.Unix(0, t).In(loc).AppendFormat(b, time.RFC3339Nano)
	return append(b, '"')
}

// appendRFC3339NanoUTC appends t (ns since the epoch) as
// time.Unix(0, t).UTC().AppendFormat(b, time.RFC3339Nano) does, by
// arithmetic: the calendar date from the day number (the proleptic
// Gregorian civil-from-days conversion), the fraction without its trailing
// zeros. An int64 of nanoseconds spans the years 1677 to 2262, so the year
// always has four digits. It was a third of the encoding of a 720-row
// TSBS answer through time.Time's general formatter.
func appendRFC3339NanoUTC(b []byte, t int64) []byte {
	secs := t / 1e9
	nanos := t % 1e9
	if nanos < 0 {
		secs, nanos = secs-1, nanos+1e9
	}
	days := secs / 86400
	sod := secs % 86400
	if sod < 0 {
		days, sod = days-1, sod+86400
	}
	// Days since 0000-03-01 in eras of 400 years (146,097 days).
	z := days + 719468
	era := z / 146097
	if z < 0 && z%146097 != 0 {
		era--
	}
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	year := yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	day := doy - (153*mp+2)/5 + 1
	month := mp + 3
	if mp >= 10 {
		month = mp - 9
	}
	if month <= 2 {
		year++
	}
	b = append(b, byte('0'+year/1000), byte('0'+year/100%10), byte('0'+year/10%10), byte('0'+year%10), '-',
		byte('0'+month/10), byte('0'+month%10), '-', byte('0'+day/10), byte('0'+day%10), 'T',
		byte('0'+sod/36000), byte('0'+sod/3600%10), ':', byte('0'+sod/60%60/10), byte('0'+sod/60%10), ':',
		byte('0'+sod%60/10), byte('0'+sod%10))
	if nanos != 0 {
		var frac [10]byte
		frac[0] = '.'
		n := nanos
		for i := 9; i >= 1; i-- {
			frac[i] = byte('0' + n%10)
			n /= 10
		}
		end := 10
		for frac[end-1] == '0' {
			end--
		}
		b = append(b, frac[:end]...)
	}
	return append(b, 'Z')
}

// appendJSONValue renders a value as Go's encoding/json does, which is what
// InfluxDB 1.x clients parse. NaN and ±Inf, which JSON cannot hold (InfluxDB 1.x
// then answers with an encoder error instead of JSON), render as null.
func appendJSONValue(b []byte, v any) []byte {
	switch v := v.(type) {
	case nil:
		return append(b, "null"...)
	case float64:
		return appendJSONFloat(b, v)
	case int64:
		return strconv.AppendInt(b, v, 10)
	case int:
		return strconv.AppendInt(b, int64(v), 10)
	case uint64:
		return strconv.AppendUint(b, v, 10)
	case string:
		return appendJSONString(b, v)
	case bool:
		return strconv.AppendBool(b, v)
	}
	// checkResult refused every other type.
	return append(b, "null"...)
}

// appendJSONFloat formats f as encoding/json does: the shortest representation
// that round-trips, in plain notation between 1e-6 and 1e21 and in exponent
// notation with at least one exponent digit elsewhere.
func appendJSONFloat(b []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(b, "null"...)
	}
	format := byte('f')
	if a := math.Abs(f); a != 0 && (a < 1e-6 || a >= 1e21) {
		format = 'e'
	}
	start := len(b)
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// strconv writes e-07; encoding/json writes e-7.
		n := len(b) - start
		if n >= 4 && b[len(b)-4] == 'e' && b[len(b)-3] == '-' && b[len(b)-2] == '0' {
			b[len(b)-2] = b[len(b)-1]
			b = b[:len(b)-1]
		}
	}
	return b
}

const hexDigits = "0123456789abcdef"

// appendJSONString quotes s as encoding/json does with HTML escaping: <, > and &
// as \u003c..., control characters escaped, invalid UTF-8 as U+FFFD, and U+2028
// and U+2029 escaped for JavaScript.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		rn, size := utf8.DecodeRuneInString(s[i:])
		if rn == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if rn == '\u2028' || rn == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[rn&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// csvSeries renders a series as InfluxDB 1.x's CSV: a name,tags,<columns> header
// when a statement starts (after a blank line if output precedes it), then one line
// per row with the time as an integer. Unlike 1.6.7, which keeps the first series'
// header for the whole statement, a series with other columns gets its own header,
// and a null is an empty field (1.6.7 repeats the previous row's value).
// Statement errors and messages have no place in this format and are left out,
// as 1.6.7 does.
func (r *ResponseWriter) csvSeries(s *query.ResultSeries) {
	if r.csvCols == nil || !equalStrings(r.csvCols, s.Columns) {
		if r.csvCols == nil && r.csvWrote {
			r.buf = append(r.buf, '\n')
		}
		r.csvCols = s.Columns
		r.buf = append(r.buf, "name,tags"...)
		for _, c := range s.Columns {
			r.buf = append(r.buf, ',')
			r.buf = appendCSVField(r.buf, c)
		}
		r.buf = append(r.buf, '\n')
		r.csvWrote = true
	}
	var tags []byte
	if len(s.Tags) > 0 {
		tags = appendTagsKey(nil, s.Tags)
	}
	div := r.div
	if div == 0 {
		div = 1
	}
	for i := range s.Rows {
		row := &s.Rows[i]
		r.buf = appendCSVField(r.buf, s.Name)
		r.buf = append(r.buf, ',')
		r.buf = appendCSVField(r.buf, string(tags))
		if !s.NoTime {
			r.buf = append(r.buf, ',')
			r.buf = strconv.AppendInt(r.buf, row.Time/div, 10)
		}
		for _, v := range row.Values {
			r.buf = append(r.buf, ',')
			switch v := v.(type) {
			case float64:
				r.buf = strconv.AppendFloat(r.buf, v, 'f', -1, 64)
			case int64:
				r.buf = strconv.AppendInt(r.buf, v, 10)
			case int:
				r.buf = strconv.AppendInt(r.buf, int64(v), 10)
			case uint64:
				r.buf = strconv.AppendUint(r.buf, v, 10)
			case string:
				r.buf = appendCSVField(r.buf, v)
			case bool:
				r.buf = strconv.AppendBool(r.buf, v)
			}
		}
		r.buf = append(r.buf, '\n')
	}
}

// appendTagsKey renders tags as InfluxDB's series key does (sorted k=v pairs,
// commas, spaces and equals signs escaped), without the leading comma.
func appendTagsKey(b []byte, tags map[string]string) []byte {
	keys := make([]string, 0, len(tags))
	for k := range tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendTagEscaped(b, k)
		b = append(b, '=')
		b = appendTagEscaped(b, tags[k])
	}
	return b
}

func appendTagEscaped(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case ',', ' ', '=':
			b = append(b, '\\')
		}
		b = append(b, s[i])
	}
	return b
}

// appendCSVField quotes a field as encoding/csv does: when it holds a comma, a
// quote, CR or LF, starts with a space, or is exactly \. (which would end a
// PostgreSQL COPY stream).
func appendCSVField(b []byte, s string) []byte {
	if !csvNeedsQuotes(s) {
		return append(b, s...)
	}
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' {
			b = append(b, '"')
		}
		b = append(b, s[i])
	}
	return append(b, '"')
}

func csvNeedsQuotes(s string) bool {
	if s == "" {
		return false
	}
	if s == `\.` || strings.ContainsAny(s, ",\"\r\n") {
		return true
	}
	rn, _ := utf8.DecodeRuneInString(s)
	return unicode.IsSpace(rn)
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

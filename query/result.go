package query

import "time"

// ResultSink receives a query's results as the executor produces them: a stream
// of pieces, in statement order. A piece is a *StatementResult; Partial on it says
// more of the same statement follows in the next piece, and Partial on its last
// series says that series may continue in the first series of the next piece
// (same name, tags and columns). So a statement starts with its first piece, a
// series header travels with every piece of the series, and rows come in batches
// of bounded size (a raw SELECT sends at most 1,024 rows per piece
// while it scans). The statement's last piece has Partial false; an error comes
// as a last piece with Err set, after whatever pieces were already sent (a
// renderer that buffers a statement discards them, as InfluxDB's non-chunked
// answer does).
//
// A sink may keep the pieces (the executor reuses nothing it handed over); what
// it keeps is its own to account: httpapi's writer charges its buffer to
// ExecOptions.Budget, Collector keeps everything (for tests and tools). An error
// from WriteResult ends the query, except one wrapping ErrMemoryBudget, which
// ends the statement with that error as its result.
type ResultSink interface {
	WriteResult(*StatementResult) error
}

// SinkFunc adapts a function to ResultSink.
type SinkFunc func(*StatementResult) error

// WriteResult calls f.
func (f SinkFunc) WriteResult(r *StatementResult) error { return f(r) }

// Row is one row of a series. Time is the row's timestamp in nanoseconds, rendered
// as the first column unless the series has NoTime; Values are the other columns
// in order, each a float64, int64, int, uint64, string, bool or nil (null).
//
// Encoded, when set, is the row as the sink prints it, made by the statement's
// ExecOptions.RowEncoder (a row the result cache served may have no Values).
// EncodedRows > 1 says Encoded holds that many consecutive rows joined by the
// encoder's separator (the result cache's rows of a group, copied in one
// piece); Time is then the first one's.
type Row struct {
	Time        int64
	Values      []any
	Encoded     []byte
	EncodedRows int
}

// RowEncoder renders rows as a sink prints them, for the rows the result
// cache keeps. RowFormat names everything the bytes depend on besides the
// row and the statement's time zone (format, epoch precision, indentation):
// rows are served only to an encoder of the same format.
type RowEncoder interface {
	RowFormat() string
	AppendRow(dst []byte, row *Row, loc *time.Location) []byte
	// RowSeparator is what the sink prints between two rows of a series,
	// and whether it prints a Row of several joined rows as is (a sink that
	// cuts series into pieces by row count does not).
	RowSeparator() ([]byte, bool)
}

// ResultSeries is one series of a statement's result.
type ResultSeries struct {
	Name string
	// Tags are the GROUP BY tags; nil or empty is omitted.
	Tags map[string]string
	// Columns names every column as printed. Unless NoTime is set the first one
	// is the time column (named "time", or its alias) and holds Row.Time.
	Columns []string
	// NoTime marks series without a time column (SHOW statements): Row.Time is
	// ignored and Row.Values holds one value per column.
	NoTime bool
	Rows   []Row
	// Partial says the series may continue in the next WriteResult call of the
	// same statement: if that call starts with the same series (name, tags and
	// columns), its rows join this one. An executor that cannot know whether a
	// series is complete can always set it. (The "partial" flag of InfluxDB's JSON
	// is the response writer's business: it marks a series continued in a later
	// chunk.)
	Partial bool
}

// ResponseMessage is an informational message attached to a result.
type ResponseMessage struct {
	Level string
	Text  string
}

// StatementResult is one statement's answer, or a piece of it.
type StatementResult struct {
	StatementID int
	Series      []*ResultSeries
	Messages    []ResponseMessage
	// Partial says more of this statement follows in another WriteResult call.
	Partial bool
	// Incomplete says nodes of the set did not answer and the client allowed
	// it (partial=true): rendered as InfluxDB's result-level "partial":true,
	// with Messages naming the nodes (fanout.go).
	Incomplete bool
	// Err is the statement's error. In a non-chunked response it replaces whatever
	// the statement produced before (as InfluxDB 1.x does); in a chunked one the
	// chunks already sent stay sent and the error follows in its own chunk.
	Err string
	// Location is the statement's tz() zone for RFC3339 times; nil means UTC. It
	// is per statement because every SELECT of a multi-statement query has its own.
	Location *time.Location
}

// Collector is a ResultSink that gathers the stream into whole statement results,
// one per statement with its pieces merged, for callers that want the answer as
// values (tests, tools). A statement error replaces what the statement produced,
// as in InfluxDB's non-chunked answer.
type Collector struct {
	Results []*StatementResult
	open    bool // the last result continues in the next piece
}

// WriteResult merges one piece.
func (c *Collector) WriteResult(r *StatementResult) error {
	var cur *StatementResult
	if n := len(c.Results); n > 0 && c.open && c.Results[n-1].StatementID == r.StatementID {
		cur = c.Results[n-1]
	} else {
		cur = &StatementResult{StatementID: r.StatementID}
		c.Results = append(c.Results, cur)
	}
	if r.Location != nil {
		cur.Location = r.Location
	}
	if r.Err != "" {
		cur.Err, cur.Series, cur.Messages = r.Err, nil, nil
	}
	for _, s := range r.Series {
		if n := len(cur.Series); n > 0 && cur.Series[n-1].Partial && sameHeader(cur.Series[n-1], s) {
			last := cur.Series[n-1]
			last.Rows = append(last.Rows, s.Rows...)
			last.Partial = s.Partial
			continue
		}
		cp := *s
		cp.Rows = append([]Row(nil), s.Rows...)
		cur.Series = append(cur.Series, &cp)
	}
	cur.Messages = append(cur.Messages, r.Messages...)
	c.open = r.Partial
	return nil
}

// sameHeader tells whether b continues series a: same name, tags and columns.
func sameHeader(a, b *ResultSeries) bool {
	if a.Name != b.Name || a.NoTime != b.NoTime || len(a.Tags) != len(b.Tags) || len(a.Columns) != len(b.Columns) {
		return false
	}
	for k, v := range a.Tags {
		if w, ok := b.Tags[k]; !ok || w != v {
			return false
		}
	}
	for i := range a.Columns {
		if a.Columns[i] != b.Columns[i] {
			return false
		}
	}
	return true
}

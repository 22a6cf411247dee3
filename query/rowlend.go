package query

// Lent rows: the arrays of an aggregate group's rows reused by the next
// group or query, when the sink renders a piece and keeps nothing of it.
// A 12-hour TSBS query's 720 rows and their values were 58 KB (one column)
// to 104 KB (five) of each query's 95-170 KB allocated
// (single-groupby-1-1-12, -5-1-12; docs/query-costs.md); at the collector's
// small heap goal at rest that was most of the query's collections.

// RowsBorrower is a ResultSink that is done with a piece's rows when
// WriteResult returns: it renders them at once and keeps neither the Row
// array nor any Values slice (bytes it renders are its own, and Encoded
// rows it holds are the result cache's, never lent). The executor may then
// reuse those arrays once the piece is written; a sink that may keep a piece
// (ResultSink's default) gets rows made for it alone.
type RowsBorrower interface {
	ResultSink
	BorrowsRows()
}

// rowBuf is the arrays windowRows builds one group's rows in.
type rowBuf struct {
	rows []Row
	vals []any
}

// lendRowBuf returns arrays with room for n rows of ne values: rows empty,
// vals zeroed, from the executor's pool when one is there.
func (e *Executor) lendRowBuf(n, ne int) *rowBuf {
	b, _ := e.rowBufs.Get().(*rowBuf)
	if b == nil {
		b = &rowBuf{}
	}
	if cap(b.rows) < n {
		b.rows = make([]Row, 0, n)
	}
	if cap(b.vals) < n*ne {
		b.vals = make([]any, n*ne)
	}
	b.rows, b.vals = b.rows[:0], b.vals[:n*ne]
	return b
}

// returnRowBuf takes back b once the sink has written every row in it. The
// arrays are cleared first: pooled, they would keep the query's values
// (and, through Row.Values, nothing else) from the collector.
func (e *Executor) returnRowBuf(b *rowBuf) {
	if b == nil || cap(b.rows) > rowChunk {
		return
	}
	clear(b.rows[:cap(b.rows)])
	clear(b.vals[:cap(b.vals)])
	e.rowBufs.Put(b)
}

package query

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
)

// ErrMemoryBudget is the error of a query that would hold more memory than
// Limits.MaxMemory. It ends the statement (its text is results[i].error), not the
// connection; a sink returning an error that wraps it does the same.
var ErrMemoryBudget = errors.New("max-query-memory limit exceeded")

// Budget accounts the memory one query holds where it holds data: rows
// materialized for an answer, window inputs (the points distinct, median,
// percentile... collect), accumulators, subquery results, decoded blocks of open
// cursors, raw batches in flight, and the response renderer's buffer. The sizes
// are estimates of what Go allocates for them, not exact; they exist to stop a
// query with a clear error long before the process runs out of memory. A nil
// *Budget accounts nothing. Safe for concurrent use (a SELECT's groups run in
// parallel).
type Budget struct {
	limit int64 // <= 0: no limit, only accounting
	used  atomic.Int64
	peak  atomic.Int64
}

// NewBudget returns a budget of limit bytes (<= 0: unlimited, still measured).
func NewBudget(limit int64) *Budget { return &Budget{limit: limit} }

// NewBudget returns a budget for one query under the executor's limits.
func (e *Executor) NewBudget() *Budget { return NewBudget(e.limits.MaxMemory) }

// Grow accounts n more bytes; over the limit it takes nothing and returns an
// error wrapping ErrMemoryBudget.
func (b *Budget) Grow(n int64) error {
	if b == nil || n <= 0 {
		return nil
	}
	used := b.used.Add(n)
	if b.limit > 0 && used > b.limit {
		b.used.Add(-n)
		return fmt.Errorf("%w: (%d/%d bytes)", ErrMemoryBudget, used, b.limit)
	}
	for {
		p := b.peak.Load()
		if used <= p || b.peak.CompareAndSwap(p, used) {
			return nil
		}
	}
}

// Release gives back n bytes accounted by Grow.
func (b *Budget) Release(n int64) {
	if b != nil && n > 0 {
		b.used.Add(-n)
	}
}

// Used is the memory accounted now; Peak the most at any time.
func (b *Budget) Used() int64 {
	if b == nil {
		return 0
	}
	return b.used.Load()
}

// Peak is the most memory the query held at any time.
func (b *Budget) Peak() int64 {
	if b == nil {
		return 0
	}
	return b.peak.Load()
}

// stmtMem is one statement's share of the query budget: what it holds until it
// ends is released then, whatever path it took.
type stmtMem struct {
	b    *Budget
	held atomic.Int64
}

type memKey struct{}

// withMem gives a statement's context its accountant.
func withMem(ctx context.Context, m *stmtMem) context.Context {
	return context.WithValue(ctx, memKey{}, m)
}

// memOf is the accountant of the statement ctx belongs to; nil (accounting
// nothing) outside Execute.
func memOf(ctx context.Context) *stmtMem {
	m, _ := ctx.Value(memKey{}).(*stmtMem)
	return m
}

// hold accounts n bytes until release or the statement's end.
func (m *stmtMem) hold(n int64) error {
	if m == nil || n <= 0 {
		return nil
	}
	if err := m.b.Grow(n); err != nil {
		return err
	}
	m.held.Add(n)
	return nil
}

// release gives back n bytes of hold.
func (m *stmtMem) release(n int64) {
	if m == nil || n <= 0 {
		return
	}
	m.b.Release(n)
	m.held.Add(-n)
}

// end releases whatever the statement still holds.
func (m *stmtMem) end() {
	if m != nil {
		m.b.Release(m.held.Swap(0))
	}
}

// Estimated sizes, in bytes, of what the engine holds.
const (
	valueBytes = 16 + 8      // an interface and its boxed scalar
	pointBytes = 48 + 8      // funcs.Point and its boxed value
	rowBytes   = 24 + 24 + 8 // Row: time and the Values and Encoded slice headers
	colBytes   = 8 + 8       // a column's time and value per point
	accBytes   = 128         // one window's accumulator and its map entry
	startBytes = 8           // one window start
)

// rowSize estimates the memory of one row.
func rowSize(r *Row) int64 {
	n := int64(rowBytes+valueBytes*len(r.Values)) + int64(len(r.Encoded))
	for _, v := range r.Values {
		if s, ok := v.(string); ok {
			n += int64(len(s))
		}
	}
	return n
}

// rowsSize estimates the memory of rows.
func rowsSize(rows []Row) int64 {
	var n int64
	for i := range rows {
		n += rowSize(&rows[i])
	}
	return n
}

// holdGroup accounts n bytes of a group's working data (window inputs,
// accumulators, per-call points) until the group is done.
func (r *selectRun) holdGroup(g *group, n int64) error {
	if err := memOf(r.ctx).hold(n); err != nil {
		return err
	}
	g.held += n
	return nil
}

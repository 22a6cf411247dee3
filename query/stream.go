package query

import (
	"container/heap"
	"context"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/strata-db/strata/query/influxql"
	"github.com/strata-db/strata/storage"
	"github.com/strata-db/strata/storage/block"
)

// SELECTs stream. Raw: a series' fields are merged into rows by timestamp as
// their cursors yield blocks (rowStream), a group's series are merged by time into
// the output order (groupStream), and the rows leave in batches of rawBatchRows
// while the scan goes on; what a raw query holds is a block per open cursor plus
// the batches in flight, whatever the size of the answer. Aggregates: each group
// is computed whole (its windows), then leaves in batches while the next groups
// compute (streamGroups), so a query holds a group per worker.

// rawBatchRows is the most rows one piece of a streamed raw result holds: small
// enough that a chunked answer starts at once and the batches in flight cost
// little, large enough that per-piece overhead disappears next to rendering.
const rawBatchRows = 1024

// fieldStream yields the points of one field of one series in scan order
// (newest first if desc), a block at a time.
type fieldStream struct {
	r    *selectRun
	cur  *storage.Cursor // nil for an in-memory (subquery) series
	col  *block.Column   // the chunk in hand: valid until the next refill
	i    int             // position in col, in scan order
	n    int             // points handed out
	max  int             // stop after this many points (0: no limit)
	desc bool
	cc   canceller
	mem  *stmtMem
	held int64 // bytes accounted for col
	err  error
}

// newFieldStream opens field of s. A series' measurement without the field gives
// an empty stream.
func (r *selectRun) newFieldStream(s *seriesRef, field string, max int, desc bool) (*fieldStream, error) {
	f := &fieldStream{r: r, max: max, desc: desc, cc: r.e.canceller(r.ctx), mem: memOf(r.ctx)}
	if s.mem != nil {
		// In time order, all of them: the stream walks them backwards when desc
		// and stops at max itself.
		pts, err := r.readField(s, field, 0, false)
		if err != nil {
			return nil, err
		}
		f.col = pointsColumn(pts)
		return f, nil
	}
	fid, ok := r.fieldID(s, field)
	if !ok {
		return f, nil
	}
	cur, err := r.cursor(s, fid)
	if err != nil {
		return nil, err
	}
	if desc {
		cur.Descending()
	}
	f.cur = cur
	return f, nil
}

// valid tells whether the stream has a point in hand, reading the next block
// when the current one is used up.
func (f *fieldStream) valid() bool {
	for {
		if f.max > 0 && f.n >= f.max || f.err != nil {
			return false
		}
		if f.col != nil && f.i < f.col.Len() {
			return true
		}
		if f.cur == nil || !f.cur.Next() {
			if f.cur != nil {
				f.err = f.cur.Err()
			}
			return false
		}
		if f.desc && f.max == 1 {
			// The newest point of an untouched block is in its header: ORDER BY time
			// DESC LIMIT 1 (TSBS lastpoint) decodes nothing.
			if h := f.cur.Stats(); h != nil {
				if c, ok := lastOfHeader(h); ok {
					f.col, f.i = c, 0
					f.r.stats.blocksStats.Add(1)
					f.account(1)
					continue
				}
			}
		}
		col, err := f.cur.Column()
		if err != nil {
			f.err = err
			return false
		}
		f.col, f.i = col, 0
		f.account(col.Len())
		// The decoded block stays in hand while the merge takes its points.
		f.mem.release(f.held)
		f.held = int64(col.Len()) * colBytes
		if err := f.mem.hold(f.held); err != nil {
			f.held, f.err = 0, err
		}
	}
}

// account counts a block's points against the statement's limits.
func (f *fieldStream) account(n int) {
	if err := f.cc.add(n); err != nil {
		f.err = err
		return
	}
	pts := f.r.stats.points.Add(int64(n))
	if lim := f.r.e.limits.MaxPoints; lim > 0 && pts > lim {
		f.err = errorf("max-select-point limit exceeded: (%d/%d)", pts, lim)
	}
}

// at is the index in col of the point in hand.
func (f *fieldStream) at() int {
	if f.desc {
		return f.col.Len() - 1 - f.i
	}
	return f.i
}

func (f *fieldStream) time() int64 { return f.col.Times[f.at()] }
func (f *fieldStream) value() any  { return cell(f.col, f.at()) }
func (f *fieldStream) advance()    { f.i++; f.n++ }

func (f *fieldStream) close() {
	f.mem.release(f.held)
	f.held = 0
	if f.cur != nil {
		f.r.stats.blocksDecoded.Add(int64(f.cur.BlocksDecoded()))
		f.cur.Close()
		f.cur = nil
	}
	f.col = nil
}

// rowStream merges the fields of one series into rows by timestamp (newest first
// if desc), keeping those that pass the field condition; max > 0 stops after
// that many rows. With a condition, rows are found on the condition's fields
// alone (a row where all of them are missing cannot pass a comparison) and the
// other fields are boxed only for the rows that pass.
type rowStream struct {
	r       *selectRun
	rr      *rowReader
	fields  []*fieldStream
	drivers []bool
	desc    bool
	max     int
	n       int
	row     seriesRow // the row in hand after next; vals is reused by the next call
	scratch seriesRow
	cc      canceller
	cost    int // canceller units per row: the field condition's size
	// condLookup resolves names in the field condition against scratch: a tag
	// the series lacks, or a name that is neither tag nor field, compares as the
	// empty string, as in the index (1.x).
	condLookup func(string) any
	err        error
}

func (r *selectRun) newRowStream(s *seriesRef, rr *rowReader, max int, desc bool) (*rowStream, error) {
	perField := max
	if r.plan.fieldCond != nil {
		perField = 0 // the condition may reject rows: read on
	}
	st := &rowStream{r: r, rr: rr, desc: desc, max: max, cc: r.e.canceller(r.ctx), cost: condCost(r.plan.fieldCond)}
	for _, name := range rr.fields {
		f, err := r.newFieldStream(s, name, perField, desc)
		if err != nil {
			st.close()
			return nil, err
		}
		st.fields = append(st.fields, f)
	}
	if s.mem != nil && r.plan.fieldCond == nil {
		// Every row of a subquery is a row of the outer query, also one whose
		// selected values are all null (1.x emits the inner points as they are):
		// the series' row times drive the merge as one more (value-less) field.
		st.fields = append(st.fields, &fieldStream{r: r, max: perField, desc: desc, cc: r.e.canceller(r.ctx),
			mem: memOf(r.ctx), col: r.memTimesColumn(s)})
	}
	st.row = seriesRow{vals: make([]any, len(st.fields)), series: s}
	st.scratch = seriesRow{vals: make([]any, len(st.fields)), series: s}
	st.drivers = make([]bool, len(st.fields))
	anyDriver := false
	if r.plan.fieldCond != nil {
		influxql.Walk(r.plan.fieldCond, func(n influxql.Node) {
			if v, ok := n.(*influxql.VarRef); ok {
				if i, ok := rr.index[v.Val]; ok {
					st.drivers[i], anyDriver = true, true
				}
			}
		})
	}
	if !anyDriver {
		for i := range st.drivers {
			st.drivers[i] = true
		}
	}
	if cond := r.plan.fieldCond; cond != nil {
		var info *measurementInfo
		if s.mem == nil {
			info = r.measurementInfo(s)
		}
		st.condLookup = func(name string) any {
			if v := rr.value(&st.scratch, name); v != nil || info == nil {
				return v
			}
			if _, isField := info.fields[name]; isField {
				return nil
			}
			return ""
		}
		// A condition true without any of its fields (tag != 'x' OR f > 1 on a
		// series without that tag value) lets every row of the series through.
		if anyDriver && evalCond(cond, st.condLookup) {
			for i := range st.drivers {
				st.drivers[i] = true
			}
		}
	}
	return st, nil
}

func (st *rowStream) before(a, b int64) bool {
	if st.desc {
		return a > b
	}
	return a < b
}

// next moves to the next row (st.row); false at the end or on error (st.err).
func (st *rowStream) next() bool {
	cond := st.r.plan.fieldCond
	for {
		if st.max > 0 && st.n >= st.max {
			return false
		}
		if err := st.cc.tickCost(st.cost); err != nil {
			st.err = err
			return false
		}
		found := false
		var t int64
		for i, f := range st.fields {
			if st.drivers[i] && f.valid() && (!found || st.before(f.time(), t)) {
				t, found = f.time(), true
			}
		}
		for _, f := range st.fields {
			if f.err != nil {
				st.err = f.err
				return false
			}
		}
		if !found {
			return false
		}
		// Advance every field to t.
		for _, f := range st.fields {
			for f.valid() && st.before(f.time(), t) {
				f.advance()
			}
		}
		if cond != nil {
			st.scratch.time = t
			for i, f := range st.fields {
				st.scratch.vals[i] = nil
				if st.drivers[i] && f.valid() && f.time() == t {
					st.scratch.vals[i] = f.value()
				}
			}
			if !evalCond(cond, st.condLookup) {
				for i, f := range st.fields {
					if st.drivers[i] && f.valid() && f.time() == t {
						f.advance()
					}
				}
				continue
			}
		}
		st.row.time = t
		for i, f := range st.fields {
			st.row.vals[i] = nil
			if f.valid() && f.time() == t {
				st.row.vals[i] = f.value()
				f.advance()
			}
		}
		st.n++
		return true
	}
}

func (st *rowStream) close() {
	for _, f := range st.fields {
		f.close()
	}
}

// readRows reads every row of one series (see rowStream) into memory.
func (r *selectRun) readRows(s *seriesRef, rr *rowReader, max int, desc bool) ([]seriesRow, error) {
	st, err := r.newRowStream(s, rr, max, desc)
	if err != nil {
		return nil, err
	}
	defer st.close()
	var rows []seriesRow
	for st.next() {
		rows = append(rows, seriesRow{time: st.row.time, vals: append([]any(nil), st.row.vals...), series: s})
	}
	return rows, st.err
}

// groupStream yields the output rows of one raw group: its series' rows merged
// by time (ties in series order, which is key order, as a stable sort of all rows
// gives), points without a selected field dropped, OFFSET and LIMIT applied.
type groupStream struct {
	r       *selectRun
	streams []*rowStream
	readers []*rowReader
	h       streamHeap
	started bool
	skip    int // OFFSET rows still to drop
	left    int // LIMIT rows still to give (-1: no limit)
	cc      canceller
	err     error
}

func (r *selectRun) newGroupStream(g *group) (*groupStream, error) {
	p := r.plan
	desc := !p.ascending
	max := 0
	if p.stmt.Limit > 0 {
		max = p.stmt.Limit + p.stmt.Offset // no series contributes more rows than that
	}
	gs := &groupStream{r: r, skip: p.stmt.Offset, left: -1, cc: r.e.canceller(r.ctx)}
	if p.stmt.Limit > 0 {
		gs.left = p.stmt.Limit
	}
	for _, s := range g.series {
		r.stats.series.Add(1)
		rr := newRowReader(r.neededFields(p.exprs, s))
		rr.layout(p.exprs, s, r)
		st, err := r.newRowStream(s, rr, max, desc)
		if err != nil {
			gs.close()
			return nil, err
		}
		gs.streams = append(gs.streams, st)
		gs.readers = append(gs.readers, rr)
	}
	gs.h = streamHeap{desc: desc}
	return gs, nil
}

// next returns the next output row; ok is false at the end (or on gs.err).
func (gs *groupStream) next() (Row, bool) {
	p := gs.r.plan
	if !gs.started {
		gs.started = true
		for i, st := range gs.streams {
			if st.next() {
				gs.h.items = append(gs.h.items, streamItem{t: st.row.time, i: i})
			} else if st.err != nil {
				gs.err = st.err
				return Row{}, false
			}
		}
		heap.Init(&gs.h)
	}
	for gs.left != 0 && len(gs.h.items) > 0 {
		if err := gs.cc.tick(); err != nil {
			gs.err = err
			return Row{}, false
		}
		top := gs.h.items[0].i
		st, rr := gs.streams[top], gs.readers[top]
		sr := &st.row
		vals := make([]any, len(p.exprs))
		for i, ex := range p.exprs {
			switch col := rr.cols[i]; {
			case col.field >= 0: // a plain field reference: no evaluation
				vals[i] = castValue(sr.vals[col.field], col.cast)
			case col.tag:
				if v, ok := sr.series.tags[col.name]; ok {
					vals[i] = v
				}
			default:
				vals[i] = evalExpr(ex, func(name string) any { return rr.value(sr, name) }, nil)
			}
		}
		// A row prints for a point that has a field the expressions read, even
		// when they evaluate to null (f1 + f2 without f2), as in 1.x; every row
		// of a subquery prints.
		hasField := sr.series.mem != nil
		for _, k := range rr.sel {
			if sr.vals[k] != nil {
				hasField = true
				break
			}
		}
		t := sr.time
		if st.next() {
			gs.h.items[0].t = st.row.time
			heap.Fix(&gs.h, 0)
		} else {
			if st.err != nil {
				gs.err = st.err
				return Row{}, false
			}
			heap.Pop(&gs.h)
		}
		if !hasField {
			continue // a row is printed only for points that have a selected field
		}
		if gs.skip > 0 {
			gs.skip--
			continue
		}
		if gs.left > 0 {
			gs.left--
		}
		return Row{Time: t, Values: vals}, true
	}
	return Row{}, false
}

func (gs *groupStream) close() {
	for _, st := range gs.streams {
		st.close()
	}
}

type streamItem struct {
	t int64
	i int // index of the series in the group: the tie-break
}

// streamHeap orders a group's series streams by their next row's time.
type streamHeap struct {
	items []streamItem
	desc  bool
}

func (h *streamHeap) Len() int { return len(h.items) }
func (h *streamHeap) Less(a, b int) bool {
	x, y := h.items[a], h.items[b]
	if x.t != y.t {
		if h.desc {
			return x.t > y.t
		}
		return x.t < y.t
	}
	if h.desc {
		// Points of one time in reverse series order: 1.x reads the whole merge
		// backwards.
		return x.i > y.i
	}
	return x.i < y.i
}
func (h *streamHeap) Swap(a, b int) { h.items[a], h.items[b] = h.items[b], h.items[a] }
func (h *streamHeap) Push(x any)    { h.items = append(h.items, x.(streamItem)) }
func (h *streamHeap) Pop() any {
	x := h.items[len(h.items)-1]
	h.items = h.items[:len(h.items)-1]
	return x
}

// scanGroup runs one raw group, handing its rows to emit in batches of at most
// rawBatchRows, under the group's snapshot. emit owns each batch.
func (r *selectRun) scanGroup(g *group, emit func([]Row) error) error {
	if err := stopErr(r.ctx); err != nil {
		return err // stopped: the groups left need not open their cursors
	}
	if !allMem(g) {
		snap, err := r.e.store.Snapshot()
		if err != nil {
			return err
		}
		defer snap.Close()
		for _, s := range g.series {
			s.snap = snap
		}
		defer func() {
			for _, s := range g.series {
				s.snap = nil
			}
		}()
	}
	gs, err := r.newGroupStream(g)
	if err != nil {
		return err
	}
	defer gs.close()
	batch := make([]Row, 0, rawBatchRows)
	for {
		row, ok := gs.next()
		if !ok {
			break
		}
		batch = append(batch, row)
		if len(batch) == rawBatchRows {
			if err := emit(batch); err != nil {
				return err
			}
			batch = make([]Row, 0, rawBatchRows)
		}
	}
	if gs.err != nil {
		return gs.err
	}
	if len(batch) > 0 {
		return emit(batch)
	}
	return nil
}

// streamGroups runs the groups of a SELECT and hands their rows to emit in
// output order, in batches of at most rawBatchRows, as they are produced: groups
// run in parallel across cores, each into a short queue the caller drains in
// order. A raw group's batches leave while it scans, so what is in flight stays a
// few batches per worker; an aggregate group's once it is computed, so at most a
// group per worker waits. emit gets each group's series header with every batch
// (Partial: the next batch may continue it).
func (r *selectRun) streamGroups(groups []*group, emit func(*ResultSeries) error) error {
	if len(groups) == 0 {
		return nil
	}
	ctx, cancel := context.WithCancelCause(r.ctx)
	defer cancel(nil)
	r.ctx = ctx
	cols := r.columnsOf()
	mem := memOf(r.ctx)
	queues := make([]chan piece, len(groups))
	for i := range queues {
		queues[i] = make(chan piece, 2)
	}
	workers := min(runtime.GOMAXPROCS(0), len(groups))
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(groups) {
					return
				}
				q := queues[i]
				send := func(p piece) bool {
					select {
					case q <- p:
						return true
					case <-ctx.Done():
						return false
					}
				}
				var err error
				if r.plan.raw {
					err = r.scanGroup(groups[i], func(rows []Row) error {
						size := rowsSize(rows)
						if err := mem.hold(size); err != nil {
							return err
						}
						if !send(piece{rows: rows, size: size}) {
							mem.release(size)
							return stopErr(ctx)
						}
						return nil
					})
				} else {
					err = r.sendGroup(groups[i], func(p piece) bool { return send(p) }, mem)
				}
				if err != nil {
					send(piece{err: err})
				}
				close(q)
			}
		}()
	}
	var err error
	for i, g := range groups {
		for p := range queues[i] {
			if p.err != nil {
				err = p.err
				break
			}
			err = emit(&ResultSeries{Name: g.measurement, Tags: g.tags, Columns: cols, Rows: p.rows, Partial: true})
			mem.release(p.size) // the sink has it now (and accounts what it keeps)
			if err != nil {
				break
			}
		}
		if err != nil {
			break
		}
	}
	if err == nil {
		err = stopErr(r.ctx)
	}
	cancel(err)
	wg.Wait()
	return err
}

// sendGroup computes an aggregate group and sends its rows in batches; each
// batch stays accounted in mem until the emitter has handed it on.
func (r *selectRun) sendGroup(g *group, send func(piece) bool, mem *stmtMem) error {
	if err := stopErr(r.ctx); err != nil {
		return err
	}
	rs, err := r.executeGroup(g)
	if err != nil || rs == nil {
		return err
	}
	if err := mem.hold(rowsSize(rs.Rows)); err != nil {
		return err
	}
	for rows := rs.Rows; len(rows) > 0; {
		n := min(len(rows), rawBatchRows)
		p := piece{rows: rows[:n:n], size: rowsSize(rows[:n])}
		rows = rows[n:]
		if !send(p) {
			mem.release(p.size + rowsSize(rows))
			return stopErr(r.ctx)
		}
	}
	return nil
}

// piece is a batch of one group's rows on its way to the emitter.
type piece struct {
	rows []Row
	size int64 // accounted in the budget until emitted
	err  error
}

// columnsOf is the output columns of the statement: time (or its alias), the
// select list, the extra columns.
func (r *selectRun) columnsOf() []string {
	p := r.plan
	timeCol := "time"
	if p.timeAlias != "" {
		timeCol = p.timeAlias
	}
	cols := append([]string{timeCol}, p.columns[:p.extraAt]...)
	return append(append(cols, p.extraCols...), p.columns[p.extraAt:]...)
}

// Operator: merge/sort of a raw group. A groupStream pulls the row streams of a
// group's series (filter.go), merges them by time in output order (ties in
// series order), drops rows without a selected field, applies OFFSET and LIMIT
// and projects each row; scanGroup hands the rows to the output (stream.go) in
// batches of rawBatchRows.
package query

import (
	"container/heap"
)

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
		rr := r.rowReaderFor(s)
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

func (h *streamHeap) Push(x any) { h.items = append(h.items, x.(streamItem)) }

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
	snap, err := r.openSnapshot(g)
	if err != nil {
		return err
	}
	defer closeSnapshot(g, snap)
	gs, err := r.newGroupStream(g)
	if err != nil {
		return err
	}
	defer gs.close()
	// A group gives at most LIMIT rows: lastpoint's LIMIT 1 over 100 groups
	// allocated 100 batches of 1,024 rows, 10% of its CPU.
	batchRows := rawBatchRows
	if l := r.plan.stmt.Limit; l > 0 {
		batchRows = min(batchRows, l)
	}
	batch := make([]Row, 0, batchRows)
	for {
		row, ok := gs.next()
		if !ok {
			break
		}
		batch = append(batch, row)
		if len(batch) == batchRows {
			if err := emit(batch); err != nil {
				return err
			}
			batch = make([]Row, 0, batchRows)
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

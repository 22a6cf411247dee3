package query

import (
	"context"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
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
	cols := r.columnsOf()
	mem := memOf(r.ctx)
	workers := min(runtime.GOMAXPROCS(0), len(groups))
	r.spare = runtime.GOMAXPROCS(0) / len(groups)
	if workers == 1 {
		return r.streamGroupsInline(groups, cols, mem, emit)
	}
	// A worker's pieces are written after its sendGroup returns, while it
	// builds the next group: no arrays to give back at a known time.
	r.lendRows = false
	ctx, cancel := context.WithCancelCause(r.ctx)
	defer cancel(nil)
	r.ctx = ctx
	queues := make([]chan piece, len(groups))
	for i := range queues {
		queues[i] = make(chan piece, 2)
	}
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

// streamGroupsInline is streamGroups on the caller's goroutine, for one
// group (or one core): a worker goroutine starts with a small stack, and
// growing it through the storage read path was 7.7% of a one-host query's
// CPU (single-groupby-1-1-1; 3.3% at 8462e0f), besides the hand-off through
// a queue and the workers' cancellable context.
func (r *selectRun) streamGroupsInline(groups []*group, cols []string, mem *stmtMem, emit func(*ResultSeries) error) error {
	var emitErr error
	// send hands p to the sink; as with the queue, a piece not taken stays
	// held for the sender to release.
	send := func(g *group, p piece) bool {
		if emitErr = emit(&ResultSeries{Name: g.measurement, Tags: g.tags, Columns: cols, Rows: p.rows, Partial: true}); emitErr != nil {
			return false
		}
		mem.release(p.size) // the sink has it now (and accounts what it keeps)
		return true
	}
	for _, g := range groups {
		var err error
		if r.plan.raw {
			err = r.scanGroup(g, func(rows []Row) error {
				size := rowsSize(rows)
				if err := mem.hold(size); err != nil {
					return err
				}
				if !send(g, piece{rows: rows, size: size}) {
					mem.release(size)
					return emitErr
				}
				return nil
			})
		} else {
			err = r.sendGroup(g, func(p piece) bool { return send(g, p) }, mem)
			// Every piece was written (or none will be): the sink keeps no row.
			r.e.returnRowBuf(g.lent)
			g.lent = nil
		}
		if emitErr != nil {
			return emitErr
		}
		if err != nil {
			return err
		}
	}
	return stopErr(r.ctx)
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
	// Once per run: every group's series holds the same list, read only (a
	// slice per group was 3% of a 100-series cached refresh's CPU).
	r.columnsOnce.Do(func() {
		p := r.plan
		timeCol := "time"
		if p.timeAlias != "" {
			timeCol = p.timeAlias
		}
		cols := append([]string{timeCol}, p.columns[:p.extraAt]...)
		r.columns = slices.Clip(append(append(cols, p.extraCols...), p.columns[p.extraAt:]...))
	})
	return r.columns
}

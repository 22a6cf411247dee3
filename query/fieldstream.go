// Operator: field scan, streamed. A fieldStream pulls one field of one series
// from a cursor a block at a time (or a subquery series' column) and hands its
// points, in scan order, to the row stream (filter.go). It holds one decoded
// block at a time and accounts it on the statement's budget.
package query

import (
	"github.com/strata-db/strata/storage"
)

// fieldStream yields the points of one field of one series in scan order
// (newest first if desc), a block at a time.
type fieldStream struct {
	r    *selectRun
	cur  *storage.Cursor // nil for an in-memory (subquery) series
	col  *storage.Column // the chunk in hand: valid until the next refill
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

func (f *fieldStream) value() any { return cell(f.col, f.at()) }

func (f *fieldStream) advance() { f.i++; f.n++ }

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

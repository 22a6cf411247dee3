package resultcache

import "slices"

// Rendered rows, looked up as runs. The query package stores a group's rows
// as one window each, every row's bytes a slice of the buffer its answer
// rendered them into, joined there by a separator; a dashboard refresh asks
// for 360 windows per series, nearly all of them held side by side.
// LookupRows answers with those runs, not with a copy of every window: the
// copy and the walks over it that told the runs apart again were a third of
// a refresh's CPU (docs/cache.md, "Measured").

// RowsLookup is LookupRows' answer, aligned with the starts it was asked
// for. Reuse one across lookups: its slices are kept.
type RowsLookup struct {
	// Pieces are the rows served, ascending: each the bytes of the rows of
	// consecutive windows held side by side in one buffer, joined by the
	// separator, unless the lookup was asked not to join (then one row each).
	// Each is left open to its buffer's end, so that Adjacent can tell
	// pieces (and rows) side by side: cap one before it leaves the caller.
	Pieces []Piece
	// Unserved are the indexes, ascending, of the windows served no row:
	// not held, gone stale, or held as empty (HeldEmpty, aligned).
	Unserved  []int
	HeldEmpty []bool
	// Hits counts the windows held and valid (empty or not), Rows those of
	// them with a row.
	Hits, Rows int

	n   int     // how many starts
	pos []int32 // the entry's window at each start, or -1
}

// Reset empties r, keeping its slices' memory but none of the cache's bytes.
func (r *RowsLookup) Reset() {
	clear(r.Pieces)
	r.Pieces, r.Unserved, r.HeldEmpty, r.pos = r.Pieces[:0], r.Unserved[:0], r.HeldEmpty[:0], r.pos[:0]
	r.Hits, r.Rows, r.n = 0, 0, 0
}

// Size is how many windows r's memory was last grown for.
func (r *RowsLookup) Size() int { return max(cap(r.pos), cap(r.Unserved)) }

// ForgoRows gives back a lookup the caller will not use (it reads the whole
// range instead): its hits count as misses, and it serves nothing.
func (c *Cache) ForgoRows(lk *RowsLookup) {
	c.hits.Add(-int64(lk.Hits))
	c.misses.Add(int64(lk.Hits))
	n := lk.n
	lk.Reset()
	lk.n = n
	lk.unserveAll(n)
}

// Piece is the rows of windows First to Last (window starts, inclusive) the
// cache served as one slice.
type Piece struct {
	First, Last int64
	Rows        int
	Bytes       []byte
}

// entryView is an entry's windows seen at a lookup's starts, for
// invalidateEach: pos gives the entry's window at each start (or -1); with
// pos nil, starts[i] is windows[first+i] for i < count and not held beyond
// (lookupRowsIndexed's alignment, never written out).
type entryView struct {
	e            *entry
	starts       []int64
	pos          []int32
	first, count int
}

func (v entryView) len() int          { return len(v.starts) }
func (v entryView) start(i int) int64 { return v.starts[i] }
func (v entryView) held(i int) (uint64, bool) {
	if v.pos == nil {
		if i < v.count {
			return v.e.windows[v.first+i].Seq, true
		}
		return 0, false
	}
	if v.pos[i] < 0 {
		return 0, false
	}
	return v.e.windows[v.pos[i]].Seq, true
}

// LookupRows is Lookup for windows whose values are rendered rows: it fills
// out with the valid ones of key among starts (ascending, consecutive
// windows of one geometry), drops the stale ones and restamps as Lookup does,
// and, with join, hands over each run of rows held side by side (sep
// between them) as one piece. It counts hits, misses and invalidations as
// Lookup does. The pieces' bytes are the cache's, never written again: the
// caller holds them as long as it likes and must not modify them.
func (c *Cache) LookupRows(out *RowsLookup, key string, sc Scope, starts []int64, end func(int64) int64, sep []byte, join bool) {
	out.Reset()
	out.n = len(starts)
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.m[key]
	if !ok {
		out.unserveAll(len(starts))
		c.misses.Add(int64(len(starts)))
		return
	}
	c.lru.MoveToFront(el)
	e := el.Value.(*entry)
	if join && len(starts) > 0 && c.lookupRowsIndexed(out, e, sc, starts, end, sep) {
		c.indexedLookups.Add(1)
		c.hits.Add(int64(out.Hits))
		c.misses.Add(int64(len(starts) - out.Hits))
		return
	}
	pos, minSeq, held := align(out.pos, e.windows, starts)
	out.pos = pos
	c.weigh(e, sc, starts, pos, minSeq, held, end)
	out.collect(e.windows, sep, join)
	c.hits.Add(int64(out.Hits))
	c.misses.Add(int64(len(starts) - out.Hits))
}

// align is, for each of starts, the index in windows (ascending) of the
// window starting there, or -1, in pos's memory, with the least stamp of
// those held and how many are.
func align(pos []int32, windows []Window, starts []int64) (_ []int32, minSeq uint64, held int) {
	pos, minSeq = pos[:0], ^uint64(0)
	if len(starts) == 0 {
		return pos, minSeq, 0
	}
	lo, hi := 0, len(windows)
	for lo < hi { // the first window at or after starts[0]
		m := int(uint(lo+hi) >> 1)
		if windows[m].Start < starts[0] {
			lo = m + 1
		} else {
			hi = m
		}
	}
	j := lo
	// The starts the entry holds side by side first (a refresh's: all but
	// the newest few), one compare each; then a merge walk for the rest.
	n := min(len(starts), len(windows)-j)
	run := windows[j : j+n]
	i := 0
	for ; i < n && run[i].Start == starts[i]; i++ {
		minSeq = min(minSeq, run[i].Seq)
	}
	pos = slices.Grow(pos, len(starts))
	for k := range i {
		pos = append(pos, int32(j+k))
	}
	held = i
	j += i
	for _, ws := range starts[i:] {
		for j < len(windows) && windows[j].Start < ws {
			j++
		}
		if j < len(windows) && windows[j].Start == ws {
			pos = append(pos, int32(j))
			minSeq = min(minSeq, windows[j].Seq)
			held++
			j++
		} else {
			pos = append(pos, -1)
		}
	}
	return pos, minSeq, held
}

// collect fills Pieces, Unserved, HeldEmpty, Hits and Rows from pos.
func (out *RowsLookup) collect(windows []Window, sep []byte, join bool) {
	// The piece being extended, in locals until it ends: its buffer from
	// its first row on, to the buffer's end, and its length (-1: none).
	var cur Piece
	var full []byte
	size := -1
	flush := func() {
		if size >= 0 {
			cur.Bytes = full[:size]
			out.Pieces = append(out.Pieces, cur)
			size = -1
		}
	}
	hits, rows := 0, 0
	for i, p := range out.pos {
		if p < 0 {
			flush()
			out.Unserved, out.HeldEmpty = append(out.Unserved, i), append(out.HeldEmpty, false)
			continue
		}
		w := &windows[p]
		v := w.Value
		hits++
		if v == nil {
			flush()
			out.Unserved, out.HeldEmpty = append(out.Unserved, i), append(out.HeldEmpty, true)
			continue
		}
		rows++
		// A run continues only over consecutive windows (one not served
		// may get a fresh row, which goes between), and only onto the row
		// rendered right after the last one, sep between (Adjacent's test).
		if size >= 0 && join {
			if off := size + len(sep); off+len(v) <= len(full) && &full[off] == &v[0] {
				size = off + len(v)
				cur.Last = w.Start
				cur.Rows++
				continue
			}
		}
		flush()
		cur = Piece{First: w.Start, Last: w.Start, Rows: 1}
		full, size = v[:cap(v)], len(v)
	}
	flush()
	out.Hits, out.Rows = hits, rows
}

func (out *RowsLookup) unserveAll(n int) {
	for i := range n {
		out.Unserved, out.HeldEmpty = append(out.Unserved, i), append(out.HeldEmpty, false)
	}
}

// drop removes the windows of e at positions (ascending). c.mu is held.
func (c *Cache) drop(e *entry, positions []int32) {
	kept, k := e.windows[:positions[0]], 0
	for j := int(positions[0]); j < len(e.windows); j++ {
		if k < len(positions) && int(positions[k]) == j {
			c.account(e, e.windows[j], -1)
			k++
			continue
		}
		kept = append(kept, e.windows[j])
	}
	clear(e.windows[len(kept):])
	e.windows = kept
	e.dirty()
}

// Adjacent tells whether b follows a and then sep in a's buffer, and returns
// the slice of that buffer from a's start to b's end if so. Both must be
// slices left open to their buffer's end (as the query package stores rows):
// b's first byte having the address of a byte of a's capacity proves they
// share one allocation, so the longer slice is as safe as either.
func Adjacent(a, b, sep []byte) ([]byte, bool) {
	full := a[:cap(a)]
	off := len(a) + len(sep)
	if len(b) == 0 || off+len(b) > len(full) || &full[off] != &b[0] {
		return nil, false
	}
	return full[:off+len(b)], true
}

// Rejoin copies the bytes of pieces (from a LookupRows of key with sep)
// side by side, sep between, into one buffer, points the windows of key
// that hold them at the copy, and the pieces too (each left open to the
// buffer's end, so they are Adjacent): the same bytes under the same stamps,
// so nothing about staleness changes, and the next lookups find one run. A
// refresh renders its new windows in a buffer of its own, so a panel open
// for hours held a piece per window. It reports false, changing nothing,
// when the entry no longer holds exactly the pieces' rows where they are (a
// lookup or store changed it since).
func (c *Cache) Rejoin(key string, pieces []Piece, sep []byte) bool {
	if len(pieces) == 0 {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.m[key]
	if !ok {
		return false
	}
	e := el.Value.(*entry)
	// Check first, then copy and repoint: every row of every piece must be
	// a window of the entry, found where the piece says.
	type move struct{ pos, off int }
	var moves []move
	j, base := 0, 0
	for _, p := range pieces {
		for j < len(e.windows) && e.windows[j].Start < p.First {
			j++
		}
		off := 0
		for ; j < len(e.windows) && e.windows[j].Start <= p.Last; j++ {
			v := e.windows[j].Value
			if v == nil {
				continue
			}
			if off > 0 {
				off += len(sep)
			}
			if off+len(v) > len(p.Bytes) || &p.Bytes[off] != &v[0] {
				return false
			}
			moves = append(moves, move{j, base + off})
			off += len(v)
		}
		if off != len(p.Bytes) {
			return false
		}
		base += len(p.Bytes) + len(sep)
	}
	buf := make([]byte, 0, base)
	bounds := make([]int, len(pieces))
	for i, p := range pieces {
		if i > 0 {
			buf = append(buf, sep...)
		}
		bounds[i] = len(buf)
		buf = append(buf, p.Bytes...)
	}
	for _, m := range moves {
		n := len(e.windows[m.pos].Value)
		e.windows[m.pos].Value = buf[m.off : m.off+n] // open to buf's end, as stored rows are
	}
	for i := range pieces {
		pieces[i].Bytes = buf[bounds[i] : bounds[i]+len(pieces[i].Bytes)]
	}
	e.dirty()
	return true
}

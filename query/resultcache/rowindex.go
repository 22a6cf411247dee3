package resultcache

import (
	"bytes"
	"slices"
	"sort"
)

// The row index: what LookupRows needs of an entry, kept beside its windows
// so that a refresh's lookup does not walk them. A dashboard refresh looks up
// an entry's newest windows, every one of them held and valid: walking its
// 360 windows (48 bytes each, 17 KB per series, 1.7 MB per 100-series
// refresh, more than the rows' own bytes) to find their least stamp and the
// runs of rows side by side was a fifth of the server's work on a cached
// refresh (BenchmarkDashboardRefresh's profile) and, with the caches cold
// after an idle pause, most of the lookups' 0.55-0.77 ms.

// rowIndex is derived from an entry's windows, for one separator: the least
// stamp of every suffix of the windows, and the windows cut into segments
// that LookupRows serves as pieces. It is dropped whenever the windows
// change other than by an append it can follow (entry.dirty), and made
// again by the next LookupRows.
type rowIndex struct {
	sep []byte
	// sufMin[j] is the least Seq of windows[j:].
	sufMin []uint64
	// segs cover the windows in order: each a run of rows side by side in
	// one buffer, sep between (Adjacent), or a single empty window.
	segs []rowSeg
}

// rowSeg is windows[lo..hi] of an entry.
type rowSeg struct {
	lo, hi int32
	empty  bool // one window held as empty (nil Value); lo == hi
}

// rowIndexOverhead is what the index costs per window: its sufMin entry
// (segments are few: a refresh's rows rejoin past maxJoinedPieces).
const rowIndexOverhead = 8

// rowIndexFor is e's index for sep, made if e has none for it. c.mu is held.
func (e *entry) rowIndexFor(sep []byte) *rowIndex {
	if ix := e.rows; ix != nil && bytes.Equal(ix.sep, sep) {
		return ix
	}
	ix := &rowIndex{sep: bytes.Clone(sep), sufMin: make([]uint64, len(e.windows))}
	m := ^uint64(0)
	for j := len(e.windows) - 1; j >= 0; j-- {
		m = min(m, e.windows[j].Seq)
		ix.sufMin[j] = m
	}
	for j := range e.windows {
		ix.extend(e.windows, j)
	}
	e.rows = ix
	return ix
}

// extend adds windows[j], the one after the last the index covers, to its
// segments.
func (ix *rowIndex) extend(windows []Window, j int) {
	v := windows[j].Value
	if v == nil {
		ix.segs = append(ix.segs, rowSeg{lo: int32(j), hi: int32(j), empty: true})
		return
	}
	if n := len(ix.segs); n > 0 && !ix.segs[n-1].empty && int(ix.segs[n-1].hi) == j-1 {
		if _, ok := Adjacent(windows[j-1].Value, v, ix.sep); ok {
			ix.segs[n-1].hi = int32(j)
			return
		}
	}
	ix.segs = append(ix.segs, rowSeg{lo: int32(j), hi: int32(j)})
}

// appended tells e's index that w was appended to e.windows (Store's append
// in place): the index follows when w's stamp is no less than the last
// window's, which leaves every suffix's least stamp as it was, and is
// dropped otherwise. c.mu is held.
func (e *entry) appended(w Window) {
	ix := e.rows
	if ix == nil {
		return
	}
	j := len(e.windows) - 1
	if j > 0 && w.Seq < e.windows[j-1].Seq {
		e.rows = nil
		return
	}
	ix.sufMin = append(ix.sufMin, w.Seq)
	ix.extend(e.windows, j)
}

// dirty drops e's index: its windows changed other than by an append.
func (e *entry) dirty() { e.rows = nil }

// tailStale is how many of a lookup's newest held windows may be stale for
// the row index to serve it: the window holding now is cached too, so each
// live write makes it stale, and every refresh after one found it so (a
// live panel's refreshes all fell back to the walk, and the walk's drop
// then made the index again); two, for the turn of a window.
const tailStale = 2

// lookupRowsIndexed is LookupRows' fast path, taken when it applies and
// reported false (having changed nothing) when it does not: the entry's
// windows from starts[0] on are exactly the first of starts, weighing them
// restamps none (the general path does that) and finds stale at most the
// newest tailStale of them, all stale from the first on. Those are cut off
// the entry's end, as the general path would drop them; the pieces come
// from the index's segments and the least stamp from its suffix minima,
// without walking the windows. c.mu is held.
func (c *Cache) lookupRowsIndexed(out *RowsLookup, e *entry, sc Scope, starts []int64, end func(int64) int64, sep []byte) bool {
	n := len(e.windows)
	k := sort.Search(n, func(j int) bool { return e.windows[j].Start >= starts[0] })
	m := n - k
	// Every window of a key lies on its statement's grid (the geometry is
	// part of the key) and starts are consecutive windows of it, so m
	// windows from starts[0] to starts[m-1] are exactly starts[:m].
	if m == 0 || m > len(starts) || e.windows[k].Start != starts[0] || e.windows[n-1].Start != starts[m-1] {
		return false
	}
	ix := e.rowIndexFor(sep)
	minSeq := ix.sufMin[k]
	// The stale ones, by their distance from the newest held window; an
	// older one makes the walk do the lookup.
	var tail [tailStale]bool
	older := false
	view := entryView{e: e, starts: starts, first: k, count: m}
	verified, examined := c.gens.invalidateEach(sc, &view, minSeq, end, func(i int) {
		if d := m - 1 - i; d < tailStale {
			tail[d] = true
			return
		}
		older = true
		view.count = 0 // none held from here on: the walk weighs them again
	})
	if older || (examined >= restampAfter && verified > minSeq) {
		return false
	}
	if cut := staleTail(tail[:]); cut > 0 {
		if slices.Contains(tail[:cut], false) {
			return false // a valid window after a stale one: the walk keeps it
		}
		c.cutTail(e, n-cut)
		c.invalidations.Add(int64(cut))
		n, m = n-cut, m-cut
	}
	s := sort.Search(len(ix.segs), func(i int) bool { return int(ix.segs[i].hi) >= k })
	rows := 0
	for _, sg := range ix.segs[s:] {
		lo, hi := max(int(sg.lo), k), int(sg.hi)
		if sg.empty {
			out.Unserved, out.HeldEmpty = append(out.Unserved, lo-k), append(out.HeldEmpty, true)
			continue
		}
		// Both rows are open to their buffer's end: the capacities' difference
		// is the second's offset from the first.
		first, last := e.windows[lo].Value, e.windows[hi].Value
		out.Pieces = append(out.Pieces, Piece{
			First: e.windows[lo].Start, Last: e.windows[hi].Start, Rows: hi - lo + 1,
			Bytes: first[:cap(first)-cap(last)+len(last)],
		})
		rows += hi - lo + 1
	}
	for i := m; i < len(starts); i++ {
		out.Unserved, out.HeldEmpty = append(out.Unserved, i), append(out.HeldEmpty, false)
	}
	out.Hits, out.Rows = m, rows
	return true
}

// staleTail is how many of the newest windows are stale, from a lookup's
// marks by distance from the newest (tail[0] the newest): the stale ones
// up to the oldest marked.
func staleTail(tail []bool) int {
	cut := 0
	for d, stale := range tail {
		if stale {
			cut = d + 1
		}
	}
	return cut
}

// cutTail drops e's windows from at on (stale ones at its end) and keeps its
// row index: the segments are cut at the same place, and the suffix minima
// made again from the end back to where they no longer change (at once
// when the windows cut were stamped no earlier than the one before them, a
// live panel's: its window at now is the newest stored). c.mu is held.
func (c *Cache) cutTail(e *entry, at int) {
	for _, w := range e.windows[at:] {
		c.account(e, w, -1)
	}
	clear(e.windows[at:])
	e.windows = e.windows[:at]
	ix := e.rows
	ix.sufMin = ix.sufMin[:at]
	m := ^uint64(0)
	for j := at - 1; j >= 0; j-- {
		// The old minimum at j took in the windows cut; once it equals the
		// new one, every earlier one does too.
		if m = min(m, e.windows[j].Seq); ix.sufMin[j] == m {
			break
		}
		ix.sufMin[j] = m
	}
	for len(ix.segs) > 0 && int(ix.segs[len(ix.segs)-1].lo) >= at {
		ix.segs = ix.segs[:len(ix.segs)-1]
	}
	if n := len(ix.segs); n > 0 && int(ix.segs[n-1].hi) >= at {
		ix.segs[n-1].hi = int32(at - 1)
	}
}

// Operator: the result cache in front of a whole aggregate group, rendered.
// A dashboard's GROUP BY time aggregate without transformations prints one
// row per window that depends on that window's points alone; such a row,
// once rendered by the statement's RowEncoder, is kept (query/resultcache,
// stamped like the partial states of cached.go) and served as bytes: a
// refresh reads and finishes only the windows that are new or were written
// since, and copies the rest. This is what makes a hit cheap: the states of
// cached.go still pay every window's Final, fill, row and rendering, which is
// most of a 36,000-row refresh (docs/cache.md, "Measured").
package query

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/strata-db/strata/query/funcs"
	"github.com/strata-db/strata/query/influxql"
	"github.com/strata-db/strata/query/resultcache"
)

// rowsCacheable tells whether the run's rows may come from the cache: every
// printed row is one window's, a function of that window's points only. So:
// GROUP BY time with a lower bound, every call on partial states printing at
// most a point per window, no transformation (derivative and friends read the
// windows before), fill null or none (previous and linear read neighbours, a
// fill number takes the type of other windows), no field condition, no
// subquery; and a sink that prints encoded rows.
func (r *selectRun) rowsCacheable() bool {
	p := r.plan
	if r.e.cache == nil || r.rowEnc == nil || p.interval <= 0 || !p.tr.HasMin() || r.implicitStart ||
		r.keepFrom != nil || p.fieldCond != nil || len(p.src.subqueries) > 0 || len(p.calls) == 0 ||
		(p.fill != influxql.NullFill && p.fill != influxql.NoFill) {
		return false
	}
	for _, c := range p.calls {
		if (c.path != pathHeaders && c.path != pathPartial) || c.transform != "" || c.fn.MultiRow ||
			c.name == "integral" || len(extraColumns(c)) > 0 {
			return false
		}
	}
	return true
}

// rowsKey identifies what g's rows are a function of, beyond the data: the
// select list as written (calls, math, aux fields), each call's path, the
// windows' geometry, fill, the encoder's format and the group's series.
func (r *selectRun) rowsKey(g *group) (string, resultcache.Scope, bool) {
	ids, sc, ok := groupIdentity(g)
	if !ok {
		return "", sc, false
	}
	return r.sharedCacheRun().rowKey + ids, sc, true
}

// rowsKeyPrefix is rowsKey without the group's series.
func (r *selectRun) rowsKeyPrefix() string {
	p := r.plan
	var k strings.Builder
	k.WriteString("rows-v1|")
	for _, ex := range p.exprs {
		k.WriteString(ex.String())
		k.WriteByte('|')
	}
	for _, c := range p.calls {
		fmt.Fprintf(&k, "%d|", c.path)
	}
	fmt.Fprintf(&k, "%s|%d|%s|", r.windowGeometry(), p.fill, r.rowEnc.RowFormat())
	return k.String()
}

// cachedRows is aggregateRows with the cache: the rows of windows wholly
// inside the range come from the cache where still valid, the rest of the
// range is read and finished as usual, and the rows computed here for
// windows every call has a point in are rendered and stored. ok is false
// when the group cannot use the cache (then aggregateRows runs).
func (r *selectRun) cachedRows(g *group) (rows []Row, ok bool, err error) {
	if !r.rowsCacheable() {
		return nil, false, nil
	}
	key, sc, ok := r.rowsKey(g)
	if !ok {
		return nil, false, nil
	}
	cr := r.sharedCacheRun()
	lo, hi, starts := cr.lo, cr.hi, cr.starts
	if len(starts) == 0 {
		return nil, false, nil
	}
	if !r.e.cache.Admit(key, starts[0], starts[len(starts)-1]) {
		r.stats.cacheUnadmitted.Add(1)
		return nil, false, nil // its first sight: aggregateRows, as without the cache
	}
	p := r.plan
	sep, join := r.rowEnc.RowSeparator()
	join = join && p.ascending && p.stmt.Limit == 0 && p.stmt.Offset == 0
	if !join {
		sep = nil
	}
	lk := r.e.lookups.get()
	defer r.e.lookups.put(lk)
	r.e.cache.LookupRows(lk, key, sc, starts, r.nextWindow, sep, join)
	runs := missingSpans(starts, lk, lo, hi, r.nextWindow)
	if len(runs) > maxCacheRuns {
		// Scattered: the whole range is read once instead (lookupRuns').
		r.e.cache.ForgoRows(lk)
		runs = []timeSpan{{lo, hi}}
	}

	// Each call over the windows left, as aggregateRows computes it, in the
	// same dense states: the map-based ones made a miss of TSBS's
	// single-groupby-5-1-12 (720 windows, 5 calls) cost more than the fold.
	results := make([]*callResult, 0, len(p.calls))
	defer func() { r.release(results) }() // the rows hold copies of the values
	for _, c := range p.calls {
		w := r.newGroupStates(c)
		w.hold = func(n int64) error { return r.holdGroup(g, n) }
		if err := r.accumulateRuns(g, c, w, runs, lk.Hits > 0); err != nil {
			if errors.Is(err, errMixedTypes) {
				return nil, false, nil // the window function answers it, uncached
			}
			return nil, true, err
		}
		res := w.result()
		res.elsewhere = lk.Rows > 0
		results = append(results, res)
	}
	for range g.series {
		r.stats.series.Add(1)
	}
	r.stats.windowsCached.Add(int64(lk.Hits * len(p.calls)))
	r.stats.windowsCacheable.Add(int64(len(starts) * len(p.calls)))

	fresh, err := r.finishMissing(g, results, starts, lk)
	if err != nil {
		return nil, true, err
	}
	joined, open := r.storeRows(key, starts, lk, fresh, results, sep)
	switch {
	case !join:
		return mergeCachedRows(lk.Pieces, fresh), true, nil
	case lk.Rows == 0 && len(fresh) > 0:
		return []Row{{Time: fresh[0].Time, Encoded: joined, EncodedRows: len(fresh)}}, true, nil
	}
	rows = joinRows(lk.Pieces, fresh, open, sep)
	if len(rows) > maxJoinedPieces && r.e.cache.Rejoin(key, lk.Pieces, sep) {
		r.stats.rowsRejoined.Add(1)
		rows = joinRows(lk.Pieces, fresh, open, sep)
	}
	return rows, true, nil
}

// missingSpans is [lo, hi] without the windows lk holds (with a row or
// empty), as ascending spans: lk.Unserved lists the others, so this visits
// only them, not every window (lookupRuns' missingRuns walked all 360 of a
// refresh's). starts are consecutive windows: a window's end is the next
// one's start, and next is called only for the last.
func missingSpans(starts []int64, lk *resultcache.RowsLookup, lo, hi int64, next func(int64) int64) []timeSpan {
	if lk.Hits == 0 {
		return []timeSpan{{lo, hi}}
	}
	end := func(i int) int64 {
		if i+1 < len(starts) {
			return starts[i+1]
		}
		return next(starts[i])
	}
	var runs []timeSpan
	add := func(min, max int64) {
		if n := len(runs); n > 0 && runs[n-1].max+1 >= min {
			runs[n-1].max = max
			return
		}
		runs = append(runs, timeSpan{min, max})
	}
	if lo < starts[0] {
		add(lo, starts[0]-1)
	}
	for k, i := range lk.Unserved {
		if !lk.HeldEmpty[k] {
			add(starts[i], end(i)-1)
		}
	}
	if after := end(len(starts) - 1); after <= hi {
		add(after, hi)
	}
	return runs
}

// maxJoinedPieces bounds the pieces a group's cached rows are handed over
// in. Each refresh renders its new windows in a buffer of its own, so a
// panel open for hours had a piece per window (360 per series, 36,000
// refs for the writer per refresh of 100 series); past this many the cached
// rows are copied side by side once (resultcache.Cache.Rejoin), about 14 KB
// per series, every 16 or so minutes of a one-minute panel.
const maxJoinedPieces = 16

// finishMissing fills and projects the windows the cache did not serve, as
// aggregateRows does for all of them. lk is the lookup of starts, the run's
// consecutive cacheable windows.
func (r *selectRun) finishMissing(g *group, results []*callResult, starts []int64, lk *resultcache.RowsLookup) ([]Row, error) {
	p := r.plan
	some := false
	for _, res := range results {
		some = some || res.windowCount() > 0
	}
	if !some && p.fill == influxql.NoFill {
		return nil, nil
	}
	if !some && lk.Rows == 0 {
		return nil, nil // a group without points prints nothing, whatever the fill
	}
	all, err := r.filledStarts(results)
	if err != nil {
		return nil, err
	}
	printed := unservedStarts(all, starts, lk.Unserved, lk.Rows)
	if err := r.holdGroup(g, int64(len(all))*startBytes); err != nil {
		return nil, err
	}
	return r.finishRows(g, results, printed, auxRefs(p.exprs))
}

// filledStarts is resultStarts(results) for a group of this run, from the
// list the run makes once where it can: with fill, a group with points
// prints every window from the range's first to the later of its last point's
// and now's, the same list for every group unless a point lies beyond now.
// The list is shared: read only.
func (r *selectRun) filledStarts(results []*callResult) ([]int64, error) {
	if r.plan.fill == influxql.NoFill {
		starts, _, err := r.resultStarts(results)
		return starts, err
	}
	cr := r.sharedCacheRun()
	cr.filledOnce.Do(func() { cr.filled, cr.filledErr = r.windowStarts(nil) })
	if cr.filledErr != nil {
		return nil, cr.filledErr
	}
	last := int64(math.MinInt64)
	if n := len(cr.filled); n > 0 {
		last = cr.filled[n-1]
	}
	beyond := false
	for _, res := range results {
		res.eachWindow(func(ws int64, _ []funcs.Point) { beyond = beyond || ws > last })
	}
	if beyond { // a point beyond now
		starts, _, err := r.resultStarts(results)
		return starts, err
	}
	return cr.filled, nil
}

// unservedStarts is all (ascending window starts) without the windows a
// lookup of starts (consecutive windows) serves a row of: rows of them
// were served, unserved indexes the others. A window of all from starts'
// first to its last is one of them, so only the unserved ones of those are
// printed, found by binary search, not by walking every window (a third of
// a refresh's walks over its 360).
func unservedStarts(all, starts []int64, unserved []int, rows int) []int64 {
	if rows == 0 || len(starts) == 0 {
		return slices.Clone(all)
	}
	first, last := starts[0], starts[len(starts)-1]
	lo, _ := slices.BinarySearch(all, first)
	hi, _ := slices.BinarySearch(all, last+1)
	out := make([]int64, 0, len(all)-(hi-lo)+len(unserved))
	out = append(out, all[:lo]...)
	for _, i := range unserved {
		if _, ok := slices.BinarySearch(all[lo:hi], starts[i]); ok {
			out = append(out, starts[i])
		}
	}
	return append(out, all[hi:]...)
}

// storeRows renders every row computed here, once, into one buffer, joined
// by sep (nil when the sink takes rows one by one), and sets their Encoded;
// it stores, stamped with the run's generation, the rows of cacheable windows
// in which every call has its point, and marks those no call has a point in
// as empty (nil Value): their row, if fill prints one, is fill's, which looks
// beyond the window, so it is made afresh; but their data need not be read
// again. A window only some calls have points in is not kept. It returns the
// buffer: on a miss (nothing came from the cache) it is the group's answer as
// is, so a miss renders its rows no more often than the uncached path does;
// and each row's bytes left open to the buffer's end (joinRows).
func (r *selectRun) storeRows(key string, starts []int64, lk *resultcache.RowsLookup, fresh []Row, results []*callResult, sep []byte) (buf []byte, open [][]byte) {
	loc := r.plan.stmt.Location
	bounds := make([]int, 0, 2*len(fresh)) // each fresh row's [from, to) in buf
	for i := range fresh {
		if i > 0 {
			buf = append(buf, sep...)
		}
		from := len(buf)
		buf = r.rowEnc.AppendRow(buf, &fresh[i], loc)
		bounds = append(bounds, from, len(buf))
		if i == 0 && len(fresh) > 1 {
			// Room for the rest at the first row's size and an eighth more
			// (rows of one statement differ by a few digits): growing by
			// doubling allocated twice the answer per miss.
			buf = slices.Grow(buf, (len(buf)+len(sep))*(len(fresh)-1)*9/8)
		}
	}
	// Each row's bytes as a Row are capped at their end, so that nothing
	// appended to one can reach the next; the cache's copy of the slice stays
	// open to the buffer's end, for joinRows to find runs of adjacent rows.
	// Nothing appends to the cache's bytes.
	open = make([][]byte, len(fresh))
	for i := range fresh {
		from, to := bounds[2*i], bounds[2*i+1]
		fresh[i].Encoded, open[i] = buf[from:to:to], buf[from:to]
	}
	var keep []resultcache.Window
	j := 0
	for k, i := range lk.Unserved {
		if lk.HeldEmpty[k] {
			continue // held empty: kept as it is
		}
		ws := starts[i]
		for j < len(fresh) && fresh[j].Time < ws {
			j++
		}
		if noCallHas(results, ws) {
			keep = append(keep, resultcache.Window{Start: ws, Seq: r.cacheSeq})
			continue
		}
		if j == len(fresh) || fresh[j].Time != ws || !everyCallHas(results, ws) {
			continue
		}
		keep = append(keep, resultcache.Window{Start: ws, Seq: r.cacheSeq, Value: open[j]})
	}
	r.e.cache.Store(key, keep)
	return buf, open
}

// joinRows is the group's rows in time order, the cache's pieces and the
// ones computed here (rendered by storeRows; open is their bytes as storeRows
// left them, aligned with fresh), in as few Rows as the bytes allow. Rows that
// one answer rendered side by side stay side by side in its buffer (storeRows
// joins them by sep and the cache keeps slices of it), so a run of them is
// handed over as one slice of that buffer, not copied, and the sink holds it
// by reference: a dashboard panel's refresh is about one slice per series
// instead of 36,000 rows copied into a 1.4 MB answer (docs/cache.md,
// "Measured").
func joinRows(pieces []resultcache.Piece, fresh []Row, open [][]byte, sep []byte) []Row {
	rows := make([]Row, 0, 4)
	var run []byte
	runTime, runRows := int64(0), 0
	for i, j := 0, 0; i < len(pieces) || j < len(fresh); {
		// The next rows in time order: a piece of the cache's, or a fresh row.
		var t int64
		var enc []byte
		n := 1
		if i < len(pieces) && (j == len(fresh) || pieces[i].First <= fresh[j].Time) {
			t, enc, n = pieces[i].First, pieces[i].Bytes, pieces[i].Rows
			i++
		} else {
			t, enc = fresh[j].Time, open[j]
			j++
		}
		if runRows > 0 {
			if longer, ok := resultcache.Adjacent(run, enc, sep); ok {
				run, runRows = longer, runRows+n
				continue
			}
			// Capped, so that a sink appending to it cannot reach past it.
			rows = append(rows, Row{Time: runTime, Encoded: run[:len(run):len(run)], EncodedRows: runRows})
		}
		run, runTime, runRows = enc, t, n
	}
	if runRows > 0 {
		rows = append(rows, Row{Time: runTime, Encoded: run[:len(run):len(run)], EncodedRows: runRows})
	}
	return rows
}

func noCallHas(results []*callResult, ws int64) bool {
	for _, res := range results {
		if len(res.points(ws)) != 0 {
			return false
		}
	}
	return true
}

func everyCallHas(results []*callResult, ws int64) bool {
	for _, res := range results {
		if len(res.points(ws)) != 1 {
			return false
		}
	}
	return true
}

// mergeCachedRows is the group's rows in time order, one per window: the
// cache's (a lookup without join has a piece per row), encoded, and the
// ones computed here.
func mergeCachedRows(pieces []resultcache.Piece, fresh []Row) []Row {
	rows := make([]Row, 0, len(pieces)+len(fresh))
	j := 0
	for _, pc := range pieces {
		for j < len(fresh) && fresh[j].Time < pc.First {
			rows = append(rows, fresh[j])
			j++
		}
		rows = append(rows, Row{Time: pc.First, Encoded: pc.Bytes[:len(pc.Bytes):len(pc.Bytes)]})
	}
	return append(rows, fresh[j:]...)
}

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
	scratch := r.e.lookups.get()
	defer r.e.lookups.put(scratch)
	found, runs := r.lookupRuns(scratch.w, key, sc, starts, lo, hi)
	scratch.w = found
	// hits: windows found; rendered: those of them with a row; unserved:
	// the indexes of the others (a refresh's: the window at now, written
	// since), which the later steps visit instead of walking every window.
	hits, rendered := 0, 0
	unserved := scratch.unserved[:0]
	for i := range found {
		switch w := &found[i]; {
		case w.Found && w.Value != nil:
			hits++
			rendered++
		case w.Found:
			hits++
			unserved = append(unserved, i)
		default:
			unserved = append(unserved, i)
		}
	}
	scratch.unserved = unserved

	// Each call over the windows left, as aggregateRows computes it, in the
	// same dense states: the map-based ones made a miss of TSBS's
	// single-groupby-5-1-12 (720 windows, 5 calls) cost more than the fold.
	results := make([]*callResult, 0, len(p.calls))
	defer func() { r.release(results) }() // the rows hold copies of the values
	for _, c := range p.calls {
		w := r.newGroupStates(c)
		w.hold = func(n int64) error { return r.holdGroup(g, n) }
		if err := r.accumulateRuns(g, c, w, runs, hits > 0); err != nil {
			if errors.Is(err, errMixedTypes) {
				return nil, false, nil // the window function answers it, uncached
			}
			return nil, true, err
		}
		res := w.result()
		res.elsewhere = rendered > 0
		results = append(results, res)
	}
	for range g.series {
		r.stats.series.Add(1)
	}
	r.stats.windowsCached.Add(int64(hits * len(p.calls)))
	r.stats.windowsCacheable.Add(int64(len(starts) * len(p.calls)))

	fresh, err := r.finishMissing(g, results, found, unserved, rendered)
	if err != nil {
		return nil, true, err
	}
	sep, join := r.rowEnc.RowSeparator()
	join = join && p.ascending && p.stmt.Limit == 0 && p.stmt.Offset == 0
	if !join {
		sep = nil
	}
	joined, open := r.storeRows(key, found, unserved, fresh, results, sep)
	switch {
	case !join:
		return mergeCachedRows(found, fresh), true, nil
	case rendered == 0 && len(fresh) > 0:
		return []Row{{Time: fresh[0].Time, Encoded: joined, EncodedRows: len(fresh)}}, true, nil
	}
	rows = joinRows(found, fresh, open, sep)
	if len(rows) > maxJoinedPieces && r.rejoin(key, found, sep) {
		rows = joinRows(found, fresh, open, sep)
	}
	return rows, true, nil
}

// maxJoinedPieces bounds the pieces a group's cached rows are handed over
// in. Each refresh renders its new windows in a buffer of its own, so a
// panel open for hours had a piece per window (360 per series, 36,000
// refs for the writer per refresh of 100 series); past this many the cached
// rows are copied side by side once (rejoin), about 14 KB per series,
// every 16 or so minutes of a one-minute panel.
const maxJoinedPieces = 16

// rejoin copies the rows found serves side by side into one buffer, as
// storeRows lays them out, points found's values at them and stores them
// again under their own stamps: the bytes are the same, and a stamp is
// checked at every lookup, so a window gone stale meanwhile is still found
// stale. Rows rendered by this refresh stay in its own buffer until the
// next refresh finds them cached and joins them too. It reports whether it
// did.
func (r *selectRun) rejoin(key string, found []resultcache.Window, sep []byte) bool {
	size, n := 0, 0
	for _, w := range found {
		if w.Found && w.Value != nil {
			size += len(w.Value) + len(sep)
			n++
		}
	}
	if n == 0 {
		return false
	}
	buf := make([]byte, 0, size)
	bounds := make([]int, 0, 2*n)
	for _, w := range found {
		if w.Found && w.Value != nil {
			if len(buf) > 0 {
				buf = append(buf, sep...)
			}
			bounds = append(bounds, len(buf))
			buf = append(buf, w.Value...)
			bounds = append(bounds, len(buf))
		}
	}
	keep := make([]resultcache.Window, 0, n)
	k := 0
	for i := range found {
		if w := &found[i]; w.Found && w.Value != nil {
			w.Value = buf[bounds[2*k]:bounds[2*k+1]] // open to buf's end, as storeRows leaves rows
			keep = append(keep, resultcache.Window{Start: w.Start, Seq: w.Seq, Value: w.Value})
			k++
		}
	}
	r.e.cache.Store(key, keep)
	r.stats.rowsRejoined.Add(1)
	return true
}

// finishMissing fills and projects the windows the cache did not serve, as
// aggregateRows does for all of them. found is the lookup of the run's
// consecutive cacheable windows, unserved the indexes of those without a
// row from it (ascending), hits how many have one.
func (r *selectRun) finishMissing(g *group, results []*callResult, found []resultcache.Window, unserved []int, hits int) ([]Row, error) {
	p := r.plan
	some := false
	for _, res := range results {
		some = some || res.windowCount() > 0
	}
	if !some && p.fill == influxql.NoFill {
		return nil, nil
	}
	if !some && hits == 0 {
		return nil, nil // a group without points prints nothing, whatever the fill
	}
	all, err := r.filledStarts(results)
	if err != nil {
		return nil, err
	}
	starts := unservedStarts(all, found, unserved, hits)
	if err := r.holdGroup(g, int64(len(all))*startBytes); err != nil {
		return nil, err
	}
	return r.finishRows(g, results, starts, auxRefs(p.exprs))
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

// unservedStarts is all (ascending window starts) without the windows found
// serves a row of. found looks up consecutive windows, so a window of all
// from its first start to its last is one of them: only the unserved ones
// of those are printed, found by binary search, not by walking every
// window (a third of a refresh's walks over its 360).
func unservedStarts(all []int64, found []resultcache.Window, unserved []int, hits int) []int64 {
	if hits == 0 || len(found) == 0 {
		return slices.Clone(all)
	}
	first, last := found[0].Start, found[len(found)-1].Start
	lo, _ := slices.BinarySearch(all, first)
	hi, _ := slices.BinarySearch(all, last+1)
	starts := make([]int64, 0, len(all)-(hi-lo)+len(unserved))
	starts = append(starts, all[:lo]...)
	for _, i := range unserved {
		if _, ok := slices.BinarySearch(all[lo:hi], found[i].Start); ok {
			starts = append(starts, found[i].Start)
		}
	}
	return append(starts, all[hi:]...)
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
func (r *selectRun) storeRows(key string, found []resultcache.Window, unserved []int, fresh []Row, results []*callResult, sep []byte) (buf []byte, open [][]byte) {
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
	for _, i := range unserved {
		if found[i].Found {
			continue // found empty: kept as it is
		}
		ws := found[i].Start
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

// joinRows is the group's rows in time order, the cache's and the ones
// computed here (rendered by storeRows; open is their bytes as storeRows
// left them, aligned with fresh), in as few Rows as the bytes allow. Rows that
// one answer rendered side by side stay side by side in its buffer (storeRows
// joins them by sep and the cache keeps slices of it), so a run of them is
// handed over as one slice of that buffer, not copied, and the sink holds it
// by reference: a dashboard panel's refresh is about one slice per series
// instead of 36,000 rows copied into a 1.4 MB answer (docs/cache.md,
// "Measured").
func joinRows(found []resultcache.Window, fresh []Row, open [][]byte, sep []byte) []Row {
	rows := make([]Row, 0, 4)
	var run []byte
	runTime, runRows := int64(0), 0
	j := 0
	for i := 0; i < len(found) || j < len(fresh); {
		// The next row in time order: a fresh one, or a cached one with bytes.
		var t int64
		var enc []byte
		switch {
		case i < len(found) && (!found[i].Found || found[i].Value == nil):
			i++ // not cached, or empty: a fresh row, if any, is in fresh
			continue
		case i < len(found) && (j == len(fresh) || found[i].Start <= fresh[j].Time):
			t, enc = found[i].Start, found[i].Value
			i++
		default:
			t, enc = fresh[j].Time, open[j]
			j++
		}
		if runRows > 0 {
			if longer, ok := adjacent(run, enc, sep); ok {
				run, runRows = longer, runRows+1
				continue
			}
			// Capped, so that a sink appending to it cannot reach past it.
			rows = append(rows, Row{Time: runTime, Encoded: run[:len(run):len(run)], EncodedRows: runRows})
		}
		run, runTime, runRows = enc, t, 1
	}
	if runRows > 0 {
		rows = append(rows, Row{Time: runTime, Encoded: run[:len(run):len(run)], EncodedRows: runRows})
	}
	return rows
}

// adjacent tells whether b follows a and then sep in a's buffer, and returns
// the slice of that buffer from a's start to b's end if so. Both are slices
// storeRows made, which leaves each open to its buffer's end: b's first byte
// having the address of a byte of a's capacity proves they share one
// allocation, so the longer slice is as safe as either.
func adjacent(a, b, sep []byte) ([]byte, bool) {
	full := a[:cap(a)]
	off := len(a) + len(sep)
	if len(b) == 0 || off+len(b) > len(full) || &full[off] != &b[0] {
		return nil, false
	}
	return full[:off+len(b)], true
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

// mergeCachedRows is the group's rows in time order: the cache's, encoded,
// and the ones computed here.
func mergeCachedRows(found []resultcache.Window, fresh []Row) []Row {
	n := len(fresh)
	for _, w := range found {
		if w.Found && w.Value != nil {
			n++
		}
	}
	rows := make([]Row, 0, n)
	j := 0
	for _, w := range found {
		if !w.Found || w.Value == nil {
			continue // not cached, or empty: a fresh row, if any, is in fresh
		}
		for j < len(fresh) && fresh[j].Time < w.Start {
			rows = append(rows, fresh[j])
			j++
		}
		rows = append(rows, Row{Time: w.Start, Encoded: w.Value})
	}
	return append(rows, fresh[j:]...)
}

// Operator: the result cache in front of the partial-state path. A
// GROUP BY time aggregate's per-window partial states (aggregate.go) are kept
// in query/resultcache between queries, so that a dashboard refreshing the
// same statement with a moved now() recomputes only the windows that are new
// or were written since. What makes a cached window exact, and why it can
// never be stale, is docs/cache.md; in short: a window is stamped with the
// change sequence number read before its data, and served only while no
// later change touched its bucket, measurement and time span.
package query

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"math"
	"strings"
	"sync"

	"github.com/strata-db/strata/query/partial"
	"github.com/strata-db/strata/query/resultcache"
	"github.com/strata-db/strata/storage"
)

// SetResultCache gives the executor a result cache (nil: none).
func (e *Executor) SetResultCache(c *resultcache.Cache) { e.cache = c }

// maxCachedWindows bounds the windows one call and group looks up and stores:
// a query over a million one-second windows is not a dashboard refresh, and
// looking them up would cost more than it saves.
const maxCachedWindows = 100_000

// maxCacheRuns bounds the separate time ranges a partly cached group is
// read in (one cursor per series and range): beyond it the whole range is
// read once, as without the cache, and the windows stored again.
const maxCacheRuns = 8

// cacheable tells whether c's per-window states may come from the cache for
// this run: partial states over stored series, GROUP BY time with a lower
// time bound, and rows the row cache does not keep (when it does, a group
// it ran uncached was one it could not or would not cache: its states would
// be the same case).
func (r *selectRun) cacheable(c *callPlan) bool {
	p := r.plan
	return r.e.cache != nil && (c.path == pathHeaders || c.path == pathPartial) && !r.rowsCacheable() &&
		p.interval > 0 && p.tr.HasMin() && !r.implicitStart && p.fieldCond == nil && len(p.src.subqueries) == 0
}

// cacheKey identifies what g's windows of c are a function of, beyond the
// data: the call as written and its path, the windows' geometry, the order
// the values are folded in, and the group's exact series.
func (r *selectRun) cacheKey(g *group, c *callPlan) (string, resultcache.Scope, bool) {
	ids, sc, ok := groupIdentity(g)
	if !ok {
		return "", sc, false
	}
	var k strings.Builder
	fmt.Fprintf(&k, "v1|%s|%s|%v|%d|%s|%s", c.expr.String(), c.name, c.args, c.path, r.windowGeometry(), ids)
	return k.String(), sc, true
}

// windowGeometry is what places and folds a statement's windows: interval,
// offset, time zone and fold order. Made once per run: every group's edge
// key formatted it again (2% of a dashboard refresh's CPU).
func (r *selectRun) windowGeometry() string {
	r.geometryOnce.Do(func() {
		p := r.plan
		loc := "UTC"
		if p.loc != nil {
			loc = p.loc.String()
		}
		r.geometry = fmt.Sprintf("%d|%d|%s|%t", p.interval, p.offset, loc, p.ascending)
	})
	return r.geometry
}

// groupIdentity names a group's exact set of stored local series (its key
// and their IDs, hashed with 128-bit FNV-1a: a collision needs ~2^64
// distinct groups) and the scope their generations are kept in. ok is false
// for a group with series of several measurements, from subqueries or from
// other nodes: only stored local series have generations here. It is made
// once per group: the row key and the edge's both need it, and hashing each
// group's series twice was 2% of a dashboard refresh's CPU (profile of
// 1,000 rounds of a write and a refresh).
func groupIdentity(g *group) (string, resultcache.Scope, bool) {
	g.identOnce.Do(func() { g.ident.ids, g.ident.scope, g.ident.ok = makeGroupIdentity(g) })
	return g.ident.ids, g.ident.scope, g.ident.ok
}

// groupIdent is groupIdentity's answer.
type groupIdent struct {
	ids   string
	scope resultcache.Scope
	ok    bool
}

func makeGroupIdentity(g *group) (string, resultcache.Scope, bool) {
	var sc resultcache.Scope
	h := fnv.New128a()
	var buf [16]byte
	for _, s := range g.series {
		if s.mem != nil || s.remote != nil {
			return "", sc, false
		}
		if sc.Measurement == "" {
			sc.Measurement = s.measurement
		} else if s.measurement != sc.Measurement {
			return "", sc, false
		}
		if !containsBucket(sc.Buckets, s.bucket) {
			sc.Buckets = append(sc.Buckets, s.bucket)
		}
		binary.LittleEndian.PutUint64(buf[:8], uint64(s.bucket))
		binary.LittleEndian.PutUint64(buf[8:], uint64(s.id))
		h.Write(buf[:])
	}
	if len(g.series) == 0 {
		return "", sc, false
	}
	// Appended, not formatted: fmt's %x of the sum was half of this
	// function's time in a cached refresh's profile.
	var sum [16]byte
	id := make([]byte, 0, len(g.key)+1+2*len(sum))
	id = append(append(id, g.key...), '|')
	return string(hex.AppendEncode(id, h.Sum(sum[:0]))), sc, true
}

func containsBucket(bs []storage.BucketID, b storage.BucketID) bool {
	for _, x := range bs {
		if x == b {
			return true
		}
	}
	return false
}

// cacheRun is the part of the result cache's work every group of a run
// shares: one small query's groups each rebuilt it (6% of a one-host
// dashboard query's CPU, with the row key's formatting).
type cacheRun struct {
	lo, hi int64
	starts []int64 // read only: groups look them up concurrently
	rowKey string  // rowsKey's statement part

	// filled is every window a filled group prints when its points lie
	// inside the range (filledStarts), listed once per run: a group listed
	// them itself (11% of a dashboard refresh's CPU, for 360 windows × 100
	// groups). Read only.
	filledOnce sync.Once
	filled     []int64
	filledErr  error
}

// lookupPool keeps the row cache's lookups for the next groups and runs: a
// dashboard refresh looks 360 windows up for each of its 100 series, and
// allocating their slices each time was a tenth of its CPU (docs/cache.md,
// "Measured").
type lookupPool struct{ p sync.Pool }

// maxPooledWindows bounds what the pool keeps: a lookup of more windows than
// this is let go rather than held for the rare lookup its size.
const maxPooledWindows = 1 << 16

func (lp *lookupPool) get() *resultcache.RowsLookup {
	if lk, ok := lp.p.Get().(*resultcache.RowsLookup); ok {
		return lk
	}
	return &resultcache.RowsLookup{}
}

// put keeps lk for reuse, without the cache's bytes it points to.
func (lp *lookupPool) put(lk *resultcache.RowsLookup) {
	if lk.Size() > maxPooledWindows {
		return
	}
	lk.Reset()
	lp.p.Put(lk)
}

// sharedCacheRun makes the run's cacheRun once.
func (r *selectRun) sharedCacheRun() *cacheRun {
	r.cacheRunOnce.Do(func() {
		c := &r.cacheRun
		c.lo, c.hi, c.starts = r.cacheableWindows()
		if r.rowEnc != nil {
			c.rowKey = r.rowsKeyPrefix()
		}
	})
	return &r.cacheRun
}

// cacheableWindows lists the windows a cached run may take from the cache:
// those wholly inside the range [lo, hi], up to the one holding now (data
// later than now is rare and always read); none beyond maxCachedWindows.
func (r *selectRun) cacheableWindows() (lo, hi int64, starts []int64) {
	p := r.plan
	lo, hi = p.tr.Min, p.tr.Max
	if !p.tr.HasMax() {
		hi = math.MaxInt64
	}
	last := r.windowOf(min(hi, max(r.now.UnixNano(), lo)))
	if first := r.windowOf(lo); (last-first)/int64(p.interval) >= maxCachedWindows {
		// Too many to list, counted by division (time-zone days are off by
		// an hour at most, nothing at this count): listing 100,000 windows
		// to give up made TSBS's groupby-orderby-limit 1.4x slower.
		return lo, hi, nil
	}
	for ws := r.windowOf(lo); ws <= last; ws = r.nextWindow(ws) {
		if ws >= lo && r.nextWindow(ws)-1 <= hi {
			if len(starts) == maxCachedWindows {
				return lo, hi, nil
			}
			starts = append(starts, ws)
		}
	}
	return lo, hi, starts
}

// timeSpan is an inclusive range of ns.
type timeSpan struct{ min, max int64 }

// spansOf is runs as the storage's ranges (Cursor.Within's).
func spansOf(runs []timeSpan) []storage.TimeRange {
	out := make([]storage.TimeRange, len(runs))
	for i, run := range runs {
		out[i] = storage.TimeRange{Min: run.min, Max: run.max}
	}
	return out
}

// cachedStates is partialStates with the cache: the windows lying wholly
// inside the time range are looked up, the rest of the range is read and
// folded as usual, and the windows computed here are stored for next time.
// ok is false when the group cannot use the cache (then nothing was read).
func (r *selectRun) cachedStates(g *group, c *callPlan) (w *windowStates, ok bool, err error) {
	key, sc, ok := r.cacheKey(g, c)
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
		return nil, false, nil // its first sight: partialStates, as without the cache
	}
	seq := r.cacheSeq // read before any data was: see docs/cache.md
	found, runs := r.lookupRuns(nil, key, sc, starts, lo, hi)
	hits := 0
	for _, cw := range found {
		if cw.Found {
			hits++
		}
	}

	w = r.newGroupStates(c)
	w.hold = func(n int64) error { return r.holdGroup(g, n) }
	if err := r.accumulateRuns(g, c, w, runs, hits > 0); err != nil {
		return nil, true, err
	}

	// Store what was computed here, then add what came from the cache.
	fresh := make([]resultcache.Window, 0, len(starts)-hits)
	for i, ws := range starts {
		if found[i].Found {
			continue
		}
		cw := resultcache.Window{Start: ws, Seq: seq}
		if i, ok := w.lookup(ws); ok {
			cw.Value = w.states[i].st.AppendBinary(nil)
		}
		fresh = append(fresh, cw)
	}
	for _, cw := range found {
		if !cw.Found || cw.Value == nil {
			continue
		}
		st, err := partial.Decode(cw.Value)
		if err != nil {
			return nil, true, fmt.Errorf("result cache: window %d: %w", cw.Start, err)
		}
		if err := w.put(cw.Start, st); err != nil {
			return nil, true, err
		}
	}
	r.e.cache.Store(key, fresh)
	r.stats.windowsCached.Add(int64(hits))
	r.stats.windowsCacheable.Add(int64(len(starts)))
	return w, true, nil
}

// accumulateRuns folds g's local series, in key order, over each of runs
// into w, closing each series. edge: the first run may come from, and go to,
// the cut window's kept points (edgecache.go); only for a group the cache
// served windows of, a refresh: on a miss the edge was a second read of the
// block the first run lies in, for a next query that rarely comes.
func (r *selectRun) accumulateRuns(g *group, c *callPlan, w *windowStates, runs []timeSpan, edge bool) error {
	var points int64
	defer func() { r.stats.points.Add(points) }()
	if len(runs) == 0 {
		for range g.series {
			w.endSeries()
		}
		return nil
	}
	if ws, ok := r.edgeWindow(runs); ok && edge {
		if done, err := r.accumulateEdge(g, c, w, runs, ws); done || err != nil {
			return err
		}
	}
	within := spansOf(runs)
	lo, hi := runs[0].min, runs[len(runs)-1].max
	for _, s := range g.series {
		if err := r.accumulateWithin(s, c, w, &points, lo, hi, within); err != nil {
			return err
		}
		w.endSeries()
	}
	return nil
}

// lookupRuns looks key's windows among starts up and returns them with the
// ranges of [lo, hi] still to read. Past maxCacheRuns ranges the whole range
// is read once instead, and the cache's windows are forgone.
// found is in dst's memory when it is large enough.
func (r *selectRun) lookupRuns(dst []resultcache.Window, key string, sc resultcache.Scope, starts []int64, lo, hi int64) ([]resultcache.Window, []timeSpan) {
	found := r.e.cache.LookupInto(dst, key, sc, starts, r.nextWindow)
	runs := missingRuns(found, lo, hi, r.nextWindow)
	if len(runs) > maxCacheRuns {
		r.e.cache.Forgo(found)
		runs = []timeSpan{{lo, hi}}
	}
	return found, runs
}

// missingRuns is [lo, hi] without the found windows, as ascending spans.
// found is a lookup of consecutive windows (cacheableWindows'), so a found
// window's end is the next one's start and next is called once per run of
// found windows, not per window: per window, its calendar arithmetic was 5%
// of a dashboard refresh's CPU.
func missingRuns(found []resultcache.Window, lo, hi int64, next func(int64) int64) []timeSpan {
	var runs []timeSpan
	from := lo
	for i, w := range found {
		if !w.Found {
			continue
		}
		if w.Start > from {
			runs = append(runs, timeSpan{from, w.Start - 1})
		}
		if i+1 < len(found) {
			from = found[i+1].Start
		} else {
			from = next(w.Start)
		}
	}
	if from <= hi {
		runs = append(runs, timeSpan{from, hi})
	}
	return runs
}

// put makes st window ws's state: a state from the cache, for a window the
// run did not read (so it has no state yet).
func (w *windowStates) put(ws int64, st partial.State) error {
	if err := w.setType(st.Type()); err != nil {
		return err
	}
	_, err := w.insert(ws, st)
	return err
}

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
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"strings"

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
// time bound.
func (r *selectRun) cacheable(c *callPlan) bool {
	p := r.plan
	return r.e.cache != nil && (c.path == pathHeaders || c.path == pathPartial) &&
		p.interval > 0 && p.tr.HasMin() && p.fieldCond == nil && len(p.src.subqueries) == 0
}

// cacheKey identifies what g's windows of c are a function of, beyond the
// data: the call as written and its path, the windows' geometry, the order
// the values are folded in, and the group's exact series (their IDs, hashed
// with 128-bit FNV-1a: a collision needs ~2^64 distinct groups).
func (r *selectRun) cacheKey(g *group, c *callPlan) (string, resultcache.Scope, bool) {
	p := r.plan
	var sc resultcache.Scope
	h := fnv.New128a()
	var buf [16]byte
	for _, s := range g.series {
		if s.mem != nil || s.remote != nil {
			return "", sc, false // only stored local series have generations here
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
	loc := "UTC"
	if p.loc != nil {
		loc = p.loc.String()
	}
	var k strings.Builder
	fmt.Fprintf(&k, "v1|%s|%s|%v|%d|%d|%d|%s|%t|%s|%x", c.expr.String(), c.name, c.args, c.path,
		p.interval, p.offset, loc, p.ascending, g.key, h.Sum(nil))
	return k.String(), sc, true
}

func containsBucket(bs []storage.BucketID, b storage.BucketID) bool {
	for _, x := range bs {
		if x == b {
			return true
		}
	}
	return false
}

// timeSpan is an inclusive range of ns.
type timeSpan struct{ min, max int64 }

// cachedStates is partialStates with the cache: the windows lying wholly
// inside the time range are looked up, the rest of the range is read and
// folded as usual, and the windows computed here are stored for next time.
// ok is false when the group cannot use the cache (then nothing was read).
func (r *selectRun) cachedStates(g *group, c *callPlan) (w *windowStates, ok bool, err error) {
	key, sc, ok := r.cacheKey(g, c)
	if !ok {
		return nil, false, nil
	}
	p := r.plan
	lo, hi := p.tr.Min, p.tr.Max
	if !p.tr.HasMax() {
		hi = math.MaxInt64
	}
	// The candidates: windows wholly inside [lo, hi], up to the one holding
	// now (data later than now is rare and always read).
	last := r.windowOf(min(hi, max(r.now.UnixNano(), lo)))
	var starts []int64
	for ws := r.windowOf(lo); ws <= last; ws = r.nextWindow(ws) {
		if ws >= lo && r.nextWindow(ws)-1 <= hi {
			if len(starts) == maxCachedWindows {
				return nil, false, nil
			}
			starts = append(starts, ws)
		}
	}
	if len(starts) == 0 {
		return nil, false, nil
	}
	seq := r.e.cache.Seq() // before any data is read: see docs/cache.md
	found := r.e.cache.Lookup(key, sc, starts, r.nextWindow)
	runs := missingRuns(starts, found, lo, hi, r.nextWindow)
	if len(runs) > maxCacheRuns {
		runs, found = []timeSpan{{lo, hi}}, nil
	}

	w = newWindowStates(c, r.windowsInRange())
	w.hold = func(n int64) error { return r.holdGroup(g, n) }
	var points int64
	defer func() { r.stats.points.Add(points) }()
	for _, s := range g.series {
		for _, run := range runs {
			if err := r.accumulateSeries(s, c, w, &points, run.min, run.max); err != nil {
				if errors.Is(err, partial.ErrCorrupt) {
					return nil, true, fmt.Errorf("series %s: %w", s.display(), err)
				}
				return nil, true, err
			}
		}
		w.endSeries()
	}

	// Store what was computed here, then add what came from the cache.
	fresh := make(map[int64]resultcache.Window, len(starts)-len(found))
	for _, ws := range starts {
		if _, hit := found[ws]; hit {
			continue
		}
		cw := resultcache.Window{Seq: seq}
		if i, ok := w.m[ws]; ok {
			cw.State = w.states[i].st.AppendBinary(nil)
		}
		fresh[ws] = cw
	}
	for ws, cw := range found {
		if cw.State == nil {
			continue
		}
		st, err := partial.Decode(cw.State)
		if err != nil {
			return nil, true, fmt.Errorf("result cache: window %d: %w", ws, err)
		}
		if err := w.put(ws, st); err != nil {
			return nil, true, err
		}
	}
	r.e.cache.Store(key, fresh)
	r.stats.windowsCached.Add(int64(len(found)))
	r.stats.windowsCacheable.Add(int64(len(starts)))
	return w, true, nil
}

// missingRuns is [lo, hi] without the found windows, as ascending spans.
func missingRuns(starts []int64, found map[int64]resultcache.Window, lo, hi int64, next func(int64) int64) []timeSpan {
	var runs []timeSpan
	from := lo
	for _, ws := range starts {
		if _, hit := found[ws]; !hit {
			continue
		}
		if ws > from {
			runs = append(runs, timeSpan{from, ws - 1})
		}
		from = next(ws)
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

package resultcache

import (
	"container/list"
	"hash/maphash"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/strata-db/strata/storage"
)

// Scope is what a cached entry's windows were computed from: one measurement
// in each of the buckets its series live in.
type Scope struct {
	Buckets     []storage.BucketID
	Measurement string
}

// Window is one cached window: what the query package keeps for it (an
// encoded partial state, or a rendered row; nil may mean "no data") and the
// generation read before its data was. Found is Lookup's: the window was in
// the cache and is still valid.
type Window struct {
	Start int64
	Seq   uint64
	Value []byte
	Found bool
}

// windowOverhead is what one cached window costs beyond its value's bytes,
// from the layout: a Window in the entry's slice is 48 bytes (start, seq,
// slice header, flag) and its row index entry 8 (rowIndexOverhead), rounded
// up to 64 for the slices' growth slack (TestWindowOverheadCoversTheLayout).
const windowOverhead = 64

// Cache holds windows by key, bounded in bytes; the least recently used entry
// goes first. Safe for concurrent use.
type Cache struct {
	gens *Generations
	max  int64

	mu    sync.Mutex
	bytes int64
	lru   list.List // of *entry, most recent at the front
	m     map[string]*list.Element
	seed  maphash.Seed         // the doorkeeper's (admit.go); set at New
	seen  map[uint64]seenRange // keys offered once, hashed, with their range (admit.go)

	hits, misses, invalidations, evictions, unadmitted atomic.Int64
	indexedLookups                                     atomic.Int64 // LookupRows answered from the row index (tests see both paths run)
}

// entry is one key's windows, sorted by start: a lookup walks them beside the
// ascending starts it is asked for, without a map probe per window (36,000
// windows per dashboard refresh).
type entry struct {
	key     string
	windows []Window
	bytes   int64
	rows    *rowIndex // for LookupRows (rowindex.go); nil until it asks
}

// New returns a cache of at most maxBytes over the generations g.
func New(g *Generations, maxBytes int64) *Cache {
	return &Cache{gens: g, max: maxBytes, m: map[string]*list.Element{}, seed: maphash.MakeSeed(), seen: map[uint64]seenRange{}}
}

// Seq is the generation to stamp windows computed from data read after now.
func (c *Cache) Seq() uint64 { return c.gens.Seq() }

// Lookup returns, aligned with starts (ascending), the cached windows of key
// that are still valid: no change after their stamp touched
// [start, end(start)-1] of the scope. A window not found, or stale, has Found
// false. Stale windows are dropped and counted as invalidations; hits and
// misses are counted over starts.
func (c *Cache) Lookup(key string, sc Scope, starts []int64, end func(int64) int64) []Window {
	return c.LookupInto(nil, key, sc, starts, end)
}

// LookupInto is Lookup into dst's memory when it is large enough: a caller
// that looks up a dashboard's 36,000 windows per refresh reuses one slice
// instead of allocating 2 MB each time.
func (c *Cache) LookupInto(dst []Window, key string, sc Scope, starts []int64, end func(int64) int64) []Window {
	out := dst[:0]
	if cap(out) < len(starts) {
		out = make([]Window, len(starts))
	}
	out = out[:len(starts)]
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.m[key]
	if !ok {
		for i, ws := range starts {
			out[i] = Window{Start: ws} // invalidate and the callers find windows by start
		}
		c.misses.Add(int64(len(starts)))
		return out
	}
	c.lru.MoveToFront(el)
	e := el.Value.(*entry)
	pp := positionsPool.Get().(*[]int32)
	defer positionsPool.Put(pp)
	pos, minSeq, held := align(*pp, e.windows, starts)
	if cap(pos) <= maxPooledPositions {
		*pp = pos
	}
	hits := c.weigh(e, sc, starts, pos, minSeq, held, end)
	for i := 0; i < len(pos); {
		if pos[i] < 0 {
			out[i] = Window{Start: starts[i]}
			i++
			continue
		}
		// A run of windows the entry holds side by side in one copy (a
		// refresh's: all but the newest few), not a struct copy each.
		k := i + 1
		for k < len(pos) && pos[k] == pos[k-1]+1 {
			k++
		}
		copy(out[i:k], e.windows[pos[i]:int(pos[i])+k-i])
		for ; i < k; i++ {
			out[i].Found = true
		}
	}
	c.hits.Add(int64(hits))
	c.misses.Add(int64(len(starts) - hits))
	return out
}

// positionsPool keeps LookupInto's alignments (align) for the next lookups.
var positionsPool = sync.Pool{New: func() any { return new([]int32) }}

// maxPooledPositions bounds an alignment the pool keeps (256 KB).
const maxPooledPositions = 1 << 16

// weigh is the part of a lookup done under c.mu once starts are aligned with
// e's windows (align's pos, minSeq and held): it weighs the changes since the held
// windows' stamps (the generations' lock is taken inside c.mu; Touched never
// takes c.mu), sets pos to -1 for the stale ones and drops them from e
// (pos follows), restamps the others when it had to weigh restampAfter
// changes or more, and counts the invalidations. It returns how many
// windows are held and valid. Nothing stores into e between the weighing
// and the restamp: both are under c.mu.
func (c *Cache) weigh(e *entry, sc Scope, starts []int64, pos []int32, minSeq uint64, held int, end func(int64) int64) int {
	if held == 0 {
		return 0
	}
	var stale []int32 // positions in e.windows
	verified, examined := c.gens.invalidateEach(sc, &entryView{e: e, starts: starts, pos: pos}, minSeq, end, func(i int) {
		stale = append(stale, pos[i])
		pos[i] = -1
	})
	if examined >= restampAfter && verified > minSeq {
		// Every change up to verified was weighed against the windows left,
		// so they are what a read at verified would build (docs/cache.md,
		// "Why it cannot serve stale data"), and the next lookups weigh only
		// the changes after it.
		for _, p := range pos {
			if p >= 0 && e.windows[p].Seq < verified {
				e.windows[p].Seq = verified
			}
		}
		e.dirty()
	}
	if len(stale) == 0 {
		return held
	}
	slices.Sort(stale) // marked change by change
	// The positions after a dropped window move down by one each.
	k := 0
	for i, p := range pos {
		for k < len(stale) && stale[k] < p {
			k++
		}
		if p >= 0 {
			pos[i] = p - int32(k)
		}
	}
	c.drop(e, stale)
	c.invalidations.Add(int64(len(stale)))
	return held - len(stale)
}

// Forgo gives back the windows of a lookup the caller will not use (it reads
// their range anyway): they count as misses instead of hits, and lose Found.
func (c *Cache) Forgo(found []Window) {
	n := int64(0)
	for i := range found {
		if found[i].Found {
			found[i].Found = false
			n++
		}
	}
	c.hits.Add(-n)
	c.misses.Add(n)
}

// restampAfter is how many changes (or probed windows) a lookup weighs
// before it restamps the windows it found valid. A dashboard's windows keep
// the stamp of the refresh that stored them, so without restamping every
// refresh weighed every change since the oldest of them: with a write per
// second, a panel open for an hour weighed thousands of changes per series
// per refresh (1 ms of a 100-series refresh after 1,000 writes). Restamping
// walks the entry once under the cache's lock; 16 changes, a binary search
// over the windows each, cost about what that walk does.
const restampAfter = 16

// Store adds windows (ascending by start) to key's entry, replacing windows
// of the same start, and evicts least recently used entries beyond the
// budget. An entry that alone exceeds the budget is not kept. Store takes
// windows: the caller must not use the slice after (a new entry keeps it).
func (c *Cache) Store(key string, windows []Window) {
	if c.max <= 0 || len(windows) == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	var e *entry
	if el, ok := c.m[key]; ok {
		c.lru.MoveToFront(el)
		e = el.Value.(*entry)
	} else {
		e = &entry{key: key}
		c.m[key] = c.lru.PushFront(e)
	}
	if n := len(e.windows); n == 0 || windows[0].Start > e.windows[n-1].Start {
		// All after the entry's windows (a new entry, or a refresh's new
		// minutes): appended in place, a new entry in the caller's slice.
		// Copying a new entry was a second 40 KB per miss of a 720-window
		// group (TSBS single-groupby-1-1-12); merging into a new slice
		// copied the whole entry per Store, 2 MB per refresh of a
		// 100-series panel. No reader holds e.windows outside c.mu (Lookup
		// copies).
		if n == 0 {
			e.windows = windows[:0] // each append below rewrites the window it read
		}
		for _, w := range windows {
			w.Found = false
			e.windows = append(e.windows, w)
			e.appended(w)
			c.account(e, w, 1)
		}
		c.evictOver()
		return
	}
	merged := make([]Window, 0, len(e.windows)+len(windows))
	i, j := 0, 0
	for i < len(e.windows) || j < len(windows) {
		switch {
		case j == len(windows) || i < len(e.windows) && e.windows[i].Start < windows[j].Start:
			merged = append(merged, e.windows[i])
			i++
		default:
			if i < len(e.windows) && e.windows[i].Start == windows[j].Start {
				c.account(e, e.windows[i], -1)
				i++
			}
			w := windows[j]
			w.Found = false
			merged = append(merged, w)
			c.account(e, w, 1)
			j++
		}
	}
	e.windows = merged
	e.dirty()
	c.evictOver()
}

// account adds (sign 1) or takes away (sign -1) window w's bytes to entry
// e's and the cache's. c.mu is held.
func (c *Cache) account(e *entry, w Window, sign int64) {
	n := sign * (int64(len(w.Value)) + windowOverhead)
	e.bytes += n
	c.bytes += n
}

// evictOver evicts least recently used entries while the cache is over its
// budget. c.mu is held.
func (c *Cache) evictOver() {
	for c.bytes > c.max && c.lru.Len() > 0 {
		c.evict(c.lru.Back())
	}
}

func (c *Cache) evict(el *list.Element) {
	e := el.Value.(*entry)
	c.lru.Remove(el)
	delete(c.m, e.key)
	c.bytes -= e.bytes
	c.evictions.Add(int64(len(e.windows)))
}

// Stats is what the cache has done, for metrics.
type Stats struct {
	Hits, Misses, Invalidations, Evictions int64 // windows
	Unadmitted                             int64 // keys run uncached at first sight (Admit)
	Bytes                                  int64
	Entries                                int
}

// Stats returns the counters and the current size.
func (c *Cache) Stats() Stats {
	c.mu.Lock()
	b, n := c.bytes, c.lru.Len()
	c.mu.Unlock()
	return Stats{Hits: c.hits.Load(), Misses: c.misses.Load(), Invalidations: c.invalidations.Load(), Evictions: c.evictions.Load(), Unadmitted: c.unadmitted.Load(), Bytes: b, Entries: n}
}

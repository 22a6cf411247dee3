package resultcache

import (
	"container/list"
	"hash/maphash"
	"sort"
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
// from the layout: a Window in the entry's slice is 56 bytes (start, seq,
// slice header, flag), rounded up to 64 for the slice's growth slack.
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
}

// entry is one key's windows, sorted by start: a lookup walks them beside the
// ascending starts it is asked for, without a map probe per window (36,000
// windows per dashboard refresh).
type entry struct {
	key     string
	windows []Window
	bytes   int64
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
	el, ok := c.m[key]
	if !ok {
		c.mu.Unlock()
		for i, ws := range starts {
			out[i] = Window{Start: ws} // invalidate and the callers find windows by start
		}
		c.misses.Add(int64(len(starts)))
		return out
	}
	c.lru.MoveToFront(el)
	e := el.Value.(*entry)
	n := 0
	minSeq := ^uint64(0)
	j := sort.Search(len(e.windows), func(i int) bool { return e.windows[i].Start >= starts[0] })
	// The leading starts the entry holds side by side (a refresh's: all but
	// the newest few) in one copy, not a compare and a struct copy each
	// (the per-window walk was 7% of a dashboard refresh's CPU).
	held := heldPrefix(e.windows[j:], starts)
	copy(out, e.windows[j:j+held])
	for i := range out[:held] {
		out[i].Found = true
		minSeq = min(minSeq, out[i].Seq)
	}
	n, j = held, j+held
	for i, ws := range starts[held:] {
		i += held
		for j < len(e.windows) && e.windows[j].Start < ws {
			j++
		}
		if j < len(e.windows) && e.windows[j].Start == ws {
			out[i] = e.windows[j]
			out[i].Found = true
			minSeq = min(minSeq, out[i].Seq)
			n++
		} else {
			out[i] = Window{Start: ws}
		}
	}
	c.mu.Unlock()
	if n == 0 {
		c.misses.Add(int64(len(starts)))
		return out
	}

	stale, verified, examined := c.gens.invalidate(sc, out, minSeq, end)
	if len(stale) > 0 {
		c.invalidations.Add(int64(len(stale)))
	}
	if restamp := examined >= restampAfter && verified > minSeq; len(stale) > 0 || restamp {
		c.settle(key, out, stale, verified, restamp)
	}
	c.hits.Add(int64(n - len(stale)))
	c.misses.Add(int64(len(starts) - n + len(stale)))
	return out
}

// heldPrefix is how many of starts' first elements are the starts of
// windows, in order.
func heldPrefix(windows []Window, starts []int64) int {
	n := min(len(windows), len(starts))
	for i := range n {
		if windows[i].Start != starts[i] {
			return i
		}
	}
	return n
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

// settle removes the windows of key starting at stale (ascending), and, with
// restamp, stamps verified on the windows of found (its lookup) that are
// still there as found: invalidate weighed every change up to verified
// against them, so they are what a query reading at verified would compute,
// and the next lookups weigh only the changes after it (docs/cache.md, "Why
// it cannot be stale"). A window stored meanwhile under the same start (a
// different stamp) keeps its own.
func (c *Cache) settle(key string, found []Window, stale []int64, verified uint64, restamp bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.m[key]
	if !ok {
		return
	}
	e := el.Value.(*entry)
	from := 0 // the windows before it stay as they are
	if !restamp {
		// From the first stale one: a refresh's is the newest window (the
		// one at now, written since), and walking all 360 to drop it was 4%
		// of the refresh's CPU, under the cache's lock.
		from = sort.Search(len(e.windows), func(i int) bool { return e.windows[i].Start >= stale[0] })
	}
	kept, k, f := e.windows[:from], 0, 0
	for _, w := range e.windows[from:] {
		for k < len(stale) && stale[k] < w.Start {
			k++
		}
		if k < len(stale) && stale[k] == w.Start {
			c.account(e, w, -1)
			continue
		}
		if restamp {
			for f < len(found) && found[f].Start < w.Start {
				f++
			}
			if f < len(found) && found[f].Start == w.Start && found[f].Found && found[f].Seq == w.Seq && w.Seq < verified {
				w.Seq = verified
			}
		}
		kept = append(kept, w)
	}
	clear(e.windows[len(kept):])
	e.windows = kept
}

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

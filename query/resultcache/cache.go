package resultcache

import (
	"container/list"
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

// Window is one cached window: its encoded partial state (nil: the window
// had no data) and the generation read before its data was.
type Window struct {
	Seq   uint64
	State []byte
}

// windowOverhead is what one cached window costs beyond its state's bytes,
// estimated from the layout: a map[int64]Window slot is 40 bytes (8 of key,
// 8 of Seq, 24 of slice header) plus the map's per-slot tag and load-factor
// slack, rounded up to 64.
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

	hits, misses, invalidations, evictions atomic.Int64
}

type entry struct {
	key     string
	windows map[int64]Window
	bytes   int64
}

// New returns a cache of at most maxBytes over the generations g.
func New(g *Generations, maxBytes int64) *Cache {
	return &Cache{gens: g, max: maxBytes, m: map[string]*list.Element{}}
}

// Seq is the generation to stamp windows computed from data read after now.
func (c *Cache) Seq() uint64 { return c.gens.Seq() }

// Lookup returns the cached windows of key among starts that are still
// valid: no change after their stamp touched [start, end(start)-1] of the
// scope. Stale windows are dropped and counted as invalidations; hits and
// misses are counted over starts.
func (c *Cache) Lookup(key string, sc Scope, starts []int64, end func(int64) int64) map[int64]Window {
	c.mu.Lock()
	el, ok := c.m[key]
	if !ok {
		c.mu.Unlock()
		c.misses.Add(int64(len(starts)))
		return nil
	}
	c.lru.MoveToFront(el)
	e := el.Value.(*entry)
	found := make(map[int64]Window, len(starts))
	for _, ws := range starts {
		if w, ok := e.windows[ws]; ok {
			found[ws] = w
		}
	}
	c.mu.Unlock()

	var stale []int64
	c.gens.mu.RLock()
	for ws, w := range found {
		for _, b := range sc.Buckets {
			if c.gens.changedLocked(b, sc.Measurement, ws, end(ws)-1, w.Seq) {
				stale = append(stale, ws)
				delete(found, ws)
				break
			}
		}
	}
	c.gens.mu.RUnlock()
	if len(stale) > 0 {
		c.invalidations.Add(int64(len(stale)))
		c.mu.Lock()
		if el, ok := c.m[key]; ok {
			e := el.Value.(*entry)
			for _, ws := range stale {
				if w, ok := e.windows[ws]; ok {
					delete(e.windows, ws)
					n := int64(len(w.State)) + windowOverhead
					e.bytes -= n
					c.bytes -= n
				}
			}
		}
		c.mu.Unlock()
	}
	c.hits.Add(int64(len(found)))
	c.misses.Add(int64(len(starts) - len(found)))
	return found
}

// Store adds windows to key's entry (replacing windows of the same start)
// and evicts least recently used entries beyond the budget. An entry that
// alone exceeds the budget is not kept.
func (c *Cache) Store(key string, windows map[int64]Window) {
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
		e = &entry{key: key, windows: make(map[int64]Window, len(windows))}
		c.m[key] = c.lru.PushFront(e)
	}
	for ws, w := range windows {
		if old, ok := e.windows[ws]; ok {
			n := int64(len(old.State)) + windowOverhead
			e.bytes -= n
			c.bytes -= n
		}
		e.windows[ws] = w
		n := int64(len(w.State)) + windowOverhead
		e.bytes += n
		c.bytes += n
	}
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
	Bytes                                  int64
	Entries                                int
}

// Stats returns the counters and the current size.
func (c *Cache) Stats() Stats {
	c.mu.Lock()
	b, n := c.bytes, c.lru.Len()
	c.mu.Unlock()
	return Stats{Hits: c.hits.Load(), Misses: c.misses.Load(), Invalidations: c.invalidations.Load(), Evictions: c.evictions.Load(), Bytes: b, Entries: n}
}

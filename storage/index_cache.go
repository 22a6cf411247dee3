package storage

import (
	"container/list"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// The tag index lives in Pebble (docs/format/keys.md) and is read on demand; what
// is read is kept in two caches with byte budgets, so that memory does not grow
// with the number of series ever written:
//
//   - the series cache maps bucket|series key -> ID (the write path's "does this
//     series exist") and series ID -> series key (tags of a query's series);
//   - the postings cache maps a tag posting key (kindTagPosting ...) to its
//     roaring bitmap (a query's tag predicates).
//
// Both are filled by readers under Engine.catMu's read lock and changed by writers
// under its write lock, after their Pebble batch is committed; so an entry is never
// older than Pebble and a miss can always be answered from Pebble.

// Default cache budgets. 64 MiB of series cache gives 48 MiB to keys: about 290 k
// series of TSBS-like shape (a 32-byte key costs 172 bytes with the map and list),
// so the write path of a few-hundred-thousand-series server looks up in memory and
// larger ones read Pebble's block cache. 32 MiB of postings holds every posting
// list of a 1 M-series measurement's low-cardinality tags (1,000 lists of 1,000
// series: ~2 KiB each) and a hundred thousand unique-tag lookups.
const (
	DefaultSeriesCacheBytes   = 64 << 20
	DefaultPostingsCacheBytes = 32 << 20
)

// lruEntryOverhead is what an entry costs beyond its key and value bytes: the map
// slot, the list element and the entry struct. Measured with runtime.MemStats on
// 1 M series-key entries of the TSBS-like shape (32-byte keys): 136 bytes of heap
// per entry beyond the key.
const lruEntryOverhead = 136

// lru is a least-recently-used cache with a byte budget. Safe for concurrent use.
type lru[V any] struct {
	name   string
	budget int64
	size   func(V) int64 // the value's bytes, for the budget

	mu    sync.Mutex
	items map[string]*list.Element
	order *list.List // front: most recently used
	bytes int64

	hits, misses, evictions atomic.Uint64
}

type lruEntry[V any] struct {
	key   string
	val   V
	bytes int64
}

func newLRU[V any](name string, budget int64, size func(V) int64) *lru[V] {
	return &lru[V]{name: name, budget: budget, size: size, items: map[string]*list.Element{}, order: list.New()}
}

// get returns the value cached under key.
func (c *lru[V]) get(key []byte) (V, bool) {
	c.mu.Lock()
	el, ok := c.items[string(key)]
	if ok {
		c.order.MoveToFront(el)
	}
	c.mu.Unlock()
	if !ok {
		c.misses.Add(1)
		var zero V
		return zero, false
	}
	c.hits.Add(1)
	return el.Value.(*lruEntry[V]).val, true
}

// put caches val under key, evicting the least recently used entries over budget.
// A value larger than an eighth of the budget is not cached: it would evict much
// for one entry.
func (c *lru[V]) put(key []byte, val V) {
	n := int64(len(key)) + c.size(val) + lruEntryOverhead
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[string(key)]; ok {
		en := el.Value.(*lruEntry[V])
		c.bytes += n - en.bytes
		en.val, en.bytes = val, n
		c.order.MoveToFront(el)
	} else {
		if n > c.budget/8 {
			return
		}
		en := &lruEntry[V]{key: string(key), val: val, bytes: n}
		c.items[en.key] = c.order.PushFront(en)
		c.bytes += n
	}
	for c.bytes > c.budget && c.order.Len() > 0 {
		c.removeLocked(c.order.Back())
		c.evictions.Add(1)
	}
}

// update calls fn on the value cached under key, if any, and accounts its new
// size. fn runs under the cache's lock.
func (c *lru[V]) update(key []byte, fn func(V) V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[string(key)]
	if !ok {
		return
	}
	en := el.Value.(*lruEntry[V])
	en.val = fn(en.val)
	n := int64(len(en.key)) + c.size(en.val) + lruEntryOverhead
	c.bytes += n - en.bytes
	en.bytes = n
	for c.bytes > c.budget && c.order.Len() > 0 {
		c.removeLocked(c.order.Back())
		c.evictions.Add(1)
	}
}

func (c *lru[V]) remove(key []byte) {
	c.mu.Lock()
	if el, ok := c.items[string(key)]; ok {
		c.removeLocked(el)
	}
	c.mu.Unlock()
}

// removePrefix drops every entry whose key starts with prefix (a dropped bucket).
func (c *lru[V]) removePrefix(prefix []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, el := range c.items {
		if strings.HasPrefix(k, string(prefix)) {
			c.removeLocked(el)
		}
	}
}

func (c *lru[V]) removeLocked(el *list.Element) {
	en := c.order.Remove(el).(*lruEntry[V])
	delete(c.items, en.key)
	c.bytes -= en.bytes
}

func (c *lru[V]) stats() (bytes int64, entries int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.bytes, len(c.items)
}

// lruCollector exports a cache's budget, size, entries, hits, misses and evictions.
type lruCollector struct {
	caches                                       []interface{ collect() lruStats }
	budget, bytes, entries, hits, misses, evicts *prometheus.Desc
}

type lruStats struct {
	name                    string
	budget, bytes           int64
	entries                 int
	hits, misses, evictions uint64
}

func (c *lru[V]) collect() lruStats {
	b, n := c.stats()
	return lruStats{name: c.name, budget: c.budget, bytes: b, entries: n,
		hits: c.hits.Load(), misses: c.misses.Load(), evictions: c.evictions.Load()}
}

func newLRUCollector(caches ...interface{ collect() lruStats }) *lruCollector {
	l := []string{"cache"}
	return &lruCollector{
		caches:  caches,
		budget:  prometheus.NewDesc("strata_storage_index_cache_budget_bytes", "Byte budget of a storage cache: the tag index's (--series-cache-size, --postings-cache-size), block marks (block_marks, --block-marks-cache-size).", l, nil),
		bytes:   prometheus.NewDesc("strata_storage_index_cache_bytes", "Estimated bytes held by a storage cache.", l, nil),
		entries: prometheus.NewDesc("strata_storage_index_cache_entries", "Entries in a storage cache.", l, nil),
		hits:    prometheus.NewDesc("strata_storage_index_cache_hits_total", "Lookups a storage cache answered.", l, nil),
		misses:  prometheus.NewDesc("strata_storage_index_cache_misses_total", "Lookups a storage cache missed (sent to Pebble, or decoded from a block's start).", l, nil),
		evicts:  prometheus.NewDesc("strata_storage_index_cache_evictions_total", "Entries a storage cache dropped to stay within its budget.", l, nil),
	}
}

func (c *lruCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.budget, c.bytes, c.entries, c.hits, c.misses, c.evicts} {
		ch <- d
	}
}

func (c *lruCollector) Collect(ch chan<- prometheus.Metric) {
	for _, cc := range c.caches {
		s := cc.collect()
		ch <- prometheus.MustNewConstMetric(c.budget, prometheus.GaugeValue, float64(s.budget), s.name)
		ch <- prometheus.MustNewConstMetric(c.bytes, prometheus.GaugeValue, float64(s.bytes), s.name)
		ch <- prometheus.MustNewConstMetric(c.entries, prometheus.GaugeValue, float64(s.entries), s.name)
		ch <- prometheus.MustNewConstMetric(c.hits, prometheus.CounterValue, float64(s.hits), s.name)
		ch <- prometheus.MustNewConstMetric(c.misses, prometheus.CounterValue, float64(s.misses), s.name)
		ch <- prometheus.MustNewConstMetric(c.evicts, prometheus.CounterValue, float64(s.evictions), s.name)
	}
}

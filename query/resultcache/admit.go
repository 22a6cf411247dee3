package resultcache

import "hash/maphash"

// The doorkeeper: a key is cached from its second sight on, when that one's
// range overlaps the first's. Most aggregate
// statements are not repeated (TSBS sends random ranges, an analyst's query
// runs once), and for them the cache was pure cost: storing a miss's windows
// (rendering them for the cache, the entry, the memory the collector then
// scans) made TSBS's single-groupby-1-1-12 2.65x and 5-1-12 2.60x slower with
// the cache on than off (bench/tsbs/ab.sh COLD=1, stop 22). A dashboard
// repeats its statements every few seconds, so it pays one uncached run more.

// maxSeen bounds the keys the doorkeeper remembers (24 bytes each with the
// span, about 2 MB at most in its map): beyond it the set starts again
// empty, so a key seen once long ago must be seen twice anew. A dashboard's
// panels are hundreds of keys (one per group and call), far below it.
const maxSeen = 1 << 16

// seenRange is the cacheable windows' range [lo, hi] a key was last offered
// with.
type seenRange struct{ lo, hi int64 }

// Admit tells whether key's windows, those of [lo, hi], should be looked up
// and stored: true when key has an entry, or was offered before (since the
// doorkeeper last started afresh) with a range that overlaps [lo, hi], so
// that windows kept then would have served now; else false, and key is
// remembered with [lo, hi]. Two random 1-hour ranges of a day (TSBS's
// single-groupby-*-*-1) seldom overlap, so their repeats stay uncached;
// a dashboard's refreshes always do. A hash collision admits a key early,
// which costs only what a miss costs: what is cached is still keyed by the
// whole key.
func (c *Cache) Admit(key string, lo, hi int64) bool {
	h := maphash.String(c.seed, key)
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[key]; ok {
		return true
	}
	if sp, ok := c.seen[h]; ok && sp.lo <= hi && lo <= sp.hi {
		return true
	}
	if len(c.seen) >= maxSeen {
		clear(c.seen)
	}
	c.seen[h] = seenRange{lo, hi}
	c.unadmitted.Add(1)
	return false
}

package main

import (
	"flag"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"time"
)

// pebbleFixedBytes is the memory Pebble allocates outside the Go heap (with
// cgo, its manual allocator is C's): two 64 MiB memtables (one filling, one
// being flushed) and the 64 MiB block cache (storage/engine.go). The Go
// runtime's soft limit does not see it, so it is taken off --memory-limit
// before the rest is shared out.
const pebbleFixedBytes = 3 * 64 << 20

// minGoBudget keeps a tiny --memory-limit from deriving budgets of nothing:
// below it the shares are computed from this floor.
const minGoBudget = 64 << 20

// memoryPlan is how --memory-limit is split among the consumers that hold
// memory. Shares are of the Go budget (the limit less pebbleFixedBytes):
//
//   - writes 1/8: the bodies in flight (--max-inflight-write-bytes); the batch
//     parsed from a body costs about as much again while it is written
//     (ingest/write.go's DefaultMaxInflightWriteBytes comment), so writes hold
//     about 1/4;
//   - the head 1/16 (--head-max-bytes): writers stall at twice it while a flush
//     holds the previous head, so the head holds up to 3/16;
//   - queries 1/4 in all: --max-query-memory is it divided by
//     --max-concurrent-queries, each running query holding at most that;
//   - the tag index caches 1/32 each (--series-cache-size,
//     --postings-cache-size), block marks 1/64 (--block-marks-cache-size);
//   - the query result cache: --query-cache-size (64 MiB by default,
//     docs/cache.md), out of the rest;
//   - the rest, about 1/4: the catalog of series, goroutines and the garbage
//     between collections, which the runtime's soft limit keeps in check.
//
// The shares follow the defaults measured at 1 GiB of RAM: a 256 MiB query
// budget was a quarter of it (serve.go), 32 MiB of head gave 245 MB peak RSS on
// TSBS ingest (storage.Options.HeadMaxBytes). They are not a new measurement.
type memoryPlan struct {
	goLimit     int64 // the runtime's soft limit: --memory-limit less Pebble's
	inflight    int64
	headMax     int64
	queryMem    int64
	seriesCache int64
	postings    int64
	marks       int64
}

// planMemory splits limit (> 0) for maxQueries concurrent queries (<= 0: no
// limit, planned as the default count).
func planMemory(limit int64, maxQueries int) memoryPlan {
	goLimit := max(limit-pebbleFixedBytes, minGoBudget)
	if maxQueries <= 0 {
		maxQueries = defaultServeConfig().maxQueries
	}
	return memoryPlan{
		goLimit:     goLimit,
		inflight:    goLimit / 8,
		headMax:     goLimit / 16,
		queryMem:    goLimit / 4 / int64(maxQueries),
		seriesCache: goLimit / 32,
		postings:    goLimit / 32,
		marks:       goLimit / 64,
	}
}

// applyMemoryPlan derives, when --memory-limit is set, the budgets whose flags
// fs did not see set from the plan; a flag given explicitly keeps its value.
func applyMemoryPlan(cfg *serveConfig, fs *flag.FlagSet) {
	if cfg.memoryLimit <= 0 {
		return
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	p := planMemory(cfg.memoryLimit, cfg.maxQueries)
	for _, b := range []struct {
		flag string
		dst  *int64
		v    int64
	}{
		{"max-inflight-write-bytes", &cfg.maxInflight, p.inflight},
		{"head-max-bytes", &cfg.headMaxBytes, p.headMax},
		{"max-query-memory", &cfg.maxQueryMem, p.queryMem},
		{"series-cache-size", &cfg.seriesCache, p.seriesCache},
		{"postings-cache-size", &cfg.postingsCache, p.postings},
		{"block-marks-cache-size", &cfg.marksCache, p.marks},
	} {
		if !set[b.flag] {
			*b.dst = b.v
		}
	}
}

// heapGate tells whether the live heap is near the Go budget, for admission:
// writes get 429 and queries 503 (both with Retry-After) instead of growing the
// process past --memory-limit. The live heap is what the last collection
// marked (runtime/metrics /gc/heap/live:bytes), not the heap with its garbage,
// which the soft limit keeps near the limit by design: near the limit
// collections are frequent, so the figure is fresh when it matters.
type heapGate struct {
	threshold int64
	mu        sync.Mutex // guards sample
	sample    []metrics.Sample
	readAt    atomic.Int64 // unix nanoseconds of the last read
	over      atomic.Bool
}

// heapSampleEvery bounds how often a request reads runtime/metrics (a read is
// a few microseconds; the live heap changes only at a collection).
const heapSampleEvery = 10 * time.Millisecond

// newHeapGate refuses past 3/4 of the Go budget of limit: the planned
// consumers hold at most about that (memoryPlan), and with --gc-percent 50 a
// live heap above 2/3 of the soft limit already makes the collector run more
// often than its target; past 3/4 it would be thrashing, and admitting more
// is what drove the process to 1.95 GB under a 1 GiB limit (issue 10).
func newHeapGate(limit int64, maxQueries int) *heapGate {
	return &heapGate{
		threshold: planMemory(limit, maxQueries).goLimit / 4 * 3,
		sample:    []metrics.Sample{{Name: "/gc/heap/live:bytes"}},
	}
}

// near reports whether the live heap is past the threshold.
func (g *heapGate) near() bool {
	now := time.Now().UnixNano()
	if last := g.readAt.Load(); now-last < int64(heapSampleEvery) || !g.readAt.CompareAndSwap(last, now) {
		return g.over.Load()
	}
	g.mu.Lock()
	metrics.Read(g.sample)
	live := int64(g.sample[0].Value.Uint64())
	g.mu.Unlock()
	g.over.Store(live >= g.threshold)
	return g.over.Load()
}

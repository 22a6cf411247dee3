package main

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync/atomic"
)

// goHeapMinimum is the Go runtime's smallest heap goal at GOGC=100 (4 MiB,
// runtime/mgcpacer.go's defaultHeapMinimum); the runtime scales it by
// GOGC/100, so at a high GC percent it, not the live heap, sets the goal.
const goHeapMinimum = 4 << 20

// defaultGCHeapFloor is --gc-heap-floor's default: 32 MiB. On the TSBS
// 2-worker load (bench/tsbs/ingest-cpu.sh, 3 rounds, load average ~8) peak
// RSS was 141-148 MiB with it, 142-147 with the floor off and 136-144 for
// main, VictoriaMetrics 148-169: within the rounds' noise, because the live
// heap during ingest is above the floor. At rest it leaves a query
// allocating 20-50 KB one collection per ~1,000 queries instead of ~25.
const defaultGCHeapFloor = 32 << 20

// gcFloor keeps the garbage collector's heap goal at least floor bytes while
// the live heap is small, and leaves --gc-percent alone once it is not. At
// rest Strata's live heap is ~1.5 MB (Pebble's cache and memtables are off
// the Go heap), and at --gc-percent 50 Go's goal is then its 2 MiB minimum: a
// TSBS 12-hour query allocating 0.15-0.25 MB paid a collection every four to
// eight queries, and collections and the idle cores they wake were the
// largest stage of its CPU (docs/query-costs.md). During ingest the live heap
// is tens of MB, its goal at --gc-percent 50 is above the floor, and the
// peak RSS the percent was chosen for is unchanged.
//
// After every collection it sets the GC percent to the larger of base and
// the one whose goal reaches floor: (floor-live)/live, capped where the
// runtime's scaled minimum (goHeapMinimum × percent/100) reaches floor, since
// past that the minimum alone would take the goal over the floor.
type gcFloor struct {
	base   int
	floor  uint64
	sample []metrics.Sample
	// set is debug.SetGCPercent; tests watch it instead. Called once per
	// collection (it takes the heap lock and recomputes the pacer's goal, no
	// stop of the world).
	set     func(int) int
	stopped atomic.Bool
}

// startGCFloor sets the GC percent for the current live heap and re-sets it
// after every collection until stop. floor must be > 0.
func startGCFloor(base int, floor uint64) (stop func()) {
	g := &gcFloor{
		base:  base,
		floor: floor,
		set:   debug.SetGCPercent,
	}
	g.sample = liveHeapSample()
	g.adjust()
	g.arm()
	return func() {
		g.stopped.Store(true)
		g.set(g.base)
	}
}

// liveHeapSample is the runtime/metrics read adjust makes: the live heap.
func liveHeapSample() []metrics.Sample {
	return []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
}

// percentFor is the GC percent for a live heap of live bytes.
func (g *gcFloor) percentFor(live uint64) int {
	most := int(g.floor * 100 / goHeapMinimum)
	if most <= g.base {
		return g.base
	}
	if live == 0 {
		return most
	}
	if live >= g.floor {
		return g.base
	}
	p := int((g.floor - live) * 100 / live)
	return max(g.base, min(p, most))
}

// adjust reads the live heap the last collection marked and sets the percent
// for it.
func (g *gcFloor) adjust() {
	metrics.Read(g.sample)
	live := uint64(0)
	if g.sample[0].Value.Kind() == metrics.KindUint64 {
		live = g.sample[0].Value.Uint64()
	}
	g.set(g.percentFor(live))
}

// arm leaves an unreachable object whose finalizer runs after the next
// collection: it adjusts the percent and arms again. Finalizers run one at a
// time on the runtime's finalizer goroutine, so adjust never races itself.
func (g *gcFloor) arm() {
	s := new(gcSentinel)
	runtime.SetFinalizer(s, func(*gcSentinel) {
		if g.stopped.Load() {
			return
		}
		g.adjust()
		g.arm()
	})
}

// gcSentinel is the object arm leaves for the collector to find: 16 bytes
// with no pointers is neither zero-sized (all of those share one address)
// nor tiny (objects under 16 bytes share a block, and a finalizer then waits
// for the whole block).
type gcSentinel struct{ _ [16]byte }

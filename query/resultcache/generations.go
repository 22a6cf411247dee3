package resultcache

import (
	"math"
	"sync"
	"sync/atomic"

	"github.com/strata-db/strata/storage"
)

// slotWidth is the time granularity of a generation: a change bumps every
// minute it touched. A minute is the finest GROUP BY time a dashboard
// commonly uses (Grafana's $__interval at 6 h on a 1,500-pixel panel is 15 s
// to 1 min), so a late point invalidates at most the windows of its minute in
// the common case and one slot per minute costs 16 bytes of map per touched
// minute of a measurement.
const slotWidth = int64(60e9)

// maxSlotsPerMeasurement bounds the minutes one measurement remembers:
// 65,536 minutes (45 days of continuous writes, ~2 MB of map). Beyond it the
// measurement's slots fold into its floor, which invalidates all of its
// windows cached before: conservative, never stale.
const maxSlotsPerMeasurement = 1 << 16

// maxSpans bounds the wide changes (DELETE ranges, dropped series) a
// measurement remembers one by one; more fold into the floor.
const maxSpans = 32

// maxMeasurements bounds the (bucket, measurement) pairs tracked; beyond it
// everything folds into the global floor.
const maxMeasurements = 1 << 16

// Generations numbers the changes to stored data. Seq, read before a query
// reads its data, stamps what the query computes; Changed tells whether a
// change numbered later touched a span since. Bumps happen after the change
// is visible to readers and before it is acknowledged (the storage engine
// calls Touched then), which is what makes the stamp safe (docs/cache.md).
type Generations struct {
	seq atomic.Uint64

	mu    sync.RWMutex
	m     map[scope]*measurementGens
	floor uint64 // every change up to it may have touched anything
	tags  []storage.Tag
}

type scope struct {
	bucket      storage.BucketID
	measurement string
}

// measurementGens is one measurement's changes in one bucket.
type measurementGens struct {
	minutes map[int64]uint64 // minute index -> last change's number
	spans   []span           // changes wider than a few minutes
	floor   uint64           // any time of this measurement up to this number
}

type span struct {
	min, max int64 // inclusive, ns
	seq      uint64
}

// maxMinutesPerTouch: a change spanning more minutes than this is kept as a
// span instead of one slot per minute (a DELETE of a year is one span).
const maxMinutesPerTouch = 64

// NewGenerations returns an empty table: a new process has nothing cached.
func NewGenerations() *Generations {
	return &Generations{m: map[scope]*measurementGens{}}
}

// Seq is the number of the last change made visible. Read it before reading
// the data a cached result is computed from.
func (g *Generations) Seq() uint64 { return g.seq.Load() }

// Name implements storage.TouchObserver.
func (g *Generations) Name() string { return "resultcache" }

// Recover implements storage.TouchObserver: the cache starts empty on every
// open, so there is nothing to recover.
func (g *Generations) Recover(*storage.Engine) error { return nil }

// Checkpoint implements storage.TouchObserver: nothing is durable.
func (g *Generations) Checkpoint(*storage.CheckpointWriter) {}

// Touched implements storage.TouchObserver. Replayed changes are ignored:
// they happened before this process cached anything.
func (g *Generations) Touched(t *storage.Touch) {
	if t.Replay {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	n := g.seq.Load() + 1
	var last *measurementGens
	var lastName []byte
	lastMinute := int64(math.MinInt64)
	t.Each(func(key []byte, min, max int64) {
		m, tags, err := storage.ParseSeriesKey(key, g.tags)
		g.tags = tags[:0]
		if err != nil {
			g.floor = n // a key we cannot read: invalidate everything
			return
		}
		if last == nil || string(m) != string(lastName) {
			last, lastName, lastMinute = g.measurement(t.Bucket, m), m, math.MinInt64
		}
		if min == max {
			if mi := floorDiv(min, slotWidth); mi != lastMinute {
				lastMinute = mi
				last.bumpMinute(mi, n)
			}
			return
		}
		last.bumpRange(min, max, n)
	})
	g.seq.Store(n) // after the slots: a reader that sees n sees them
}

// measurement returns the entry of (b, m), creating it.
func (g *Generations) measurement(b storage.BucketID, m []byte) *measurementGens {
	k := scope{b, string(m)}
	mg, ok := g.m[k]
	if !ok {
		if len(g.m) >= maxMeasurements {
			// Too many to track one by one: forget them all behind the global
			// floor, which invalidates every window cached so far.
			g.m, g.floor = map[scope]*measurementGens{}, g.seq.Load()+1
		}
		mg = &measurementGens{minutes: map[int64]uint64{}}
		g.m[k] = mg
	}
	return mg
}

func (mg *measurementGens) bumpMinute(mi int64, n uint64) {
	mg.minutes[mi] = n
	mg.bound(n)
}

func (mg *measurementGens) bumpRange(min, max int64, n uint64) {
	lo, hi := floorDiv(min, slotWidth), floorDiv(max, slotWidth)
	if hi-lo < maxMinutesPerTouch {
		for mi := lo; mi <= hi; mi++ {
			mg.minutes[mi] = n
		}
		mg.bound(n)
		return
	}
	mg.spans = append(mg.spans, span{min, max, n})
	mg.bound(n)
}

// bound folds the measurement's slots and spans into its floor when they
// exceed their bounds; n is the change being made.
func (mg *measurementGens) bound(n uint64) {
	if len(mg.minutes) > maxSlotsPerMeasurement || len(mg.spans) > maxSpans {
		mg.minutes, mg.spans, mg.floor = map[int64]uint64{}, nil, n
	}
}

// Changed reports whether a change numbered after seq touched measurement m
// of bucket b within [min, max] (ns, inclusive).
func (g *Generations) Changed(b storage.BucketID, m string, min, max int64, seq uint64) bool {
	g.mu.RLock()
	defer g.mu.RUnlock()
	return g.changedLocked(b, m, min, max, seq)
}

func (g *Generations) changedLocked(b storage.BucketID, m string, min, max int64, seq uint64) bool {
	if g.floor > seq {
		return true
	}
	mg, ok := g.m[scope{b, m}]
	if !ok {
		return false
	}
	if mg.floor > seq {
		return true
	}
	for _, s := range mg.spans {
		if s.seq > seq && s.min <= max && min <= s.max {
			return true
		}
	}
	lo, hi := floorDiv(min, slotWidth), floorDiv(max, slotWidth)
	if hi-lo >= int64(len(mg.minutes)) {
		for mi, n := range mg.minutes {
			if n > seq && mi >= lo && mi <= hi {
				return true
			}
		}
		return false
	}
	for mi := lo; mi <= hi; mi++ {
		if mg.minutes[mi] > seq {
			return true
		}
	}
	return false
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

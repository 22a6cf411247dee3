package resultcache

import (
	"math"
	"sort"
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
	// bumped is the minute slots the change being recorded has bumped
	// (Touched's scratch, cleared after each change).
	bumped map[minuteOf]bool
}

type minuteOf struct {
	m      *measurementGens
	minute int64
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
	// recent is the latest changes in the order they were numbered (a minute
	// slot as the span of its minute), so that a lookup whose stamps are
	// recent (a dashboard refreshing every few seconds) reads only what
	// changed since instead of probing a minute per window. Changes numbered
	// up to recentFloor may be missing from it.
	recent      []span
	recentFloor uint64
}

type span struct {
	min, max int64 // inclusive, ns
	seq      uint64
}

// maxRecent bounds a measurement's log of recent changes: 4,096 changes (64
// KiB) cover minutes of heavy ingest (one change per write batch and minute);
// a lookup older than the log probes its windows' minutes instead.
const maxRecent = 4096

// maxMinutesPerTouch: a change spanning more minutes than this is kept as a
// span instead of one slot per minute (a DELETE of a year is one span).
const maxMinutesPerTouch = 64

// NewGenerations returns an empty table: a new process has nothing cached.
func NewGenerations() *Generations {
	return &Generations{m: map[scope]*measurementGens{}, bumped: map[minuteOf]bool{}}
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
		m, err := storage.SeriesKeyMeasurement(key)
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
				// Once per minute and measurement of the change: points of
				// a batch alternate between minutes (live and late writes of
				// each host), and a log entry per point would make every
				// lookup read thousands of changes.
				if k := (minuteOf{last, mi}); !g.bumped[k] {
					g.bumped[k] = true
					last.bumpMinute(mi, n)
				}
			}
			return
		}
		last.bumpRange(min, max, n)
	})
	clear(g.bumped)
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
	mg.log(span{mi * slotWidth, mi*slotWidth + slotWidth - 1, n})
	mg.bound(n)
}

// log appends c to the recent changes, dropping the older half when full.
func (mg *measurementGens) log(c span) {
	if k := len(mg.recent); k > 0 && mg.recent[k-1] == c {
		return
	}
	if len(mg.recent) == maxRecent {
		half := maxRecent / 2
		mg.recentFloor = mg.recent[half-1].seq
		mg.recent = append(mg.recent[:0], mg.recent[half:]...)
	}
	mg.recent = append(mg.recent, c)
}

func (mg *measurementGens) bumpRange(min, max int64, n uint64) {
	lo, hi := floorDiv(min, slotWidth), floorDiv(max, slotWidth)
	if hi-lo < maxMinutesPerTouch {
		for mi := lo; mi <= hi; mi++ {
			mg.minutes[mi] = n
			mg.log(span{mi * slotWidth, mi*slotWidth + slotWidth - 1, n})
		}
		mg.bound(n)
		return
	}
	mg.spans = append(mg.spans, span{min, max, n})
	mg.log(span{min, max, n})
	mg.bound(n)
}

// bound folds the measurement's slots and spans into its floor when they
// exceed their bounds; n is the change being made.
func (mg *measurementGens) bound(n uint64) {
	if len(mg.minutes) > maxSlotsPerMeasurement || len(mg.spans) > maxSpans {
		mg.minutes, mg.spans, mg.floor = map[int64]uint64{}, nil, n
		mg.recent, mg.recentFloor = mg.recent[:0], n
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
	return mg.changed(min, max, seq)
}

// changed reports whether a change numbered after seq touched [min, max].
func (mg *measurementGens) changed(min, max int64, seq uint64) bool {
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

// invalidateEach calls mark for each held window of ws (a lookup's view of
// an entry, rows.go; minSeq the least of
// their stamps) that a change numbered after its stamp touched in sc; mark
// must make ws report the window not held, so that it is marked once.
// Every change up to verified was weighed, so the windows left held are as
// valid as windows stamped verified (restamp); examined is how many changes
// or windows it had to weigh to tell.
func (g *Generations) invalidateEach(sc Scope, ws *entryView, minSeq uint64, end func(int64) int64, mark func(i int)) (verified uint64, examined int) {
	g.mu.RLock()
	defer g.mu.RUnlock()
	// Under the read lock no change is being recorded, and Touched stores a
	// change's number only after its slots: every change up to verified is
	// in the table.
	verified = g.seq.Load()
	n := ws.len()
	staleAt := func(i int, changeSeq uint64) bool {
		seq, ok := ws.held(i)
		return ok && changeSeq > seq
	}
	if g.floor > minSeq {
		for i := range n {
			if staleAt(i, g.floor) {
				mark(i)
			}
		}
	}
	for _, b := range sc.Buckets {
		mg, ok := g.m[scope{b, sc.Measurement}]
		if !ok {
			continue
		}
		if minSeq < mg.recentFloor || mg.floor > minSeq {
			// Older than the log: probe each window's minutes.
			examined += n
			for i := range n {
				if seq, ok := ws.held(i); ok && mg.changed(ws.start(i), end(ws.start(i))-1, seq) {
					mark(i)
				}
			}
			continue
		}
		k := sort.Search(len(mg.recent), func(i int) bool { return mg.recent[i].seq > minSeq })
		since := mg.recent[k:]
		if len(since) == 0 {
			continue
		}
		examined += len(since)
		// Each change since marks the windows it overlaps: a refresh's
		// stamps are recent, so there are few changes and many windows, and
		// a binary search per change beats probing every window's minutes.
		for _, c := range since {
			// The first window ending at or after c.min: the one before the
			// first that starts after it, if it reaches c.min (one call of
			// end per change: end is a calendar computation).
			i := sort.Search(n, func(i int) bool { return ws.start(i) > c.min })
			if i > 0 && end(ws.start(i-1))-1 >= c.min {
				i--
			}
			for ; i < n && ws.start(i) <= c.max; i++ {
				if staleAt(i, c.seq) {
					mark(i)
				}
			}
		}
	}
	return verified, examined
}

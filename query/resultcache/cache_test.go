package resultcache

import (
	"testing"
	"unsafe"

	"github.com/strata-db/strata/storage"
)

const minute = int64(60e9)

// touch records a change of measurement cpu in bucket 1 over [min, max]
// as the storage engine reports it.
func touch(t testing.TB, g *Generations, min, max int64) {
	t.Helper()
	g.mu.Lock()
	n := g.seq.Load() + 1
	mg := g.measurement(1, []byte("cpu"))
	if min/minute == max/minute {
		mg.bumpMinute(min/minute, n)
	} else {
		mg.bumpRange(min, max, n)
	}
	g.mu.Unlock()
	g.seq.Store(n)
}

// newTestCache is a cache of max bytes over fresh generations, with its
// scope, one bucket of "cpu", touched once: the measurement exists before
// any window is stamped.
func newTestCache(t testing.TB, max int64) (*Generations, *Cache, Scope) {
	g := NewGenerations()
	touch(t, g, 0, 0)
	return g, New(g, max), Scope{Buckets: []storage.BucketID{1}, Measurement: "cpu"}
}

func oneMinute(ws int64) int64 { return ws + minute }

// TestLookupInvalidatesExactly: windows stamped before a change that touched
// them are dropped; the others survive, through the log of recent changes and,
// once the stamps are older than the log, through the per-minute table.
func TestLookupInvalidatesExactly(t *testing.T) {
	for _, tc := range []struct {
		name    string
		filler  int // changes to other minutes before the tested ones (past maxRecent: the fallback)
		changes [][2]int64
		stale   []int64 // window indexes: invalidated
		gaps    bool    // windows 0, 4 and 8 were never stored (looked up anyway)
	}{
		{name: "no change", stale: nil},
		{name: "one minute", changes: [][2]int64{{3*minute + 5, 3*minute + 5}}, stale: []int64{3}},
		{name: "two minutes", changes: [][2]int64{{1 * minute, 1 * minute}, {7*minute + 1, 7*minute + 1}}, stale: []int64{1, 7}},
		{name: "small range", changes: [][2]int64{{2 * minute, 4*minute + 1}}, stale: []int64{2, 3, 4}},
		{name: "wide span", changes: [][2]int64{{-1000 * minute, 5 * minute}}, stale: []int64{0, 1, 2, 3, 4, 5}},
		{name: "older than the log", filler: maxRecent + 10, changes: [][2]int64{{6 * minute, 6 * minute}}, stale: []int64{6}},
		{name: "between uncached windows", gaps: true, changes: [][2]int64{{5*minute + 1, 5*minute + 1}, {9 * minute, 9 * minute}}, stale: []int64{5, 9}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g, c, sc := newTestCache(t, 1<<20)
			var starts []int64
			var ws []Window
			for i := int64(0); i < 10; i++ {
				starts = append(starts, i*minute)
				if tc.gaps && i%4 == 0 {
					continue
				}
				ws = append(ws, Window{Start: i * minute, Seq: g.Seq(), Value: []byte{byte(i)}})
			}
			c.Store("k", ws)
			for i := 0; i < tc.filler; i++ {
				m := int64(100+i%50) * minute
				touch(t, g, m, m)
			}
			for _, ch := range tc.changes {
				touch(t, g, ch[0], ch[1])
			}
			got := c.Lookup("k", sc, starts, oneMinute)
			want := map[int64]bool{}
			for _, i := range tc.stale {
				want[i] = true
			}
			for i := int64(0); tc.gaps && i < 10; i += 4 {
				want[i] = true // not found either
			}
			for i, w := range got {
				if w.Found == want[int64(i)] {
					t.Errorf("window %d: found %v, want %v", i, w.Found, !want[int64(i)])
				}
				if w.Found && w.Value[0] != byte(i) {
					t.Errorf("window %d: value %v", i, w.Value)
				}
			}
			// Stale windows are gone; a second lookup finds the same.
			again := c.Lookup("k", sc, starts, oneMinute)
			for i := range again {
				if again[i].Found != got[i].Found {
					t.Errorf("window %d: second lookup found %v", i, again[i].Found)
				}
			}
			if s := c.Stats(); s.Invalidations != int64(len(tc.stale)) {
				t.Errorf("invalidations %d, want %d", s.Invalidations, len(tc.stale))
			}
		})
	}
}

// TestStoreMergesAndBounds: stores merge by start, replace equal starts, and
// the byte budget evicts the least recently used entry.
func TestStoreMergesAndBounds(t *testing.T) {
	g := NewGenerations()
	c := New(g, 10*(windowOverhead+8))
	sc := Scope{Buckets: []storage.BucketID{1}, Measurement: "cpu"}
	val := func(b byte) []byte { return []byte{b, 0, 0, 0, 0, 0, 0, 0} }
	c.Store("a", []Window{{Start: 2 * minute, Value: val(2)}, {Start: 4 * minute, Value: val(4)}})
	c.Store("a", []Window{{Start: 1 * minute, Value: val(1)}, {Start: 4 * minute, Value: val(44)}})
	got := c.Lookup("a", sc, []int64{1 * minute, 2 * minute, 3 * minute, 4 * minute}, oneMinute)
	if !got[0].Found || !got[1].Found || got[2].Found || !got[3].Found || got[3].Value[0] != 44 {
		t.Fatalf("merged entry: %+v", got)
	}
	if s := c.Stats(); s.Bytes != 3*(windowOverhead+8) {
		t.Fatalf("bytes %d, want %d", s.Bytes, 3*(windowOverhead+8))
	}
	// Windows after the entry's last are appended in place; a Found flag
	// from a lookup is not kept.
	c.Store("a", []Window{{Start: 5 * minute, Value: val(5), Found: true}, {Start: 6 * minute, Value: val(6)}})
	all := c.Lookup("a", sc, []int64{1 * minute, 2 * minute, 4 * minute, 5 * minute, 6 * minute}, oneMinute)
	for i, want := range []byte{1, 2, 44, 5, 6} {
		if !all[i].Found || all[i].Value[0] != want {
			t.Fatalf("appended entry: window %d: %+v", i, all[i])
		}
	}
	c.mu.Lock()
	for _, w := range c.m["a"].Value.(*entry).windows {
		if w.Found {
			t.Errorf("window %d stored with Found", w.Start)
		}
	}
	c.mu.Unlock()
	if s := c.Stats(); s.Bytes != 5*(windowOverhead+8) {
		t.Fatalf("bytes %d, want %d", s.Bytes, 5*(windowOverhead+8))
	}
	// Windows the caller reads anyway count as misses, not hits.
	before := c.Stats()
	c.Forgo(got)
	if after := c.Stats(); after.Hits != before.Hits-3 || after.Misses != before.Misses+3 || got[0].Found {
		t.Fatalf("forgo: before %+v after %+v", before, after)
	}
	var big []Window
	for i := int64(0); i < 8; i++ {
		big = append(big, Window{Start: i * minute, Value: val(byte(i))})
	}
	c.Store("b", big) // 13 windows in all: a goes
	if got := c.Lookup("a", sc, []int64{minute}, oneMinute); got[0].Found {
		t.Fatal("least recently used entry not evicted")
	}
	if s := c.Stats(); s.Entries != 1 || s.Bytes != 8*(windowOverhead+8) {
		t.Fatalf("after eviction: %+v", s)
	}
}

// TestLookupRestamps: a lookup that weighed many changes restamps the windows
// it found valid, so the next one weighs only the changes after; a change
// after the restamp still invalidates exactly its window; and a window
// stored meanwhile under the same start keeps its own stamp.
func TestLookupRestamps(t *testing.T) {
	g, c, sc := newTestCache(t, 1<<20)
	var starts []int64
	var ws []Window
	for i := int64(0); i < 10; i++ {
		starts = append(starts, i*minute)
		ws = append(ws, Window{Start: i * minute, Seq: g.Seq(), Value: []byte{byte(i)}})
	}
	c.Store("k", ws)
	stamped := g.Seq()
	for i := 0; i < restampAfter; i++ { // live writes after the windows
		touch(t, g, 100*minute+int64(i), 100*minute+int64(i))
	}
	touch(t, g, 4*minute+1, 4*minute+1)
	got := c.Lookup("k", sc, starts, oneMinute)
	for i, w := range got {
		if w.Found == (i == 4) {
			t.Fatalf("window %d: found %v", i, w.Found)
		}
	}
	seqs := func() map[int64]uint64 {
		c.mu.Lock()
		defer c.mu.Unlock()
		m := map[int64]uint64{}
		for _, w := range c.m["k"].Value.(*entry).windows {
			m[w.Start] = w.Seq
		}
		return m
	}
	verified := g.Seq()
	for start, seq := range seqs() {
		if seq != verified {
			t.Errorf("window %d: stamp %d, want %d (restamped from %d)", start/minute, seq, verified, stamped)
		}
	}
	if _, ok := seqs()[4*minute]; ok {
		t.Error("stale window 4 kept")
	}

	touch(t, g, 7*minute+30e9, 7*minute+30e9)
	got = c.Lookup("k", sc, starts, oneMinute)
	for i, w := range got {
		if w.Found == (i == 4 || i == 7) {
			t.Fatalf("after the restamp, window %d: found %v", i, w.Found)
		}
	}

	// No store can come between a lookup's weighing and its restamp: both
	// happen under the cache's lock (Cache.weigh).
}

// TestWindowOverheadCoversTheLayout: the bytes a window is charged beyond
// its value (windowOverhead) cover the Window in the entry's slice and its
// row index entry, so the cache's budget holds.
func TestWindowOverheadCoversTheLayout(t *testing.T) {
	if n := unsafe.Sizeof(Window{}) + rowIndexOverhead; n > windowOverhead {
		t.Fatalf("a window takes %d bytes, charged %d", n, windowOverhead)
	}
}

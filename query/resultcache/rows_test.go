package resultcache

import (
	"bytes"
	"fmt"
	"math/rand"
	"testing"

	"github.com/strata-db/strata/storage"
)

// renderRows is rows for windows rendered side by side into one buffer,
// joined by sep, each left open to the buffer's end (as the query package
// stores rows); nil values stay nil (empty windows).
func renderRows(ws []Window, sep []byte, tag int) []Window {
	var buf []byte
	bounds := make([][2]int, len(ws))
	for i := range ws {
		if ws[i].Value == nil {
			continue
		}
		if len(buf) > 0 {
			buf = append(buf, sep...)
		}
		from := len(buf)
		buf = fmt.Appendf(buf, "[%d:%d]", ws[i].Start/minute, tag)
		bounds[i] = [2]int{from, len(buf)}
	}
	for i := range ws {
		if ws[i].Value != nil {
			ws[i].Value = buf[bounds[i][0]:bounds[i][1]]
		}
	}
	return ws
}

// TestLookupRowsAgreesWithLookup: over random refreshes (stores of new and
// recomputed windows in buffers of their own, empty windows, late changes,
// changes older than the log), two caches over one table given the same
// stores serve the same windows, LookupRows as runs and Lookup one by one:
// the rows joined are the same bytes, the unserved windows the same, and
// every piece is rows side by side in one buffer. Rejoin keeps that so.
func TestLookupRowsAgreesWithLookup(t *testing.T) {
	sep := []byte(",")
	indexed := int64(0)
	for seed := int64(1); seed <= 20; seed++ {
		rng := rand.New(rand.NewSource(seed))
		g := NewGenerations()
		rows, wins := New(g, 1<<30), New(g, 1<<30)
		sc := Scope{Buckets: []storage.BucketID{1}, Measurement: "cpu"}
		touch(t, g, 0, 0)
		var lk RowsLookup
		lagged := g.Seq()
		for step := 0; step < 60; step++ {
			from := int64(step)
			var starts []int64
			for i := from; i < from+30; i++ {
				starts = append(starts, i*minute)
			}
			// What a refresh stores: the windows it did not find, in a
			// buffer of its own, some empty, some not kept at all.
			rows.LookupRows(&lk, "k", sc, starts, oneMinute, sep, true)
			found := wins.Lookup("k", sc, starts, oneMinute)
			checkAgree(t, seed, step, starts, &lk, found, sep)
			if len(lk.Pieces) > 3 && rng.Intn(2) == 0 {
				if !rows.Rejoin("k", lk.Pieces, sep) {
					t.Fatalf("seed %d step %d: rejoin refused right after the lookup", seed, step)
				}
				checkAgree(t, seed, step, starts, &lk, found, sep)
			}
			// Changes land before the refresh stamps its new windows or after
			// it: before, a window stamped later than the changes follows
			// older windows they touched, so a lookup must weigh from the
			// least stamp of all, not the newest window's.
			changes := func() {
				for n := rng.Intn(3); n > 0; n-- {
					m := (from + int64(rng.Intn(40))) * minute
					touch(t, g, m+int64(rng.Intn(int(minute))), m+int64(rng.Intn(3))*minute)
				}
			}
			changesFirst := rng.Intn(3) == 0
			if changesFirst {
				changes()
			}
			// Stamped now, or, as a slower refresh that read before the last
			// steps' changes stores after them, with an older number.
			stamp := g.Seq()
			if rng.Intn(5) == 0 {
				stamp = lagged
			}
			lagged = g.Seq()
			var fresh []Window
			for i, ws := range starts {
				if found[i].Found || rng.Intn(10) == 0 {
					continue
				}
				w := Window{Start: ws, Seq: stamp}
				if rng.Intn(8) != 0 {
					w.Value = []byte{1}
				}
				fresh = append(fresh, w)
			}
			fresh = renderRows(fresh, sep, step)
			rows.Store("k", append([]Window(nil), fresh...))
			wins.Store("k", fresh)
			if !changesFirst {
				changes()
			}
			if rng.Intn(15) == 0 {
				for i := 0; i < maxRecent+1; i++ { // push the stamps out of the log
					touch(t, g, 1000*minute, 1000*minute)
				}
			}
		}
		indexed += rows.indexedLookups.Load()
	}
	// Both of LookupRows' paths ran: the row index's (an entry's newest
	// windows, all valid) and the walk's.
	if indexed == 0 || indexed == 20*60 {
		t.Fatalf("%d of %d lookups from the row index", indexed, 20*60)
	}
}

func checkAgree(t *testing.T, seed int64, step int, starts []int64, lk *RowsLookup, found []Window, sep []byte) {
	t.Helper()
	var want, got [][]byte
	var unserved []int
	var empty []bool
	hits, nrows := 0, 0
	for i, w := range found {
		switch {
		case w.Found && w.Value != nil:
			want = append(want, w.Value)
			hits++
			nrows++
		case w.Found:
			unserved, empty = append(unserved, i), append(empty, true)
			hits++
		default:
			unserved, empty = append(unserved, i), append(empty, false)
		}
	}
	n := 0
	for _, p := range lk.Pieces {
		got = append(got, p.Bytes)
		n += p.Rows
	}
	if g, w := bytes.Join(got, sep), bytes.Join(want, sep); !bytes.Equal(g, w) {
		t.Fatalf("seed %d step %d: rows %q, want %q", seed, step, g, w)
	}
	if n != nrows || lk.Rows != nrows || lk.Hits != hits {
		t.Fatalf("seed %d step %d: %d rows in pieces, Rows %d, Hits %d; want %d rows, %d hits", seed, step, n, lk.Rows, lk.Hits, nrows, hits)
	}
	if fmt.Sprint(lk.Unserved, lk.HeldEmpty) != fmt.Sprint(unserved, empty) {
		t.Fatalf("seed %d step %d: unserved %v %v, want %v %v", seed, step, lk.Unserved, lk.HeldEmpty, unserved, empty)
	}
	for _, p := range lk.Pieces {
		// A piece's rows are consecutive windows, none unserved between.
		for _, i := range lk.Unserved {
			if s := starts[i]; s > p.First && s < p.Last {
				t.Fatalf("seed %d step %d: piece %d..%d spans unserved window %d", seed, step, p.First, p.Last, s)
			}
		}
	}
}

// TestRejoinRefusesChangedEntry: a rejoin after the entry changed under the
// pieces (a window dropped, or stored anew) changes nothing.
func TestRejoinRefusesChangedEntry(t *testing.T) {
	sep := []byte(",")
	g, c, sc := newTestCache(t, 1<<20)
	var starts []int64
	for i := int64(0); i < 6; i++ {
		starts = append(starts, i*minute)
		// One buffer per window: six pieces.
		c.Store("k", renderRows([]Window{{Start: i * minute, Seq: g.Seq(), Value: []byte{1}}}, sep, 0))
	}
	var lk RowsLookup
	c.LookupRows(&lk, "k", sc, starts, oneMinute, sep, true)
	if len(lk.Pieces) != 6 {
		t.Fatalf("%d pieces, want 6", len(lk.Pieces))
	}
	c.Store("k", renderRows([]Window{{Start: 2 * minute, Seq: g.Seq(), Value: []byte{1}}}, sep, 9))
	addrs := func() string {
		var s string
		for _, p := range lk.Pieces {
			s += fmt.Sprintf("%p/%d ", &p.Bytes[0], len(p.Bytes))
		}
		return s
	}
	before := addrs()
	if c.Rejoin("k", lk.Pieces, sep) {
		t.Fatal("rejoined over a window stored anew")
	}
	if addrs() != before {
		t.Fatal("a refused rejoin changed the pieces")
	}
	c.LookupRows(&lk, "k", sc, starts, oneMinute, sep, true)
	if !c.Rejoin("k", lk.Pieces, sep) {
		t.Fatal("rejoin refused on an unchanged entry")
	}
	c.LookupRows(&lk, "k", sc, starts, oneMinute, sep, true)
	if len(lk.Pieces) != 1 || lk.Rows != 6 {
		t.Fatalf("after rejoin: %d pieces of %d rows, want 1 of 6", len(lk.Pieces), lk.Rows)
	}
}

// TestRowIndexWeighsAppendedOlderStamp: a slower refresh that read before a
// change stores its window after a faster one stored newer windows: the
// row index must weigh from the appended window's older stamp, so the
// change still makes the window stale.
func TestRowIndexWeighsAppendedOlderStamp(t *testing.T) {
	sep := []byte(",")
	g, c, sc := newTestCache(t, 1<<20)
	slow := g.Seq()                     // the slower refresh reads here
	touch(t, g, 4*minute+1, 4*minute+1) // a late point into its window
	var ws []Window
	var starts []int64
	for i := int64(0); i < 4; i++ {
		starts = append(starts, i*minute)
		ws = append(ws, Window{Start: i * minute, Seq: g.Seq(), Value: []byte{1}})
	}
	c.Store("k", renderRows(ws, sep, 0)) // the faster refresh, after the point
	var lk RowsLookup
	c.LookupRows(&lk, "k", sc, starts, oneMinute, sep, true)
	if lk.Rows != 4 || c.indexedLookups.Load() != 1 {
		t.Fatalf("%d rows, %d from the index; want 4, 1", lk.Rows, c.indexedLookups.Load())
	}
	c.Store("k", renderRows([]Window{{Start: 4 * minute, Seq: slow, Value: []byte{1}}}, sep, 1))
	starts = append(starts, 4*minute)
	c.LookupRows(&lk, "k", sc, starts, oneMinute, sep, true)
	if lk.Rows != 4 || fmt.Sprint(lk.Unserved) != "[4]" {
		t.Fatalf("%d rows, unserved %v: want the slower refresh's window stale", lk.Rows, lk.Unserved)
	}
}

// TestRowIndexCutsStaleNewest: a live panel's refresh, where every write
// makes the cached window holding now stale, is still served from the row
// index: the stale newest window is cut off the entry, the rest served as
// one piece, and the window stored again appends to the index.
func TestRowIndexCutsStaleNewest(t *testing.T) {
	sep := []byte(",")
	g, c, sc := newTestCache(t, 1<<20)
	var starts []int64
	var ws []Window
	for i := int64(0); i < 10; i++ {
		starts = append(starts, i*minute)
		ws = append(ws, Window{Start: i * minute, Seq: g.Seq(), Value: []byte{1}})
	}
	c.Store("k", renderRows(ws, sep, 0))
	var lk RowsLookup
	for round := 1; round <= 3; round++ {
		touch(t, g, 9*minute+int64(round), 9*minute+int64(round)) // a live point into the newest window
		c.LookupRows(&lk, "k", sc, starts, oneMinute, sep, true)
		if lk.Rows != 9 || len(lk.Pieces) != 1 || fmt.Sprint(lk.Unserved) != "[9]" {
			t.Fatalf("round %d: %d rows in %d pieces, unserved %v; want 9 in 1, [9]", round, lk.Rows, len(lk.Pieces), lk.Unserved)
		}
		if got := c.indexedLookups.Load(); got != int64(round) {
			t.Fatalf("round %d: %d lookups from the row index, want %d", round, got, round)
		}
		c.Store("k", renderRows([]Window{{Start: 9 * minute, Seq: g.Seq(), Value: []byte{1}}}, sep, round))
	}
	if c.invalidations.Load() != 3 {
		t.Fatalf("%d invalidations, want 3", c.invalidations.Load())
	}
}

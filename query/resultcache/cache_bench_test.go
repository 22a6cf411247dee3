package resultcache

import (
	"fmt"
	"slices"
	"testing"
)

// refreshFixture is a cache over one bucket of "cpu", touched once, and the
// starts of a dashboard panel's 360 one-minute windows.
func refreshFixture(b *testing.B) (*Generations, *Cache, Scope, []int64) {
	g, c, sc := newTestCache(b, 1<<30)
	starts := make([]int64, 360)
	for i := range starts {
		starts[i] = int64(i) * minute
	}
	return g, c, sc, starts
}

// BenchmarkLookupRefresh is a dashboard refresh's lookups: 100 series, 360
// one-minute windows each, all still valid, into reused slices (as the row
// cache does).
func BenchmarkLookupRefresh(b *testing.B) {
	g, c, sc, starts := refreshFixture(b)
	ws := make([]Window, 360)
	for i := range starts {
		ws[i] = Window{Start: starts[i], Seq: g.Seq(), Value: []byte("[1451606400000000000,42.5]")}
	}
	keys := make([]string, 100)
	for k := range keys {
		keys[k] = fmt.Sprintf("rows|host_%d", k)
		c.Store(keys[k], slices.Clone(ws)) // Store takes its slice
	}
	var dst []Window
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, k := range keys {
			dst = c.LookupInto(dst, k, sc, starts, oneMinute)
			if !dst[359].Found {
				b.Fatal("not found")
			}
		}
	}
}

// BenchmarkLookupAfterWrites is BenchmarkLookupRefresh with the windows
// stamped 1,000 changes ago (live writes to the minute after them, a
// second's batch each): a dashboard panel open for a quarter of an hour.
// The first lookup of each key restamps its windows; the later ones weigh
// only the changes since.
func BenchmarkLookupAfterWrites(b *testing.B) {
	g, c, sc, starts := refreshFixture(b)
	ws := make([]Window, 360)
	for i := range starts {
		ws[i] = Window{Start: starts[i], Seq: g.Seq(), Value: []byte("[1451606400000000000,42.5]")}
	}
	keys := make([]string, 100)
	for k := range keys {
		keys[k] = fmt.Sprintf("rows|host_%d", k)
		c.Store(keys[k], slices.Clone(ws))
	}
	for i := int64(0); i < 1000; i++ {
		live := 360*minute + i*1e9
		touch(b, g, live, live)
	}
	var dst []Window
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, k := range keys {
			dst = c.LookupInto(dst, k, sc, starts, oneMinute)
			if !dst[359].Found {
				b.Fatal("not found")
			}
		}
	}
}

// BenchmarkLookupRowsRefresh is BenchmarkLookupRefresh as the row cache looks
// up: each series' 360 rows rendered side by side by one answer, handed over
// as one piece (LookupRows), against a copy of every window to walk
// (LookupInto, the benchmark above).
func BenchmarkLookupRowsRefresh(b *testing.B) {
	g, c, sc, starts := refreshFixture(b)
	sep := []byte(",")
	keys := make([]string, 100)
	for k := range keys {
		keys[k] = fmt.Sprintf("rows|host_%d", k)
		ws := make([]Window, 360)
		for i := range ws {
			ws[i] = Window{Start: starts[i], Seq: g.Seq(), Value: []byte{1}}
		}
		c.Store(keys[k], renderRows(ws, sep, k))
	}
	var lk RowsLookup
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, k := range keys {
			c.LookupRows(&lk, k, sc, starts, oneMinute, sep, true)
			if len(lk.Pieces) != 1 || lk.Rows != 360 {
				b.Fatalf("%d pieces of %d rows", len(lk.Pieces), lk.Rows)
			}
		}
	}
}

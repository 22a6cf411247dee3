package storage

import (
	"testing"
)

// TestCursorMarks: a range read of a flushed block of TSBS-like integers
// leaves the block's marks in the cache, a later read of another range of
// the block finds them, and both read what a read without marks reads (a
// cache of one byte keeps none).
func TestCursorMarks(t *testing.T) {
	read := func(e *Engine, lo, hi int64) []int64 {
		t.Helper()
		bk := bucketOf(t, e, "db")
		ids, _ := e.SeriesIDs(bk, "m", nil)
		f, _ := e.Fields(bk, "m")
		cur, err := e.NewCursor(bk, SeriesID(ids.Minimum()), f[0].ID, lo, hi)
		if err != nil {
			t.Fatal(err)
		}
		defer cur.Close()
		var out []int64
		for cur.Next() {
			col, err := cur.Column()
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, col.Ints...)
		}
		return out
	}
	const n, step = 4000, int64(10e9)
	var pts []pt
	v := int64(50)
	for i := range n {
		v += int64(i*7%5) - 2 // small steps: FSE-coded
		pts = append(pts, pt{"m", nil, map[string]any{"v": v}, int64(i) * step})
	}
	open := func(opts Options) *Engine {
		e := openTestEngine(t, t.TempDir(), opts)
		e.CreateDatabase("db", nil)
		write(t, e, "db", pts...)
		e.Flush()
		return e
	}
	e, plain := open(Options{}), open(Options{MarksCacheBytes: 1})
	defer e.Close()
	defer plain.Close()
	for k, rg := range [][2]int64{{3000 * step, 3360 * step}, {1200 * step, 1560 * step}, {3500 * step, 3900 * step}, {3700 * step, n * step}} {
		got, want := read(e, rg[0], rg[1]), read(plain, rg[0], rg[1])
		if len(want) == 0 || len(got) != len(want) {
			t.Fatalf("range %d: %d values, want %d", k, len(got), len(want))
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("range %d: value %d is %d, want %d", k, i, got[i], want[i])
			}
		}
		if hits := e.marks.hits.Load(); hits != uint64(k) {
			t.Fatalf("after read %d: %d marks cache hits, want %d", k, hits, k)
		}
	}
	if _, entries := e.marks.stats(); entries != 1 {
		t.Fatalf("%d marks entries, want 1", entries)
	}
	if _, entries := plain.marks.stats(); entries != 0 {
		t.Fatalf("a cache of 1 byte holds %d marks entries", entries)
	}
}

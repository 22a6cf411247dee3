package storage

import (
	"math"
	"slices"
	"testing"
)

// TestCursorPartialReads: over blocks cut by the range, whole blocks, and a
// block merged with head points, Values gives each chunk's values as Column
// does (without times exactly for the whole stored blocks) and Times each
// chunk's times as Column does.
func TestCursorPartialReads(t *testing.T) {
	e := openTestEngine(t, t.TempDir(), Options{})
	defer e.Close()
	e.CreateDatabase("db", nil)
	n := int64(maxBlockPoints)
	var pts []pt
	for i := int64(0); i < 4*n; i++ {
		pts = append(pts, pt{"m", nil, map[string]any{"v": float64(i % 97)}, i})
	}
	write(t, e, "db", pts...)
	if err := e.Flush(); err != nil {
		t.Fatal(err)
	}
	// A head point inside the third block: that block merges with the head.
	write(t, e, "db", pt{"m", nil, map[string]any{"v": -1.0}, 2*n + 5})
	bk := bucketOf(t, e, "db")
	ids, _ := e.SeriesIDs(bk, "m", nil)
	f, _ := e.Fields(bk, "m")
	for _, tc := range []struct {
		name      string
		lo, hi    int64
		wantWhole int // chunks that are one stored block inside the range
	}{
		{"everything", math.MinInt64, math.MaxInt64, 3},
		{"cut at both ends", 10, 4*n - 10, 1},
		{"inside one block", 20, 30, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			open := func() *Cursor {
				cur, err := e.NewCursor(bk, SeriesID(ids.Minimum()), f[0].ID, tc.lo, tc.hi)
				if err != nil {
					t.Fatal(err)
				}
				return cur
			}
			full, part, times := open(), open(), open()
			defer full.Close()
			defer part.Close()
			defer times.Close()
			whole := 0
			var ts []int64
			for full.Next() {
				if !part.Next() || !times.Next() {
					t.Fatal("partial cursors ended early")
				}
				col, err := full.Column()
				if err != nil {
					t.Fatal(err)
				}
				vals, err := part.Values()
				if err != nil {
					t.Fatal(err)
				}
				if part.Stats() != nil {
					whole++
					if len(vals.Times) != 0 {
						t.Fatalf("Values of a whole block has %d times", len(vals.Times))
					}
				} else if !slices.Equal(vals.Times, col.Times) {
					t.Fatal("Values of a merged or cut chunk lost its times")
				}
				if !slices.Equal(vals.Floats, col.Floats) {
					t.Fatalf("Values %v…, Column %v…", vals.Floats[:3], col.Floats[:3])
				}
				if ts, err = times.Times(ts); err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(ts, col.Times) {
					t.Fatalf("Times %d values, Column %d", len(ts), len(col.Times))
				}
			}
			if part.Next() || times.Next() {
				t.Fatal("partial cursors have more chunks")
			}
			for _, c := range []*Cursor{full, part, times} {
				if err := c.Err(); err != nil {
					t.Fatal(err)
				}
			}
			if whole != tc.wantWhole {
				t.Fatalf("%d whole blocks, want %d", whole, tc.wantWhole)
			}
		})
	}
}

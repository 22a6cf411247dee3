package query

import (
	"bytes"
	"fmt"
	"slices"
	"testing"

	"github.com/strata-db/strata/query/resultcache"
)

// rendered is rows of the given windows rendered into one buffer joined by
// sep, as storeRows leaves them: Rows capped, open slices for the cache.
func rendered(starts []int64, sep []byte) (rows []Row, open [][]byte) {
	var buf []byte
	var bounds []int
	for i, ws := range starts {
		if i > 0 {
			buf = append(buf, sep...)
		}
		from := len(buf)
		buf = fmt.Appendf(buf, "[%d]", ws)
		bounds = append(bounds, from, len(buf))
	}
	for i, ws := range starts {
		from, to := bounds[2*i], bounds[2*i+1]
		rows = append(rows, Row{Time: ws, Encoded: buf[from:to:to]})
		open = append(open, buf[from:to])
	}
	return rows, open
}

// TestJoinRows: the joined rows are the naive concatenation in time order,
// and runs that one buffer holds side by side come out as one Row each.
func TestJoinRows(t *testing.T) {
	sep := []byte(",\n")
	_, earlier := rendered([]int64{1, 2, 3, 4, 5, 6}, sep) // a previous answer's buffer
	_, other := rendered([]int64{8}, sep)                  // another answer's
	tests := []struct {
		name     string
		cached   map[int64][]byte // by window: the cache's value (nil: empty window)
		starts   []int64          // the windows looked up
		fresh    []int64          // windows computed now
		wantRuns int
	}{
		{"one run", map[int64][]byte{1: earlier[0], 2: earlier[1], 3: earlier[2]}, []int64{1, 2, 3}, nil, 1},
		{"stale middle recomputed", map[int64][]byte{1: earlier[0], 3: earlier[2], 4: earlier[3]}, []int64{1, 2, 3, 4}, []int64{2}, 3},
		{"fresh edges", map[int64][]byte{2: earlier[1], 3: earlier[2]}, []int64{2, 3}, []int64{0, 9}, 3},
		{"two buffers", map[int64][]byte{5: earlier[4], 6: earlier[5], 8: other[0]}, []int64{5, 6, 7, 8}, []int64{7}, 3},
		{"gap in one buffer", map[int64][]byte{1: earlier[0], 3: earlier[2]}, []int64{1, 2, 3}, nil, 2},
		{"empty window skipped", map[int64][]byte{1: earlier[0], 2: nil, 3: earlier[2]}, []int64{1, 2, 3}, nil, 2},
		{"fresh only", nil, []int64{1}, []int64{1, 2}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var pieces []resultcache.Piece // a row each: joinRows joins the adjacent
			var want [][]byte
			fresh, open := rendered(tt.fresh, sep)
			j := 0
			for _, ws := range tt.starts {
				v, ok := tt.cached[ws]
				if ok && v != nil {
					pieces = append(pieces, resultcache.Piece{First: ws, Last: ws, Rows: 1, Bytes: v})
				}
				for j < len(fresh) && fresh[j].Time < ws {
					want = append(want, fresh[j].Encoded)
					j++
				}
				if ok && v != nil {
					want = append(want, v)
				}
			}
			for ; j < len(fresh); j++ {
				want = append(want, fresh[j].Encoded)
			}
			rows := joinRows(pieces, fresh, open, sep)
			var got [][]byte
			n := 0
			for _, r := range rows {
				got = append(got, r.Encoded)
				n += max(1, r.EncodedRows)
				if cap(r.Encoded) != len(r.Encoded) {
					t.Errorf("row at %d not capped: an append would reach the next row", r.Time)
				}
			}
			if g, w := bytes.Join(got, sep), bytes.Join(want, sep); !bytes.Equal(g, w) {
				t.Fatalf("joined %q, want %q", g, w)
			}
			if n != len(want) || len(rows) != tt.wantRuns {
				t.Errorf("%d rows in %d pieces, want %d in %d", n, len(rows), len(want), tt.wantRuns)
			}
		})
	}
}

// TestUnservedStarts: the windows a partly cached group prints afresh are
// every window of all the lookup does not serve a row of, as a walk over
// all of them finds: before the looked-up run, the unserved inside it
// (missing or cached empty), and after it.
func TestUnservedStarts(t *testing.T) {
	m := int64(60e9)
	found := func(served ...bool) []resultcache.Window {
		var ws []resultcache.Window
		for i, s := range served {
			w := resultcache.Window{Start: int64(10+i) * m}
			if s {
				w.Found, w.Value = true, []byte("row")
			}
			ws = append(ws, w)
		}
		return ws
	}
	minutes := func(ms ...int64) []int64 {
		out := []int64{}
		for _, x := range ms {
			out = append(out, x*m)
		}
		return out
	}
	for _, tc := range []struct {
		name  string
		all   []int64
		found []resultcache.Window
		want  []int64
	}{
		{"all served", minutes(10, 11, 12), found(true, true, true), minutes()},
		{"edge and now", minutes(9, 10, 11, 12, 13), found(true, true, false), minutes(9, 12, 13)},
		{"late write inside", minutes(10, 11, 12, 13), found(true, false, true, true), minutes(11)},
		{"fill none: only windows with points", minutes(9, 11), found(true, false, false), minutes(9, 11)},
		{"nothing served", minutes(10, 11), found(false, false), minutes(10, 11)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var unserved []int
			hits := 0
			for i, w := range tc.found {
				if w.Found && w.Value != nil {
					hits++
				} else {
					unserved = append(unserved, i)
				}
			}
			// The walk it replaces.
			var walk []int64
			for _, ws := range tc.all {
				served := false
				for _, w := range tc.found {
					served = served || (w.Start == ws && w.Found && w.Value != nil)
				}
				if !served {
					walk = append(walk, ws)
				}
			}
			var starts []int64
			for _, w := range tc.found {
				starts = append(starts, w.Start)
			}
			got := unservedStarts(tc.all, starts, unserved, hits)
			if !slices.Equal(got, tc.want) || !slices.Equal(got, walk) {
				t.Errorf("got %v, want %v (walk %v)", got, tc.want, walk)
			}
		})
	}
}

package storage

import (
	"math/rand"
	"sort"
	"testing"

	"github.com/strata-db/strata/storage/block"
)

// TestMergeColumnsMatchesLastWriteWins checks the k-way merge against a map that
// applies the sources from lowest to highest priority.
func TestMergeColumnsMatchesLastWriteWins(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	for round := 0; round < 500; round++ {
		k := 1 + rng.Intn(4)
		cols := make([]*block.Column, k)
		prio := make([]uint64, k)
		for i := range cols {
			prio[i] = uint64(rng.Intn(10)*10 + i) // distinct priorities
			set := map[int64]bool{}
			n := rng.Intn(40)
			base := int64(rng.Intn(60))
			for len(set) < n {
				set[base+int64(rng.Intn(50))] = true
			}
			c := &block.Column{Type: block.Float}
			for ts := range set {
				c.Times = append(c.Times, ts)
			}
			sort.Slice(c.Times, func(a, b int) bool { return c.Times[a] < c.Times[b] })
			for range c.Times {
				c.Floats = append(c.Floats, float64(i))
			}
			cols[i] = c
		}
		if cols[0].Len() == 0 && k == 1 {
			continue
		}
		order := make([]int, k)
		for i := range order {
			order[i] = i
		}
		sort.Slice(order, func(a, b int) bool { return prio[order[a]] < prio[order[b]] })
		want := map[int64]float64{}
		for _, i := range order {
			for j, ts := range cols[i].Times {
				want[ts] = cols[i].Floats[j]
			}
		}
		got := mergeColumns(cols, prio)
		if got.Len() != len(want) || len(got.Floats) != got.Len() {
			t.Fatalf("round %d: %d rows, want %d", round, got.Len(), len(want))
		}
		for j, ts := range got.Times {
			if j > 0 && got.Times[j-1] >= ts {
				t.Fatalf("round %d: times not strictly increasing", round)
			}
			if got.Floats[j] != want[ts] {
				t.Fatalf("round %d: t=%d from source %v, want %v", round, ts, got.Floats[j], want[ts])
			}
		}
	}
}

// TestSortDedupLastWriteWins checks sortDedup and sortDedupChunks (the same
// rows cut into a head's chunks), both their merge of a few sorted runs and
// their sort of many, against a map applying the rows in arrival order.
func TestSortDedupLastWriteWins(t *testing.T) {
	cases := []struct {
		name       string
		runs, span int
	}{
		{"one run", 1, 50},
		{"two runs, as two loaders", 2, 50},
		{"a few overlapping runs", 5, 30},
		{"maxMergedRuns", maxMergedRuns, 40},
		{"more runs than maxMergedRuns: sorted", 3 * maxMergedRuns, 20},
		{"single rows", 200, 1},
	}
	rng := rand.New(rand.NewSource(11))
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for round := 0; round < 50; round++ {
				c := &block.Column{Type: block.Integer}
				want := map[int64]int64{}
				row := int64(0)
				for r := 0; r < tc.runs; r++ {
					ts := int64(rng.Intn(100))
					for k := 0; k < 1+rng.Intn(tc.span); k++ {
						ts += 1 + int64(rng.Intn(3)) // strictly increasing within a run
						c.Times = append(c.Times, ts)
						c.Ints = append(c.Ints, row)
						want[ts] = row
						row++
					}
				}
				// The head's chunks: the same rows cut at random places.
				var chunks []*block.Column
				for i := 0; i < len(c.Times); {
					j := min(len(c.Times), i+1+rng.Intn(40))
					chunks = append(chunks, sliceColumn(c, i, j))
					i = j
				}
				for name, got := range map[string]*block.Column{"sortDedup": sortDedup(c), "sortDedupChunks": sortDedupChunks(block.Integer, chunks)} {
					if len(got.Times) != len(want) || len(got.Ints) != len(want) {
						t.Fatalf("%s, round %d: %d rows (%d values), want %d", name, round, len(got.Times), len(got.Ints), len(want))
					}
					for i, ts := range got.Times {
						if i > 0 && ts <= got.Times[i-1] {
							t.Fatalf("%s, round %d: times not strictly increasing at %d: %v", name, round, i, got.Times)
						}
						if got.Ints[i] != want[ts] {
							t.Fatalf("%s, round %d: time %d holds row %d, want the last write, row %d", name, round, ts, got.Ints[i], want[ts])
						}
					}
				}
			}
		})
	}
}

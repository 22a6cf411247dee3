package storage

import (
	"slices"
	"testing"

	"github.com/strata-db/strata/storage/block"
)

// TestViewsOfFindsTheRange: the binary search for the first chunk reaching
// min cuts the same views as a walk over every chunk, also with empty chunks
// among the others (an empty chunk is read as reaching min).
func TestViewsOfFindsTheRange(t *testing.T) {
	chunk := func(times ...int64) *block.Column {
		return &block.Column{Type: block.Float, Times: times, Floats: make([]float64, len(times))}
	}
	layouts := map[string][]*block.Column{
		"one":           {chunk(1, 2, 3, 4)},
		"several":       {chunk(1, 2), chunk(3, 4, 5), chunk(6), chunk(7, 8, 9, 10)},
		"empty between": {chunk(1, 2), chunk(), chunk(3, 4), chunk(), chunk(), chunk(8, 9)},
		"empty first":   {chunk(), chunk(5, 6), chunk(7)},
		"empty last":    {chunk(1), chunk(2, 3), chunk()},
	}
	// times returns the points of views, in order.
	times := func(views []*block.Column) []int64 {
		var out []int64
		for _, v := range views {
			out = append(out, v.Times...)
		}
		return out
	}
	for name, chunks := range layouts {
		all := times(chunks)
		for min := int64(0); min <= 11; min++ {
			for max := min - 1; max <= 11; max++ {
				var want []int64
				for _, ts := range all {
					if ts >= min && ts <= max {
						want = append(want, ts)
					}
				}
				if got := times(viewsOf(chunks, min, max)); !slices.Equal(got, want) {
					t.Errorf("%s [%d, %d]: %v, want %v", name, min, max, got, want)
				}
			}
		}
	}
}

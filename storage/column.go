package storage

import (
	"cmp"
	"math"
	"slices"
	"sort"

	"github.com/strata-db/strata/storage/block"
)

// value is one field value on its way from a Batch to the head.
type value struct {
	typ  FieldType
	bits uint64 // float64 bits, int64, uint64, or 0/1 for booleans
	str  []byte
}

// appendValue appends (t, v) to c, which must be of v's type. Strings are copied into
// *arena so the column never aliases a request buffer.
func appendValue(c *block.Column, arena *[]byte, t int64, v value) {
	c.Times = append(c.Times, t)
	switch c.Type {
	case block.Float:
		c.Floats = append(c.Floats, math.Float64frombits(v.bits))
	case block.Integer:
		c.Ints = append(c.Ints, int64(v.bits))
	case block.Unsigned:
		c.Uints = append(c.Uints, v.bits)
	case block.Boolean:
		c.Bools = append(c.Bools, v.bits != 0)
	case block.String:
		n := len(*arena)
		*arena = append(*arena, v.str...)
		c.Strings = append(c.Strings, (*arena)[n:len(*arena):len(*arena)])
	}
}

// newColumn returns an empty column of type t with room for n rows.
func newColumn(t FieldType, n int) *block.Column {
	c := &block.Column{Type: t, Times: make([]int64, 0, n)}
	switch t {
	case block.Float:
		c.Floats = make([]float64, 0, n)
	case block.Integer:
		c.Ints = make([]int64, 0, n)
	case block.Unsigned:
		c.Uints = make([]uint64, 0, n)
	case block.Boolean:
		c.Bools = make([]bool, 0, n)
	case block.String:
		c.Strings = make([][]byte, 0, n)
	}
	return c
}

// sliceColumn returns the rows [i, j) of c as a column sharing c's arrays.
func sliceColumn(c *block.Column, i, j int) *block.Column {
	out := &block.Column{Type: c.Type, Times: c.Times[i:j]}
	switch c.Type {
	case block.Float:
		out.Floats = c.Floats[i:j]
	case block.Integer:
		out.Ints = c.Ints[i:j]
	case block.Unsigned:
		out.Uints = c.Uints[i:j]
	case block.Boolean:
		out.Bools = c.Bools[i:j]
	case block.String:
		out.Strings = c.Strings[i:j]
	}
	return out
}

// TrimColumn narrows a time-sorted column to the rows with min <= t <= max,
// sharing its memory (c itself when nothing is cut).
func TrimColumn(c *block.Column, min, max int64) *block.Column {
	i := sort.Search(len(c.Times), func(k int) bool { return c.Times[k] >= min })
	j := sort.Search(len(c.Times), func(k int) bool { return c.Times[k] > max })
	if i == 0 && j == len(c.Times) {
		return c
	}
	return sliceColumn(c, i, j)
}

// timeRow is a row of a column to sort, by time and then arrival.
type timeRow struct {
	t   int64
	row int
}

// sortDedup returns the rows of c in time order with one row per timestamp: of rows
// with equal timestamps the one appended last wins, which is the line protocol's
// last-write-wins rule. c is returned unchanged when it already is in strict order.
//
// Concurrent writers leave a field a few strictly increasing runs (each batch's
// points in order, batches committed slightly out of order: with TSBS's two
// loaders a run per batch): up to maxMergedRuns of them are merged, later runs
// winning ties, which is linear, instead of sorted.
func sortDedup(c *block.Column) *block.Column {
	runs := 1
	for i := 1; i < len(c.Times); i++ {
		if c.Times[i] <= c.Times[i-1] {
			runs++
		}
	}
	if runs == 1 {
		return c
	}
	if runs <= maxMergedRuns {
		cols := make([]*block.Column, 0, runs)
		prio := make([]uint64, 0, runs)
		start := 0
		for i := 1; i <= len(c.Times); i++ {
			if i == len(c.Times) || c.Times[i] <= c.Times[i-1] {
				cols = append(cols, sliceColumn(c, start, i))
				prio = append(prio, uint64(len(prio)))
				start = i
			}
		}
		return mergeColumns(cols, prio)
	}
	// Sort (time, arrival) pairs: stable by construction, with no closure
	// over the column per comparison.
	perm := make([]timeRow, len(c.Times))
	for i, t := range c.Times {
		perm[i] = timeRow{t, i}
	}
	slices.SortFunc(perm, func(a, b timeRow) int {
		if a.t != b.t {
			return cmp.Compare(a.t, b.t)
		}
		return cmp.Compare(a.row, b.row)
	})
	out := newColumn(c.Type, len(perm))
	for k, r := range perm {
		if k+1 < len(perm) && perm[k+1].t == r.t {
			continue // a later write of the same timestamp follows
		}
		out.AppendRow(c, r.row)
	}
	return out
}

// maxMergedRuns is the most sorted runs sortDedup merges rather than sorts: the
// merge looks at every run for every copied stretch, so its cost grows with
// their number squared (64: about 8,000 steps, a few microseconds, against a
// sort's 200 for a field's 2,000 values in a flush).
const maxMergedRuns = 64

// sortDedupChunks is sortDedup of the concatenation of chunks (a head field's, of type t),
// without concatenating them first: their strictly increasing runs are merged
// straight from the chunks, so a flush copies each value once, not twice.
func sortDedupChunks(t FieldType, chunks []*block.Column) *block.Column {
	switch len(chunks) {
	case 0: // all deleted
		return newColumn(t, 0)
	case 1:
		return sortDedup(chunks[0])
	}
	var runs []*block.Column
	n := 0
	for _, c := range chunks {
		n += len(c.Times)
		start := 0
		for i := 1; i <= len(c.Times); i++ {
			if i < len(c.Times) && c.Times[i] > c.Times[i-1] {
				continue
			}
			runs = append(runs, sliceColumn(c, start, i))
			start = i
		}
	}
	if len(runs) > maxMergedRuns {
		all := newColumn(t, n)
		for _, c := range chunks {
			all.AppendRows(c, 0, len(c.Times))
		}
		return sortDedup(all)
	}
	prio := make([]uint64, len(runs))
	for i := range prio {
		prio[i] = uint64(i) // later runs win ties: last write wins
	}
	return mergeColumns(runs, prio)
}

// mergeColumns merges sorted, deduplicated columns of one field into one. On equal
// timestamps the column with the higher priority wins (newer data). It is a linear
// k-way merge that copies runs in bulk: overlapping blocks usually overlap in a
// small region (writers committing slightly out of order around a flush), so most
// of each input is copied with one append.
func mergeColumns(cols []*block.Column, prio []uint64) *block.Column {
	n := 0
	for _, c := range cols {
		n += len(c.Times)
	}
	return mergeColumnsInto(newColumn(cols[0].Type, n), cols, prio)
}

// mergeColumnsInto is mergeColumns appending to out, an empty column of the
// inputs' type.
func mergeColumnsInto(out *block.Column, cols []*block.Column, prio []uint64) *block.Column {
	idx := make([]int, len(cols))
	for {
		best := -1
		var bt int64
		for i, c := range cols {
			if idx[i] >= len(c.Times) {
				continue
			}
			t := c.Times[idx[i]]
			if best < 0 || t < bt || (t == bt && prio[i] > prio[best]) {
				best, bt = i, t
			}
		}
		if best < 0 {
			return out
		}
		// The best source may run on until the earliest head of the others.
		limit := int64(math.MaxInt64)
		for i, c := range cols {
			if i != best && idx[i] < len(c.Times) && c.Times[idx[i]] < limit {
				limit = c.Times[idx[i]]
			}
		}
		src := cols[best]
		start := idx[best]
		end := start + 1
		if limit > bt {
			end = start + sort.Search(len(src.Times)-start, func(k int) bool { return src.Times[start+k] >= limit })
		}
		out.AppendRows(src, start, end)
		idx[best] = end
		last := src.Times[end-1]
		for i, c := range cols { // drop what the copied rows shadow
			for idx[i] < len(c.Times) && c.Times[idx[i]] <= last {
				idx[i]++
			}
		}
	}
}

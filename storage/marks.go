package storage

import "github.com/strata-db/strata/storage/block"

// Block marks (storage/block/marks.go) are the decoding states a range read
// took inside a block; the next read of that block starts at the last mark
// before its range instead of at the block's first row. They are derived,
// never written: this cache keeps them by block key, and a mark set taken
// from another block under the same key (a key rewritten by a merge) is
// recognised by the block's checksum and replaced.

// DefaultMarksCacheBytes is the marks cache's default budget. The marks of
// a 4,320-point TSBS block take about 1.6 KiB with the entry's overhead
// (block.Marks.Bytes: a 1 KiB table and 17 marks); the TSBS day's 2,000
// cpu blocks need 3.2 MiB. 16 MiB holds the marks of ten thousand blocks
// read by range: five days of TSBS's 100 hosts.
const DefaultMarksCacheBytes = 16 << 20

func newMarksCache(budget int64) *lru[*block.Marks] {
	if budget <= 0 {
		budget = DefaultMarksCacheBytes
	}
	return newLRU("block_marks", budget, (*block.Marks).Bytes)
}

package storage

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"github.com/cockroachdb/pebble"

	"github.com/strata-db/strata/storage/block"
)

// Block merging: every flush writes its own blocks, so a series field that was
// flushed several times holds several small blocks per partition, each with its
// own key, header and compression context. Merging them into as few blocks as
// maxBlockPoints allows reads fewer keys and compresses better (0.985 bytes/value
// for a day of TSBS floats in one block against 1.03-1.08 for 1,000-2,000-point
// blocks). package compaction decides when; this file does it.

// PartitionInfo summarises the blocks of one series field within one partition.
type PartitionInfo struct {
	Bucket    BucketID
	Series    SeriesID
	Field     FieldID
	Partition int64 // start of the partition, ns
	Blocks    int
	Points    int // sum of the blocks' counts (duplicates across blocks counted twice)
	Bytes     int
	// Overlaps: two of the blocks share a time range, so every read merges
	// them (writes that arrived out of order across flushes).
	Overlaps bool
	// Seq is the newest flush sequence number among the blocks: the last
	// flush that wrote into the partition (a merged block keeps the newest
	// of its sources', so merging does not make a partition look written).
	Seq uint64
}

// FinalBlocks is the fewest blocks the partition's points fit in: a
// partition holding that many blocks, none overlapping another, is in its
// final form, and merging it again would rewrite it unchanged. (A day of
// 10 s points, 8,640, takes two.)
func (p PartitionInfo) FinalBlocks() int {
	return max(1, (p.Points+maxBlockPoints-1)/maxBlockPoints)
}

// Final tells whether the partition is in its final form.
func (p PartitionInfo) Final() bool { return !p.Overlaps && p.Blocks <= p.FinalBlocks() }

// ScanPartitions calls fn for every series field and partition holding blocks, in
// key order, reading block headers only. fn returning false stops the scan.
func (e *Engine) ScanPartitions(fn func(PartitionInfo) bool) error {
	it, err := e.pebble.NewIter(&pebble.IterOptions{LowerBound: []byte{kindBlock}, UpperBound: []byte{kindBlock + 1}})
	if err != nil {
		return err
	}
	defer it.Close()
	var cur PartitionInfo
	var curPrefix []byte
	var lastMax int64 // the latest max time of the current partition's blocks
	emit := func() bool {
		if cur.Blocks == 0 {
			return true
		}
		return fn(cur)
	}
	for it.First(); it.Valid(); it.Next() {
		k := it.Key()
		maxTime, seq, err := parseBlockKey(k)
		if err != nil {
			return err
		}
		hdr, err := block.DecodeHeader(it.Value())
		if err != nil {
			return fmt.Errorf("block %x: %w", k, err)
		}
		part := partitionStart(maxTime)
		prefix := k[:13]
		if cur.Blocks > 0 && bytes.Equal(prefix, curPrefix) && part == cur.Partition {
			cur.Blocks++
			cur.Points += hdr.Count
			cur.Bytes += len(it.Value())
			// Keys run by max time: a block starting at or before the
			// previous one's end overlaps it.
			cur.Overlaps = cur.Overlaps || hdr.MinTime <= lastMax
			lastMax = max(lastMax, hdr.MaxTime)
			cur.Seq = max(cur.Seq, seq)
			continue
		}
		lastMax = hdr.MaxTime
		if !emit() {
			return nil
		}
		curPrefix = append(curPrefix[:0], prefix...)
		cur = PartitionInfo{
			Bucket:    BucketID(binary.BigEndian.Uint32(k[1:5])),
			Series:    SeriesID(binary.BigEndian.Uint32(k[5:9])),
			Field:     FieldID(binary.BigEndian.Uint32(k[9:13])),
			Partition: part,
			Blocks:    1,
			Points:    hdr.Count,
			Bytes:     len(it.Value()),
			Seq:       seq,
		}
	}
	if err := it.Error(); err != nil {
		return err
	}
	emit()
	return nil
}

// MergePartition rewrites the blocks of one series field in one partition as the
// fewest blocks maxBlockPoints allows (split evenly), resolving overlaps with last
// write wins. The rewrite is one atomic Pebble batch; it needs no WAL record: the
// data is the same, and a crash before the next flush just keeps the old blocks.
// It returns false when there was nothing to merge.
func (e *Engine) MergePartition(p PartitionInfo) (bool, error) {
	e.flushMu.Lock() // no flush, drop or delete rewrites these blocks meanwhile
	defer e.flushMu.Unlock()
	e.catMu.RLock()
	live := e.cat.seriesBucket(p.Series) != nil
	e.catMu.RUnlock()
	if !live {
		return false, nil
	}
	lower := blockKey(nil, p.Bucket, p.Series, p.Field, p.Partition, 0)
	upper := blockKey(nil, p.Bucket, p.Series, p.Field, p.Partition+PartitionWidth, 0)
	it, err := e.pebble.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return false, err
	}
	sc := e.mergeScratch()
	defer sc.trim()
	dec := sc.dec
	k := 0 // blocks decoded into sc.cols
	var prios []uint64
	var keys [][]byte
	for it.First(); it.Valid(); it.Next() {
		_, seq, err := parseBlockKey(it.Key())
		if err != nil {
			it.Close()
			return false, err
		}
		col := sc.column(k)
		if err := dec.Decode(col, it.Value()); err != nil {
			it.Close()
			return false, fmt.Errorf("block %x: %w", it.Key(), err)
		}
		k++
		prios = append(prios, seq)
		keys = append(keys, bytes.Clone(it.Key()))
	}
	if err := it.Close(); err != nil {
		return false, err
	}
	cols := sc.cols[:k]
	if len(cols) < 2 {
		return false, nil
	}
	overlaps := false
	for i := 1; i < len(cols); i++ { // in key order: by max time
		overlaps = overlaps || cols[i].Times[0] <= cols[i-1].Times[cols[i-1].Len()-1]
	}
	sc.out.Reset(cols[0].Type)
	merged := mergeColumnsInto(&sc.out, cols, prios)
	if !overlaps && len(cols) <= (merged.Len()+maxBlockPoints-1)/maxBlockPoints {
		return false, nil // already the fewest blocks its points fit in
	}
	seq := uint64(0)
	for _, s := range prios {
		seq = max(seq, s)
	}
	pb := e.pebble.NewBatch()
	for _, k := range keys {
		pb.Delete(k, nil)
	}
	enc := sc.enc
	n := merged.Len()
	parts := (n + maxBlockPoints - 1) / maxBlockPoints
	for i := 0; i < n; {
		j := min(n, i+(n+parts-1)/parts)
		chunk := sliceColumn(merged, i, j)
		v, err := enc.Encode(sc.val[:0], chunk)
		if err != nil {
			pb.Close()
			return false, err
		}
		sc.val = v // Set copies it
		// The merged blocks take the newest sequence number of their sources: they
		// hold the winners of every overlap, and newer flushes still beat them.
		pb.Set(blockKey(nil, p.Bucket, p.Series, p.Field, chunk.Times[chunk.Len()-1], seq), v, nil)
		i = j
	}
	return true, pb.Commit(pebble.NoSync)
}

// mergeBuffers are the decoder, encoder and columns MergePartition reuses from
// one partition to the next (guarded by flushMu): decoding every block into
// fresh columns was three fifths of the garbage of a TSBS load, which merges
// a thousand partitions after each flush.
type mergeBuffers struct {
	dec  *block.Decoder
	enc  *block.Encoder
	cols []*block.Column // decoded blocks of the partition being merged
	out  block.Column    // the merged partition
	val  []byte          // an encoded block
}

// maxMergeBufferRows is the most rows the merge buffers keep between
// partitions (about 1.5 MB of 16-byte rows): an unusually large partition's
// columns go back to the collector.
const maxMergeBufferRows = 96 << 10

// mergeScratch returns the engine's merge buffers. The caller holds flushMu.
func (e *Engine) mergeScratch() *mergeBuffers {
	if e.merge == nil {
		e.merge = &mergeBuffers{dec: block.NewDecoder(), enc: block.NewEncoder()}
	}
	return e.merge
}

// column returns the i-th decode column.
func (m *mergeBuffers) column(i int) *block.Column {
	for len(m.cols) <= i {
		m.cols = append(m.cols, &block.Column{})
	}
	return m.cols[i]
}

// trim drops what a large partition left behind.
func (m *mergeBuffers) trim() {
	rows := cap(m.out.Times)
	for _, c := range m.cols {
		rows += cap(c.Times)
	}
	if rows > maxMergeBufferRows {
		m.cols, m.out, m.val = nil, block.Column{}, nil
	}
}

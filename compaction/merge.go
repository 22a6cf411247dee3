package compaction

import (
	"context"
	"log/slog"
	"time"

	"github.com/strata-db/strata/storage"
)

// BlockStore is what block merging needs from the storage engine.
type BlockStore interface {
	ScanPartitions(fn func(storage.PartitionInfo) bool) error
	MergePartition(p storage.PartitionInfo) (bool, error)
}

// BlockMerger merges the blocks that successive flushes leave in one partition of
// a series field into as few blocks as storage allows: fewer keys to read, better
// compression.
type BlockMerger struct {
	store BlockStore
	log   *slog.Logger
}

// NewBlockMerger returns a merger over store.
func NewBlockMerger(store BlockStore, log *slog.Logger) *BlockMerger {
	if log == nil {
		log = slog.Default()
	}
	return &BlockMerger{store: store, log: log}
}

// A partition is rewritten once it holds enough blocks to be worth it. A cold
// partition (its day ended over an hour ago: late writes are rare) is merged from
// two blocks, its final form. The partition still being written gets a new block
// at every flush; rewriting it each time would rewrite the day so far at every
// flush, so it waits for hotMergeBlocks: the write amplification stays bounded
// (each value rewritten about once per hotMergeBlocks flushes) and reads meet at
// most that many blocks per day.
const (
	coldMergeBlocks = 2
	hotMergeBlocks  = 8
	coldAfter       = time.Hour
)

func mergeThreshold(p storage.PartitionInfo, now time.Time) int {
	if p.Partition+storage.PartitionWidth+int64(coldAfter) < now.UnixNano() {
		return coldMergeBlocks
	}
	return hotMergeBlocks
}

// MergeOnce merges every partition holding several blocks and returns how many it
// rewrote.
func (m *BlockMerger) MergeOnce(ctx context.Context) (int, error) {
	now := time.Now()
	var todo []storage.PartitionInfo
	if err := m.store.ScanPartitions(func(p storage.PartitionInfo) bool {
		// A partition in its final form (the fewest blocks, none
		// overlapping) is left alone: merging from two blocks rewrote every
		// 10 s series' cold days (8,640 points, two blocks) after every
		// flush, forever. Overlapping blocks are merged even when as few,
		// or every read merges them.
		if p.Blocks >= mergeThreshold(p, now) && !p.Final() {
			todo = append(todo, p)
		}
		return ctx.Err() == nil
	}); err != nil {
		return 0, err
	}
	merged := 0
	for _, p := range todo {
		if ctx.Err() != nil {
			break
		}
		ok, err := m.store.MergePartition(p)
		if err != nil {
			return merged, err
		}
		if ok {
			merged++
		}
	}
	return merged, ctx.Err()
}

// Run merges after every signal on trigger (sent after each flush) and at least
// every interval, until ctx ends.
func (m *BlockMerger) Run(ctx context.Context, trigger <-chan struct{}, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-trigger:
		case <-t.C:
		}
		start := time.Now()
		n, err := m.MergeOnce(ctx)
		if err != nil && ctx.Err() == nil {
			m.log.Error("block merge failed", "err", err)
		}
		if n > 0 {
			m.log.Info("blocks merged", "partitions", n, "duration", time.Since(start))
		}
	}
}

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

// minBlocksToMerge: a partition is rewritten once it holds this many blocks. Two is
// the lowest that gains anything; every merge rewrites the partition, so a series
// flushed every few minutes gets its current day rewritten at each flush — the
// price of keeping reads and bytes on disk at the one-block optimum. The scan that
// finds candidates reads block headers only.
const minBlocksToMerge = 2

// MergeOnce merges every partition holding several blocks and returns how many it
// rewrote.
func (m *BlockMerger) MergeOnce(ctx context.Context) (int, error) {
	var todo []storage.PartitionInfo
	if err := m.store.ScanPartitions(func(p storage.PartitionInfo) bool {
		if p.Blocks >= minBlocksToMerge {
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

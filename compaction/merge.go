package compaction

import (
	"context"
	"log/slog"
	"sync"
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
	clock func() time.Time // time.Now; tests move it
	quiet time.Duration    // see quietFor

	mu   sync.Mutex  // guards seen: MergeOnce, MergeAll and Run may run in different goroutines
	seen []flushSeen // see writtenAt
}

// flushSeen: the newest flush sequence number in the store was seq when the
// merger looked at time at.
type flushSeen struct {
	seq uint64
	at  time.Time
}

// NewBlockMerger returns a merger over store.
func NewBlockMerger(store BlockStore, log *slog.Logger) *BlockMerger {
	if log == nil {
		log = slog.Default()
	}
	return &BlockMerger{store: store, log: log, clock: time.Now, quiet: quietFor}
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

// quietFor is how long after a flush last wrote into a cold partition it
// still counts as being written. A bulk load of history (TSBS's day of 2016,
// a backfill) writes the same cold partitions at every flush, and merging them
// after each one rewrote the day so far each time: on the TSBS load, five
// flushes about a second apart, that was a tenth of the server's CPU, for
// blocks the next flush made several again. Held back as a hot partition is
// (merged at hotMergeBlocks), such a partition is merged once, quietFor after
// the load's last flush touched it. Five seconds is several times the gap
// between the flushes of a load on two cores, and short enough that queries
// right after a load meet the unmerged blocks only briefly.
const quietFor = 5 * time.Second

func mergeThreshold(p storage.PartitionInfo, now time.Time) int {
	if p.Partition+storage.PartitionWidth+int64(coldAfter) < now.UnixNano() {
		return coldMergeBlocks
	}
	return hotMergeBlocks
}

// MergeOnce merges every partition that is due and returns how many it
// rewrote; cold partitions that a flush wrote within quietFor wait (see
// quietFor).
func (m *BlockMerger) MergeOnce(ctx context.Context) (int, error) {
	n, _, err := m.merge(ctx, true)
	return n, err
}

// MergeAll merges every partition past its threshold, holding none back for
// being written recently: for a shutdown, after which nothing is written, so
// that the data at rest is in its final form.
func (m *BlockMerger) MergeAll(ctx context.Context) (int, error) {
	n, _, err := m.merge(ctx, false)
	return n, err
}

// merge merges the partitions due and returns how many it rewrote and when the
// first partition it held back falls due (zero if none was held back).
func (m *BlockMerger) merge(ctx context.Context, hold bool) (merged int, next time.Time, err error) {
	now := m.clock()
	var parts []storage.PartitionInfo
	newest := uint64(0)
	if err := m.store.ScanPartitions(func(p storage.PartitionInfo) bool {
		// A partition in its final form (the fewest blocks, none
		// overlapping) is left alone: merging from two blocks rewrote every
		// 10 s series' cold days (8,640 points, two blocks) after every
		// flush, forever. Overlapping blocks are merged even when as few,
		// or every read merges them.
		newest = max(newest, p.Seq)
		if p.Blocks >= coldMergeBlocks && !p.Final() {
			parts = append(parts, p)
		}
		return ctx.Err() == nil
	}); err != nil {
		return 0, time.Time{}, err
	}
	m.observe(newest, now)
	var todo []storage.PartitionInfo
	for _, p := range parts {
		threshold := mergeThreshold(p, now)
		if hold && threshold < hotMergeBlocks {
			if at := m.writtenAt(p.Seq); now.Sub(at) < m.quiet {
				if p.Blocks < hotMergeBlocks {
					if due := at.Add(m.quiet); next.IsZero() || due.Before(next) {
						next = due
					}
				}
				threshold = hotMergeBlocks
			}
		}
		if p.Blocks >= threshold {
			todo = append(todo, p)
		}
	}
	for _, p := range todo {
		if ctx.Err() != nil {
			break
		}
		ok, err := m.store.MergePartition(p)
		if err != nil {
			return merged, next, err
		}
		if ok {
			merged++
		}
	}
	return merged, next, ctx.Err()
}

// observe notes that the newest flush sequence number in the store was seq at
// now. The first look records seq with the zero time: flushes from before it
// (an earlier run's) count as long quiet.
func (m *BlockMerger) observe(seq uint64, now time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	switch {
	case len(m.seen) == 0:
		m.seen = append(m.seen, flushSeen{seq: seq})
	case seq > m.seen[len(m.seen)-1].seq:
		m.seen = append(m.seen, flushSeen{seq: seq, at: now})
	}
	// Every sequence number up to seen[1].seq was seen by seen[1].at: once
	// that is quietFor ago, seen[0] tells nothing seen[1] does not.
	for len(m.seen) > 1 && now.Sub(m.seen[1].at) >= m.quiet {
		m.seen = m.seen[1:]
	}
}

// writtenAt returns the latest time by which the merger had seen flush seq:
// a bound on when that flush wrote. (The merger looks after every flush, so
// the bound is close; a look delayed by a running merge only holds a
// partition back longer.)
func (m *BlockMerger) writtenAt(seq uint64) time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, s := range m.seen {
		if s.seq >= seq {
			return s.at
		}
	}
	return time.Time{} // not reached: observe saw the newest
}

// Run merges after every signal on trigger (sent after each flush), when a
// partition held back for being written recently falls due, and at least every
// interval, until ctx ends.
func (m *BlockMerger) Run(ctx context.Context, trigger <-chan struct{}, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	due := time.NewTimer(0)
	due.Stop()
	defer due.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-trigger:
		case <-t.C:
		case <-due.C:
		}
		start := time.Now()
		n, next, err := m.merge(ctx, true)
		if err != nil && ctx.Err() == nil {
			m.log.Error("block merge failed", "err", err)
		}
		if n > 0 {
			m.log.Info("blocks merged", "partitions", n, "duration", time.Since(start))
		}
		if !next.IsZero() {
			due.Reset(max(0, next.Sub(m.clock())))
		}
	}
}

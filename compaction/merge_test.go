package compaction

import (
	"context"
	"io"
	"log/slog"
	"math"
	"math/rand"
	"testing"
	"time"

	"github.com/strata-db/strata/storage"
)

// TestMergeKeepsDataAndLeavesOneBlock writes one series in several flushes, with
// out-of-order points and overwrites across flushes, then merges: every partition
// ends with one block and the data is exactly the last write of every timestamp.
func TestMergeKeepsDataAndLeavesOneBlock(t *testing.T) {
	e, err := storage.Open(storage.Options{Dir: t.TempDir(), NoSync: true, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	e.CreateDatabase("db", nil)
	b, _ := e.Bucket("db", "")
	day := storage.PartitionWidth
	want := map[int64]float64{}
	rng := rand.New(rand.NewSource(1))
	for flush := 0; flush < 4; flush++ {
		batch, _ := e.NewBatch(b)
		for i := 0; i < 500; i++ {
			ts := rng.Int63n(2*day/1e9) * 1e9 // two days, second resolution, collisions likely
			v := float64(flush*1000 + i)
			if err := batch.Add([]byte("m"), nil, []storage.FieldValue{{Key: []byte("v"), Type: storage.Float, Float: v}}, ts); err != nil {
				t.Fatal(err)
			}
			want[ts] = v // last write wins
		}
		if _, err := e.Write(batch); err != nil {
			t.Fatal(err)
		}
		if err := e.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	blocks := func() (n int, parts int) {
		e.ScanPartitions(func(p storage.PartitionInfo) bool { n += p.Blocks; parts++; return true })
		return
	}
	if n, parts := blocks(); parts != 2 || n != 8 {
		t.Fatalf("before merging: %d blocks in %d partitions, want 8 in 2", n, parts)
	}
	merged, err := NewBlockMerger(e, nil).MergeOnce(context.Background())
	if err != nil || merged != 2 {
		t.Fatalf("merged %d partitions, err %v", merged, err)
	}
	if n, parts := blocks(); parts != 2 || n != 2 {
		t.Fatalf("after merging: %d blocks in %d partitions, want 2 in 2", n, parts)
	}
	got := map[int64]float64{}
	e.ReadSeries(b, "m", nil, math.MinInt64, math.MaxInt64, func(s *storage.SeriesData) error {
		c := s.Fields["v"]
		for i, ts := range c.Times {
			got[ts] = c.Floats[i]
		}
		return nil
	})
	if len(got) != len(want) {
		t.Fatalf("%d points after merge, want %d", len(got), len(want))
	}
	for ts, v := range want {
		if got[ts] != v {
			t.Fatalf("t=%d: %v, want %v (last write)", ts, got[ts], v)
		}
	}
	// A later write still beats the merged block.
	batch, _ := e.NewBatch(b)
	var anyTS int64
	for ts := range want {
		anyTS = ts
		break
	}
	batch.Add([]byte("m"), nil, []storage.FieldValue{{Key: []byte("v"), Type: storage.Float, Float: -1}}, anyTS)
	e.Write(batch)
	e.Flush()
	NewBlockMerger(e, nil).MergeOnce(context.Background())
	e.ReadSeries(b, "m", nil, anyTS, anyTS, func(s *storage.SeriesData) error {
		if v := s.Fields["v"].Floats[0]; v != -1 {
			t.Fatalf("overwrite after merge lost: %v", v)
		}
		return nil
	})
}

// TestMergeLeavesFinalFormAlone: a cold day of 10 s points (8,640) flushes as
// two blocks, the fewest it fits in; merging must not rewrite it, now or at
// any later pass, while a third block (a late write) does get merged.
func TestMergeLeavesFinalFormAlone(t *testing.T) {
	e, err := storage.Open(storage.Options{Dir: t.TempDir(), NoSync: true, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	e.CreateDatabase("db", nil)
	b, _ := e.Bucket("db", "")
	write := func(from, n int) { flushPoints(t, e, b, from, n) }
	blocks := func() int { return blockCount(e) }
	write(0, 8640) // 1970-01-01, long cold
	if n := blocks(); n != 2 {
		t.Fatalf("%d blocks after the flush, want 2", n)
	}
	m := NewBlockMerger(e, nil)
	now := time.Now()
	m.clock = func() time.Time { return now }
	for pass := 0; pass < 2; pass++ {
		if merged, err := m.MergeOnce(context.Background()); err != nil || merged != 0 {
			t.Fatalf("pass %d merged %d partitions in their final form (err %v)", pass, merged, err)
		}
	}
	write(100, 1) // a late overwrite: a third block
	if merged, err := m.MergeOnce(context.Background()); err != nil || merged != 0 {
		t.Fatalf("merged %d partitions right after their write, want 0: held for quietFor (err %v)", merged, err)
	}
	now = now.Add(quietFor)
	if merged, err := m.MergeOnce(context.Background()); err != nil || merged != 1 {
		t.Fatalf("merged %d partitions after a late write, want 1 (err %v)", merged, err)
	}
	if n := blocks(); n != 2 {
		t.Fatalf("%d blocks after merging, want 2", n)
	}

	// Two flushes of interleaved times (even and odd 10 s slots of day 2):
	// as few blocks as the points need, but overlapping, so every read would
	// merge them: they are merged.
	day2 := int(storage.PartitionWidth / 10e9)
	for _, odd := range []int{0, 1} {
		batch, _ := e.NewBatch(b)
		for i := 0; i < 4320; i++ {
			ts := int64(day2+2*i+odd) * 10e9
			batch.Add([]byte("m"), nil, []storage.FieldValue{{Key: []byte("v"), Type: storage.Float, Float: 1}}, ts)
		}
		if _, err := e.Write(batch); err != nil {
			t.Fatal(err)
		}
		if err := e.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	m.MergeOnce(context.Background())
	now = now.Add(quietFor)
	if merged, err := m.MergeOnce(context.Background()); err != nil || merged != 1 {
		t.Fatalf("merged %d partitions with two overlapping blocks, want 1 (err %v)", merged, err)
	}
	if merged, err := m.MergeOnce(context.Background()); err != nil || merged != 0 {
		t.Fatalf("merged %d partitions again, want 0 (err %v)", merged, err)
	}
}

func TestMergeThresholdHotAndCold(t *testing.T) {
	day := storage.PartitionWidth
	now := time.Unix(0, 100*day+2*int64(time.Hour)) // two hours into day 100
	cases := []struct {
		partition int64
		want      int
	}{
		{100 * day, hotMergeBlocks}, // being written
		{99 * day, coldMergeBlocks}, // ended two hours ago
		{0, coldMergeBlocks},        // long gone
		{101 * day, hotMergeBlocks}, // ahead of the clock
	}
	for _, c := range cases {
		if got := mergeThreshold(storage.PartitionInfo{Partition: c.partition}, now); got != c.want {
			t.Errorf("partition %d: threshold %d, want %d", c.partition/day, got, c.want)
		}
	}
}

// TestMergeHoldsPartitionsBeingLoaded: a bulk load of a cold day flushes into
// the same partition again and again. The merger leaves it alone while flushes
// keep writing it (until hotMergeBlocks, which bounds what reads meet), says
// when it falls due, and merges it once quietFor has passed since the last
// flush into it; MergeAll holds nothing back.
func TestMergeHoldsPartitionsBeingLoaded(t *testing.T) {
	e, err := storage.Open(storage.Options{Dir: t.TempDir(), NoSync: true, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	e.CreateDatabase("db", nil)
	b, _ := e.Bucket("db", "")
	next := 0 // the next 10 s slot of 1970-01-01 to write
	flush := func(n int) { flushPoints(t, e, b, next, n); next += n }
	blocks := func() int { return blockCount(e) }
	m := NewBlockMerger(e, nil)
	now := time.Unix(1_000_000, 0)
	m.clock = func() time.Time { return now }
	ctx := context.Background()
	m.MergeOnce(ctx) // the first look, at an empty store

	var due time.Time
	for i := 1; i <= 3; i++ {
		flush(500)
		now = now.Add(time.Second)
		var merged int
		merged, due, err = m.merge(ctx, true)
		if err != nil || merged != 0 {
			t.Fatalf("flush %d: merged %d partitions being loaded, want 0 (err %v)", i, merged, err)
		}
		if n := blocks(); n != i {
			t.Fatalf("flush %d: %d blocks, want %d", i, n, i)
		}
		if want := now.Add(quietFor); i > 1 && !due.Equal(want) { // one block is final: nothing is due
			t.Fatalf("flush %d: due at %v, want %v", i, due, want)
		}
	}
	now = due.Add(-time.Millisecond)
	if merged, _ := m.MergeOnce(ctx); merged != 0 {
		t.Fatalf("merged %d partitions before they were quiet", merged)
	}
	now = due
	if merged, err := m.MergeOnce(ctx); err != nil || merged != 1 || blocks() != 1 {
		t.Fatalf("once quiet: merged %d partitions, %d blocks left, want 1 and 1 (err %v)", merged, blocks(), err)
	}

	// A load that goes on: merged when it reaches hotMergeBlocks, quiet or not.
	for i := 2; i < hotMergeBlocks; i++ {
		flush(100)
		if merged, _ := m.MergeOnce(ctx); merged != 0 {
			t.Fatalf("%d blocks: merged while being loaded", blocks())
		}
	}
	flush(100)
	if merged, err := m.MergeOnce(ctx); err != nil || merged != 1 || blocks() != 1 {
		t.Fatalf("at %d blocks: merged %d partitions, %d blocks left, want 1 and 1 (err %v)", hotMergeBlocks, merged, blocks(), err)
	}

	flush(100)
	if merged, err := m.MergeAll(ctx); err != nil || merged != 1 || blocks() != 1 {
		t.Fatalf("MergeAll right after a flush: merged %d partitions, %d blocks left, want 1 and 1 (err %v)", merged, blocks(), err)
	}
}

// TestMergerRunMergesWhenQuiet: Run wakes by itself for a partition it held
// back; no further flush or tick is needed.
func TestMergerRunMergesWhenQuiet(t *testing.T) {
	e, err := storage.Open(storage.Options{Dir: t.TempDir(), NoSync: true, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	e.CreateDatabase("db", nil)
	b, _ := e.Bucket("db", "")
	m := NewBlockMerger(e, slog.New(slog.NewTextHandler(io.Discard, nil)))
	m.quiet = 100 * time.Millisecond
	m.MergeOnce(context.Background()) // the first look, at an empty store
	flushPoints(t, e, b, 0, 1)
	flushPoints(t, e, b, 1, 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	trigger := make(chan struct{}, 1)
	trigger <- struct{}{}
	done := make(chan struct{})
	go func() { m.Run(ctx, trigger, time.Hour); close(done) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		n := blockCount(e)
		if n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d blocks 10 s after the flushes, want 1: Run did not wake for the held partition", n)
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done
}

// flushPoints writes series m's field v at the 10 s slots [from, from+n) of
// 1970-01-01 (long cold) and flushes the head, so each call adds blocks.
func flushPoints(t *testing.T, e *storage.Engine, b storage.BucketID, from, n int) {
	t.Helper()
	batch, err := e.NewBatch(b)
	if err != nil {
		t.Fatal(err)
	}
	for i := from; i < from+n; i++ {
		if err := batch.Add([]byte("m"), nil, []storage.FieldValue{{Key: []byte("v"), Type: storage.Float, Float: float64(i)}}, int64(i)*10e9); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.Write(batch); err != nil {
		t.Fatal(err)
	}
	if err := e.Flush(); err != nil {
		t.Fatal(err)
	}
}

// blockCount is the number of stored blocks over all partitions.
func blockCount(e *storage.Engine) (n int) {
	e.ScanPartitions(func(p storage.PartitionInfo) bool { n += p.Blocks; return true })
	return n
}

package wal

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
)

// concurrentRecord encodes writer and index so replay can check per-writer
// order; the padding makes records of mixed sizes.
func concurrentRecord(rng *rand.Rand, writer, idx int) []byte {
	rec := make([]byte, 16+rng.IntN(4096))
	binary.LittleEndian.PutUint64(rec[0:], uint64(writer))
	binary.LittleEndian.PutUint64(rec[8:], uint64(idx))
	return rec
}

func TestWAL_GroupCommit(t *testing.T) {
	const writers, perWriter = 8, 60
	dir := t.TempDir()
	w := mustOpen(t, Options{Dir: dir, SegmentSize: 256 << 10})
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for g := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(g), 7))
			for i := range perWriter {
				seq, err := w.Append(concurrentRecord(rng, g, i))
				if err == nil {
					err = w.WaitDurable(seq)
				}
				if err != nil {
					errs <- err
					return
				}
				w.mu.Lock()
				durable := w.durable
				w.mu.Unlock()
				if durable < seq {
					errs <- fmt.Errorf("WaitDurable(%d) returned with durable=%d", seq, durable)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	total := int64(writers * perWriter)
	commits := w.commits.Load()
	t.Logf("%d records in %d fsyncs", total, commits)
	if commits >= total {
		t.Fatalf("%d fsyncs for %d records: no group commit happened", commits, total)
	}

	w = mustOpen(t, Options{Dir: dir})
	defer w.Close()
	next := make([]int, writers)
	err := w.Replay(0, func(_ Position, rec []byte) error {
		g, i := int(binary.LittleEndian.Uint64(rec)), int(binary.LittleEndian.Uint64(rec[8:]))
		if g >= writers || i != next[g] {
			return fmt.Errorf("writer %d record %d replayed, expected record %d", g, i, next[min(g, writers-1)])
		}
		next[g]++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for g, n := range next {
		if n != perWriter {
			t.Errorf("writer %d: %d records replayed, %d acknowledged", g, n, perWriter)
		}
	}
}

// TestWAL_RotateConcurrent checks the Rotate contract while writers keep
// appending: a record whose Append returned before a Rotate started is in a
// lower segment than the ID it returns, and a record appended after a Rotate
// returned is in that segment or later.
func TestWAL_RotateConcurrent(t *testing.T) {
	const writers, perWriter, rotations = 4, 300, 20
	dir := t.TempDir()
	w := mustOpen(t, Options{Dir: dir, NoSync: true})
	var rotStarted, rotDone atomic.Int64
	var rotIDs [rotations + 1]SegmentID // rotIDs[k] returned by the k-th Rotate, 1-based
	type bounds struct{ doneBefore, startedAfter int64 }
	seen := make([][]bounds, writers)
	var wg sync.WaitGroup
	for g := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(g), 9))
			for i := range perWriter {
				d := rotDone.Load()
				if _, err := w.Append(concurrentRecord(rng, g, i)); err != nil {
					t.Error(err)
					return
				}
				seen[g] = append(seen[g], bounds{d, rotStarted.Load()})
			}
		}()
	}
	for k := int64(1); k <= rotations; k++ {
		rotStarted.Store(k)
		id, err := w.Rotate()
		if err != nil {
			t.Fatal(err)
		}
		rotIDs[k] = id
		rotDone.Store(k)
	}
	wg.Wait()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	w = mustOpen(t, Options{Dir: dir, NoSync: true})
	defer w.Close()
	err := w.Replay(0, func(pos Position, rec []byte) error {
		g, i := binary.LittleEndian.Uint64(rec), binary.LittleEndian.Uint64(rec[8:])
		b := seen[g][i]
		if b.doneBefore > 0 && pos.Segment < rotIDs[b.doneBefore] {
			return fmt.Errorf("writer %d record %d in segment %d, appended after Rotate returned %d", g, i, pos.Segment, rotIDs[b.doneBefore])
		}
		for k := b.startedAfter + 1; k <= rotations; k++ {
			if pos.Segment >= rotIDs[k] {
				return fmt.Errorf("writer %d record %d in segment %d, appended before Rotate %d returned %d", g, i, pos.Segment, k, rotIDs[k])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

package wal

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
)

func benchRecord(size int) []byte {
	rec := make([]byte, size)
	for i := range rec {
		rec[i] = byte(i * 7)
	}
	return rec
}

func reportRecords(b *testing.B) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkAppendSync is the latency-bound worst case: one writer waiting for
// its own fsync every time, so there is nothing to batch.
func BenchmarkAppendSync(b *testing.B) {
	const size = 512 << 10
	w := mustOpen(b, Options{Dir: b.TempDir()})
	defer w.Close()
	rec := benchRecord(size)
	b.SetBytes(size)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if err := w.Write(rec); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	reportRecords(b)
}

// BenchmarkGroupCommit has several writers sharing fsyncs, as concurrent HTTP
// writes do; records/fsync shows how much batching the disk's latency buys.
func BenchmarkGroupCommit(b *testing.B) {
	for _, size := range []int{128 << 10, 512 << 10} {
		for _, writers := range []int{4, 16} {
			b.Run(fmt.Sprintf("size=%dKiB/writers=%d", size>>10, writers), func(b *testing.B) {
				benchConcurrent(b, Options{Dir: b.TempDir()}, writers, size)
			})
		}
	}
}

// BenchmarkGroupCommitNoSync measures the CPU side (framing, CRC, copy,
// locking, write syscalls) without waiting for the device.
func BenchmarkGroupCommitNoSync(b *testing.B) {
	for _, writers := range []int{1, 4, 16} {
		b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) {
			benchConcurrent(b, Options{Dir: b.TempDir(), NoSync: true}, writers, 128<<10)
		})
	}
}

func benchConcurrent(b *testing.B, opts Options, writers, size int) {
	w := mustOpen(b, opts)
	defer w.Close()
	rec := benchRecord(size)
	var left atomic.Int64
	left.Store(int64(b.N))
	b.SetBytes(int64(size))
	b.ReportAllocs()
	b.ResetTimer()
	var wg sync.WaitGroup
	for range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for left.Add(-1) >= 0 {
				if err := w.Write(rec); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	reportRecords(b)
	if c := w.commits.Load(); c > 0 {
		b.ReportMetric(float64(b.N)/float64(c), "records/fsync")
	}
}

// BenchmarkReplay measures startup decoding of 128 KiB records spread over
// several segments.
func BenchmarkReplay(b *testing.B) {
	const size, n = 128 << 10, 256
	dir := b.TempDir()
	w := mustOpen(b, Options{Dir: dir, NoSync: true, SegmentSize: 4 << 20})
	rec := benchRecord(size)
	for range n {
		if _, err := w.Append(rec); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	w = mustOpen(b, Options{Dir: dir, NoSync: true})
	defer w.Close()
	b.SetBytes(size * n)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		got := 0
		if err := w.Replay(0, func(Position, []byte) error { got++; return nil }); err != nil {
			b.Fatal(err)
		}
		if got != n {
			b.Fatalf("replayed %d records, want %d", got, n)
		}
	}
}

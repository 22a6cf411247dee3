package storage

import (
	"io"
	"log/slog"
	"math"
	"math/rand"
	"testing"
)

// BenchmarkCursorScan measures reading flushed data back: cursor over one series
// field per iteration, every block decoded, for a day of 10 s TSBS-like floats
// (random walk with two decimals) per series.
func BenchmarkCursorScan(b *testing.B) {
	e, err := Open(Options{Dir: b.TempDir(), NoSync: true, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	e.CreateDatabase("db", nil)
	bk, _ := e.Bucket("db", "")
	const series, points = 20, 8640
	rng := rand.New(rand.NewSource(1))
	batch, _ := e.NewBatch(bk)
	for s := 0; s < series; s++ {
		v := 50.0
		for i := 0; i < points; i++ {
			v = math.Round((v+float64(rng.Intn(201)-100)/100)*100) / 100
			batch.Add([]byte("cpu"), []Tag{{Key: []byte("host"), Value: []byte{byte('a' + s)}}},
				[]FieldValue{{Key: []byte("usage"), Type: Float, Float: v}}, 1451606400e9+int64(i)*10e9)
		}
	}
	if _, err := e.Write(batch); err != nil {
		b.Fatal(err)
	}
	if err := e.Flush(); err != nil {
		b.Fatal(err)
	}
	ids, _ := e.SeriesIDs(bk, "cpu", nil)
	all := ids.ToArray()
	fields, _ := e.Fields(bk, "cpu")
	b.ReportAllocs()
	b.ResetTimer()
	values := 0
	for i := 0; i < b.N; i++ {
		cur, err := e.NewCursor(bk, SeriesID(all[i%len(all)]), fields[0].ID, math.MinInt64, math.MaxInt64)
		if err != nil {
			b.Fatal(err)
		}
		for cur.Next() {
			col, err := cur.Column()
			if err != nil {
				b.Fatal(err)
			}
			values += col.Len()
		}
		cur.Close()
	}
	b.ReportMetric(float64(values)/b.Elapsed().Seconds(), "values/s")
	b.SetBytes(int64(values / b.N * 16)) // as 8-byte time + 8-byte value
}

// BenchmarkHeadTailRead is a dashboard refresh's read of the window at now:
// the last minute of a day of 10 s points held in the head, for each of 100
// series, through a snapshot cursor and through HeadRange.
func BenchmarkHeadTailRead(b *testing.B) {
	e, err := Open(Options{Dir: b.TempDir(), NoSync: true, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	e.CreateDatabase("db", nil)
	bk, _ := e.Bucket("db", "")
	const series, points = 100, 8640
	const t0 = int64(1451606400e9)
	batch, _ := e.NewBatch(bk)
	for s := 0; s < series; s++ {
		for i := 0; i < points; i++ {
			batch.Add([]byte("cpu"), []Tag{{Key: []byte("host"), Value: []byte{byte(s / 10), byte(s % 10)}}},
				[]FieldValue{{Key: []byte("usage"), Type: Float, Float: float64(i % 100)}}, t0+int64(i)*10e9)
		}
	}
	if _, err := e.Write(batch); err != nil {
		b.Fatal(err)
	}
	ids, _ := e.SeriesIDs(bk, "cpu", nil)
	all := ids.ToArray()
	fields, _ := e.Fields(bk, "cpu")
	min := t0 + (points-6)*10e9
	max := min + 60e9 - 1
	snap, err := e.Snapshot()
	if err != nil {
		b.Fatal(err)
	}
	defer snap.Close()
	b.Run("cursor", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			cur, err := snap.NewCursor(bk, SeriesID(all[i%len(all)]), fields[0].ID, min, max)
			if err != nil {
				b.Fatal(err)
			}
			n := 0
			for cur.Next() {
				col, _ := cur.Column()
				n += col.Len()
			}
			cur.Close()
			if n != 6 {
				b.Fatalf("%d points, want 6", n)
			}
		}
	})
	b.Run("HeadRange", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			cols, ok := snap.HeadRange(SeriesID(all[i%len(all)]), fields[0].ID, min, max)
			if !ok || len(cols) != 1 || cols[0].Len() != 6 {
				b.Fatalf("%v %v, want 6 points from the head", cols, ok)
			}
		}
	})
}

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

package cq

import (
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/strata-db/strata/query"
	"github.com/strata-db/strata/query/influxql"
	"github.com/strata-db/strata/storage"
)

// BenchmarkWritePath measures what the dirty marks cost the write path, in
// values/s through storage.Engine.Write: batches of 100 hosts x 10 fields
// (the TSBS cpu shape), without observers, with the CQ service and a query
// on the bucket whose windows the writes do not touch (on time), and with
// every write landing in computed windows (all late: each batch marks 100
// groups). Compare the values/s of one run:
//
//	go test ./services/cq -run '^$' -bench WritePath -benchtime 2000x -count 3
func BenchmarkWritePath(b *testing.B) {
	for _, mode := range []string{"no-observer", "cq-on-time", "cq-late"} {
		b.Run(mode, func(b *testing.B) { benchWrites(b, mode) })
	}
}

func benchWrites(b *testing.B, mode string) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	svc := New(Options{Logger: log})
	opts := storage.Options{Dir: b.TempDir(), NoSync: true, Logger: log}
	if mode != "no-observer" {
		opts.Observers = []storage.TouchObserver{svc}
	}
	eng, err := storage.Open(opts)
	if err != nil {
		b.Fatal(err)
	}
	defer eng.Close()
	if err := eng.CreateDatabase("db", nil); err != nil {
		b.Fatal(err)
	}
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano()
	if mode != "no-observer" {
		ex := query.NewExecutor(eng, log, query.Limits{})
		st, err := influxql.ParseStatement(`CREATE CONTINUOUS QUERY c ON db BEGIN SELECT mean(usage_user) INTO cpu_1m FROM cpu GROUP BY time(1m), hostname END`)
		if err != nil {
			b.Fatal(err)
		}
		norm, err := ex.NormalizeContinuousQuery(st.(*influxql.CreateContinuousQueryStatement))
		if err != nil {
			b.Fatal(err)
		}
		if err := svc.CreateContinuousQuery(norm); err != nil {
			b.Fatal(err)
		}
		c := svc.cqs[cqID("db", "c")]
		c.since, c.watermark = start-int64(time.Hour), start // on time: every write at or after the watermark
		if mode == "cq-late" {
			c.watermark = start + int64(1000*time.Hour)
		}
	}
	bucket, _ := eng.Bucket("db", "")
	fields := make([]storage.FieldValue, 10)
	for i := range fields {
		fields[i] = storage.FieldValue{Key: []byte(fmt.Sprintf("usage_%d", i)), Type: storage.Float}
	}
	hosts := make([][]storage.Tag, 100)
	for i := range hosts {
		hosts[i] = []storage.Tag{{Key: []byte("hostname"), Value: []byte(fmt.Sprintf("host_%d", i))}}
	}
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		batch, err := eng.NewBatch(bucket)
		if err != nil {
			b.Fatal(err)
		}
		ts := start + int64(n)*int64(10*time.Second)
		for _, h := range hosts {
			for i := range fields {
				fields[i].Float = float64(n + i)
			}
			if err := batch.Add([]byte("cpu"), h, fields, ts); err != nil {
				b.Fatal(err)
			}
		}
		if _, err := eng.Write(batch); err != nil {
			b.Fatal(err)
		}
		batch.Release()
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N*len(hosts)*len(fields))/b.Elapsed().Seconds(), "values/s")
}

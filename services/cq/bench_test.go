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

// BenchmarkRollup measures the service itself on the TSBS cpu shape (100
// hosts, 10 fields, a point every 10 s) with a per-minute mean of every
// field by host:
//
//   - scheduled-Npts: one minute of data per iteration (N points per host
//     and minute, 6 is TSBS's 10 s), then the scheduled run that computes
//     it; values/s (wall) and values/cpu-s (process CPU time, steadier on a
//     shared machine) are what the service computes per second, the write
//     load one core of it keeps up with.
//
//   - late-point: after an hour computed, one late point per iteration into
//     a random computed minute, then the pass that recomputes it; ns/op is
//     the cost of a late point (its write and its group's recomputation).
//
//     go test ./services/cq -run '^$' -bench Rollup -benchtime 200x
func BenchmarkRollup(b *testing.B) {
	for _, perMinute := range []int{6, 60} {
		b.Run(fmt.Sprintf("scheduled-%dpts", perMinute), func(b *testing.B) {
			r := newTSBSRig(b)
			defer r.close()
			var computing time.Duration
			var cpu time.Duration
			for n := 0; n < b.N; n++ {
				r.writeMinute(b, n, perMinute)
				start, cpu0 := time.Now(), cpuTime()
				r.at(n+1, 0)
				computing += time.Since(start)
				cpu += cpuTime() - cpu0
			}
			values := float64(b.N * 100 * 10 * perMinute)
			b.ReportMetric(values/computing.Seconds(), "values/s")
			b.ReportMetric(values/cpu.Seconds(), "values/cpu-s")
			if w := r.metric("windows"); w < float64(b.N) {
				b.Fatalf("%v windows computed for %d minutes", w, b.N)
			}
		})
	}
	b.Run("late-point", func(b *testing.B) {
		r := newTSBSRig(b)
		defer r.close()
		for n := 0; n < 60; n++ {
			r.writeMinute(b, n, 6)
			r.at(n+1, 0)
		}
		b.ResetTimer()
		for n := 0; n < b.N; n++ {
			min := (n * 37) % 60
			r.writeTSBS(b, n%100, base.Add(time.Duration(min)*time.Minute+5*time.Second).UnixNano(), float64(n))
			r.at(60, 30)
		}
		b.StopTimer()
		if l := r.metric("late"); l != float64(b.N) {
			b.Fatalf("%v late windows for %d late points", l, b.N)
		}
	})
}

func newTSBSRig(b *testing.B) *rig {
	r := newRig(b, b.TempDir(), 0)
	if err := r.eng.CreateDatabase("db", nil); err != nil {
		b.Fatal(err)
	}
	r.q(`CREATE CONTINUOUS QUERY c ON db BEGIN SELECT mean(*) INTO cpu_1m FROM cpu GROUP BY time(1m), hostname END`)
	r.at(0, 0)
	return r
}

var tsbsFields = func() []storage.FieldValue {
	f := make([]storage.FieldValue, 10)
	for i := range f {
		f[i] = storage.FieldValue{Key: []byte(fmt.Sprintf("usage_%d", i)), Type: storage.Float}
	}
	return f
}()

// writeMinute writes minute n of every host: perMinute points x 10 fields each.
func (r *rig) writeMinute(b *testing.B, n, perMinute int) {
	step := time.Minute / time.Duration(perMinute)
	for h := 0; h < 100; h++ {
		for p := 0; p < perMinute; p++ {
			r.writeTSBS(b, h, base.Add(time.Duration(n)*time.Minute+time.Duration(p)*step).UnixNano(), float64(n+p+h))
		}
	}
}

func (r *rig) writeTSBS(b *testing.B, host int, ts int64, v float64) {
	bucket, _ := r.eng.Bucket("db", "")
	batch, err := r.eng.NewBatch(bucket)
	if err != nil {
		b.Fatal(err)
	}
	for i := range tsbsFields {
		tsbsFields[i].Float = v + float64(i)
	}
	if err := batch.Add([]byte("cpu"), []storage.Tag{{Key: []byte("hostname"), Value: []byte(fmt.Sprintf("host_%d", host))}}, tsbsFields, ts); err != nil {
		b.Fatal(err)
	}
	if _, err := r.eng.Write(batch); err != nil {
		b.Fatal(err)
	}
	batch.Release()
}

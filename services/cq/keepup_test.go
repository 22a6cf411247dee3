package cq

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/strata-db/strata/query"
	"github.com/strata-db/strata/query/influxql"
	"github.com/strata-db/strata/storage"
)

// TestKeepUp loads the TSBS cpu shape (100 hosts, 10 fields, a point every
// 10 s) at a paced write load while the service runs a per-minute mean of
// every field by host (SELECT mean(*) ... GROUP BY time(1m), *), with a clock
// that is the newest data time written: a replay of the data set at the
// load's rate. It checks that the service keeps up (its lag behind now, in
// wall time, stays under a second and ends within two intervals of data
// time), that every minute is rolled up for every host, and then measures
// the cost of a late point: its write and the recomputation of its (host,
// minute), with the values that recomputation scanned.
//
// The default run replays two hours of data time (720,000 values) at 1 M
// values/s; STRATA_CQ_BENCH=1 replays the whole TSBS day (8.64 M values):
//
//	STRATA_CQ_BENCH=1 go test ./services/cq -run TestKeepUp -v
func TestKeepUp(t *testing.T) {
	dataTime := 2 * time.Hour
	if os.Getenv("STRATA_CQ_BENCH") == "1" {
		dataTime = 24 * time.Hour
	}
	const (
		hosts, nFields = 100, 10
		step           = 10 * time.Second
		rate           = 1_000_000 // values/s, the write load
	)
	var clock atomic.Int64
	clock.Store(base.UnixNano())
	now := func() time.Time { return time.Unix(0, clock.Load()).UTC() }
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	svc := New(Options{Now: now, Logger: log})
	eng, err := storage.Open(storage.Options{Dir: t.TempDir(), NoSync: true, Logger: log, Observers: []storage.TouchObserver{svc}})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	ex := query.NewExecutor(eng, log, query.Limits{})
	ex.SetContinuousQueries(svc)
	ex.SetRollups(svc)
	svc.SetExecutor(ex)
	run := func(stmt string, opts query.ExecOptions) []string {
		t.Helper()
		q, err := influxql.ParseQuery(stmt)
		if err != nil {
			t.Fatal(err)
		}
		opts.Database, opts.Now = "db", now()
		var out []string
		err = ex.Execute(context.Background(), q, opts, query.SinkFunc(func(res *query.StatementResult) error {
			if res.Err != "" {
				return fmt.Errorf("%s: %s", stmt, res.Err)
			}
			for _, s := range res.Series {
				for _, row := range s.Rows {
					out = append(out, fmt.Sprint(row.Values...))
				}
			}
			return nil
		}))
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	run("CREATE DATABASE db", query.ExecOptions{})
	run("CREATE CONTINUOUS QUERY c ON db BEGIN SELECT mean(*) INTO cpu_1m FROM cpu GROUP BY time(1m), * END", query.ExecOptions{})
	svc.RunOnce(context.Background()) // the first run starts the clock

	bucket, err := eng.Bucket("db", "")
	if err != nil {
		t.Fatal(err)
	}
	fields := make([]storage.FieldValue, nFields)
	for i := range fields {
		fields[i] = storage.FieldValue{Key: []byte(fmt.Sprintf("usage_%d", i)), Type: storage.Float}
	}
	hostTags := make([][]storage.Tag, hosts)
	for i := range hostTags {
		hostTags[i] = []storage.Tag{{Key: []byte("hostname"), Value: []byte(fmt.Sprintf("host_%d", i))}}
	}
	write := func(ts int64, hs []int, v float64) {
		batch, err := eng.NewBatch(bucket)
		if err != nil {
			t.Error(err)
			return
		}
		for _, h := range hs {
			for i := range fields {
				fields[i].Float = v + float64(i+h)
			}
			if err := batch.Add([]byte("cpu"), hostTags[h], fields, ts); err != nil {
				t.Error(err)
			}
		}
		if _, err := eng.Write(batch); err != nil {
			t.Error(err)
		}
		batch.Release()
	}
	all := make([]int, hosts)
	for i := range all {
		all[i] = i
	}

	// The service: passes back to back, as Run's ticker would at a run
	// interval far below a minute of data time. lag is sampled after each.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var lagsWall []float64
	var maxLagData time.Duration
	speed := float64(rate) / float64(hosts*nFields) * float64(step/time.Second) // data seconds per wall second
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			svc.RunOnce(context.Background())
			svc.mu.Lock()
			c := svc.cqs[cqID("db", "c")]
			lag := time.Duration(clock.Load() - c.watermark)
			svc.mu.Unlock()
			maxLagData = max(maxLagData, lag)
			lagsWall = append(lagsWall, lag.Seconds()/speed)
			time.Sleep(time.Millisecond)
		}
	}()
	// The writer: a batch per timestamp (every host, every field), paced to
	// the rate; the clock is the newest data time written.
	points := int(dataTime / step)
	start := time.Now()
	for p := 0; p < points; p++ {
		ts := base.Add(time.Duration(p) * step).UnixNano()
		write(ts, all, float64(p))
		clock.Store(ts)
		if ahead := time.Duration(float64(p+1)*float64(hosts*nFields)/rate*1e9) - time.Since(start); ahead > 0 {
			time.Sleep(ahead)
		}
	}
	loadWall := time.Since(start)
	close(stop)
	wg.Wait()
	achieved := float64(points*hosts*nFields) / loadWall.Seconds()
	sort.Float64s(lagsWall)
	p99 := lagsWall[len(lagsWall)*99/100]
	t.Logf("load: %d values in %v = %.2f M values/s; %d passes; lag behind now: max %v of data time, wall p50 %.3f s p99 %.3f s max %.3f s",
		points*hosts*nFields, loadWall.Round(time.Millisecond), achieved/1e6, len(lagsWall), maxLagData, lagsWall[len(lagsWall)/2], p99, lagsWall[len(lagsWall)-1])
	if p99 > 1 {
		t.Errorf("the service fell behind: lag p99 %.3f s of wall time", p99)
	}
	// Caught up: one more pass at the final clock leaves the lag under two
	// intervals of data time, and every closed minute has every host.
	clock.Store(base.Add(dataTime).UnixNano())
	svc.RunOnce(context.Background())
	if n := run("SELECT count(mean_usage_0) FROM cpu_1m", query.ExecOptions{Rollups: query.RollupsStored}); len(n) != 1 || n[0] != fmt.Sprint(int(dataTime/time.Minute)*hosts) {
		t.Fatalf("rollup points: %v, want %d", n, int(dataTime/time.Minute)*hosts)
	}

	// Late points: each into a random computed (host, minute), then the pass
	// that recomputes it.
	const late = 200
	var writing, recomputing time.Duration
	for n := 0; n < late; n++ {
		min := (n * 7919) % int(dataTime/time.Minute-1)
		ts := base.Add(time.Duration(min)*time.Minute + 5*time.Second).UnixNano()
		w0 := time.Now()
		write(ts, []int{(n * 31) % hosts}, float64(-n))
		w1 := time.Now()
		svc.RunOnce(context.Background())
		writing += w1.Sub(w0)
		recomputing += time.Since(w1)
	}
	if l := testutil.ToFloat64(svc.m.lateWindows); l != late {
		t.Fatalf("late windows recomputed = %v, want %d", l, late)
	}
	// What one recomputation scans: the query of one (host, minute).
	plan := run("EXPLAIN ANALYZE SELECT mean(*) FROM cpu WHERE hostname = 'host_3' AND time >= '"+base.Add(30*time.Minute).Format(time.RFC3339)+"' AND time < '"+base.Add(31*time.Minute).Format(time.RFC3339)+"' GROUP BY time(1m), *", query.ExecOptions{})
	var scanned []string
	for _, l := range plan {
		if strings.HasPrefix(l, "POINTS READ:") || strings.HasPrefix(l, "PLANNING TIME:") || strings.HasPrefix(l, "EXECUTION TIME:") || strings.HasPrefix(l, "BLOCKS DECODED:") || strings.HasPrefix(l, "BLOCKS ANSWERED FROM HEADERS:") {
			scanned = append(scanned, l)
		}
	}
	t.Logf("late point: write %v, recomputation of its (host, minute) %v, per point (mean of %d); one recomputation scans: %s",
		(writing / late).Round(time.Microsecond), (recomputing / late).Round(time.Microsecond), late, strings.Join(scanned, ", "))
}

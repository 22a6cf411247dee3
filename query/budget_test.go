package query

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/strata-db/strata/query/influxql"
	"github.com/strata-db/strata/storage"
)

// bulkWrite writes hosts series of n points with three float fields straight to
// the engine (no model: millions of values), then flushes them to blocks.
func bulkWrite(t testing.TB, env *selEnv, hosts, n int) {
	t.Helper()
	b, err := env.eng.Bucket("db", "")
	if err != nil {
		t.Fatal(err)
	}
	const per = 50000
	for h := 0; h < hosts; h++ {
		tags := []storage.Tag{{Key: []byte("host"), Value: []byte(fmt.Sprintf("h%d", h))}}
		for start := 0; start < n; start += per {
			batch, err := env.eng.NewBatch(b)
			if err != nil {
				t.Fatal(err)
			}
			for i := start; i < min(n, start+per); i++ {
				fields := []storage.FieldValue{metaField("a", float64(i)), metaField("b", float64(i)/3), metaField("c", float64(h))}
				if err := batch.Add([]byte("cpu"), tags, fields, t0+int64(i)*int64(time.Second)); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := env.eng.Write(batch); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := env.eng.Flush(); err != nil {
		t.Fatal(err)
	}
}

// TestRawStreamMemoryBounded streams a raw SELECT of 3 M values and checks that
// what the query holds (its budget's peak, and the heap) stays far below the
// answer's size.
func TestRawStreamMemoryBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 3 M values")
	}
	env := newSelEnv(t, Limits{})
	const hosts, n = 2, 500_000
	bulkWrite(t, env, hosts, n)
	parsed, err := influxql.ParseQuery("SELECT * FROM cpu")
	if err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapInuse
	var peakHeap atomic.Uint64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		var m runtime.MemStats
		for {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
			runtime.ReadMemStats(&m)
			if m.HeapInuse > peakHeap.Load() {
				peakHeap.Store(m.HeapInuse)
			}
		}
	}()
	budget := NewBudget(0)
	var rows int
	var size int64 // what the answer would hold in memory, materialized
	sink := SinkFunc(func(r *StatementResult) error {
		for _, s := range r.Series {
			rows += len(s.Rows)
			size += rowsSize(s.Rows)
		}
		return nil
	})
	err = env.ex.Execute(context.Background(), parsed, ExecOptions{Database: "db", Now: env.now, Budget: budget}, sink)
	close(stop)
	<-sampled
	if err != nil {
		t.Fatal(err)
	}
	if rows != hosts*n {
		t.Fatalf("%d rows, want %d", rows, hosts*n)
	}
	heap := int64(peakHeap.Load()) - int64(base)
	t.Logf("answer %d MB materialized; budget peak %d KB; heap in use above baseline at peak %d MB",
		size>>20, budget.Peak()>>10, heap>>20)
	if budget.Peak() > 8<<20 {
		t.Errorf("the query held %d bytes at its peak, want at most 8 MiB for a streamed answer of %d MB", budget.Peak(), size>>20)
	}
	if budget.Used() != 0 {
		t.Errorf("%d bytes still accounted after the query", budget.Used())
	}
	if heap > size/3 {
		t.Errorf("heap grew %d MB over the query, for an answer of %d MB: not streaming", heap>>20, size>>20)
	}
}

// TestMemoryBudgetExceeded checks that a query holding more than Limits.MaxMemory
// ends with InfluxDB-style limit text in its result, and that a streamed raw
// SELECT of the same data fits.
func TestMemoryBudgetExceeded(t *testing.T) {
	env := newSelEnv(t, Limits{MaxMemory: 4 << 20})
	bulkWrite(t, env, 2, 60_000)
	cases := []struct{ q, err string }{
		{"SELECT median(a) FROM cpu", "max-query-memory limit exceeded"},
		{"SELECT distinct(a) FROM cpu GROUP BY host", "max-query-memory limit exceeded"},
		// With a lower bound: without one, GROUP BY time reads only the last
		// max-select-buckets windows up to now (1.x's implicit start).
		{fmt.Sprintf("SELECT count(a) FROM cpu WHERE time >= %d GROUP BY time(1s)", t0), "max-query-memory limit exceeded"},
		{"SELECT mean(a) FROM (SELECT a FROM cpu)", "max-query-memory limit exceeded"},
		{"SELECT * FROM cpu", ""},
		{"SELECT max(a) FROM cpu GROUP BY time(1h), host", ""},
	}
	for _, c := range cases {
		res := env.runResult(t, c.q)
		if c.err == "" {
			if res.Err != "" || len(res.Series) == 0 {
				t.Errorf("%s: error %q, %d series", c.q, res.Err, len(res.Series))
			}
			continue
		}
		if !strings.HasPrefix(res.Err, c.err+": (") || !strings.HasSuffix(res.Err, "/4194304 bytes)") {
			t.Errorf("%s: error %q, want %q", c.q, res.Err, c.err)
		}
	}
}

// TestMemoryBudgetShowSeries checks that listing series counts against the budget.
func TestMemoryBudgetShowSeries(t *testing.T) {
	env := newSelEnv(t, Limits{MaxMemory: 64 << 10})
	var pts []selPt
	for i := 0; i < 5000; i++ {
		pts = append(pts, selPt{m: "cpu", tags: map[string]string{"host": fmt.Sprintf("host-%05d", i)}, t: t0, fields: map[string]any{"x": 1.0}})
	}
	env.write(t, pts...)
	if res := env.runResult(t, "SHOW SERIES"); !strings.HasPrefix(res.Err, "max-query-memory limit exceeded: (") {
		t.Fatalf("SHOW SERIES over budget: %q", res.Err)
	}
}

package main

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// TestSketchRollupThroughContinuousQuery: a continuous query stores
// per-second distinct-count and quantile sketches; merged over the whole
// range they equal the approximate functions over the raw points exactly
// (HyperLogLog and DDSketch merges are exact) and stay within the documented
// error of the exact answers, including after a late point the service folds
// into its window.
func TestSketchRollupThroughContinuousQuery(t *testing.T) {
	s, base := startTestServer(t, testConfig(t.TempDir()))
	defer s.shutdown(10 * time.Second)
	mustQuery(t, base, "CREATE DATABASE db")
	mustQuery(t, base, `CREATE CONTINUOUS QUERY sk ON db BEGIN SELECT sketch_count_distinct(uid) AS visitors, sketch_percentile(lat) AS lat INTO req_1s FROM req GROUP BY time(1s), host END`)
	time.Sleep(1100 * time.Millisecond) // the query's first run starts its clock
	rng := rand.New(rand.NewPCG(3, 4))
	var first, last int64
	start := time.Now()
	for time.Since(start) < 3200*time.Millisecond {
		now := time.Now().UnixNano()
		if first == 0 {
			first = now/1e9*1e9 + 1e9 // the first whole window
		}
		var b strings.Builder
		for _, h := range []string{"a", "b"} {
			for k := 0; k < 20; k++ {
				fmt.Fprintf(&b, "req,host=%s uid=\"u%d\",lat=%.3f %d\n", h, rng.IntN(300), 1+rng.ExpFloat64()*50, now+int64(k))
			}
		}
		writeLP(t, base, b.String())
		last = now / 1e9 * 1e9 // the window being written: not yet complete
		time.Sleep(50 * time.Millisecond)
	}
	rng2 := fmt.Sprintf(" WHERE time >= %d AND time < %d", first, last)
	waitUntil(t, "the sketch windows", 10*time.Second, func() bool {
		return len(queryRows(t, base, fmt.Sprintf("SELECT visitors FROM req_1s WHERE time = %d", last-1e9))) == 2
	})
	// A late point with a new visitor into the first window.
	writeLP(t, base, fmt.Sprintf("req,host=a uid=\"late-visitor\",lat=999 %d\n", first+5))
	waitUntil(t, "the late window", 10*time.Second, func() bool {
		return metricValue(t, base, "strata_cq_late_windows_recomputed_total") >= 1
	})
	time.Sleep(300 * time.Millisecond) // its rewrite is durable before the answer; let the run finish

	for _, c := range []struct{ merged, direct, exact string }{
		{"merge_count_distinct(visitors)", "approx_count_distinct(uid)", "count(distinct(uid))"},
		{"merge_percentile(lat, 99)", "approx_percentile(lat, 99)", "percentile(lat, 99)"},
	} {
		for _, h := range []string{"a", "b"} {
			where := rng2 + " AND host = '" + h + "'"
			m := column(t, mustSeriesDB(t, base, "SELECT "+c.merged+" AS v FROM req_1s"+where), "v")
			d := column(t, mustSeriesDB(t, base, "SELECT "+c.direct+" AS v FROM req"+where), "v")
			e := column(t, mustSeriesDB(t, base, "SELECT "+c.exact+" AS v FROM req"+where), "v")
			if len(m) != 1 || m[0] != d[0] {
				t.Errorf("host %s: %s over the stored sketches %v, %s over the points %v", h, c.merged, m, c.direct, d)
			}
			// Exact below the sparse HLL's capacity; α = 1% for the quantile.
			within(t, h+" "+c.merged, m[0], e[0], 0.01)
		}
	}
	if n := column(t, mustSeriesDB(t, base, "SELECT count(lat) AS v FROM req"+rng2+" AND uid = 'late-visitor'"), "v"); n[0] != 1 {
		t.Fatalf("the late visitor is not in the range: %v", n)
	}
}

// mustSeriesDB answers q on database db as series, failing on an error.
func mustSeriesDB(t *testing.T, base, q string) []series {
	t.Helper()
	s, errText := querySeriesDB(t, base, "db", q)
	if errText != "" {
		t.Fatalf("%s: %s", q, errText)
	}
	return s
}

// TestStoredTopKAndCountMin: per-second top-k summaries and Count-Min
// sketches stored with SELECT INTO merge back, over HTTP, into the answers
// of approx_top_k and approx_count over the raw points (Count-Min merges
// exactly; these few values fit the summary, so Space-Saving is exact too).
func TestStoredTopKAndCountMin(t *testing.T) {
	s, base := startTestServer(t, testConfig(t.TempDir()))
	defer s.shutdown(10 * time.Second)
	mustQuery(t, base, "CREATE DATABASE db")
	var b strings.Builder
	for i := 0; i < 300; i++ {
		fmt.Fprintf(&b, "req code=%di %d\n", []int{200, 200, 200, 404, 500}[i%5], int64(i)*int64(10*time.Millisecond))
	}
	writeLP(t, base, b.String())
	const where = " WHERE time >= 0 AND time < 3s"
	mustSeriesDB(t, base, "SELECT sketch_top_k(code, 3) AS tk, sketch_count(code) AS cm INTO req_1s FROM req"+where+" GROUP BY time(1s)")
	m := column(t, mustSeriesDB(t, base, "SELECT merge_count(cm, 200) AS v FROM req_1s"+where), "v")
	d := column(t, mustSeriesDB(t, base, "SELECT approx_count(code, 200) AS v FROM req"+where), "v")
	if len(m) != 1 || len(d) != 1 || m[0] != d[0] || m[0] != 180 {
		t.Errorf("merge_count %v, approx_count %v, want 180", m, d)
	}
	mt := column(t, mustSeriesDB(t, base, "SELECT merge_top_k(tk, 2) AS v FROM req_1s"+where), "count")
	dt := column(t, mustSeriesDB(t, base, "SELECT approx_top_k(code, 2) AS v FROM req"+where), "count")
	if fmt.Sprint(mt) != fmt.Sprint(dt) || len(mt) != 2 || mt[0]+mt[1] != 240 {
		t.Errorf("merge_top_k counts %v, approx_top_k counts %v", mt, dt)
	}
}

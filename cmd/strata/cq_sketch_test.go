package main

import (
	"fmt"
	"math/rand/v2"
	"slices"
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

// TestTopKAndCountMinRollupThroughContinuousQuery: a continuous query stores
// per-second Space-Saving summaries and Count-Min sketches of a skewed
// string field with thousands of values (far more than the summary's 256
// counters, so evictions happen); merged over the range with merge_top_k
// and merge_count they stay within the documented bounds of the exact
// one-pass answers computed here: the true count lies in [count −
// max_error, count], max_error ≤ N/256, the three heaviest values are
// found, and Count-Min never undercounts and overcounts by at most ε·N.
func TestTopKAndCountMinRollupThroughContinuousQuery(t *testing.T) {
	s, base := startTestServer(t, testConfig(t.TempDir()))
	defer s.shutdown(10 * time.Second)
	mustQuery(t, base, "CREATE DATABASE db")
	mustQuery(t, base, `CREATE CONTINUOUS QUERY hh ON db BEGIN SELECT sketch_top_k(path, 3) AS tk, sketch_count(path) AS cm INTO req_1s FROM req GROUP BY time(1s) END`)
	time.Sleep(1100 * time.Millisecond) // the query's first run starts its clock
	rng := rand.New(rand.NewPCG(5, 6))
	zipf := rand.NewZipf(rand.New(rand.NewPCG(7, 8)), 1.2, 1, 5000)
	type pt struct {
		t    int64
		path string
	}
	var pts []pt
	var first, last int64
	start := time.Now()
	for time.Since(start) < 3200*time.Millisecond {
		now := time.Now().UnixNano()
		if first == 0 {
			first = now/1e9*1e9 + 1e9
		}
		var b strings.Builder
		for k := 0; k < 200; k++ {
			p := fmt.Sprintf("/p%d", zipf.Uint64())
			if rng.IntN(10) == 0 {
				p = fmt.Sprintf("/rare%d", rng.IntN(100000)) // a long tail of one-offs
			}
			pts = append(pts, pt{now + int64(k), p})
			fmt.Fprintf(&b, "req path=%q %d\n", p, now+int64(k))
		}
		writeLP(t, base, b.String())
		last = now / 1e9 * 1e9
		time.Sleep(50 * time.Millisecond)
	}
	waitUntil(t, "the sketch windows", 10*time.Second, func() bool {
		return len(queryRows(t, base, fmt.Sprintf("SELECT tk FROM req_1s WHERE time = %d", last-1e9))) == 1
	})
	time.Sleep(300 * time.Millisecond)
	exact := map[string]int64{}
	var n int64
	for _, p := range pts {
		if p.t >= first && p.t < last {
			exact[p.path]++
			n++
		}
	}
	type kv struct {
		path string
		n    int64
	}
	var byCount []kv
	for p, c := range exact {
		byCount = append(byCount, kv{p, c})
	}
	slices.SortFunc(byCount, func(a, b kv) int { return int(b.n - a.n) })
	where := fmt.Sprintf(" WHERE time >= %d AND time < %d", first, last)

	ss := mustSeriesDB(t, base, "SELECT merge_top_k(tk, 3) AS top FROM req_1s"+where)
	if len(ss) != 1 || len(ss[0].Values) != 3 {
		t.Fatalf("merge_top_k: %v", ss)
	}
	bound := float64(n) / 256
	for i, row := range ss[0].Values {
		path, _ := row[1].(string)
		count, maxErr := num(t, row[2]), num(t, row[3])
		truth := float64(exact[path])
		t.Logf("%s: count %v max_error %v, true %v (N %d, %d distinct)", path, count, maxErr, truth, n, len(exact))
		if path != byCount[i].path {
			t.Errorf("row %d: %s, the exact %d-th heaviest is %s (%d)", i, path, i+1, byCount[i].path, byCount[i].n)
		}
		if truth < count-maxErr || truth > count || maxErr > bound {
			t.Errorf("%s: count %v max_error %v, true %v, bound N/256 = %.1f", path, count, maxErr, truth, bound)
		}
	}
	eps := float64(n) * 2.718281828459045 / 2048
	for _, c := range []kv{byCount[0], byCount[len(byCount)/2], {"/never", 0}} {
		m := column(t, mustSeriesDB(t, base, fmt.Sprintf("SELECT merge_count(cm, '%s') AS v FROM req_1s%s", c.path, where)), "v")
		d := column(t, mustSeriesDB(t, base, fmt.Sprintf("SELECT approx_count(path, '%s') AS v FROM req%s", c.path, where)), "v")
		if len(m) != 1 || len(d) != 1 || m[0] != d[0] {
			t.Errorf("%s: merge_count %v, approx_count over the points %v (Count-Min merges exactly)", c.path, m, d)
			continue
		}
		if m[0] < float64(c.n) || m[0] > float64(c.n)+eps {
			t.Errorf("%s: merge_count %v, true %d, bound ε·N = %.1f", c.path, m[0], c.n, eps)
		}
	}
}

package main

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/strata-db/strata/bench"
)

// TestGrafanaRefresh measures a dashboard panel refreshing against the
// result cache (docs/cache.md, docs/performance.md "Result cache"):
//
//	STRATA_CACHE_BENCH=1 go test ./cmd/strata -run TestGrafanaRefresh -v -timeout 20m
//
// Two servers hold the same TSBS cpu-only data (100 hosts at 10 s, the day
// up to now), one with the cache and one without. Each round, in turn, both
// answer Grafana's panel query with the range ending now, as a refresh
// every few seconds sends it (with epoch=ms, as Grafana's InfluxQL data
// source asks), after the machine sat idle for 50 ms; then both answer it
// again for a second viewer, back to back, so that the two ratios tell the
// wake-up of an idle machine from the server's work. Between rounds, as
// live ingest does, every host writes a point at now, and every fourth round
// a late point lands two hours back. The answers must be identical every
// round; the ratio is of the medians of the uncached (cold) and cached
// (refresh) wall times.
// The default run does it on 10 hosts and 8 hours and asserts only that the
// answers agree; the full run asserts the 10× (not met yet: see
// docs/cache.md, "Measured"). STRATA_CACHE_PROFILE=file.pprof writes a CPU
// profile of 200 more refreshes of the cached server after the rounds, and
// the allocation profiles before and after them (file.pprof.allocs.0, .1).
func TestGrafanaRefresh(t *testing.T) {
	full := os.Getenv("STRATA_CACHE_BENCH") != ""
	hosts, span, rounds, want := 10, 8*time.Hour, 8, 0.0
	if full {
		hosts, span, rounds, want = 100, 24*time.Hour, 30, 10
	}
	end := time.Now().Truncate(10 * time.Second)
	cfg := bench.DefaultGenConfig()
	cfg.Hosts, cfg.Duration, cfg.Start = hosts, span, end.Add(-span)
	d, err := bench.Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cfgA, cfgB := testConfig(t.TempDir()), testConfig(t.TempDir())
	cfgA.queryCache, cfgB.queryCache = 64<<20, 0
	_, cached := startTestServer(t, cfgA)
	_, plain := startTestServer(t, cfgB)
	for _, base := range []string{cached, plain} {
		if r := runQuery(t, base, `CREATE DATABASE "benchmark"`); r.status != 200 {
			t.Fatalf("create database: %d %s", r.status, r.body)
		}
		for _, b := range d.Bodies {
			if r := do(t, "POST", base+"/write?db=benchmark", b, nil); r.status != 204 {
				t.Fatalf("write: %d %s", r.status, r.body)
			}
		}
	}
	// answer reads each server's answers into its own reused buffer, so that
	// the client's reading costs both servers the same small amount: a fresh
	// buffer grown to 1.4 MB and copied into a string was 14% of a
	// refresh's CPU, the test's and not the server's. Nor is it copied into a
	// string after: in the profiled refreshes that copy was two thirds of
	// the bytes allocated, and its collections the server's cost.
	bufs := map[string]*bytes.Buffer{cached: {}, plain: {}}
	answer := func(base, q string) ([]byte, time.Duration) {
		buf := bufs[base]
		buf.Reset()
		start := time.Now()
		resp, err := http.Get(base + "/query?db=benchmark&epoch=ms&q=" + url.QueryEscape(q))
		if err != nil {
			t.Fatal(err)
		}
		_, err = buf.ReadFrom(resp.Body)
		resp.Body.Close()
		took := time.Since(start)
		if err != nil || resp.StatusCode != 200 || bytes.Contains(buf.Bytes(), []byte(`"error"`)) {
			t.Fatalf("%s: %d %v %.300s", q, resp.StatusCode, err, buf.Bytes())
		}
		return buf.Bytes(), took // read only until the next answer from base
	}
	var cold, warm, coldBusy, warmBusy []time.Duration
	for round := 0; round < rounds; round++ {
		now := time.Now()
		// Grafana's time > now() - 6h, with now fixed by the client so that
		// both servers answer the same range.
		q := fmt.Sprintf("SELECT mean(usage_user) FROM cpu WHERE time > %d GROUP BY time(1m), hostname", now.Add(-6*time.Hour).UnixNano())
		h0, m0 := cacheCounters(t, cached)
		a, tw := answer(cached, q)
		b, tc := answer(plain, q)
		if !bytes.Equal(a, b) {
			t.Fatalf("round %d: cached and uncached answers differ:\n%.600s\n%.600s", round, a, b)
		}
		if testing.Verbose() {
			// From the metrics, not an EXPLAIN ANALYZE before the answer: that
			// ran the query itself, so the timed answer found even the new
			// windows cached.
			h1, m1 := cacheCounters(t, cached)
			t.Logf("round %d: %d of %d windows cached", round, h1-h0, h1-h0+m1-m0)
		}
		// A second viewer of the same panel, right after: the server is
		// busy, not idle for 50 ms, so neither answer pays the wake-up of
		// an idle machine.
		q2 := fmt.Sprintf("SELECT mean(usage_user) FROM cpu WHERE time > %d GROUP BY time(1m), hostname", time.Now().Add(-6*time.Hour).UnixNano())
		a, tw2 := answer(cached, q2)
		b, tc2 := answer(plain, q2)
		if !bytes.Equal(a, b) {
			t.Fatalf("round %d, second viewer: cached and uncached answers differ:\n%.600s\n%.600s", round, a, b)
		}
		if round > 1 { // the first sight runs uncached, the second fills the cache
			warm, cold = append(warm, tw), append(cold, tc)
			warmBusy, coldBusy = append(warmBusy, tw2), append(coldBusy, tc2)
		}
		var lines strings.Builder
		for h := 0; h < hosts; h++ {
			fmt.Fprintf(&lines, "cpu,hostname=host_%d usage_user=%d %d\n", h, round, time.Now().UnixNano())
			if round%4 == 3 {
				fmt.Fprintf(&lines, "cpu,hostname=host_%d usage_user=%d %d\n", h, 1000+round, now.Add(-2*time.Hour).UnixNano())
			}
		}
		for _, base := range []string{cached, plain} {
			if r := do(t, "POST", base+"/write?db=benchmark", []byte(lines.String()), nil); r.status != 204 {
				t.Fatalf("write: %d %s", r.status, r.body)
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	if path := os.Getenv("STRATA_CACHE_PROFILE"); path != "" {
		profileRefresh(t, path, func() {
			answer(cached, fmt.Sprintf("SELECT mean(usage_user) FROM cpu WHERE time > %d GROUP BY time(1m), hostname", time.Now().Add(-6*time.Hour).UnixNano()))
		})
	}
	slices.Sort(cold)
	slices.Sort(warm)
	mc, mw := cold[len(cold)/2], warm[len(warm)/2]
	ratio := float64(mc) / float64(mw)
	t.Logf("%d hosts, %v of data: cold (no cache) median %v, refresh (cache) median %v: %.1f× faster", hosts, span, mc, mw, ratio)
	slices.Sort(coldBusy)
	slices.Sort(warmBusy)
	mcb, mwb := coldBusy[len(coldBusy)/2], warmBusy[len(warmBusy)/2]
	t.Logf("second viewer, back to back: cold median %v, refresh median %v: %.1f× faster", mcb, mwb, float64(mcb)/float64(mwb))
	if ratio < want {
		t.Errorf("refresh from the cache only %.1f× faster than cold, want ≥ %.1f×", ratio, want)
	}
}

// cacheCounters reads the result cache's hits and misses (windows) from
// base's /metrics.
func cacheCounters(t *testing.T, base string) (hits, misses int64) {
	t.Helper()
	m := do(t, "GET", base+"/metrics", nil, nil).body
	read := func(name string) int64 {
		f := regexp.MustCompile(`(?m)^` + name + ` (\S+)$`).FindStringSubmatch(m)
		if f == nil {
			t.Fatalf("/metrics: no %s", name)
		}
		v, err := strconv.ParseFloat(f[1], 64)
		if err != nil {
			t.Fatalf("/metrics: %s: %v", name, err)
		}
		return int64(v)
	}
	return read("strata_query_cache_hits_total"), read("strata_query_cache_misses_total")
}

// profileRefresh writes a CPU profile of 200 runs of refresh to path.
func profileRefresh(t *testing.T, path string, refresh func()) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	// The allocations of the same refreshes: the cumulative allocs profile
	// before them is the base (go tool pprof -base path.allocs.0 path.allocs.1).
	writeAllocs := func(name string) {
		runtime.GC() // the profile is as of the last collection
		af, err := os.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		defer af.Close()
		if err := pprof.Lookup("allocs").WriteTo(af, 0); err != nil {
			t.Fatal(err)
		}
	}
	writeAllocs(path + ".allocs.0")
	if err := pprof.StartCPUProfile(f); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	for i := 0; i < 200; i++ {
		refresh()
	}
	pprof.StopCPUProfile()
	took := time.Since(start)
	writeAllocs(path + ".allocs.1")
	t.Logf("profile of 200 refreshes (%v each) in %s, allocations in %s.allocs.{0,1}", took/200, path, path)
}

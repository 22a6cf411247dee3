package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/strata-db/strata/bench"
)

// TestGrafanaRefresh measures a dashboard panel refreshing against the
// result cache (docs/cache.md, docs/performance.md "Result cache"):
//
//	STRATA_CACHE_BENCH=1 go test ./cmd/strata -run TestGrafanaRefresh -v -timeout 20m
//
// Two servers, each a process of its own, hold the same TSBS cpu-only data
// (100 hosts at 10 s, the day up to now), one with the cache and one
// without. Each round, in turn, both answer Grafana's panel query with the
// range ending now, as a refresh every few seconds sends it (with
// epoch=ms, as Grafana's InfluxQL data source asks), after the machine sat
// idle for 50 ms; then both answer it again for a second viewer, back to
// back, so that the two ratios tell the wake-up of an idle machine from the
// server's work; then, after another idle pause, a dashboard of four such
// panels (four fields), its queries sent at once as Grafana sends them.
// Between rounds, as live ingest does, every host writes a point at now,
// and every fourth round a late point lands two hours back. The answers
// must be identical every round; each ratio is of the medians of the
// uncached (cold) and cached (refresh) wall times.
// The default run does it on 10 hosts and 8 hours and asserts only that the
// answers agree; the full run asserts the 10× (not met yet: see
// docs/cache.md, "Measured"). STRATA_CACHE_PROFILE=file.pprof writes the
// cached server's CPU profile of 2 s of refreshes after the rounds, and
// its allocation profiles before and after them (file.pprof.allocs.0, .1);
// BenchmarkDashboardRefresh profiles the server's part alone.
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
	// Each server a process of its own with the defaults, as deployed: in
	// this test's process, the uncached server's garbage (24 MB per answer)
	// had the collector running through a tenth of the cached server's
	// refreshes, and a dashboard's four cached panels took 10-19 ms
	// instead of 4-7.
	profile := os.Getenv("STRATA_CACHE_PROFILE")
	var extra []string
	if profile != "" {
		extra = append(extra, "--pprof-enabled")
	}
	cachedSrv := startChild(t, t.TempDir(), extra...)
	plainSrv := startChild(t, t.TempDir(), "--query-cache-size", "0")
	for _, c := range []*child{cachedSrv, plainSrv} {
		t.Cleanup(func() { c.stop(t, syscall.SIGTERM) })
	}
	cached, plain := cachedSrv.base, plainSrv.base
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
	// Answers are read into reused buffers, one per server and panel, so
	// that the client's reading costs both servers the same small amount: a
	// fresh buffer grown to 1.4 MB and copied into a string was 14% of a
	// refresh's CPU, the test's and not the server's. Nor is it copied into a
	// string after: in the profiled refreshes that copy was two thirds of
	// the bytes allocated, and its collections the server's cost.
	// A connection kept open per panel and server, as a browser (six per
	// host) or Grafana's server-side client keeps them: Go's default
	// client keeps two per host, so a dashboard of four panels dialed two
	// new connections per refresh and its handlers began up to 6 ms late.
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 2 * len(dashboardFields)}}
	defer client.CloseIdleConnections()
	bufs := map[string][]*bytes.Buffer{}
	for _, base := range []string{cached, plain} {
		for range dashboardFields {
			bufs[base] = append(bufs[base], new(bytes.Buffer))
		}
	}
	answer := func(base, q string) ([]byte, time.Duration) {
		buf := bufs[base][0]
		took, err := fetchAnswer(client, base, q, buf)
		if err != nil {
			t.Fatal(err)
		}
		return buf.Bytes(), took // read only until the next answer from base
	}
	// dashboard sends every panel's query at once, as Grafana refreshes a
	// dashboard, and times the refresh until the last answer.
	dashboard := func(base string, at time.Time) time.Duration {
		errs := make([]error, len(dashboardFields))
		var wg sync.WaitGroup
		start := time.Now()
		for i, f := range dashboardFields {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = fetchAnswer(client, base, panelQuery(f, at), bufs[base][i])
			}()
		}
		wg.Wait()
		took := time.Since(start)
		if err := errors.Join(errs...); err != nil {
			t.Fatal(err)
		}
		return took
	}
	var panel, viewer, board refreshTimes
	for round := 0; round < rounds; round++ {
		now := time.Now()
		// Grafana's time > now() - 6h as its $timeFilter sends it, both
		// ends fixed by the client, so that both servers answer the same
		// range.
		q := panelQuery("usage_user", now)
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
		q2 := panelQuery("usage_user", time.Now())
		a, tw2 := answer(cached, q2)
		b, tc2 := answer(plain, q2)
		if !bytes.Equal(a, b) {
			t.Fatalf("round %d, second viewer: cached and uncached answers differ:\n%.600s\n%.600s", round, a, b)
		}
		// The whole dashboard, after the machine idled again.
		time.Sleep(50 * time.Millisecond)
		at := time.Now()
		td := dashboard(cached, at)
		tdc := dashboard(plain, at)
		for i, f := range dashboardFields {
			if !bytes.Equal(bufs[cached][i].Bytes(), bufs[plain][i].Bytes()) {
				t.Fatalf("round %d, dashboard panel %s: cached and uncached answers differ", round, f)
			}
		}
		if round > 1 { // the first sight runs uncached, the second fills the cache
			panel.add(tc, tw)
			viewer.add(tc2, tw2)
			board.add(tdc, td)
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
	if profile != "" {
		profileRefresh(t, cached, profile, func() {
			answer(cached, panelQuery("usage_user", time.Now()))
		})
	}
	ratio := panel.report(t, fmt.Sprintf("%d hosts, %v of data, one panel after the machine idled", hosts, span))
	last, _ := answer(cached, panelQuery("usage_user", time.Now()))
	floor := transferFloor(t, client, last, max(rounds, 10))
	cold, warm := panel.medians()
	t.Logf("moving the panel's %d bytes alone (a server that only writes them) after the machine idled: median %v; above it, cold %v and refresh %v: %.1f×",
		len(last), floor, cold-floor, warm-floor, float64(cold-floor)/float64(max(warm-floor, time.Microsecond)))
	viewer.report(t, "a second viewer of the panel, back to back")
	board.report(t, fmt.Sprintf("the dashboard's %d panels at once, after the machine idled", len(dashboardFields)))
	if ratio < want {
		t.Errorf("refresh from the cache only %.1f× faster than cold, want ≥ %.1f×", ratio, want)
	}
}

// dashboardFields are the panels of TestGrafanaRefresh's dashboard, one
// field of TSBS's cpu each; the first is the panel.
var dashboardFields = []string{"usage_user", "usage_system", "usage_idle", "usage_iowait"}

// panelQuery is a panel's query as Grafana sends it for the 6 hours up to
// now, by minute and host: its $timeFilter is both ends in epoch
// milliseconds, the client's now the upper one. Without it each server
// ended the range at its own now(), and when the uncached one answered in
// the next minute it had a row more (a default run failed so, 1 in ~10 full
// runs).
func panelQuery(field string, now time.Time) string {
	hi := now.UnixMilli()
	lo := now.Add(-6 * time.Hour).UnixMilli()
	return fmt.Sprintf("SELECT mean(%s) FROM cpu WHERE time >= %dms and time <= %dms GROUP BY time(1m), hostname", field, lo, hi)
}

// fetchAnswer GETs q (epoch=ms, as Grafana asks) from base into buf with
// client and times it until the answer's last byte.
func fetchAnswer(client *http.Client, base, q string, buf *bytes.Buffer) (time.Duration, error) {
	buf.Reset()
	start := time.Now()
	resp, err := client.Get(base + "/query?db=benchmark&epoch=ms&q=" + url.QueryEscape(q))
	if err != nil {
		return 0, err
	}
	_, err = buf.ReadFrom(resp.Body)
	resp.Body.Close()
	took := time.Since(start)
	if err != nil || resp.StatusCode != 200 || bytes.Contains(buf.Bytes(), []byte(`"error"`)) {
		return 0, fmt.Errorf("%s: %d %v %.300s", q, resp.StatusCode, err, buf.Bytes())
	}
	return took, nil
}

// transferFloor is the median time client takes to fetch answer's bytes
// from a server that does nothing but write them, at once as the uncached
// path writes its answer, each after the machine idled as the timed panels
// do: the part of a refresh that no cache removes (HTTP, the loopback
// copy, the reader's wake-ups). In this process, not a child: the bytes
// are fixed, so it makes no garbage for the client's collector to meet.
func transferFloor(t *testing.T, client *http.Client, answer []byte, rounds int) time.Duration {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(answer)
	}))
	defer srv.Close()
	var buf bytes.Buffer
	took := make([]time.Duration, 0, rounds)
	for range rounds {
		time.Sleep(50 * time.Millisecond)
		d, err := fetchAnswer(client, srv.URL, "static", &buf)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(buf.Bytes(), answer) {
			t.Fatalf("the static server answered %d bytes, not the %d given", buf.Len(), len(answer))
		}
		took = append(took, d)
	}
	slices.Sort(took)
	return took[len(took)/2]
}

// refreshTimes are the wall times of one kind of refresh, uncached (cold)
// and cached (warm), round by round.
type refreshTimes struct{ cold, warm []time.Duration }

func (r *refreshTimes) add(cold, warm time.Duration) {
	r.cold, r.warm = append(r.cold, cold), append(r.warm, warm)
}

// medians are the median cold and warm times.
func (r *refreshTimes) medians() (cold, warm time.Duration) {
	slices.Sort(r.cold)
	slices.Sort(r.warm)
	return r.cold[len(r.cold)/2], r.warm[len(r.warm)/2]
}

// report logs the medians and returns their ratio.
func (r *refreshTimes) report(t *testing.T, what string) float64 {
	mc, mw := r.medians()
	ratio := float64(mc) / float64(mw)
	t.Logf("%s: cold (no cache) median %v, refresh (cache) median %v: %.1f× faster", what, mc, mw, ratio)
	return ratio
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

// profileRefresh refreshes base's panel back to back while the server
// takes a CPU profile of 2 s into path (its /debug/pprof, served with
// --pprof-enabled), and saves its allocation profiles from before and after
// (go tool pprof -base path.allocs.0 path.allocs.1).
func profileRefresh(t *testing.T, base, path string, refresh func()) {
	t.Helper()
	save := func(u, file string) {
		resp, err := http.Get(base + u)
		if err != nil {
			t.Error(err)
			return
		}
		defer resp.Body.Close()
		f, err := os.Create(file)
		if err != nil {
			t.Error(err)
			return
		}
		defer f.Close()
		if _, err := io.Copy(f, resp.Body); err != nil || resp.StatusCode != 200 {
			t.Errorf("%s: %d %v", u, resp.StatusCode, err)
		}
	}
	save("/debug/pprof/allocs?gc=1", path+".allocs.0")
	done := make(chan struct{})
	go func() {
		defer close(done)
		save("/debug/pprof/profile?seconds=2", path)
	}()
	start, n := time.Now(), 0
	for running := true; running; n++ {
		refresh()
		select {
		case <-done:
			running = false
		default:
		}
	}
	took := time.Since(start)
	save("/debug/pprof/allocs?gc=1", path+".allocs.1")
	t.Logf("profile of %d refreshes (%v each) in %s, allocations in %s.allocs.{0,1}", n, took/time.Duration(n), path, path)
}

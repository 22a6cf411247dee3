package main

import (
	"fmt"
	"math/rand"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The result cache (query/resultcache, docs/cache.md) must never change an
// answer. These tests run the same writes on two real servers, one with the
// cache and one without (--query-cache-size 0), and compare their answers
// byte for byte.

// cachePair starts a cached and an uncached server over fresh directories.
func cachePair(t *testing.T) (cached, plain string) {
	t.Helper()
	cfgA := testConfig(t.TempDir())
	cfgA.queryCache = 64 << 20
	cfgB := testConfig(t.TempDir())
	cfgB.queryCache = 0
	_, cached = startTestServer(t, cfgA)
	_, plain = startTestServer(t, cfgB)
	for _, base := range []string{cached, plain} {
		mustQuery(t, base, "CREATE DATABASE db")
	}
	return cached, plain
}

// queryBody is the raw JSON answer of q on database db.
func queryBody(t *testing.T, base, q string) string {
	t.Helper()
	return queryBodyIn(t, base, "db", q)
}

// queryBodyWith is queryBody with more URL parameters (params: "&k=v...").
func queryBodyWith(t *testing.T, base, q, params string) string {
	t.Helper()
	r := do(t, "GET", base+"/query?db=db&q="+url.QueryEscape(q)+params, nil, nil)
	if r.status != 200 {
		t.Fatalf("%s%s: %d %s", q, params, r.status, r.body)
	}
	return r.body
}

func queryBodyIn(t *testing.T, base, db, q string) string {
	t.Helper()
	r := do(t, "GET", base+"/query?db="+url.QueryEscape(db)+"&q="+url.QueryEscape(q), nil, nil)
	if r.status != 200 {
		t.Fatalf("%s: %d %s", q, r.status, r.body)
	}
	return r.body
}

// explainCached reads "WINDOWS FROM THE RESULT CACHE: n of m" from EXPLAIN
// ANALYZE of q (-1, -1 when the line is absent).
func explainCached(t *testing.T, base, q string) (hit, of int) {
	t.Helper()
	return explainCachedIn(t, base, "db", q)
}

func explainCachedIn(t *testing.T, base, db, q string) (hit, of int) {
	t.Helper()
	body := queryBodyIn(t, base, db, "EXPLAIN ANALYZE "+q)
	m := regexp.MustCompile(`WINDOWS FROM THE RESULT CACHE: (\d+) of (\d+)`).FindStringSubmatch(body)
	if m == nil {
		return -1, -1
	}
	hit, _ = strconv.Atoi(m[1])
	of, _ = strconv.Atoi(m[2])
	return hit, of
}

// cacheStatements are the shapes a dashboard sends, with the time range as
// %d %d (ns): aggregates on the header and decoded paths, selectors, value
// collections, sketches, transformations over windows, fill, tags, DESC.
var cacheStatements = []string{
	`SELECT mean(usage) FROM cpu WHERE time >= %d AND time < %d GROUP BY time(1m), host`,
	`SELECT sum(usage), count(usage), min(n), max(n) FROM cpu WHERE time >= %d AND time <= %d GROUP BY time(1m)`,
	`SELECT first(usage), last(n), spread(n) FROM cpu WHERE host = 'h1' AND time > %d AND time < %d GROUP BY time(5m) fill(0)`,
	`SELECT median(usage), percentile(n, 90), stddev(usage) FROM cpu WHERE time > %d AND time < %d GROUP BY time(2m), region`,
	`SELECT count(distinct(n)), mode(n) FROM cpu WHERE time >= %d AND time < %d GROUP BY time(10m)`,
	`SELECT approx_count_distinct(n), approx_percentile(usage, 99) FROM cpu WHERE time >= %d AND time < %d GROUP BY time(1m)`,
	`SELECT derivative(mean(usage), 1m), moving_average(max(n), 3) FROM cpu WHERE time >= %d AND time < %d GROUP BY time(1m), host fill(previous)`,
	`SELECT mean(usage) FROM cpu WHERE time >= %d AND time < %d GROUP BY time(1m) fill(linear) ORDER BY time DESC`,
	`SELECT max(usage), mean(n) FROM cpu, mem WHERE time >= %d AND time < %d GROUP BY time(3m, 30s), *`,
	`SELECT sum(n) FROM /.*/ WHERE time >= %d AND time < %d GROUP BY time(1h), host`,
	// Rendered rows served one by one rather than joined: DESC, LIMIT/OFFSET.
	`SELECT max(usage), count(n) FROM cpu WHERE time >= %d AND time < %d GROUP BY time(1m), host ORDER BY time DESC`,
	`SELECT min(usage) FROM cpu WHERE time >= %d AND time < %d GROUP BY time(1m), host fill(none) LIMIT 20 OFFSET 3`,
}

// cacheFormats are the /query parameters a refresh is sent with: rendered
// rows are cached per format, and chunked answers take rows one by one.
var cacheFormats = []string{"", "", "&epoch=ms", "&pretty=true", "&chunked=true&chunk_size=7"}

// TestResultCacheMatchesUncached runs a random sequence of on-time writes,
// late writes, overwrites, DELETEs, DROP SERIES, DROP MEASUREMENT and
// refreshing queries on both servers and requires identical answers every
// time. STRATA_CACHE_SOAK=1 runs ten times as many steps, and
// STRATA_CACHE_SEED=n another sequence than the default's.
func TestResultCacheMatchesUncached(t *testing.T) {
	cached, plain := cachePair(t)
	seed := int64(7)
	if s := os.Getenv("STRATA_CACHE_SEED"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			t.Fatalf("STRATA_CACHE_SEED=%q: %v", s, err)
		}
		seed = n
	}
	rng := rand.New(rand.NewSource(seed))
	// Data lives in the three hours before base; refreshes move their range
	// forward by a few seconds, as a dashboard's now() does.
	base := time.Now().Truncate(time.Hour).UnixNano()
	start := base - 3*int64(time.Hour)
	hosts := []string{"h0", "h1", "h2", "h3"}
	point := func(ts int64) string {
		h := hosts[rng.Intn(len(hosts))]
		m := "cpu"
		if rng.Intn(5) == 0 {
			m = "mem"
		}
		return fmt.Sprintf("%s,host=%s,region=r%d usage=%.3f,n=%di %d\n", m, h, len(h)%2, rng.Float64()*100, rng.Intn(20), ts)
	}
	both := func(f func(base string)) { f(cached); f(plain) }
	write := func(body string) { both(func(b string) { writeLP(t, b, body) }) }

	// An initial hour and a half of points every 10 s per host.
	var sb strings.Builder
	for ts := start; ts < start+90*int64(time.Minute); ts += 10 * int64(time.Second) {
		for range hosts {
			sb.WriteString(point(ts + int64(rng.Intn(10))*int64(time.Second)))
		}
	}
	write(sb.String())

	steps := 150
	if os.Getenv("STRATA_CACHE_SOAK") != "" {
		steps = 1500
	}
	now := start + 90*int64(time.Minute) // the dashboard's now, moving forward
	for step := 0; step < steps; step++ {
		switch op := rng.Intn(20); {
		case op < 6: // on-time data at now
			var b strings.Builder
			for range hosts {
				b.WriteString(point(now - int64(rng.Intn(10))*int64(time.Second)))
			}
			write(b.String())
		case op < 9: // late data anywhere in the past, or an overwrite of a round 10 s
			ts := start + rng.Int63n(now-start)
			if rng.Intn(2) == 0 {
				ts -= ts % int64(10*time.Second)
			}
			write(point(ts))
		case op == 9:
			lo := start + rng.Int63n(now-start)
			q := fmt.Sprintf("DELETE FROM cpu WHERE host = '%s' AND time >= %d AND time < %d", hosts[rng.Intn(len(hosts))], lo, lo+int64(rng.Intn(600))*int64(time.Second))
			both(func(b string) { mustQuery(t, b, q) })
		case op == 10 && rng.Intn(4) == 0:
			q := fmt.Sprintf("DROP SERIES FROM mem WHERE host = '%s'", hosts[rng.Intn(len(hosts))])
			both(func(b string) { mustQuery(t, b, q) })
		case op == 11 && rng.Intn(10) == 0:
			both(func(b string) { mustQuery(t, b, "DROP MEASUREMENT mem") })
		default: // a refresh: the same statement, its range moved with now
			now += int64(rng.Intn(15)) * int64(time.Second)
			stmt := cacheStatements[rng.Intn(len(cacheStatements))]
			span := []int64{30, 60, 120, 180}[rng.Intn(4)] * int64(time.Minute)
			q := fmt.Sprintf(stmt, now-span, now)
			f := cacheFormats[rng.Intn(len(cacheFormats))]
			a, b := queryBodyWith(t, cached, q, f), queryBodyWith(t, plain, q, f)
			if a != b {
				t.Fatalf("step %d: %s\ncached:   %s\nuncached: %s", step, q, a, b)
			}
			if strings.Contains(a, `"error"`) || !strings.Contains(a, `"values"`) {
				t.Fatalf("step %d: %s: no rows to compare: %s", step, q, a)
			}
			// Sent again, as a second viewer of the dashboard does: the cache
			// keeps a key from its second sight (resultcache.Cache.Admit), so
			// this is what stores the windows a first sight left uncached.
			if a2 := queryBodyWith(t, cached, q, f); a2 != b {
				t.Fatalf("step %d: %s, sent again\ncached:   %s\nuncached: %s", step, q, a2, b)
			}
		}
	}
	// Every shape must have been served from the cache at least partly, or
	// the comparison above proved nothing for it.
	for _, stmt := range cacheStatements {
		q := fmt.Sprintf(stmt, now-3*time.Hour.Nanoseconds(), now)
		queryBody(t, cached, q)
		queryBody(t, cached, q) // stored from the second sight on
		if h, _ := explainCached(t, cached, q); h <= 0 {
			t.Errorf("%s: no window from the cache on a repeat", q)
		}
	}
}

// TestResultCacheInvalidatesExactly checks what a late write costs: the
// windows of its minute in its measurement, and nothing in another.
func TestResultCacheInvalidatesExactly(t *testing.T) {
	cached, plain := cachePair(t)
	start := time.Now().Truncate(time.Hour).Add(-2 * time.Hour).UnixNano()
	var sb strings.Builder
	for i := int64(0); i < 60*6; i++ { // an hour at 10 s, two hosts, two measurements
		ts := start + i*int64(10*time.Second)
		fmt.Fprintf(&sb, "cpu,host=a usage=%d %d\ncpu,host=b usage=%d %d\nmem,host=a used=%d %d\n", i, ts, 2*i, ts, 3*i, ts)
	}
	for _, b := range []string{cached, plain} {
		writeLP(t, b, sb.String())
	}
	end := start + int64(time.Hour)
	q := fmt.Sprintf("SELECT mean(usage) FROM cpu WHERE time >= %d AND time < %d GROUP BY time(1m), host", start, end)
	qm := fmt.Sprintf("SELECT max(used) FROM mem WHERE time >= %d AND time < %d GROUP BY time(1m)", start, end)
	// The first sight of each group runs without the cache; the second
	// stores its windows.
	if body := queryBodyIn(t, cached, "db", "EXPLAIN ANALYZE "+q); !strings.Contains(body, "RESULT CACHE NOT USED: 2 groups or calls at their first sight") {
		t.Fatalf("first run: the cache was used, or EXPLAIN does not say it was not: %s", body)
	}
	if h, of := explainCached(t, cached, q); h != 0 || of != 120 {
		t.Fatalf("second run: %d of %d windows from the cache, want 0 of 120", h, of)
	}
	explainCached(t, cached, qm)
	explainCached(t, cached, qm)
	if h, of := explainCached(t, cached, q); h != 120 || of != 120 {
		t.Fatalf("third run: %d of %d, want 120 of 120", h, of)
	}
	// A late point in minute 17 for host a: that minute's window of both
	// groups (the generation is per measurement), nothing else, and no mem window.
	late := fmt.Sprintf("cpu,host=a usage=1000 %d\n", start+17*int64(time.Minute)+5e9)
	for _, b := range []string{cached, plain} {
		writeLP(t, b, late)
	}
	if h, of := explainCached(t, cached, q); h != 118 || of != 120 {
		t.Fatalf("after a late write: %d of %d, want 118 of 120", h, of)
	}
	if h, of := explainCached(t, cached, qm); h != 60 || of != 60 {
		t.Fatalf("mem after a cpu write: %d of %d, want 60 of 60", h, of)
	}
	if a, b := queryBody(t, cached, q), queryBody(t, plain, q); a != b {
		t.Fatalf("after a late write:\ncached:   %s\nuncached: %s", a, b)
	}
	// A DELETE of minutes 30-34 of host b.
	del := fmt.Sprintf("DELETE FROM cpu WHERE host = 'b' AND time >= %d AND time < %d", start+30*int64(time.Minute), start+35*int64(time.Minute))
	for _, b := range []string{cached, plain} {
		mustQuery(t, b, del)
	}
	if h, of := explainCached(t, cached, q); h != 110 || of != 120 {
		t.Fatalf("after a DELETE: %d of %d, want 110 of 120", h, of)
	}
	if a, b := queryBody(t, cached, q), queryBody(t, plain, q); a != b {
		t.Fatalf("after a DELETE:\ncached:   %s\nuncached: %s", a, b)
	}
	// Metrics count what happened.
	m := do(t, "GET", cached+"/metrics", nil, nil).body
	for _, name := range []string{"strata_query_cache_hits_total", "strata_query_cache_invalidations_total", "strata_query_cache_bytes"} {
		if !regexp.MustCompile(`(?m)^` + name + ` [1-9]`).MatchString(m) {
			t.Errorf("/metrics: %s missing or zero", name)
		}
	}
}

// TestResultCacheEdgeWindow: the window a range's start cuts is served from
// the points the cache kept of it (query/edgecache.go) only while nothing
// touched it: a late point in its cut part and one before the range start
// (which invalidates the kept points but not the answer) each leave the
// answers identical to the uncached server's, refresh after refresh.
func TestResultCacheEdgeWindow(t *testing.T) {
	cached, plain := cachePair(t)
	start := time.Now().Truncate(time.Hour).Add(-2 * time.Hour).UnixNano()
	var sb strings.Builder
	for i := int64(0); i < 360; i++ { // an hour at 10 s, two hosts
		ts := start + i*int64(10*time.Second)
		fmt.Fprintf(&sb, "cpu,host=a usage=%d %d\ncpu,host=b usage=%d %d\n", i, ts, 2*i, ts)
	}
	for _, b := range []string{cached, plain} {
		writeLP(t, b, sb.String())
	}
	edge := start + 10*int64(time.Minute) // the window [10m, 11m) is cut
	compare := func(step string, from int64) {
		t.Helper()
		q := fmt.Sprintf("SELECT mean(usage), max(usage) FROM cpu WHERE time > %d AND time < %d GROUP BY time(1m), host", from, start+int64(time.Hour))
		if a, b := queryBody(t, cached, q), queryBody(t, plain, q); a != b {
			t.Fatalf("%s: cached and uncached answers differ:\n%.500s\n%.500s", step, a, b)
		}
	}
	late := func(ts int64, v int) {
		for _, b := range []string{cached, plain} {
			writeLP(t, b, fmt.Sprintf("cpu,host=a usage=%d %d\n", v, ts))
		}
	}
	// The cache keeps a key from its second sight, and the edge from a
	// refresh the cache served windows of: the third.
	compare("first sight", edge+20*int64(time.Second))
	compare("second sight", edge+22*int64(time.Second))
	compare("first", edge+25*int64(time.Second))
	compare("start moved inside the window", edge+33*int64(time.Second))
	late(edge+45*int64(time.Second)+1, 9999) // inside the cut part
	compare("after a late point in the cut part", edge+34*int64(time.Second))
	late(edge+5*int64(time.Second)+1, -5000) // before the range's start, same window
	compare("after a late point before the start", edge+35*int64(time.Second))
	compare("start moved again", edge+51*int64(time.Second))
}

// TestResultCacheEdgeKeptAhead: an edge read from blocks keeps the points
// of the 15 windows after it too (query/edgecache.go, edgeAheadWindows), so
// a range start moving into the next minute, as it does every sixth
// refresh of a 10 s dashboard, reads no block until it has moved through
// them; a late point into one of them invalidates that window alone, which
// is then read again. Answers stay identical to the uncached server's.
func TestResultCacheEdgeKeptAhead(t *testing.T) {
	var servers []*server
	var bases []string
	for _, size := range []int64{64 << 20, 0} {
		cfg := testConfig(t.TempDir())
		cfg.queryCache = size
		s, base := startTestServer(t, cfg)
		mustQuery(t, base, "CREATE DATABASE db")
		servers, bases = append(servers, s), append(bases, base)
	}
	cached, plain := bases[0], bases[1]
	minute := int64(time.Minute)
	start := time.Now().Truncate(time.Hour).Add(-3 * time.Hour).UnixNano()
	var sb strings.Builder
	for i := int64(0); i < 720; i++ { // two hours at 10 s, two hosts
		ts := start + i*int64(10*time.Second)
		fmt.Fprintf(&sb, "cpu,host=a usage=%d %d\ncpu,host=b usage=%d %d\n", i, ts, 2*i, ts)
	}
	for i, s := range servers {
		writeLP(t, bases[i], sb.String())
		if err := s.eng.Flush(); err != nil { // the edges are read from blocks
			t.Fatal(err)
		}
	}
	end := start + 2*int64(time.Hour)
	query := func(from int64) string {
		return fmt.Sprintf("SELECT mean(usage), max(usage) FROM cpu WHERE time >= %d AND time < %d GROUP BY time(1m), host", from, end)
	}
	decoded := regexp.MustCompile(`BLOCKS DECODED: (\d+)`)
	// refresh asks the cached server with EXPLAIN ANALYZE first, so that
	// the blocks it decodes are the refresh's, then both for the answers.
	refresh := func(step string, from int64) (blocks int) {
		t.Helper()
		for _, m := range decoded.FindAllStringSubmatch(queryBody(t, cached, "EXPLAIN ANALYZE "+query(from)), -1) {
			n, _ := strconv.Atoi(m[1])
			blocks += n
		}
		if a, b := queryBody(t, cached, query(from)), queryBody(t, plain, query(from)); a != b {
			t.Fatalf("%s: cached and uncached answers differ:\n%.500s\n%.500s", step, a, b)
		}
		return blocks
	}
	at := func(window, second int64) int64 { return start + window*minute + second*int64(time.Second) }
	// Three sights of the range cut in window 10: the third reads the edge
	// and keeps it with the 15 windows after it (11 to 25).
	for k, sec := range []int64{15, 25, 35} {
		refresh(fmt.Sprintf("sight %d", k+1), at(10, sec))
	}
	if blocks := refresh("start in window 11", at(11, 15)); blocks != 0 {
		t.Errorf("window 11: %d blocks decoded, want its edge kept by window 10's read", blocks)
	}
	// A late point into window 14: its cached rows are read again by the
	// next refresh, and its kept edge when the start reaches it.
	for _, base := range bases {
		writeLP(t, base, fmt.Sprintf("cpu,host=a usage=-1000 %d\n", at(14, 5)+1))
	}
	if blocks := refresh("window 11 after the late point", at(11, 25)); blocks == 0 {
		t.Errorf("window 11 after a late point into window 14: no block decoded, want window 14 read again")
	}
	for w := int64(12); w <= 30; w++ {
		blocks := refresh(fmt.Sprintf("start in window %d", w), at(w, 15))
		switch {
		case w == 14 || w == 30: // invalidated; past window 14's read's 15
			if blocks == 0 {
				t.Errorf("window %d: no block decoded, want its edge read", w)
			}
		case blocks != 0:
			t.Errorf("window %d: %d blocks decoded, want its edge kept", w, blocks)
		}
	}
}

// TestResultCacheRejoinsFragmentedRows: late points into a few minutes per
// refresh leave a group's cached rows in pieces of several answers'
// buffers; past 16 pieces a refresh copies them side by side and stores them
// again under their own stamps. The answers stay identical to the uncached
// server's, a quiet refresh after finds few pieces, and a late point after
// the rejoin still invalidates its window.
func TestResultCacheRejoinsFragmentedRows(t *testing.T) {
	cached, plain := cachePair(t)
	start := time.Now().Truncate(time.Hour).Add(-3 * time.Hour).UnixNano()
	minute := int64(time.Minute)
	var sb strings.Builder
	for i := int64(0); i < 360; i++ { // an hour at 10 s, two hosts
		ts := start + i*int64(10*time.Second)
		fmt.Fprintf(&sb, "cpu,host=a usage=%d %d\ncpu,host=b usage=%d %d\n", i, ts, 2*i, ts)
	}
	for _, b := range []string{cached, plain} {
		writeLP(t, b, sb.String())
	}
	q := fmt.Sprintf("SELECT mean(usage) FROM cpu WHERE time >= %d AND time < %d GROUP BY time(1m), host", start, start+60*minute)
	compare := func(step string) {
		t.Helper()
		if a, b := queryBody(t, cached, q), queryBody(t, plain, q); a != b {
			t.Fatalf("%s: cached and uncached answers differ:\n%.500s\n%.500s", step, a, b)
		}
	}
	// rejoined refreshes the cached server by EXPLAIN ANALYZE and returns
	// the groups whose rows it rejoined.
	rejoined := func() int {
		t.Helper()
		body := queryBody(t, cached, "EXPLAIN ANALYZE "+q)
		m := regexp.MustCompile(`RESULT CACHE ROWS REJOINED: (\d+) groups`).FindStringSubmatch(body)
		if m == nil {
			return 0
		}
		n, _ := strconv.Atoi(m[1])
		return n
	}
	compare("first sight")
	compare("second sight") // stores
	total := 0
	for round := int64(0); round < 5; round++ {
		// Four late minutes per refresh, each its own write (a series'
		// change spans its points), so that a refresh reads at most 8
		// ranges and keeps the other windows.
		for w := 8*round + 1; w < 8*round+8; w += 2 {
			for _, b := range []string{cached, plain} {
				writeLP(t, b, fmt.Sprintf("cpu,host=a usage=%d %d\ncpu,host=b usage=%d %d\n", 1000+w, start+w*minute+1, 2000+w, start+w*minute+1))
			}
		}
		total += rejoined()
		compare(fmt.Sprintf("round %d", round))
	}
	if total < 2 {
		t.Fatalf("%d groups rejoined over five fragmenting refreshes, want both groups at least once", total)
	}
	if n := rejoined(); n != 0 {
		t.Fatalf("a quiet refresh after: %d groups rejoined, want 0", n)
	}
	for _, b := range []string{cached, plain} {
		writeLP(t, b, fmt.Sprintf("cpu,host=a usage=-7 %d\n", start+2*minute+5))
	}
	// Generations are kept per measurement and minute: the minute's window
	// of both groups is read again, and nothing else.
	if hit, of := explainCached(t, cached, q); hit != of-2 {
		t.Fatalf("after a late point into a rejoined window: %d of %d windows cached, want all but its minute's two", hit, of)
	}
	compare("late point into a rejoined window")
}

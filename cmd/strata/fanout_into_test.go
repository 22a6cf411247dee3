package main

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestFanoutInto: on a set, a client's SELECT ... INTO computes over every
// node and writes on the node that received it, while a continuous query
// runs on each node over that node's own series (docs/cluster-operations.md):
// the rollup, read through the fan-out, holds each (host, window) once and
// equals a fresh SELECT of the set.
func TestFanoutInto(t *testing.T) {
	addrs := freeAddrs(t, 2)
	var bases []string
	for i, a := range addrs {
		cfg := testConfig(t.TempDir())
		cfg.httpAddr, cfg.peers, cfg.queryCache = a, addrs[1-i], 0
		s, base := startTestServer(t, cfg)
		t.Cleanup(func() { s.shutdown(10 * time.Second) })
		bases = append(bases, base)
		mustQuery(t, base, "CREATE DATABASE db")
		mustQuery(t, base, e2eCQ) // continuous queries are each node's own
		waitFirstCQPass(t, base)
	}
	// On-time points, host a on node 0 and host b on node 1, in the same
	// windows, after the queries' first runs (a query does not backfill).
	time.Sleep(1100 * time.Millisecond)
	var first, last int64
	for i, start := 0, time.Now(); time.Since(start) < 2500*time.Millisecond; i++ {
		now := time.Now().UnixNano()
		if first == 0 {
			first = now/int64(time.Second)*int64(time.Second) + int64(time.Second) // the first whole window
		}
		last = now / int64(time.Second) * int64(time.Second) // the last, partly written
		for n, host := range []string{"a", "b"} {
			writeLP(t, bases[n], fmt.Sprintf("m,host=%s v=%d %d\n", host, 10*n+i, now))
		}
		time.Sleep(100 * time.Millisecond)
	}
	rng := fmt.Sprintf("time >= %d AND time < %d", first, last)
	fresh := queryRows(t, bases[0], "SELECT mean(v) AS mean, count(v) AS count, max(v) AS max FROM m WHERE "+rng+" GROUP BY time(1s), host")
	if len(fresh) < 2 {
		t.Fatalf("fresh SELECT over the set: %v, want a window × 2 hosts at least", fresh)
	}
	var rolled []string
	waitUntil(t, "both nodes' rollups", 10*time.Second, func() bool {
		rolled = queryRowsWith(t, bases[0], "rollups=stored", "SELECT mean, count, max FROM m_1s WHERE "+rng+" GROUP BY host")
		return len(rolled) >= len(fresh)
	})
	time.Sleep(1500 * time.Millisecond) // and nothing more
	rolled = queryRowsWith(t, bases[0], "rollups=stored", "SELECT mean, count, max FROM m_1s WHERE "+rng+" GROUP BY host")
	if !slices.Equal(fresh, rolled) {
		t.Fatalf("rollups of the set's continuous queries:\n%s\nwant each node's own series once:\n%s", strings.Join(rolled, "\n"), strings.Join(fresh, "\n"))
	}

	// A client's INTO: the whole set's aggregate, stored on node 0 once.
	mustQuery(t, bases[0], "SELECT count(v) AS n INTO m_all FROM m WHERE "+rng+" GROUP BY time(1s)")
	if got, want := queryRows(t, bases[1], "SELECT n FROM m_all"), queryRows(t, bases[1], "SELECT count(v) AS n FROM m WHERE "+rng+" GROUP BY time(1s)"); !slices.Equal(got, want) || len(got) == 0 {
		t.Fatalf("SELECT INTO over the set wrote %v, want %v", got, want)
	}
	// With partial=true too a missing peer fails an INTO rather than store
	// an incomplete aggregate: here both answer, so it succeeds.
	r := do(t, "POST", bases[1]+"/query?partial=true", []byte("db=db&q="+strings.ReplaceAll("SELECT count(v) AS n INTO m_all2 FROM m WHERE "+rng+" GROUP BY time(1s)", " ", "+")),
		map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
	if !strings.Contains(r.body, fmt.Sprintf(`"written"],"values":[["1970-01-01T00:00:00Z",%d]]`, len(fresh)/2)) {
		t.Fatalf("SELECT INTO with partial=true: %s", r.body)
	}
}

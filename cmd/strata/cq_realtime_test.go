package main

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestContinuousQueryRealTime: right after a late write, before the service
// has run, a SELECT on the rollup answers the touched window from raw data
// (what a fresh SELECT of the query answers), rollups=stored still reads the
// old value, and EXPLAIN says so; once the service runs, the stored rollup is
// exactly what real time answered.
func TestContinuousQueryRealTime(t *testing.T) {
	dir := t.TempDir()
	c := startChild(t, dir)
	sc := writeOnTime(t, c.base)
	if err := c.stop(t, syscall.SIGTERM); err != nil {
		t.Fatalf("graceful stop: %v\n%s", err, c.log())
	}
	c = startChild(t, dir, "--cq-run-interval", "1h") // the service does not run again
	waitFirstCQPass(t, c.base)
	writeLP(t, c.base, fmt.Sprintf("m,host=a v=1000 %d\n", sc.first+second+1))
	rng := fmt.Sprintf("time >= %d AND time < %d", sc.first, sc.last)
	fresh := queryRows(t, c.base, "SELECT mean(v) AS mean, count(v) AS count, max(v) AS max FROM m WHERE "+rng+" GROUP BY time(1s), host")
	const rollup = "SELECT mean, count, max FROM m_1s WHERE %s GROUP BY host"
	real := queryRows(t, c.base, fmt.Sprintf(rollup, rng))
	stored := queryRowsWith(t, c.base, "rollups=stored", fmt.Sprintf(rollup, rng))
	if !slices.Equal(real, fresh) {
		t.Fatalf("real time differs from a fresh SELECT:\nreal time:\n%s\nfresh:\n%s", strings.Join(real, "\n"), strings.Join(fresh, "\n"))
	}
	if slices.Equal(stored, fresh) || !strings.Contains(strings.Join(real, " "), "1000") {
		t.Fatalf("the late point is not what real time added:\nstored:\n%s\nreal time:\n%s", strings.Join(stored, "\n"), strings.Join(real, "\n"))
	}
	if n := metricValue(t, c.base, lateMetric); n != 0 {
		t.Fatalf("the service ran: %v late windows", n)
	}
	plan := queryRows(t, c.base, "EXPLAIN "+fmt.Sprintf(rollup, rng))
	if !strings.Contains(strings.Join(plan, "\n"), "REAL-TIME ROLLUP db.c: 1 window(s) from raw data") {
		t.Fatalf("EXPLAIN:\n%s", strings.Join(plan, "\n"))
	}
	r := do(t, "GET", c.base+"/query?db=db&rollups=bogus&q="+url.QueryEscape(fmt.Sprintf(rollup, rng)), nil, nil)
	if !strings.Contains(r.body, `invalid rollups option \"bogus\"`) {
		t.Fatalf("rollups=bogus: %d %s", r.status, r.body)
	}
	if err := c.stop(t, syscall.SIGTERM); err != nil {
		t.Fatalf("graceful stop: %v\n%s", err, c.log())
	}
	c = startChild(t, dir)
	defer c.stop(t, syscall.SIGTERM)
	waitUntil(t, "the late window", 15*time.Second, func() bool { return metricValue(t, c.base, lateMetric) >= 1 })
	if got := queryRowsWith(t, c.base, "rollups=stored", fmt.Sprintf(rollup, rng)); !slices.Equal(got, real) {
		t.Fatalf("the service wrote\n%s\nreal time answered\n%s", strings.Join(got, "\n"), strings.Join(real, "\n"))
	}
}

package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

var updateGolden = flag.Bool("update", false, "rewrite the golden files under testdata/ (explain_fanout.golden)")

// explainLines is the QUERY PLAN column of EXPLAIN [ANALYZE] q on base, in
// order.
func explainLines(t *testing.T, base, db, q string) []string {
	t.Helper()
	// POST: EXPLAIN ANALYZE of an INTO counts as changing data.
	r := do(t, "POST", base+"/query", []byte(url.Values{"db": {db}, "q": {q}}.Encode()), map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
	var res struct {
		Results []struct {
			Error  string
			Series []struct{ Values [][]string }
		}
	}
	if err := json.Unmarshal([]byte(r.body), &res); err != nil || len(res.Results) != 1 || res.Results[0].Error != "" || len(res.Results[0].Series) != 1 {
		t.Fatalf("%s: %d %s", q, r.status, r.body)
	}
	var out []string
	for _, v := range res.Results[0].Series[0].Values {
		out = append(out, v[0])
	}
	return out
}

// timings are EXPLAIN's times, which vary run to run: the planning and
// execution lines, and each PEER line's time.
var (
	timingLine = regexp.MustCompile(`^((PLANNING|EXECUTION) TIME): .*$`)
	peerTime   = regexp.MustCompile(`^(   PEER .*\)): [^,]+, `)
)

// TestExplainFanoutGolden: what EXPLAIN and EXPLAIN ANALYZE print about the
// fan-out of a three-node set (the FAN-OUT line, what each call ships, one
// PEER line per answer) is the contract in testdata/explain_fanout.golden
// (rewrite it with -update). Peer addresses are printed as PEER-1, PEER-2
// and times as <t>; the nodes' addresses all have five-digit ports (Linux'
// ephemeral range), so the bytes of the answers, which name their node,
// are stable.
func TestExplainFanoutGolden(t *testing.T) {
	addrs := freeAddrs(t, 3)
	var bases []string
	for i, a := range addrs {
		cfg := testConfig(t.TempDir())
		cfg.httpAddr, cfg.queryCache = a, 0
		var others []string
		for j, b := range addrs {
			if j != i {
				others = append(others, b)
			}
		}
		cfg.peers = strings.Join(others, ",")
		s, base := startTestServer(t, cfg)
		t.Cleanup(func() { s.shutdown(10 * time.Second) })
		bases = append(bases, base)
		if r := runQuery(t, base, "CREATE DATABASE db"); r.status != 200 || strings.Contains(r.body, `"error"`) {
			t.Fatalf("CREATE DATABASE: %s", r.body)
		}
		// Node i stores host h<i>: six points a minute apart, and one of
		// host "all" (a series spread over the three nodes).
		var lines []string
		for k := range 6 {
			ts := int64(1_700_000_000+60*k) * int64(time.Second)
			lines = append(lines, fmt.Sprintf("cpu,host=h%d usage=%d,idle=%d %d", i, 10*i+k, 100-k, ts))
		}
		lines = append(lines, fmt.Sprintf("cpu,host=all usage=%d %d", i, int64(1_700_000_000+i)*int64(time.Second)))
		if r := do(t, "POST", base+"/write?db=db", []byte(strings.Join(lines, "\n")), nil); r.status != 204 {
			t.Fatalf("write: %d %s", r.status, r.body)
		}
	}
	const rng = "time >= 1700000000s AND time < 1700000600s"
	queries := []string{
		"SELECT max(usage), mean(idle) FROM cpu WHERE " + rng + " GROUP BY time(2m)",
		"SELECT count(usage) FROM cpu WHERE idle > 96 AND " + rng + " GROUP BY host",
		"SELECT usage, idle FROM cpu WHERE usage > 3 AND " + rng + " ORDER BY time DESC LIMIT 2 OFFSET 1",
		"SELECT derivative(mean(usage), 1m) FROM cpu WHERE " + rng + " GROUP BY time(2m), host",
		"SELECT difference(usage) FROM cpu WHERE " + rng,
		"SELECT integral(usage, 1m), percentile(idle, 50) FROM cpu WHERE " + rng,
		"SELECT max(m) FROM (SELECT mean(usage) AS m FROM cpu WHERE " + rng + " GROUP BY time(2m), host)",
		"SELECT count(usage) AS n INTO cpu_n FROM cpu WHERE " + rng + " GROUP BY time(5m), host",
	}
	masks := strings.NewReplacer(addrs[1], "PEER-1", addrs[2], "PEER-2", addrs[0], "NODE-0")
	var b strings.Builder
	for _, q := range queries {
		for _, prefix := range []string{"EXPLAIN ", "EXPLAIN ANALYZE "} {
			fmt.Fprintf(&b, "> %s%s\n", prefix, q)
			for _, l := range explainLines(t, bases[0], "db", prefix+q) {
				l = timingLine.ReplaceAllString(masks.Replace(l), "$1: <t>")
				b.WriteString(peerTime.ReplaceAllString(l, "$1: <t>, ") + "\n")
			}
			b.WriteString("\n")
		}
	}
	got := b.String()
	path := filepath.Join("testdata", "explain_fanout.golden")
	if *updateGolden {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		t.Fatalf("EXPLAIN of the fan-out differs from %s (-update rewrites it after a deliberate change):\n%s", path, lineDiff(string(want), got))
	}
}

// lineDiff lists the lines of want and got that differ, by line number.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	for i := range max(len(w), len(g)) {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			fmt.Fprintf(&b, "line %d:\n  want %q\n   got %q\n", i+1, wl, gl)
		}
	}
	return b.String()
}

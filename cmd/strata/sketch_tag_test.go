package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

// tagData writes a small measurement whose row counts per host are known:
//
//	host a, region eu: usage and idle at 0, 10, 20, 30 s        4 rows
//	host b, region eu: usage at 0, 10 s, idle at 20 s            3 rows (fields at different times)
//	host c, region us: usage at 0 s                              1 row
//	no host, region us: usage at 0, 10 s                         2 rows, no host: they count nothing
//	host d, region us: usage at 100, 110 s                       2 rows, in a later window
//
// and a measurement where k is a tag of one series and a field of another.
func tagData(t *testing.T, base string) {
	t.Helper()
	if r := runQuery(t, base, `CREATE DATABASE "tags"`); r.status != 200 {
		t.Fatalf("create database: %d %s", r.status, r.body)
	}
	lines := []string{
		"cpu,host=a,region=eu usage=1,idle=2 0",
		"cpu,host=a,region=eu usage=1,idle=2 10000000000",
		"cpu,host=a,region=eu usage=1,idle=2 20000000000",
		"cpu,host=a,region=eu usage=1,idle=2 30000000000",
		"cpu,host=b,region=eu usage=1 0",
		"cpu,host=b,region=eu usage=1 10000000000",
		"cpu,host=b,region=eu idle=5 20000000000",
		"cpu,host=c,region=us usage=3 0",
		"cpu,region=us usage=4 0",
		"cpu,region=us usage=4 10000000000",
		"cpu,host=d,region=us usage=1 100000000000",
		"cpu,host=d,region=us usage=1 110000000000",
		"clash,k=t1 v=1 0",
		"clash,k=t2 v=1 10000000000",
		`clash,s=x k="f1" 0`,
		`clash,s=x k="f2" 10000000000`,
		`clash,s=x k="f3" 20000000000`,
	}
	if r := do(t, "POST", base+"/write?db=tags", []byte(strings.Join(lines, "\n")), nil); r.status != 204 {
		t.Fatalf("write: %d %s", r.status, r.body)
	}
}

// answer is a query's series as compact JSON, for exact comparison.
func answer(t *testing.T, base, q string) string {
	t.Helper()
	ss, errText := querySeriesDB(t, base, "tags", q)
	if errText != "" {
		return "error: " + errText
	}
	b, err := json.Marshal(ss)
	if err != nil {
		t.Fatal(err)
	}
	return strings.ReplaceAll(string(b), `"tags":null,`, "")
}

// TestApproxTagArgumentHTTP: approx_count_distinct(tag), approx_top_k(tag,
// k) and approx_count(tag, 'v') count rows' tag values exactly on small
// data (the sparse HLL, Space-Saving below capacity, Count-Min without
// collisions), with GROUP BY time, GROUP BY tags, fill, a field
// condition, subqueries, ORDER BY time DESC and SELECT INTO; a name that
// is a tag and a field reads the field unless written ::tag.
func TestApproxTagArgumentHTTP(t *testing.T) {
	for _, flush := range []bool{false, true} {
		t.Run(fmt.Sprintf("flushed=%v", flush), func(t *testing.T) {
			s, base := startTestServer(t, testConfig(t.TempDir()))
			tagData(t, base)
			if flush {
				// Stored blocks: block headers count one-field series.
				if err := s.eng.Flush(); err != nil {
					t.Fatal(err)
				}
			}
			const all = ` WHERE time >= 0 AND time < 150s`
			cases := []struct{ q, want string }{
				{"SELECT approx_count_distinct(host) FROM cpu",
					`[{"name":"cpu","columns":["time","approx_count_distinct"],"values":[["1970-01-01T00:00:00Z",4]]}]`},
				{"SELECT approx_count_distinct(host) FROM cpu" + all + " GROUP BY time(50s) fill(0)",
					`[{"name":"cpu","columns":["time","approx_count_distinct"],"values":[["1970-01-01T00:00:00Z",3],["1970-01-01T00:00:50Z",0],["1970-01-01T00:01:40Z",1]]}]`},
				{"SELECT approx_count_distinct(host) FROM cpu" + all + " GROUP BY time(50s)",
					`[{"name":"cpu","columns":["time","approx_count_distinct"],"values":[["1970-01-01T00:00:00Z",3],["1970-01-01T00:00:50Z",null],["1970-01-01T00:01:40Z",1]]}]`},
				{"SELECT approx_top_k(host, 2) FROM cpu WHERE time < 50s",
					`[{"name":"cpu","columns":["time","approx_top_k","count","max_error"],"values":[["1970-01-01T00:00:00Z","a",4,0],["1970-01-01T00:00:00Z","b",3,0]]}]`},
				{"SELECT approx_top_k(host, 10) FROM cpu",
					`[{"name":"cpu","columns":["time","approx_top_k","count","max_error"],"values":[["1970-01-01T00:00:00Z","a",4,0],["1970-01-01T00:00:00Z","b",3,0],["1970-01-01T00:00:00Z","d",2,0],["1970-01-01T00:00:00Z","c",1,0]]}]`},
				{"SELECT approx_count(host, 'b'), approx_count(host, 'zz') FROM cpu",
					`[{"name":"cpu","columns":["time","approx_count","approx_count_1"],"values":[["1970-01-01T00:00:00Z",3,0]]}]`},
				{"SELECT approx_count_distinct(host) FROM cpu GROUP BY region",
					`[{"name":"cpu","tags":{"region":"eu"},"columns":["time","approx_count_distinct"],"values":[["1970-01-01T00:00:00Z",2]]},{"name":"cpu","tags":{"region":"us"},"columns":["time","approx_count_distinct"],"values":[["1970-01-01T00:00:00Z",2]]}]`},
				{"SELECT approx_top_k(host, 1) FROM cpu GROUP BY region",
					`[{"name":"cpu","tags":{"region":"eu"},"columns":["time","approx_top_k","count","max_error"],"values":[["1970-01-01T00:00:00Z","a",4,0]]},{"name":"cpu","tags":{"region":"us"},"columns":["time","approx_top_k","count","max_error"],"values":[["1970-01-01T00:00:00Z","d",2,0]]}]`},
				// Grouped by the tag itself: one value per group.
				{"SELECT approx_count_distinct(host), approx_count(host, 'a') FROM cpu WHERE region = 'eu' GROUP BY host",
					`[{"name":"cpu","tags":{"host":"a"},"columns":["time","approx_count_distinct","approx_count"],"values":[["1970-01-01T00:00:00Z",1,4]]},{"name":"cpu","tags":{"host":"b"},"columns":["time","approx_count_distinct","approx_count"],"values":[["1970-01-01T00:00:00Z",1,0]]}]`},
				// A field condition: only the rows that pass (b's idle-only row fails).
				{"SELECT approx_top_k(host, 3) FROM cpu WHERE usage = 1 AND time < 50s",
					`[{"name":"cpu","columns":["time","approx_top_k","count","max_error"],"values":[["1970-01-01T00:00:00Z","a",4,0],["1970-01-01T00:00:00Z","b",2,0]]}]`},
				// A subquery's rows: its GROUP BY tags are the outer tags; rows without a value (fill(null)) are none.
				{"SELECT approx_top_k(host, 5) FROM (SELECT mean(usage) FROM cpu" + all + " GROUP BY time(10s), host)",
					`[{"name":"cpu","columns":["time","approx_top_k","count","max_error"],"values":[["1970-01-01T00:00:00Z","a",4,0],["1970-01-01T00:00:00Z","b",2,0],["1970-01-01T00:00:00Z","d",2,0],["1970-01-01T00:00:00Z","c",1,0]]}]`},
				{"SELECT approx_count_distinct(host) FROM (SELECT mean(usage) FROM cpu" + all + " GROUP BY time(10s), host)",
					`[{"name":"cpu","columns":["time","approx_count_distinct"],"values":[["1970-01-01T00:00:00Z",4]]}]`},
				{"SELECT approx_count_distinct(host) FROM cpu" + all + " GROUP BY time(50s) ORDER BY time DESC",
					`[{"name":"cpu","columns":["time","approx_count_distinct"],"values":[["1970-01-01T00:01:40Z",1],["1970-01-01T00:00:50Z",null],["1970-01-01T00:00:00Z",3]]}]`},
				// A tag no series has, a name that is nothing: no series, as InfluxDB answers a missing field.
				{"SELECT approx_count_distinct(nosuch) FROM cpu", `null`},
				{"SELECT approx_count_distinct(nosuch::tag) FROM cpu", `null`},
				{"SELECT approx_count_distinct(host::field) FROM cpu", `null`},
				{"SELECT approx_count_distinct(k::field) FROM clash",
					`[{"name":"clash","columns":["time","approx_count_distinct"],"values":[["1970-01-01T00:00:00Z",3]]}]`},
				// k is a field of one series and a tag of two: the field wins, ::tag reads the tag.
				{"SELECT approx_count_distinct(k) FROM clash",
					`[{"name":"clash","columns":["time","approx_count_distinct"],"values":[["1970-01-01T00:00:00Z",3]]}]`},
				{"SELECT approx_count_distinct(k::tag) FROM clash",
					`[{"name":"clash","columns":["time","approx_count_distinct"],"values":[["1970-01-01T00:00:00Z",2]]}]`},
				{"SELECT approx_top_k(k::tag, 1) FROM clash WHERE time < 5s",
					`[{"name":"clash","columns":["time","approx_top_k","count","max_error"],"values":[["1970-01-01T00:00:00Z","t1",1,0]]}]`},
				// Errors name the function.
				{"SELECT approx_percentile(host, 50) FROM cpu", `error: approx_percentile(host): host is a tag; approx_percentile takes a field`},
				{"SELECT approx_count(host, 5) FROM cpu", `error: approx_count(host, 5): host is a tag, whose values are strings: quote the value`},
				{"SELECT merge_count_distinct(host) FROM cpu", `error: merge_count_distinct(host): host is a tag; merge_count_distinct takes a field`},
			}
			for _, c := range cases {
				if got := answer(t, base, c.q); got != c.want {
					t.Errorf("%s\n got %s\nwant %s", c.q, got, c.want)
				}
			}

			// SELECT INTO: per-window counts and sketches stored, then merged.
			for _, q := range []string{
				"SELECT approx_count_distinct(host) AS hosts INTO cpu_hosts FROM cpu" + all + " GROUP BY time(50s), region",
				"SELECT sketch_count_distinct(host) AS hs, sketch_top_k(host, 2) AS tk INTO cpu_sk FROM cpu" + all + " GROUP BY time(50s)",
			} {
				if got := answer(t, base, q); !strings.Contains(got, `"written"`) {
					t.Fatalf("%s: %s", q, got)
				}
			}
			for _, c := range []struct{ q, want string }{
				{"SELECT hosts FROM cpu_hosts GROUP BY region",
					`[{"name":"cpu_hosts","tags":{"region":"eu"},"columns":["time","hosts"],"values":[["1970-01-01T00:00:00Z",2]]},{"name":"cpu_hosts","tags":{"region":"us"},"columns":["time","hosts"],"values":[["1970-01-01T00:00:00Z",1],["1970-01-01T00:01:40Z",1]]}]`},
				{"SELECT merge_count_distinct(hs) FROM cpu_sk",
					`[{"name":"cpu_sk","columns":["time","merge_count_distinct"],"values":[["1970-01-01T00:00:00Z",4]]}]`},
				{"SELECT merge_top_k(tk, 2) FROM cpu_sk",
					`[{"name":"cpu_sk","columns":["time","merge_top_k","count","max_error"],"values":[["1970-01-01T00:00:00Z","a",4,0],["1970-01-01T00:00:00Z","b",3,0]]}]`},
			} {
				if got := answer(t, base, c.q); got != c.want {
					t.Errorf("%s\n got %s\nwant %s", c.q, got, c.want)
				}
			}

			// EXPLAIN shows the tag argument and the path.
			r := runQuery(t, base, "EXPLAIN SELECT approx_top_k(host, 2) FROM tags.autogen.cpu GROUP BY region")
			for _, want := range []string{"argument: tag host", "a tag: one weighted insert per series and window", "the times of every field"} {
				if !strings.Contains(r.body, want) {
					t.Errorf("EXPLAIN: no %q in %s", want, r.body)
				}
			}
		})
	}
}

// TestApproxTagArgumentFanout: over a three-node set, the tag's partial
// states merge across nodes to the answer of the node holding every
// series, byte for byte: each TSBS host has one row every 10 s.
func TestApproxTagArgumentFanout(t *testing.T) {
	if testing.Short() {
		t.Skip("a three-node set and a Kafka broker")
	}
	fs := startFanoutSet(t, 12, 2*time.Hour)
	for _, q := range []string{
		"SELECT approx_count_distinct(hostname) FROM cpu",
		"SELECT approx_top_k(hostname, 2) FROM cpu",
		"SELECT approx_count(hostname, 'host_3') FROM cpu WHERE time >= '2016-01-01T00:00:00Z' AND time < '2016-01-01T01:00:00Z' GROUP BY time(30m)",
		"SELECT approx_count_distinct(hostname) FROM cpu GROUP BY region",
		// The row path: a field condition, rows shipped from the peers.
		"SELECT approx_top_k(hostname, 3) FROM cpu WHERE usage_user > 90",
	} {
		want := queryOn(t, fs.ref, q, nil)
		if want.status != 200 || strings.Contains(want.body, `"error"`) {
			t.Fatalf("reference: %s: %d %s", q, want.status, want.body)
		}
		for i, b := range fs.bases {
			if got := queryOn(t, b, q, nil); got.body != want.body {
				t.Errorf("node %d: %s\n got %.600s\nwant %.600s", i, q, got.body, want.body)
			}
		}
	}
	// 2 h at 10 s: 720 rows per host.
	r := queryOn(t, fs.bases[0], "SELECT approx_count(hostname, 'host_0') FROM cpu", nil)
	if !strings.Contains(r.body, `,720]`) {
		t.Errorf("approx_count(hostname, 'host_0') over a set: %s, want 720", r.body)
	}
	r = queryOn(t, fs.bases[1], "SELECT approx_count_distinct(hostname) FROM cpu", nil)
	if !strings.Contains(r.body, `,12]`) {
		t.Errorf("approx_count_distinct(hostname) over a set: %s, want 12", r.body)
	}
}

package main

import (
	"fmt"
	"io"
	"net/url"
	"strings"
	"testing"
	"time"
)

// queryDB posts statement q to /query with database db (empty: none).
func queryDB(t *testing.T, base, db, q string) response {
	t.Helper()
	u := base + "/query"
	if db != "" {
		u += "?db=" + url.QueryEscape(db)
	}
	return do(t, "POST", u, []byte("q="+url.QueryEscape(q)),
		map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
}

// TestDDLOverHTTP runs every SHOW, CREATE, DROP and DELETE statement against the
// real server over HTTP, then restarts the server on the same directory and checks
// that every effect survived.
func TestDDLOverHTTP(t *testing.T) {
	dir := t.TempDir()
	s, base := startTestServer(t, testConfig(dir))
	defer func() { s.shutdown(5 * time.Second) }()

	const ok = `{"results":[{"statement_id":0}]}`
	res := func(series string) string { return `{"results":[{"statement_id":0,"series":[` + series + `]}]}` }
	step := func(t *testing.T, base, db, q, want string) {
		t.Helper()
		r := queryDB(t, base, db, q)
		if r.status != 200 || strings.TrimSuffix(r.body, "\n") != want {
			t.Fatalf("%s:\n got: %d %s\nwant: %s", q, r.status, r.body, want)
		}
	}
	// Points an hour old: inside every retention policy below.
	ts := time.Now().Add(-time.Hour).Unix()
	write := func(t *testing.T, base, path, body string) {
		t.Helper()
		if r := do(t, "POST", base+path, []byte(strings.ReplaceAll(body, "%d", fmt.Sprint(ts))), nil); r.status != 204 {
			t.Fatalf("write %s: %d %s", path, r.status, r.body)
		}
	}

	for _, c := range []struct{ db, q, want string }{
		{"", `CREATE DATABASE ddl`, ok},
		{"", `CREATE DATABASE gone`, ok},
		{"", `CREATE DATABASE ddl`, ok},
		{"", `CREATE RETENTION POLICY week ON ddl DURATION 7d REPLICATION 1`, ok},
		{"", `CREATE RETENTION POLICY tmp ON ddl DURATION 2d REPLICATION 1`, ok},
		{"", `CREATE RETENTION POLICY month ON ddl DURATION 30d REPLICATION 1 SHARD DURATION 2d`, ok},
		{"", `ALTER RETENTION POLICY month ON ddl DURATION 60d DEFAULT`, ok},
		{"", `DROP RETENTION POLICY tmp ON ddl`, ok},
		{"", `DROP DATABASE gone`, ok},
	} {
		step(t, base, c.db, c.q, c.want)
	}
	// Without rp the points land in the default policy, month.
	write(t, base, "/write?db=ddl&precision=s", "cpu,host=a,region=eu v=1,w=2i %d\n"+
		"cpu,host=b,region=us v=2 %d\ncpu,host=c,region=us v=3 %d\nmem,host=a free=10i %d\n"+
		"disk,path=/ used=0.5 %d\ntmpm,host=z x=1 %d\nmem,host=b free=20i %d\n")
	write(t, base, "/write?db=ddl&rp=week&precision=s", "wk,host=w v=9 %d\n")

	for _, c := range []struct{ db, q, want string }{
		{"ddl", `SHOW MEASUREMENTS`, res(`{"name":"measurements","columns":["name"],"values":[["cpu"],["disk"],["mem"],["tmpm"],["wk"]]}`)},
		{"ddl", `DROP MEASUREMENT tmpm`, ok},
		{"ddl", `DROP SERIES FROM cpu WHERE host = 'c'`, ok},
		{"ddl", `DELETE FROM disk`, ok},
		{"ddl", `DELETE FROM mem WHERE host = 'b'`, ok},
		{"ddl", `DELETE FROM cpu WHERE v > 1`, `{"results":[{"statement_id":0,"error":"fields not supported in WHERE clause during deletion"}]}`},
	} {
		step(t, base, c.db, c.q, c.want)
	}

	// What every SHOW answers after the changes, before and after a restart. As in
	// InfluxDB, measurements and series are listed across retention policies.
	rps := `{"columns":["name","duration","shardGroupDuration","replicaN","default"],"values":[` +
		`["autogen","0s","168h0m0s",1,false],["week","168h0m0s","24h0m0s",1,false],["month","1440h0m0s","48h0m0s",1,true]]}`
	shows := []struct{ db, q, want string }{
		{"", `SHOW DATABASES`, res(`{"name":"databases","columns":["name"],"values":[["ddl"]]}`)},
		{"", `SHOW RETENTION POLICIES ON ddl`, res(rps)},
		{"ddl", `SHOW MEASUREMENTS`, res(`{"name":"measurements","columns":["name"],"values":[["cpu"],["mem"],["wk"]]}`)},
		{"ddl", `SHOW MEASUREMENTS ON ddl`, res(`{"name":"measurements","columns":["name"],"values":[["cpu"],["mem"],["wk"]]}`)},
		{"ddl", `SHOW TAG KEYS FROM cpu`, res(`{"name":"cpu","columns":["tagKey"],"values":[["host"],["region"]]}`)},
		{"ddl", `SHOW TAG VALUES FROM cpu WITH KEY = "host"`, res(`{"name":"cpu","columns":["key","value"],"values":[["host","a"],["host","b"]]}`)},
		{"ddl", `SHOW TAG VALUES WITH KEY = "region"`, res(`{"name":"cpu","columns":["key","value"],"values":[["region","eu"],["region","us"]]}`)},
		{"ddl", `SHOW FIELD KEYS FROM cpu`, res(`{"name":"cpu","columns":["fieldKey","fieldType"],"values":[["v","float"],["w","integer"]]}`)},
		{"ddl", `SHOW SERIES FROM cpu, mem`, res(`{"columns":["key"],"values":[["cpu,host=a,region=eu"],["cpu,host=b,region=us"],["mem,host=a"]]}`)},
		{"ddl", `SHOW SERIES FROM week.wk`, res(`{"columns":["key"],"values":[["wk,host=w"]]}`)},
		{"ddl", `SHOW SERIES FROM mem`, res(`{"columns":["key"],"values":[["mem,host=a"]]}`)},
		{"ddl", `SHOW SERIES CARDINALITY`, res(`{"columns":["cardinality estimation"],"values":[[4]]}`)},
		{"ddl", `SHOW MEASUREMENT CARDINALITY`, res(`{"columns":["cardinality estimation"],"values":[[3]]}`)},
		{"ddl", `SELECT count(v) FROM cpu`, res(`{"name":"cpu","columns":["time","count"],"values":[["1970-01-01T00:00:00Z",2]]}`)},
		{"ddl", `SELECT count(free) FROM mem`, res(`{"name":"mem","columns":["time","count"],"values":[["1970-01-01T00:00:00Z",1]]}`)},
		{"ddl", `SELECT count(used) FROM disk`, ok},
		{"ddl", `SELECT count(v) FROM week.wk`, res(`{"name":"wk","columns":["time","count"],"values":[["1970-01-01T00:00:00Z",1]]}`)},
		{"", `SHOW USERS`, res(`{"columns":["user","admin"]}`)},
		{"", `SHOW CONTINUOUS QUERIES`, res(`{"name":"ddl","columns":["name","query"]}`)},
	}
	for _, c := range shows {
		step(t, base, c.db, c.q, c.want)
	}
	if r := queryDB(t, base, "", "SHOW QUERIES"); r.status != 200 || !strings.Contains(r.body, `"SHOW QUERIES"`) {
		t.Fatalf("SHOW QUERIES: %d %s", r.status, r.body)
	}

	if err := s.shutdown(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	s, base = startTestServer(t, testConfig(dir))
	for _, c := range shows {
		step(t, base, c.db, c.q, c.want)
	}
	// The restarted server keeps taking DDL: drop what is left.
	step(t, base, "", `DROP RETENTION POLICY week ON ddl`, ok)
	step(t, base, "", `DROP DATABASE ddl`, ok)
	step(t, base, "", `SHOW DATABASES`, res(`{"name":"databases","columns":["name"]}`))
	if err := s.shutdown(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	s, base = startTestServer(t, testConfig(dir))
	step(t, base, "", `SHOW DATABASES`, res(`{"name":"databases","columns":["name"]}`))
}

// TestRetentionAutoCreateFlag: with --retention-autocreate=false CREATE DATABASE
// makes no policy, writes are refused until one is created as DEFAULT, and the
// database stays policy-less across a restart with the default flag.
func TestRetentionAutoCreateFlag(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(dir)
	if err := serveFlags(&cfg, cfg, io.Discard).Parse([]string{"--retention-autocreate=false"}); err != nil {
		t.Fatal(err)
	}
	if cfg.rpAutoCreate || !defaultServeConfig().rpAutoCreate {
		t.Fatal("flag not parsed, or the default is not true")
	}
	s, base := startTestServer(t, cfg)
	const noRPs = `{"results":[{"statement_id":0,"series":[{"columns":["name","duration","shardGroupDuration","replicaN","default"]}]}]}`
	step := func(base, q, want string) {
		t.Helper()
		if r := queryDB(t, base, "", q); r.status != 200 || strings.TrimSuffix(r.body, "\n") != want {
			t.Fatalf("%s:\n got: %d %s\nwant: %s", q, r.status, r.body, want)
		}
	}
	step(base, `CREATE DATABASE bare`, `{"results":[{"statement_id":0}]}`)
	step(base, `SHOW RETENTION POLICIES ON bare`, noRPs)
	if r := do(t, "POST", base+"/write?db=bare", []byte("m v=1"), nil); r.status == 204 || !strings.Contains(r.body, "retention policy not found") {
		t.Fatalf("write without a policy: %d %s", r.status, r.body)
	}
	s.shutdown(5 * time.Second)

	s, base = startTestServer(t, testConfig(dir)) // the default flag: autogen for new databases only
	defer func() { s.shutdown(5 * time.Second) }()
	step(base, `SHOW RETENTION POLICIES ON bare`, noRPs)
	step(base, `CREATE RETENTION POLICY rp0 ON bare DURATION 1h REPLICATION 1 DEFAULT`, `{"results":[{"statement_id":0}]}`)
	if r := do(t, "POST", base+"/write?db=bare", []byte("m v=1"), nil); r.status != 204 {
		t.Fatalf("write after CREATE RETENTION POLICY ... DEFAULT: %d %s", r.status, r.body)
	}
	step(base, `CREATE DATABASE other`, `{"results":[{"statement_id":0}]}`)
	step(base, `SHOW RETENTION POLICIES ON other`, `{"results":[{"statement_id":0,"series":[{"columns":["name","duration","shardGroupDuration","replicaN","default"],"values":[["autogen","0s","168h0m0s",1,true]]}]}]}`)
}

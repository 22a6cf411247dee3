package query

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/strata-db/strata/query/influxql"
	"github.com/strata-db/strata/storage"
)

// t0 (2024-01-01T00:00:00Z) comes from response_test.go.

type metaPoint struct {
	m      string
	tags   []string // key, value, ... sorted by key
	fields []storage.FieldValue
	t      int64
}

func metaField(k string, v any) storage.FieldValue {
	f := storage.FieldValue{Key: []byte(k)}
	switch x := v.(type) {
	case float64:
		f.Type, f.Float = storage.Float, x
	case int64:
		f.Type, f.Int = storage.Integer, x
	case bool:
		f.Type, f.Bool = storage.Boolean, x
	case string:
		f.Type, f.Str = storage.String, []byte(x)
	default:
		panic("unsupported field value")
	}
	return f
}

func openMetaEngine(t testing.TB) *storage.Engine {
	t.Helper()
	e, err := storage.Open(storage.Options{
		Dir:    t.TempDir(),
		NoSync: true,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

func writeMeta(t testing.TB, e *storage.Engine, db, rp string, pts ...metaPoint) {
	t.Helper()
	b, err := e.Bucket(db, rp)
	if err != nil {
		t.Fatal(err)
	}
	batch, err := e.NewBatch(b)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pts {
		var tags []storage.Tag
		for i := 0; i < len(p.tags); i += 2 {
			tags = append(tags, storage.Tag{Key: []byte(p.tags[i]), Value: []byte(p.tags[i+1])})
		}
		if err := batch.Add([]byte(p.m), tags, p.fields, p.t); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.Write(batch); err != nil {
		t.Fatal(err)
	}
}

// runMeta executes q and renders its results as /query would answer; a failing
// statement is rendered as "error: <text>" instead, since the non-chunked
// encoder replaces it.
func runMeta(t testing.TB, ex *Executor, q string, opts ExecOptions) string {
	t.Helper()
	parsed, err := influxql.ParseQuery(q)
	if err != nil {
		t.Fatalf("parse %q: %v", q, err)
	}
	var c Collector
	if err := ex.Execute(context.Background(), parsed, opts, &c); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	var errs []string
	var ok []*StatementResult
	for _, r := range c.Results {
		if r.Err != "" {
			errs = append(errs, r.Err)
		} else {
			ok = append(ok, r)
		}
	}
	if len(errs) > 0 {
		return "error: " + strings.Join(errs, "; ")
	}
	out, err := renderResults(ok)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// metaFixture writes a small copy of the compat data set's schema: db "oracle"
// with cpu (3 hosts, 2 regions), mem, status and a measurement whose tag value
// needs escaping; db "other" is empty. cpu server03 has points only in the first
// minute, the others also an hour later.
func metaFixture(t testing.TB) (*storage.Engine, *Executor) {
	e := openMetaEngine(t)
	for _, db := range []string{"oracle", "other"} {
		if err := e.CreateDatabase(db, nil); err != nil {
			t.Fatal(err)
		}
	}
	var pts []metaPoint
	for _, h := range []struct{ host, region string }{{"server01", "us-east"}, {"server02", "us-east"}, {"server03", "us-west"}} {
		for i := int64(0); i < 3; i++ {
			pts = append(pts, metaPoint{"cpu", []string{"host", h.host, "region", h.region},
				[]storage.FieldValue{metaField("cores", int64(4)), metaField("usage_user", float64(i))}, t0 + i*20*int64(time.Second)})
		}
		if h.host != "server03" {
			pts = append(pts, metaPoint{"cpu", []string{"host", h.host, "region", h.region},
				[]storage.FieldValue{metaField("usage_user", 1.5)}, t0 + int64(time.Hour)})
		}
	}
	for _, h := range []string{"server01", "server02"} {
		pts = append(pts, metaPoint{"mem", []string{"host", h}, []storage.FieldValue{metaField("pct", 0.5), metaField("used", int64(10))}, t0})
		for _, svc := range []string{"db", "web"} {
			pts = append(pts, metaPoint{"status", []string{"host", h, "service", svc},
				[]storage.FieldValue{metaField("code", int64(200)), metaField("msg", `say "hi"`), metaField("up", true)}, t0})
		}
	}
	pts = append(pts, metaPoint{"disk", []string{"path", "/a b,c=d"}, []storage.FieldValue{metaField("free", int64(1))}, t0})
	writeMeta(t, e, "oracle", "", pts...)
	return e, NewExecutor(e, nil, Limits{})
}

func TestShowStatements(t *testing.T) {
	_, ex := metaFixture(t)
	oracle := ExecOptions{Database: "oracle"}
	none := ExecOptions{}
	const (
		allMeas  = `{"results":[{"statement_id":0,"series":[{"name":"measurements","columns":["name"],"values":[["cpu"],["disk"],["mem"],["status"]]}]}]}`
		empty    = `{"results":[{"statement_id":0}]}`
		nameReq  = `error: database name required`
		notFound = `error: database not found: nope`
	)
	tests := []struct {
		name string
		q    string
		opts ExecOptions
		want string
	}{
		{"databases", `SHOW DATABASES`, none, `{"results":[{"statement_id":0,"series":[{"name":"databases","columns":["name"],"values":[["oracle"],["other"]]}]}]}`},

		{"measurements", `SHOW MEASUREMENTS`, oracle, allMeas},
		{"measurements on", `SHOW MEASUREMENTS ON oracle`, none, allMeas},
		{"measurements on overrides db", `SHOW MEASUREMENTS ON other`, oracle, empty},
		{"measurements regex limit", `SHOW MEASUREMENTS WITH MEASUREMENT =~ /(?i)M/ LIMIT 100`, oracle,
			`{"results":[{"statement_id":0,"series":[{"name":"measurements","columns":["name"],"values":[["mem"]]}]}]}`},
		{"measurements eq", `SHOW MEASUREMENTS WITH MEASUREMENT = cpu`, oracle,
			`{"results":[{"statement_id":0,"series":[{"name":"measurements","columns":["name"],"values":[["cpu"]]}]}]}`},
		{"measurements where", `SHOW MEASUREMENTS WHERE host = 'server02'`, oracle,
			`{"results":[{"statement_id":0,"series":[{"name":"measurements","columns":["name"],"values":[["cpu"],["mem"],["status"]]}]}]}`},
		{"measurements where regex", `SHOW MEASUREMENTS WHERE region =~ /west/`, oracle,
			`{"results":[{"statement_id":0,"series":[{"name":"measurements","columns":["name"],"values":[["cpu"]]}]}]}`},
		{"measurements limit offset", `SHOW MEASUREMENTS LIMIT 2 OFFSET 1`, oracle,
			`{"results":[{"statement_id":0,"series":[{"name":"measurements","columns":["name"],"values":[["disk"],["mem"]]}]}]}`},
		{"measurements offset past end", `SHOW MEASUREMENTS OFFSET 4`, oracle, empty},
		// 1.x's index: != and !~ need the key, and no series with the value.
		{"measurements where not regex", `SHOW MEASUREMENTS WHERE region !~ /west/`, oracle, empty},
		{"measurements where neq", `SHOW MEASUREMENTS WHERE region != 'nope'`, oracle,
			`{"results":[{"statement_id":0,"series":[{"name":"measurements","columns":["name"],"values":[["cpu"]]}]}]}`},
		{"measurements where neq or", `SHOW MEASUREMENTS WHERE service != 'db' OR path = '/a b,c=d'`, oracle,
			`{"results":[{"statement_id":0,"series":[{"name":"measurements","columns":["name"],"values":[["disk"]]}]}]}`},
		{"measurements no db", `SHOW MEASUREMENTS`, none, nameReq},
		{"measurements missing db", `SHOW MEASUREMENTS ON nope`, none, empty},
		{"measurements missing db with source", `SHOW MEASUREMENTS ON nope WITH MEASUREMENT =~ /c/`, none, notFound},
		{"measurements time", `SHOW MEASUREMENTS WHERE time > now() - 1h`, oracle, `error: SHOW MEASUREMENTS doesn't support time in WHERE clause`},

		{"tag keys from", `SHOW TAG KEYS FROM "cpu"`, oracle,
			`{"results":[{"statement_id":0,"series":[{"name":"cpu","columns":["tagKey"],"values":[["host"],["region"]]}]}]}`},
		{"tag keys", `SHOW TAG KEYS`, oracle,
			`{"results":[{"statement_id":0,"series":[{"name":"cpu","columns":["tagKey"],"values":[["host"],["region"]]},{"name":"disk","columns":["tagKey"],"values":[["path"]]},{"name":"mem","columns":["tagKey"],"values":[["host"]]},{"name":"status","columns":["tagKey"],"values":[["host"],["service"]]}]}]}`},
		{"tag keys regex limit offset", `SHOW TAG KEYS FROM /^(mem|status)$/ LIMIT 1 OFFSET 1`, oracle,
			`{"results":[{"statement_id":0,"series":[{"name":"status","columns":["tagKey"],"values":[["service"]]}]}]}`},
		{"tag keys where", `SHOW TAG KEYS WHERE service = 'db'`, oracle,
			`{"results":[{"statement_id":0,"series":[{"name":"status","columns":["tagKey"],"values":[["host"],["service"]]}]}]}`},
		{"tag keys slimit soffset", `SHOW TAG KEYS SLIMIT 1 SOFFSET 1`, oracle,
			`{"results":[{"statement_id":0,"series":[{"name":"disk","columns":["tagKey"],"values":[["path"]]}]}]}`},
		{"tag keys time", `SHOW TAG KEYS FROM cpu WHERE time > '2024-01-01T00:30:00Z' AND host = 'server03'`, oracle, empty},
		{"tag keys on", `SHOW TAG KEYS ON oracle FROM mem`, none,
			`{"results":[{"statement_id":0,"series":[{"name":"mem","columns":["tagKey"],"values":[["host"]]}]}]}`},
		{"tag keys missing db", `SHOW TAG KEYS ON nope`, none, notFound},
		{"tag keys no db", `SHOW TAG KEYS`, none, nameReq},
		{"tag keys unknown measurement", `SHOW TAG KEYS FROM nope`, oracle, empty},

		{"tag values in", `SHOW TAG VALUES FROM "cpu" WITH KEY IN ("host", "region")`, oracle,
			`{"results":[{"statement_id":0,"series":[{"name":"cpu","columns":["key","value"],"values":[["host","server01"],["host","server02"],["host","server03"],["region","us-east"],["region","us-west"]]}]}]}`},
		{"tag values regex key", `SHOW TAG VALUES WITH KEY =~ /^serv/`, oracle,
			`{"results":[{"statement_id":0,"series":[{"name":"status","columns":["key","value"],"values":[["service","db"],["service","web"]]}]}]}`},
		{"tag values limit offset", `SHOW TAG VALUES FROM cpu WITH KEY = host LIMIT 2 OFFSET 1`, oracle,
			`{"results":[{"statement_id":0,"series":[{"name":"cpu","columns":["key","value"],"values":[["host","server02"],["host","server03"]]}]}]}`},
		{"tag values where", `SHOW TAG VALUES FROM "cpu" WITH KEY = "host" WHERE "region" = 'us-east'`, oracle,
			`{"results":[{"statement_id":0,"series":[{"name":"cpu","columns":["key","value"],"values":[["host","server01"],["host","server02"]]}]}]}`},
		{"tag values all measurements", `SHOW TAG VALUES WITH KEY = host WHERE host != 'server01'`, oracle,
			`{"results":[{"statement_id":0,"series":[{"name":"cpu","columns":["key","value"],"values":[["host","server02"],["host","server03"]]},{"name":"mem","columns":["key","value"],"values":[["host","server02"]]},{"name":"status","columns":["key","value"],"values":[["host","server02"]]}]}]}`},
		{"tag values neq", `SHOW TAG VALUES FROM cpu WITH KEY != host`, oracle,
			`{"results":[{"statement_id":0,"series":[{"name":"cpu","columns":["key","value"],"values":[["region","us-east"],["region","us-west"]]}]}]}`},
		{"tag values not regex", `SHOW TAG VALUES FROM cpu, mem WITH KEY !~ /^r/`, oracle,
			`{"results":[{"statement_id":0,"series":[{"name":"cpu","columns":["key","value"],"values":[["host","server01"],["host","server02"],["host","server03"]]},{"name":"mem","columns":["key","value"],"values":[["host","server01"],["host","server02"]]}]}]}`},
		{"tag values escaped", `SHOW TAG VALUES FROM disk WITH KEY = path`, oracle,
			`{"results":[{"statement_id":0,"series":[{"name":"disk","columns":["key","value"],"values":[["path","/a b,c=d"]]}]}]}`},
		{"tag values not regex leaves out series without the key", `SHOW TAG VALUES WITH KEY = host WHERE region !~ /west/`, oracle,
			`{"results":[{"statement_id":0,"series":[{"name":"cpu","columns":["key","value"],"values":[["host","server01"],["host","server02"]]}]}]}`},
		{"tag values not regex matching empty keeps them", `SHOW TAG VALUES FROM cpu, mem WITH KEY = host WHERE region !~ /west|^$/`, oracle,
			`{"results":[{"statement_id":0,"series":[{"name":"cpu","columns":["key","value"],"values":[["host","server01"],["host","server02"]]},{"name":"mem","columns":["key","value"],"values":[["host","server01"],["host","server02"]]}]}]}`},
		{"tag values unknown key", `SHOW TAG VALUES WITH KEY = nope`, oracle, empty},
		{"tag values missing db", `SHOW TAG VALUES ON nope WITH KEY = host`, none, notFound},
		{"tag values no db", `SHOW TAG VALUES WITH KEY = host`, none, nameReq},

		{"field keys", `SHOW FIELD KEYS`, oracle,
			`{"results":[{"statement_id":0,"series":[{"name":"cpu","columns":["fieldKey","fieldType"],"values":[["cores","integer"],["usage_user","float"]]},{"name":"disk","columns":["fieldKey","fieldType"],"values":[["free","integer"]]},{"name":"mem","columns":["fieldKey","fieldType"],"values":[["pct","float"],["used","integer"]]},{"name":"status","columns":["fieldKey","fieldType"],"values":[["code","integer"],["msg","string"],["up","boolean"]]}]}]}`},
		{"field keys limit offset", `SHOW FIELD KEYS FROM /^(cpu|status)$/ LIMIT 1 OFFSET 1`, oracle,
			`{"results":[{"statement_id":0,"series":[{"name":"cpu","columns":["fieldKey","fieldType"],"values":[["usage_user","float"]]},{"name":"status","columns":["fieldKey","fieldType"],"values":[["msg","string"]]}]}]}`},
		{"field keys unknown measurement", `SHOW FIELD KEYS FROM "nope"`, oracle, empty},
		{"field keys qualified", `SHOW FIELD KEYS FROM oracle.autogen.mem`, none,
			`{"results":[{"statement_id":0,"series":[{"name":"mem","columns":["fieldKey","fieldType"],"values":[["pct","float"],["used","integer"]]}]}]}`},
		{"field keys missing rp", `SHOW FIELD KEYS FROM oracle.nope.mem`, none, `error: retention policy not found: nope`},
		{"field keys missing db", `SHOW FIELD KEYS ON nope`, none, notFound},
		{"field keys no db", `SHOW FIELD KEYS`, none, nameReq},

		{"series", `SHOW SERIES`, oracle,
			`{"results":[{"statement_id":0,"series":[{"columns":["key"],"values":[["cpu,host=server01,region=us-east"],["cpu,host=server02,region=us-east"],["cpu,host=server03,region=us-west"],["disk,path=/a\\ b\\,c\\=d"],["mem,host=server01"],["mem,host=server02"],["status,host=server01,service=db"],["status,host=server01,service=web"],["status,host=server02,service=db"],["status,host=server02,service=web"]]}]}]}`},
		{"series from where", `SHOW SERIES FROM cpu WHERE region = 'us-east'`, oracle,
			`{"results":[{"statement_id":0,"series":[{"columns":["key"],"values":[["cpu,host=server01,region=us-east"],["cpu,host=server02,region=us-east"]]}]}]}`},
		{"series limit offset across measurements", `SHOW SERIES LIMIT 2 OFFSET 2`, oracle,
			`{"results":[{"statement_id":0,"series":[{"columns":["key"],"values":[["cpu,host=server03,region=us-west"],["disk,path=/a\\ b\\,c\\=d"]]}]}]}`},
		{"series time", `SHOW SERIES FROM cpu WHERE time > '2024-01-01T00:30:00Z'`, oracle,
			`{"results":[{"statement_id":0,"series":[{"columns":["key"],"values":[["cpu,host=server01,region=us-east"],["cpu,host=server02,region=us-east"]]}]}]}`},
		{"series regex where or", `SHOW SERIES FROM /^(mem|status)$/ WHERE service = 'web' OR host = 'server02'`, oracle,
			`{"results":[{"statement_id":0,"series":[{"columns":["key"],"values":[["mem,host=server02"],["status,host=server01,service=web"],["status,host=server02,service=db"],["status,host=server02,service=web"]]}]}]}`},
		{"series none", `SHOW SERIES WHERE host = 'nope'`, oracle, empty},
		{"series empty db", `SHOW SERIES`, ExecOptions{Database: "other"}, empty},
		{"series missing db", `SHOW SERIES ON nope`, none, notFound},
		{"series no db", `SHOW SERIES`, none, nameReq},

		{"series cardinality", `SHOW SERIES CARDINALITY`, oracle,
			`{"results":[{"statement_id":0,"series":[{"columns":["cardinality estimation"],"values":[[10]]}]}]}`},
		{"series cardinality on missing", `SHOW SERIES CARDINALITY ON nope`, none,
			`{"results":[{"statement_id":0,"series":[{"columns":["cardinality estimation"],"values":[[0]]}]}]}`},
		{"series exact cardinality", `SHOW SERIES EXACT CARDINALITY`, oracle,
			`{"results":[{"statement_id":0,"series":[{"name":"cpu","columns":["count"],"values":[[3]]},{"name":"disk","columns":["count"],"values":[[1]]},{"name":"mem","columns":["count"],"values":[[2]]},{"name":"status","columns":["count"],"values":[[4]]}]}]}`},
		{"series cardinality from where", `SHOW SERIES CARDINALITY FROM cpu WHERE region = 'us-east'`, oracle,
			`{"results":[{"statement_id":0,"series":[{"name":"cpu","columns":["count"],"values":[[2]]}]}]}`},
		{"series cardinality time", `SHOW SERIES EXACT CARDINALITY WHERE time > 0`, oracle,
			`error: SHOW SERIES EXACT CARDINALITY doesn't support time in WHERE clause`},
		{"series cardinality no db", `SHOW SERIES CARDINALITY`, none, nameReq},
		{"measurement cardinality", `SHOW MEASUREMENT CARDINALITY ON oracle`, none,
			`{"results":[{"statement_id":0,"series":[{"columns":["cardinality estimation"],"values":[[4]]}]}]}`},
		{"measurement exact cardinality where", `SHOW MEASUREMENT EXACT CARDINALITY WHERE host = 'server02'`, oracle,
			`{"results":[{"statement_id":0,"series":[{"columns":["count"],"values":[[3]]}]}]}`},
		{"measurement exact cardinality none", `SHOW MEASUREMENT EXACT CARDINALITY FROM nope`, oracle, empty},
		{"measurement cardinality no db", `SHOW MEASUREMENT CARDINALITY`, none, nameReq},

		{"tag key cardinality", `SHOW TAG KEY CARDINALITY`, oracle,
			`{"results":[{"statement_id":0,"series":[{"name":"cpu","columns":["count"],"values":[[2]]},{"name":"disk","columns":["count"],"values":[[1]]},{"name":"mem","columns":["count"],"values":[[1]]},{"name":"status","columns":["count"],"values":[[2]]}]}]}`},
		{"tag key exact cardinality where", `SHOW TAG KEY EXACT CARDINALITY ON oracle WHERE service = 'db'`, none,
			`{"results":[{"statement_id":0,"series":[{"name":"status","columns":["count"],"values":[[2]]}]}]}`},
		{"tag key cardinality unknown measurement", `SHOW TAG KEY CARDINALITY FROM nope`, oracle, empty},
		{"tag key cardinality time", `SHOW TAG KEY CARDINALITY WHERE time > 0`, oracle,
			`error: SHOW TAG KEY EXACT CARDINALITY doesn't support time in WHERE clause`},
		{"tag key cardinality missing db", `SHOW TAG KEY CARDINALITY ON nope`, none, notFound},
		{"tag values cardinality", `SHOW TAG VALUES CARDINALITY WITH KEY = host`, oracle,
			`{"results":[{"statement_id":0,"series":[{"name":"cpu","columns":["count"],"values":[[3]]},{"name":"mem","columns":["count"],"values":[[2]]},{"name":"status","columns":["count"],"values":[[2]]}]}]}`},
		{"tag values cardinality where", `SHOW TAG VALUES EXACT CARDINALITY WITH KEY = host WHERE region !~ /west/`, oracle,
			`{"results":[{"statement_id":0,"series":[{"name":"cpu","columns":["count"],"values":[[2]]}]}]}`},
		{"tag values cardinality keys in", `SHOW TAG VALUES CARDINALITY FROM /c/ WITH KEY IN (host, region)`, oracle,
			`{"results":[{"statement_id":0,"series":[{"name":"cpu","columns":["count"],"values":[[5]]}]}]}`},
		{"tag values cardinality time", `SHOW TAG VALUES CARDINALITY WITH KEY = host WHERE time > 0`, oracle,
			`error: SHOW TAG VALUES EXACT CARDINALITY doesn't support time in WHERE clause`},
		{"field key cardinality", `SHOW FIELD KEY CARDINALITY`, oracle,
			`{"results":[{"statement_id":0,"series":[{"name":"cpu","columns":["count"],"values":[[2]]},{"name":"disk","columns":["count"],"values":[[1]]},{"name":"mem","columns":["count"],"values":[[2]]},{"name":"status","columns":["count"],"values":[[3]]}]}]}`},
		{"field key exact cardinality from", `SHOW FIELD KEY EXACT CARDINALITY ON oracle FROM /^(mem|status)$/`, none,
			`{"results":[{"statement_id":0,"series":[{"name":"mem","columns":["count"],"values":[[2]]},{"name":"status","columns":["count"],"values":[[3]]}]}]}`},
		{"field key cardinality where", `SHOW FIELD KEY CARDINALITY WHERE service = 'web'`, oracle,
			`{"results":[{"statement_id":0,"series":[{"name":"status","columns":["count"],"values":[[3]]}]}]}`},
		{"field key cardinality missing db", `SHOW FIELD KEY CARDINALITY ON nope`, none, notFound},

		{"retention policies on", `SHOW RETENTION POLICIES ON "oracle"`, none,
			`{"results":[{"statement_id":0,"series":[{"columns":["name","duration","shardGroupDuration","replicaN","default"],"values":[["autogen","0s","168h0m0s",1,true]]}]}]}`},
		{"retention policies db param", `SHOW RETENTION POLICIES`, oracle,
			`{"results":[{"statement_id":0,"series":[{"columns":["name","duration","shardGroupDuration","replicaN","default"],"values":[["autogen","0s","168h0m0s",1,true]]}]}]}`},
		{"retention policies no db", `SHOW RETENTION POLICIES`, none, nameReq},
		{"retention policies missing db", `SHOW RETENTION POLICIES ON nope`, none, notFound},

		{"users", `SHOW USERS`, none, `{"results":[{"statement_id":0,"series":[{"columns":["user","admin"]}]}]}`},
		{"continuous queries", `SHOW CONTINUOUS QUERIES`, none,
			`{"results":[{"statement_id":0,"series":[{"name":"oracle","columns":["name","query"]},{"name":"other","columns":["name","query"]}]}]}`},
		{"create cq", `CREATE CONTINUOUS QUERY cq ON oracle BEGIN SELECT mean(usage_user) INTO m FROM cpu GROUP BY time(1h) END`, none,
			`error: continuous queries are not supported`},
		{"drop cq", `DROP CONTINUOUS QUERY cq ON oracle`, none, `error: continuous queries are not supported`},
		{"kill unknown", `KILL QUERY 999999`, none, `error: no such query id: 999999`},
		{"multi statement", `SHOW MEASUREMENTS LIMIT 1; SHOW TAG KEYS FROM mem`, oracle,
			`{"results":[{"statement_id":0,"series":[{"name":"measurements","columns":["name"],"values":[["cpu"]]}]},{"statement_id":1,"series":[{"name":"mem","columns":["tagKey"],"values":[["host"]]}]}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := runMeta(t, ex, tt.q, tt.opts); got != tt.want {
				t.Errorf("%s\n got: %s\nwant: %s", tt.q, got, tt.want)
			}
		})
	}
}

func TestShowQueriesAndKill(t *testing.T) {
	_, ex := metaFixture(t)
	q, err := influxql.ParseQuery(`SHOW QUERIES`)
	if err != nil {
		t.Fatal(err)
	}
	var res *StatementResult
	if err := ex.Execute(context.Background(), q, ExecOptions{Database: "oracle"}, SinkFunc(func(r *StatementResult) error {
		res = r
		return nil
	})); err != nil {
		t.Fatal(err)
	}
	if res.Err != "" || len(res.Series) != 1 {
		t.Fatalf("result %+v", res)
	}
	s := res.Series[0]
	if got := strings.Join(s.Columns, ","); got != "qid,query,database,duration,status" {
		t.Fatalf("columns %s", got)
	}
	if len(s.Rows) != 1 {
		t.Fatalf("rows %+v", s.Rows)
	}
	v := s.Rows[0].Values
	if _, ok := v[0].(uint64); !ok || v[1] != "SHOW QUERIES" || v[2] != "oracle" || v[4] != "running" {
		t.Errorf("row %v", v)
	}
	if _, err := time.ParseDuration(v[3].(string)); err != nil {
		t.Errorf("duration %q: %v", v[3], err)
	}

	// KILL QUERY cancels a running query's context.
	ctx, done := ex.queries.register(context.Background(), "SELECT slow", "oracle")
	defer done()
	id := ex.queries.list()[0].id
	if got := runMeta(t, ex, "KILL QUERY "+metaItoa(id), ExecOptions{}); got != `{"results":[{"statement_id":0}]}` {
		t.Fatalf("kill: %s", got)
	}
	select {
	case <-ctx.Done():
	default:
		t.Error("killed query's context not cancelled")
	}
}

func metaItoa(n uint64) string {
	var b []byte
	for {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
		if n == 0 {
			return string(b)
		}
	}
}

func TestQueryDuration(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{0, "0s"},
		{500, "500ns"},
		{8*time.Microsecond + 300, "8µs"},
		{12*time.Millisecond + 345*time.Microsecond, "12ms"},
		{3*time.Second + 999*time.Millisecond, "3s"},
		{2*time.Minute + 5*time.Second + time.Millisecond, "2m5s"},
	}
	for _, tt := range tests {
		if got := queryDuration(tt.d); got != tt.want {
			t.Errorf("queryDuration(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}

// TestDatabaseAndRetentionPolicyDDL replays the compat corpus' ddl01..ddl14 steps
// and the shard duration defaults, in order.
func TestDatabaseAndRetentionPolicyDDL(t *testing.T) {
	e := openMetaEngine(t)
	ex := NewExecutor(e, nil, Limits{})
	const ok = `{"results":[{"statement_id":0}]}`
	rps := func(rows string) string {
		return `{"results":[{"statement_id":0,"series":[{"columns":["name","duration","shardGroupDuration","replicaN","default"],"values":[` + rows + `]}]}]}`
	}
	steps := []struct {
		q    string
		want string
	}{
		{`CREATE DATABASE oracle_scratch`, ok},
		{`CREATE DATABASE oracle_scratch`, ok},
		{`CREATE DATABASE "oracle_get"`, ok},
		{`SHOW DATABASES`, `{"results":[{"statement_id":0,"series":[{"name":"databases","columns":["name"],"values":[["oracle_scratch"],["oracle_get"]]}]}]}`},
		{`DROP DATABASE oracle_get`, ok},
		{`DROP DATABASE oracle_never_existed`, ok},
		{`CREATE DATABASE ""`, `error: invalid name`},
		{`CREATE DATABASE "a/b"`, `error: invalid name`},
		{`CREATE RETENTION POLICY one_day ON oracle_scratch DURATION 1d REPLICATION 1`, ok},
		{`CREATE RETENTION POLICY two_w ON oracle_scratch DURATION 2w REPLICATION 1 SHARD DURATION 1d DEFAULT`, ok},
		{`CREATE RETENTION POLICY one_day ON oracle_scratch DURATION 2d REPLICATION 1`, `error: retention policy already exists`},
		{`CREATE RETENTION POLICY one_day ON oracle_scratch DURATION 1d REPLICATION 1`, ok},
		{`CREATE RETENTION POLICY one_day ON oracle_scratch DURATION 1d REPLICATION 1 DEFAULT`, `error: retention policy conflicts with an existing policy`},
		{`CREATE RETENTION POLICY tiny ON oracle_scratch DURATION 30m REPLICATION 1`, `error: retention policy duration must be at least 1h0m0s`},
		{`CREATE RETENTION POLICY odd ON oracle_scratch DURATION 2d REPLICATION 1 SHARD DURATION 3d`, `error: retention policy duration must be greater than the shard duration`},
		{`CREATE RETENTION POLICY x ON nope DURATION 1d REPLICATION 1`, `error: database not found: nope`},
		{`SHOW RETENTION POLICIES ON oracle_scratch`, rps(`["autogen","0s","168h0m0s",1,false],["one_day","24h0m0s","1h0m0s",1,false],["two_w","336h0m0s","24h0m0s",1,true]`)},
		{`ALTER RETENTION POLICY one_day ON oracle_scratch DURATION 3d`, ok},
		{`ALTER RETENTION POLICY nope ON oracle_scratch DURATION 3d`, `error: retention policy not found: nope`},
		{`ALTER RETENTION POLICY one_day ON nope DURATION 3d`, `error: database not found: nope`},
		{`ALTER RETENTION POLICY one_day ON oracle_scratch DURATION 10m`, `error: retention policy duration must be at least 1h0m0s`},
		{`ALTER RETENTION POLICY two_w ON oracle_scratch DURATION 1h`, `error: retention policy duration must be greater than the shard duration`},
		{`ALTER RETENTION POLICY one_day ON oracle_scratch SHARD DURATION 30m REPLICATION 2 DEFAULT`, ok},
		{`SHOW RETENTION POLICIES ON oracle_scratch`, rps(`["autogen","0s","168h0m0s",1,false],["one_day","72h0m0s","1h0m0s",2,true],["two_w","336h0m0s","24h0m0s",1,false]`)},
		{`DROP RETENTION POLICY one_day ON oracle_scratch`, ok},
		{`DROP RETENTION POLICY one_day ON oracle_scratch`, ok},
		{`DROP RETENTION POLICY one_day ON nope`, ok},
		{`CREATE RETENTION POLICY forever ON oracle_scratch DURATION INF REPLICATION 1`, ok},
		{`CREATE RETENTION POLICY half_year ON oracle_scratch DURATION 180d REPLICATION 1`, ok},
		{`CREATE RETENTION POLICY two_d ON oracle_scratch DURATION 2d REPLICATION 1`, ok},
		{`SHOW RETENTION POLICIES ON oracle_scratch`, rps(`["autogen","0s","168h0m0s",1,false],["two_w","336h0m0s","24h0m0s",1,false],["forever","0s","168h0m0s",1,false],["half_year","4320h0m0s","168h0m0s",1,false],["two_d","48h0m0s","24h0m0s",1,false]`)},
		{`CREATE DATABASE d2 WITH DURATION 30m`, `error: retention policy duration must be at least 1h0m0s`},
		{`CREATE DATABASE d3 WITH DURATION 3d REPLICATION 1 SHARD DURATION 1h NAME "short"`, ok},
		{`CREATE DATABASE d3 WITH DURATION 3d REPLICATION 1 SHARD DURATION 1h NAME "short"`, ok},
		{`CREATE DATABASE d3 WITH DURATION 4d NAME "short"`, `error: retention policy conflicts with an existing policy`},
		{`CREATE DATABASE d3 WITH DURATION 3d NAME "other"`, `error: retention policy conflicts with an existing policy`},
		{`SHOW RETENTION POLICIES ON d3`, rps(`["short","72h0m0s","1h0m0s",1,true]`)},
		{`CREATE DATABASE d4 WITH NAME "rp4"`, ok},
		{`SHOW RETENTION POLICIES ON d4`, rps(`["rp4","0s","168h0m0s",1,true]`)},
		{`DROP DATABASE oracle_scratch`, ok},
		{`SHOW DATABASES`, `{"results":[{"statement_id":0,"series":[{"name":"databases","columns":["name"],"values":[["d3"],["d4"]]}]}]}`},
		{`SHOW RETENTION POLICIES ON oracle_scratch`, `error: database not found: oracle_scratch`},
	}
	for i, s := range steps {
		if got := runMeta(t, ex, s.q, ExecOptions{}); got != s.want {
			t.Fatalf("step %d: %s\n got: %s\nwant: %s", i, s.q, got, s.want)
		}
	}
	if got := runMeta(t, ex, `DROP DATABASE d3; DROP DATABASE d4; SHOW DATABASES`, ExecOptions{}); got !=
		`{"results":[{"statement_id":0},{"statement_id":1},{"statement_id":2,"series":[{"name":"databases","columns":["name"]}]}]}` {
		t.Errorf("empty server: %s", got)
	}
}

func TestShardGroupDurationDefaults(t *testing.T) {
	day := 24 * time.Hour
	tests := []struct {
		sgd, d, want time.Duration
	}{
		{0, 0, 7 * day},
		{0, time.Hour, time.Hour},
		{0, 2*day - 1, time.Hour},
		{0, 2 * day, day},
		{0, 180*day - 1, day},
		{0, 180 * day, 7 * day},
		{0, 365 * day, 7 * day},
		{30 * time.Minute, 2 * day, time.Hour},
		{3 * time.Hour, 2 * day, 3 * time.Hour},
	}
	for _, tt := range tests {
		if got := normalShardDuration(tt.sgd, tt.d); got != tt.want {
			t.Errorf("normalShardDuration(%v, %v) = %v, want %v", tt.sgd, tt.d, got, tt.want)
		}
	}
}

// metaCountPoints counts the points of every field of measurement m in bucket b.
func metaCountPoints(t *testing.T, e *storage.Engine, b storage.BucketID, m string) int {
	t.Helper()
	ids, err := e.SeriesIDs(b, m, nil)
	if err != nil {
		t.Fatal(err)
	}
	fields, err := e.Fields(b, m)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, sid := range ids.ToArray() {
		for _, f := range fields {
			c, err := e.NewCursor(b, storage.SeriesID(sid), f.ID, math.MinInt64, math.MaxInt64)
			if err != nil {
				t.Fatal(err)
			}
			for c.Next() {
				col, err := c.Column()
				if err != nil {
					t.Fatal(err)
				}
				n += col.Len()
			}
			c.Close()
		}
	}
	return n
}

func TestDropAndDelete(t *testing.T) {
	e := openMetaEngine(t)
	ex := NewExecutor(e, nil, Limits{})
	if err := e.CreateDatabase("s", nil); err != nil {
		t.Fatal(err)
	}
	min := int64(time.Minute)
	writeMeta(t, e, "s", "",
		metaPoint{"m1", []string{"host", "a"}, []storage.FieldValue{metaField("v", 1.0)}, t0},
		metaPoint{"m1", []string{"host", "a"}, []storage.FieldValue{metaField("v", 2.0)}, t0 + min},
		metaPoint{"m1", []string{"host", "b"}, []storage.FieldValue{metaField("v", 3.0)}, t0 + 2*min},
		metaPoint{"m1", []string{"host", "b"}, []storage.FieldValue{metaField("v", 4.0)}, t0 + 3*min},
		metaPoint{"m2", []string{"host", "a"}, []storage.FieldValue{metaField("x", 1.0)}, t0},
		metaPoint{"m3", []string{"host", "c"}, []storage.FieldValue{metaField("v", 1.0)}, t0},
		metaPoint{"m3", []string{"host", "d"}, []storage.FieldValue{metaField("v", 1.0)}, t0},
		metaPoint{"m4", []string{"host", "d"}, []storage.FieldValue{metaField("v", 1.0)}, t0},
	)
	if err := e.CreateRetentionPolicy("s", storage.RetentionPolicy{Name: "rp2", ShardGroupDuration: 7 * 24 * time.Hour, Replication: 1}, false); err != nil {
		t.Fatal(err)
	}
	writeMeta(t, e, "s", "rp2", metaPoint{"m9", []string{"host", "z"}, []storage.FieldValue{metaField("v", 1.0)}, t0})
	def, err := e.Bucket("s", "")
	if err != nil {
		t.Fatal(err)
	}
	rp2, err := e.Bucket("s", "rp2")
	if err != nil {
		t.Fatal(err)
	}

	s := ExecOptions{Database: "s"}
	const ok = `{"results":[{"statement_id":0}]}`
	series := func(keys ...string) string {
		return `{"results":[{"statement_id":0,"series":[{"columns":["key"],"values":[["` + strings.Join(keys, `"],["`) + `"]]}]}]}`
	}
	measurements := func(names ...string) string {
		return `{"results":[{"statement_id":0,"series":[{"name":"measurements","columns":["name"],"values":[["` + strings.Join(names, `"],["`) + `"]]}]}]}`
	}
	steps := []struct {
		q    string
		opts ExecOptions
		want string
		// check runs after the step against the store directly.
		check func(t *testing.T)
	}{
		// Retention policies: SHOW MEASUREMENTS spans them, SHOW SERIES reads one.
		{q: `SHOW MEASUREMENTS`, opts: s, want: measurements("m1", "m2", "m3", "m4", "m9")},
		{q: `SHOW SERIES`, opts: s, want: series("m1,host=a", "m1,host=b", "m2,host=a", "m3,host=c", "m3,host=d", "m4,host=d")},
		{q: `SHOW SERIES FROM s.rp2.m9`, opts: ExecOptions{}, want: series("m9,host=z")},
		{q: `SHOW SERIES`, opts: ExecOptions{Database: "s", RetentionPolicy: "rp2"}, want: series("m9,host=z")},

		{q: `DELETE FROM m1 WHERE time < '2024-01-01T00:02:00Z'`, opts: s, want: ok, check: func(t *testing.T) {
			if n := metaCountPoints(t, e, def, "m1"); n != 2 {
				t.Errorf("m1 points after delete: %d, want 2", n)
			}
		}},
		{q: `SHOW SERIES FROM m1`, opts: s, want: series("m1,host=b")},
		{q: `DELETE FROM m2 WHERE x = 1`, opts: s, want: `error: fields not supported in WHERE clause during deletion`},
		{q: `DROP SERIES FROM m2 WHERE x::field = 1`, opts: s, want: `error: fields not supported in WHERE clause during deletion`},
		{q: `DROP SERIES FROM m3 WHERE host = 'c'`, opts: s, want: ok, check: func(t *testing.T) {
			ids, err := e.SeriesIDs(def, "m3", nil)
			if err != nil {
				t.Fatal(err)
			}
			if ids.GetCardinality() != 1 {
				t.Errorf("m3 series after drop: %d, want 1", ids.GetCardinality())
			}
		}},
		{q: `SHOW SERIES FROM m3`, opts: s, want: series("m3,host=d")},
		{q: `DROP SERIES FROM m3 WHERE time > 0`, opts: s, want: `error: DROP SERIES doesn't support time in WHERE clause`},
		{q: `DROP MEASUREMENT m2`, opts: s, want: ok},
		{q: `DROP MEASUREMENT nope`, opts: s, want: ok},
		{q: `SHOW FIELD KEYS FROM m2`, opts: s, want: ok},
		{q: `SHOW MEASUREMENTS`, opts: s, want: measurements("m1", "m3", "m4", "m9")},
		{q: `DROP SERIES WHERE host = 'd'`, opts: s, want: ok},
		{q: `SHOW MEASUREMENTS`, opts: s, want: measurements("m1", "m9")},
		{q: `DELETE FROM m1 WHERE host = 'b' AND time < '2024-01-01T00:06:00Z'`, opts: s, want: ok, check: func(t *testing.T) {
			if n := metaCountPoints(t, e, def, "m1"); n != 0 {
				t.Errorf("m1 points: %d, want 0", n)
			}
		}},
		{q: `SHOW SERIES`, opts: s, want: ok},
		{q: `DROP MEASUREMENT m9`, opts: s, want: ok, check: func(t *testing.T) {
			ids, err := e.SeriesIDs(rp2, "m9", nil)
			if err != nil {
				t.Fatal(err)
			}
			if !ids.IsEmpty() {
				t.Errorf("m9 in rp2 survived DROP MEASUREMENT: %v", ids)
			}
		}},
		{q: `SHOW MEASUREMENTS`, opts: s, want: ok},
		{q: `DROP SERIES FROM m1 WHERE host = 'a'`, opts: ExecOptions{}, want: `error: database not found: `},
		{q: `DELETE FROM m1`, opts: ExecOptions{Database: "nope"}, want: `error: database not found: nope`},
		{q: `DROP MEASUREMENT m1`, opts: ExecOptions{Database: "nope"}, want: `error: database not found: nope`},
	}
	for i, st := range steps {
		if got := runMeta(t, ex, st.q, st.opts); got != st.want {
			t.Fatalf("step %d: %s\n got: %s\nwant: %s", i, st.q, got, st.want)
		}
		if st.check != nil {
			st.check(t)
		}
	}
}

func TestDeleteRegexSourcesAndOpenRange(t *testing.T) {
	e := openMetaEngine(t)
	ex := NewExecutor(e, nil, Limits{})
	if err := e.CreateDatabase("s", nil); err != nil {
		t.Fatal(err)
	}
	writeMeta(t, e, "s", "",
		metaPoint{"cpu", []string{"host", "a"}, []storage.FieldValue{metaField("v", 1.0)}, math.MinInt64 + 10},
		metaPoint{"cpu", []string{"host", "a"}, []storage.FieldValue{metaField("v", 1.0)}, math.MaxInt64 - 10},
		metaPoint{"cpu2", []string{"host", "a"}, []storage.FieldValue{metaField("v", 1.0)}, t0},
		metaPoint{"mem", []string{"host", "a"}, []storage.FieldValue{metaField("v", 1.0)}, t0},
	)
	opts := ExecOptions{Database: "s"}
	if got := runMeta(t, ex, `DELETE FROM /^cpu/`, opts); got != `{"results":[{"statement_id":0}]}` {
		t.Fatal(got)
	}
	if got, want := runMeta(t, ex, `SHOW MEASUREMENTS`, opts), `{"results":[{"statement_id":0,"series":[{"name":"measurements","columns":["name"],"values":[["mem"]]}]}]}`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	// An empty time range deletes nothing.
	if got := runMeta(t, ex, `DELETE WHERE time > '2024-01-02T00:00:00Z' AND time < '2024-01-01T00:00:00Z'`, opts); got != `{"results":[{"statement_id":0}]}` {
		t.Fatal(got)
	}
	b, _ := e.Bucket("s", "")
	if n := metaCountPoints(t, e, b, "mem"); n != 1 {
		t.Errorf("mem points %d, want 1", n)
	}
}

func TestAppendSeriesKey(t *testing.T) {
	tests := []struct {
		m    string
		tags []string
		want string
	}{
		{"cpu", nil, "cpu"},
		{"cpu", []string{"host", "a"}, "cpu,host=a"},
		{"my m,x", []string{"k=1", "v a,l=ue"}, `my\ m\,x,k\=1=v\ a\,l\=ue`},
		{"m=1", []string{"k", `back\slash`}, `m=1,k=back\slash`},
	}
	for _, tt := range tests {
		var tags []storage.Tag
		for i := 0; i < len(tt.tags); i += 2 {
			tags = append(tags, storage.Tag{Key: []byte(tt.tags[i]), Value: []byte(tt.tags[i+1])})
		}
		if got := string(appendSeriesKey(nil, []byte(tt.m), tags)); got != tt.want {
			t.Errorf("appendSeriesKey(%q, %q) = %q, want %q", tt.m, tt.tags, got, tt.want)
		}
	}
}

func TestPaginate(t *testing.T) {
	tests := []struct{ n, limit, offset, lo, hi int }{
		{5, 0, 0, 0, 5},
		{5, 2, 0, 0, 2},
		{5, 2, 4, 4, 5},
		{5, 0, 5, 5, 5},
		{5, 10, 1, 1, 5},
		{0, 1, 0, 0, 0},
	}
	for _, tt := range tests {
		if lo, hi := paginate(tt.n, tt.limit, tt.offset); lo != tt.lo || hi != tt.hi {
			t.Errorf("paginate(%d, %d, %d) = %d, %d, want %d, %d", tt.n, tt.limit, tt.offset, lo, hi, tt.lo, tt.hi)
		}
	}
}

// FuzzMetaStatements runs whatever parses against a small data set: a statement
// may fail, but must never panic or hang.
func FuzzMetaStatements(f *testing.F) {
	for _, s := range []string{
		`SHOW MEASUREMENTS WITH MEASUREMENT =~ /c/ WHERE host = 'a' LIMIT 1 OFFSET 1`,
		`SHOW TAG VALUES FROM /./ WITH KEY IN (host, region) WHERE host =~ /x/ OR region != ''`,
		`SHOW TAG KEYS ON oracle FROM cpu WHERE time > now() - 1d SLIMIT 1`,
		`SHOW SERIES FROM cpu, mem WHERE host = 'server01' AND time < now()`,
		`SHOW SERIES EXACT CARDINALITY FROM /c/ WHERE region = 'us-east'`,
		`SHOW FIELD KEYS FROM oracle.autogen./m/`,
		`DELETE FROM cpu WHERE host = 'server02' AND time > '2024-01-01T00:00:10Z'`,
		`DROP SERIES WHERE region = 'us-west'`,
		`CREATE RETENTION POLICY r ON oracle DURATION 1d REPLICATION 1 SHARD DURATION 1h DEFAULT`,
		`ALTER RETENTION POLICY r ON oracle DURATION INF SHARD DURATION 0s`,
		`CREATE DATABASE x WITH DURATION 1h REPLICATION 2 NAME "\x01"`,
		`SHOW MEASUREMENT EXACT CARDINALITY WHERE host = "server01"`,
		`KILL QUERY 1; SHOW QUERIES; SHOW USERS; SHOW CONTINUOUS QUERIES`,
		`SHOW TAG VALUES WITH KEY = host WHERE host = 1`,
	} {
		f.Add(s)
	}
	_, ex := metaFixture(f)
	f.Fuzz(func(t *testing.T, q string) {
		parsed, err := influxql.ParseQuery(q)
		if err != nil {
			return
		}
		for _, st := range parsed.Statements {
			switch st.(type) {
			case *influxql.SelectStatement, *influxql.ExplainStatement:
				return
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = ex.Execute(ctx, parsed, ExecOptions{Database: "oracle"}, SinkFunc(func(*StatementResult) error { return nil }))
	})
}

// BenchmarkShowSeries lists 10,000 series with a tag condition, the shape of a
// Grafana template-variable query.
func BenchmarkShowSeries(b *testing.B) {
	e := openMetaEngine(b)
	if err := e.CreateDatabase("bench", nil); err != nil {
		b.Fatal(err)
	}
	var pts []metaPoint
	for i := 0; i < 10000; i++ {
		pts = append(pts, metaPoint{"cpu", []string{"host", "host_" + metaItoa(uint64(i)), "rack", "r" + metaItoa(uint64(i%10))},
			[]storage.FieldValue{metaField("v", 1.0)}, t0})
	}
	writeMeta(b, e, "bench", "", pts...)
	ex := NewExecutor(e, nil, Limits{})
	q, err := influxql.ParseQuery(`SHOW SERIES FROM cpu WHERE rack =~ /r[0-4]/`)
	if err != nil {
		b.Fatal(err)
	}
	var size int64
	emit := SinkFunc(func(r *StatementResult) error {
		size = 0
		for _, s := range r.Series {
			for _, row := range s.Rows {
				size += int64(len(row.Values[0].(string)))
			}
		}
		return nil
	})
	opts := ExecOptions{Database: "bench"}
	if err := ex.Execute(context.Background(), q, opts, emit); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(size)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := ex.Execute(context.Background(), q, opts, emit); err != nil {
			b.Fatal(err)
		}
	}
}

func TestShowStatsAndDiagnostics(t *testing.T) {
	_, ex := metaFixture(t)
	run := func(q string) *StatementResult {
		t.Helper()
		parsed, err := influxql.ParseQuery(q)
		if err != nil {
			t.Fatal(err)
		}
		var out *StatementResult
		if err := ex.Execute(context.Background(), parsed, ExecOptions{}, SinkFunc(func(r *StatementResult) error { out = r; return nil })); err != nil {
			t.Fatal(err)
		}
		if out == nil || out.Err != "" {
			t.Fatalf("%s: %+v", q, out)
		}
		return out
	}
	modules := func(r *StatementResult) []string {
		var out []string
		for _, s := range r.Series {
			out = append(out, s.Name)
		}
		return out
	}
	col := func(s *ResultSeries, name string) any {
		for i, c := range s.Columns {
			if c == name {
				return s.Rows[0].Values[i]
			}
		}
		t.Fatalf("%s has no column %s: %v", s.Name, name, s.Columns)
		return nil
	}
	stats := run(`SHOW STATS`)
	if got := fmt.Sprint(modules(stats)); got != "[runtime queryExecutor database database]" {
		t.Fatalf("SHOW STATS modules %s", got)
	}
	if n := col(stats.Series[0], "NumGoroutine").(int64); n < 1 {
		t.Errorf("NumGoroutine %d", n)
	}
	if n := col(stats.Series[1], "queriesActive").(int64); n != 1 { // SHOW STATS itself
		t.Errorf("queriesActive %d", n)
	}
	db := run(`SHOW STATS FOR 'database'`)
	if len(db.Series) != 2 || db.Series[0].Tags["database"] != "oracle" ||
		col(db.Series[0], "numMeasurements") != int64(4) || col(db.Series[0], "numSeries") != int64(10) ||
		col(db.Series[1], "numSeries") != int64(0) {
		t.Errorf("database stats %s", fmtSeries(db.Series))
	}
	diag := run(`SHOW DIAGNOSTICS`)
	if got := fmt.Sprint(modules(diag)); got != "[build network runtime system]" {
		t.Fatalf("SHOW DIAGNOSTICS modules %s", got)
	}
	rt := run(`SHOW DIAGNOSTICS FOR 'runtime'`)
	if len(rt.Series) != 1 || col(rt.Series[0], "GOOS") != runtime.GOOS {
		t.Errorf("runtime diagnostics %s", fmtSeries(rt.Series))
	}
	if none := run(`SHOW STATS FOR 'shard'`); len(none.Series) != 0 {
		t.Errorf("unknown module: %s", fmtSeries(none.Series))
	}
}

package main

import (
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/strata-db/strata/ingest/promremote"
	"github.com/strata-db/strata/storage"
)

func promSeries(name string, samples []promremote.Sample, kv ...string) promremote.TimeSeries {
	ts := promremote.TimeSeries{Labels: []promremote.Label{{Name: []byte("__name__"), Value: []byte(name)}}, Samples: samples}
	for i := 0; i+1 < len(kv); i += 2 {
		ts.Labels = append(ts.Labels, promremote.Label{Name: []byte(kv[i]), Value: []byte(kv[i+1])})
	}
	return ts
}

var promHeaders = map[string]string{
	"Content-Type":                      "application/x-protobuf",
	"Content-Encoding":                  "snappy",
	"X-Prometheus-Remote-Write-Version": "0.1.0",
}

// TestPromRemoteWrite sends remote-write 1.0 requests encoded with protowire
// and snappy over HTTP, and checks the answers the spec asks for and the data
// read back through the storage read API and /query.
func TestPromRemoteWrite(t *testing.T) {
	s, base := startTestServer(t, testConfig(t.TempDir()))
	defer s.shutdown(10 * time.Second)
	runQuery(t, base, "CREATE DATABASE prom")

	stale := math.Float64frombits(promremote.StaleNaN)
	good := promremote.Compress(nil, promremote.AppendRequest(nil, []promremote.TimeSeries{
		// Labels out of order and an empty one: sorted, and the empty one dropped.
		promSeries("up", []promremote.Sample{{Value: 1, Timestamp: 1700000000000}, {Value: stale, Timestamp: 1700000015000}}, "job", "node", "instance", "a:9100", "empty", ""),
		promSeries("http_requests_total", []promremote.Sample{{Value: 1027, Timestamp: 1700000000000}}, "code", "200", "method", "post"),
	}))
	bigSeries := make([]promremote.TimeSeries, 0, 500)
	for i := range 500 {
		samples := make([]promremote.Sample, 20)
		for j := range samples {
			samples[j] = promremote.Sample{Value: float64(i*100 + j), Timestamp: 1700000000000 + int64(j)*1000}
		}
		bigSeries = append(bigSeries, promSeries("big", samples, "i", fmt.Sprint(i)))
	}
	big := promremote.Compress(nil, promremote.AppendRequest(nil, bigSeries))
	noName := promremote.Compress(nil, promremote.AppendRequest(nil, []promremote.TimeSeries{
		{Labels: []promremote.Label{{Name: []byte("job"), Value: []byte("x")}}, Samples: []promremote.Sample{{Value: 1, Timestamp: 1}}},
	}))
	cases := []struct {
		name    string
		path    string
		body    []byte
		headers map[string]string
		status  int
		errHas  string
	}{
		{"good request", "/api/v1/prom/write?db=prom", good, promHeaders, 204, ""},
		{"Prometheus' own path", "/api/v1/write?db=prom", good, promHeaders, 204, ""},
		{"10,000 samples", "/api/v1/prom/write?db=prom", big, promHeaders, 204, ""},
		{"no database", "/api/v1/prom/write", good, promHeaders, 400, "database is required"},
		{"unknown database", "/api/v1/prom/write?db=nope", good, promHeaders, 404, "database not found"},
		{"bad snappy", "/api/v1/prom/write?db=prom", []byte("definitely not snappy"), promHeaders, 400, "snappy"},
		{"bad protobuf", "/api/v1/prom/write?db=prom", promremote.Compress(nil, []byte{0x0a, 0x7f, 0x01}), promHeaders, 400, "malformed remote-write protobuf"},
		{"no metric name", "/api/v1/prom/write?db=prom", noName, promHeaders, 400, "without a metric name"},
		{"json body", "/api/v1/prom/write?db=prom", good, map[string]string{"Content-Type": "application/json", "Content-Encoding": "snappy"}, 415, "Content-Type"},
		{"remote write 2.0", "/api/v1/prom/write?db=prom", good, map[string]string{"Content-Type": "application/x-protobuf;proto=io.prometheus.write.v2.Request", "Content-Encoding": "snappy"}, 415, "remote write 1.0"},
		{"gzip encoding", "/api/v1/prom/write?db=prom", good, map[string]string{"Content-Type": "application/x-protobuf", "Content-Encoding": "gzip"}, 415, "Content-Encoding"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := do(t, "POST", base+c.path, c.body, c.headers)
			if r.status != c.status || !strings.Contains(r.body, c.errHas) {
				t.Fatalf("status %d body %q, want %d containing %q", r.status, r.body, c.status, c.errHas)
			}
			if c.status != 204 && !json.Valid([]byte(r.body)) {
				t.Fatalf("error body is not JSON: %q", r.body)
			}
		})
	}

	got := dump(t, s.eng, "prom", "up")
	want := []string{
		"up,instance=a:9100,job=node value=1@1700000000000000000",
		"up,instance=a:9100,job=node value=NaN@1700000015000000000",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("stored:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// The stale marker keeps its exact bits.
	bk, _ := s.eng.Bucket("prom", "")
	s.eng.ReadSeries(bk, "up", nil, math.MinInt64, math.MaxInt64, func(sd *storage.SeriesData) error {
		if bits := math.Float64bits(sd.Fields["value"].Floats[1]); bits != promremote.StaleNaN {
			t.Errorf("stale marker stored as %x, want %x", bits, promremote.StaleNaN)
		}
		return nil
	})
	r := runQuery(t, base, `SELECT sum("value"), count("value") FROM "prom"."autogen"."big"`)
	if !strings.Contains(r.body, `249595000,10000]`) {
		t.Fatalf("big batch read back: %s", r.body)
	}
	r = runQuery(t, base, `SELECT "value" FROM "prom"."autogen"."http_requests_total" WHERE "code" = '200'`)
	if !strings.Contains(r.body, `1027`) {
		t.Fatalf("query: %s", r.body)
	}

	// A sample refused by a type conflict is a 400 (a retry cannot help), and
	// every refusal so far is a dead letter.
	runQuery(t, base, "CREATE DATABASE conflict")
	do(t, "POST", base+"/write?db=conflict", []byte("up value=1i 1"), nil)
	upOnly := promremote.Compress(nil, promremote.AppendRequest(nil, []promremote.TimeSeries{promSeries("up", []promremote.Sample{{Value: 1, Timestamp: 5}})}))
	if r := do(t, "POST", base+"/api/v1/prom/write?db=conflict", upOnly, promHeaders); r.status != 400 || !strings.Contains(r.body, "field type conflict") {
		t.Fatalf("type conflict: %d %s", r.status, r.body)
	}
	r = runQuery(t, base, `SELECT count("raw") FROM "_deadletter"."autogen"."rejected" WHERE "source" = 'http:/api/v1/prom/write'`)
	if !strings.Contains(r.body, `,4]`) {
		t.Fatalf("dead letters (bad snappy, bad protobuf, no name, conflict): %s", r.body)
	}
	r = runQuery(t, base, `SELECT "reason" FROM "_deadletter"."autogen"."rejected" WHERE "db" = 'conflict'`)
	if !strings.Contains(r.body, "field type conflict") {
		t.Fatalf("conflict dead letter: %s", r.body)
	}
}

// TestPromRemoteRead writes with remote write and reads back with remote
// read, as a Prometheus server configured with both would.
func TestPromRemoteRead(t *testing.T) {
	s, base := startTestServer(t, testConfig(t.TempDir()))
	defer s.shutdown(10 * time.Second)
	runQuery(t, base, "CREATE DATABASE prom")
	stale := math.Float64frombits(promremote.StaleNaN)
	w := promremote.Compress(nil, promremote.AppendRequest(nil, []promremote.TimeSeries{
		promSeries("up", []promremote.Sample{{Value: 1, Timestamp: 1700000000000}, {Value: stale, Timestamp: 1700000015000}}, "job", "node"),
		promSeries("up", []promremote.Sample{{Value: 0, Timestamp: 1700000000000}}, "job", "db"),
		promSeries("http_requests_total", []promremote.Sample{{Value: 5, Timestamp: 1700000000000}}, "code", "200"),
		promSeries("http_requests_total", []promremote.Sample{{Value: 7, Timestamp: 1700000000000}}, "code", "500"),
	}))
	if r := do(t, "POST", base+"/api/v1/prom/write?db=prom", w, promHeaders); r.status != 204 {
		t.Fatalf("write: %d %s", r.status, r.body)
	}
	do(t, "POST", base+"/write?db=prom", []byte("notprom,job=node count=3i 1700000000000000000"), nil) // no float "value": not a metric

	read := func(qs ...promremote.Query) response {
		return do(t, "POST", base+"/api/v1/prom/read?db=prom", promremote.Compress(nil, promremote.AppendReadRequest(nil, qs)), promHeaders)
	}
	const from, to = 1700000000000, 1700000015000
	r := read(
		promremote.Query{StartMs: from, EndMs: to, Matchers: []promremote.Matcher{{Type: promremote.MatchEqual, Name: "__name__", Value: "up"}, {Type: promremote.MatchRegexp, Name: "job", Value: "no.*"}}},
		promremote.Query{StartMs: from, EndMs: to, Matchers: []promremote.Matcher{{Type: promremote.MatchRegexp, Name: "__name__", Value: "http_.*"}, {Type: promremote.MatchNotEqual, Name: "code", Value: "500"}}},
		promremote.Query{StartMs: from + 1, EndMs: to - 1, Matchers: []promremote.Matcher{{Type: promremote.MatchEqual, Name: "job", Value: "node"}}},
	)
	if r.status != 200 || r.header.Get("Content-Encoding") != "snappy" {
		t.Fatalf("read: %d %s", r.status, r.body)
	}
	raw, err := promremote.Inflate(nil, []byte(r.body), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	res, err := promremote.DecodeReadResponse(raw)
	if err != nil || len(res) != 3 {
		t.Fatalf("response: %v, %d results", err, len(res))
	}
	if len(res[0]) != 1 || fmt.Sprint(labelText(res[0][0])) != `{__name__="up",job="node"}` || len(res[0][0].Samples) != 2 ||
		res[0][0].Samples[0] != (promremote.Sample{Value: 1, Timestamp: from}) ||
		math.Float64bits(res[0][0].Samples[1].Value) != promremote.StaleNaN || res[0][0].Samples[1].Timestamp != to {
		t.Fatalf("query 1: %+v", res[0])
	}
	if len(res[1]) != 1 || labelText(res[1][0]) != `{__name__="http_requests_total",code="200"}` || res[1][0].Samples[0].Value != 5 {
		t.Fatalf("query 2: %+v", res[1])
	}
	if len(res[2]) != 0 {
		t.Fatalf("query 3 (no sample in the range; notprom has no value field): %+v", res[2])
	}
	bad := read(promremote.Query{StartMs: from, EndMs: to, Matchers: []promremote.Matcher{{Type: promremote.MatchRegexp, Name: "job", Value: "("}}})
	if bad.status != 400 || !strings.Contains(bad.body, "bad matcher") {
		t.Fatalf("bad regexp: %d %s", bad.status, bad.body)
	}
	if r := do(t, "POST", base+"/api/v1/prom/read?db=prom", []byte("junk"), promHeaders); r.status != 400 {
		t.Fatalf("junk: %d %s", r.status, r.body)
	}
}

func labelText(ts promremote.TimeSeries) string {
	var b strings.Builder
	b.WriteByte('{')
	for i, l := range ts.Labels {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%s=%q", l.Name, l.Value)
	}
	b.WriteByte('}')
	return b.String()
}

// TestPromRemoteAuth: with --auth-enabled, remote write needs WRITE and
// remote read needs READ on the database.
func TestPromRemoteAuth(t *testing.T) {
	cfg := testConfig(t.TempDir())
	cfg.authEnabled = true
	s, base := startTestServer(t, cfg)
	defer s.shutdown(10 * time.Second)
	admin := authClient{t, base, "admin", "adm"}
	for _, stmt := range []string{
		"CREATE USER admin WITH PASSWORD 'adm' WITH ALL PRIVILEGES", "CREATE DATABASE db",
		"CREATE USER reader WITH PASSWORD 'r'", "GRANT READ ON db TO reader",
		"CREATE USER writer WITH PASSWORD 'w'", "GRANT WRITE ON db TO writer",
	} {
		if code, body := admin.do("POST", "/query", url.Values{"q": {stmt}}, ""); code != 200 || strings.Contains(body, `"error"`) {
			t.Fatalf("%s: %d %s", stmt, code, body)
		}
	}
	wbody := string(promremote.Compress(nil, promremote.AppendRequest(nil, []promremote.TimeSeries{promSeries("up", []promremote.Sample{{Value: 1, Timestamp: 1}})})))
	rbody := string(promremote.Compress(nil, promremote.AppendReadRequest(nil, []promremote.Query{{StartMs: 0, EndMs: 10}})))
	cases := []struct {
		user, pass, path, body string
		status                 int
	}{
		{"writer", "w", "/api/v1/prom/write", wbody, 204},
		{"reader", "r", "/api/v1/prom/write", wbody, 403},
		{"reader", "r", "/api/v1/prom/read", rbody, 200},
		{"writer", "w", "/api/v1/prom/read", rbody, 403},
		{"", "", "/api/v1/prom/read", rbody, 401},
	}
	for _, c := range cases {
		code, body, _ := authClient{t, base, c.user, c.pass}.doHeader("POST", c.path, url.Values{"db": {"db"}}, c.body, promHeaders)
		if code != c.status {
			t.Errorf("%s %s: %d %s, want %d", c.user, c.path, code, body, c.status)
		}
	}
}

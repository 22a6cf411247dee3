package main

import (
	"encoding/json"
	"fmt"
	"math"
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

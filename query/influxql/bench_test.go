package influxql

import (
	"testing"
	"time"
)

var fuzzNow = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// grafanaQuery is the shape Grafana's InfluxQL data source sends for a
// panel: the most common query Strata will parse.
const grafanaQuery = `SELECT mean("value") FROM "autogen"."cpu" WHERE ("host" = 'a' OR "host" = 'b') AND time >= 1596240000000ms and time <= 1596240300000ms GROUP BY time(10s), "region" fill(null) ORDER BY time ASC limit 1000 slimit 10 tz('Europe/Paris')`

func BenchmarkParseQuery_Grafana(b *testing.B) {
	b.SetBytes(int64(len(grafanaQuery)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseQuery(grafanaQuery); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkScanner_Grafana(b *testing.B) {
	b.SetBytes(int64(len(grafanaQuery)))
	b.ReportAllocs()
	for b.Loop() {
		s := NewScanner(grafanaQuery)
		for {
			if tok, _, _ := s.Scan(); tok == EOF {
				break
			}
		}
	}
}

func BenchmarkQuery_String(b *testing.B) {
	q, err := ParseQuery(grafanaQuery)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(grafanaQuery)))
	b.ReportAllocs()
	for b.Loop() {
		_ = q.String()
	}
}

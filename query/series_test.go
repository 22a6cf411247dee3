package query

import (
	"fmt"
	"testing"

	"github.com/strata-db/strata/storage"
)

// TestStoredSeriesKey: the key built from a stored series' sorted tags is
// the one seriesKey builds from its tag map, which orders every series'
// output and names its cache entries.
func TestStoredSeriesKey(t *testing.T) {
	for _, tags := range [][]storage.Tag{
		nil,
		{{Key: []byte("hostname"), Value: []byte("host_1")}},
		{{Key: []byte("a"), Value: []byte("")}, {Key: []byte("b b"), Value: []byte("x,y=z")}, {Key: []byte("region"), Value: []byte("eu-west-1")}},
		{{Key: []byte("A"), Value: []byte("1")}, {Key: []byte("a"), Value: []byte("2")}, {Key: []byte("é"), Value: []byte("3")}},
	} {
		m := map[string]string{}
		for _, tg := range tags {
			m[string(tg.Key)] = string(tg.Value)
		}
		if got, want := storedSeriesKey([]byte("cpu"), tags), seriesKey("cpu", m); got != want {
			t.Errorf("tags %q: key %q, want %q", tags, got, want)
		}
	}
}

// BenchmarkGroupSeries groups a dashboard's series: TSBS's 100 hosts with
// their ten tags each, GROUP BY hostname.
func BenchmarkGroupSeries(b *testing.B) {
	refs := make([]*seriesRef, 100)
	for h := range refs {
		tags := map[string]string{"hostname": fmt.Sprintf("host_%d", h)}
		for _, k := range []string{"arch", "datacenter", "os", "rack", "region", "service", "service_environment", "service_version", "team"} {
			tags[k] = fmt.Sprintf("%s_%d", k, h%7)
		}
		refs[h] = &seriesRef{measurement: "cpu", tags: tags, key: seriesKey("cpu", tags)}
	}
	r := &selectRun{plan: &selectPlan{groupKeys: []string{"hostname"}, ascending: true}}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if gs := r.groupSeries(refs); len(gs) != 100 {
			b.Fatal(len(gs))
		}
	}
}

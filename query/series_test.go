package query

import (
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

package main

import (
	"bytes"
	"encoding/json"
	"os"
	"reflect"
	"testing"

	"github.com/strata-db/strata/services/cq"
	"github.com/strata-db/strata/storage"
)

// TestCQMarksGolden: the JSON of the CQ runner's internal endpoints
// (docs/format/cq-marks.md, version 1) decodes from its golden files into
// the values they document, and encodes back to the same bytes.
func TestCQMarksGolden(t *testing.T) {
	group := storage.AppendSeriesKey(nil, []byte("cpu"), []storage.Tag{{Key: []byte("region"), Value: []byte("eu")}})
	for _, c := range []struct {
		file string
		into any
		want any
	}{
		{"take-request.v1.json", &cqTakeRequest{}, &cqTakeRequest{Progress: []cq.Progress{
			{Database: "telegraf", Name: "cpu_1m", Since: 1700000000000000000, Watermark: 1700000060000000000}}}},
		{"take-response.v1.json", &cqTakeResponse{}, &cqTakeResponse{Token: 7, Marks: []cq.Marks{
			{Database: "telegraf", Name: "cpu_1m", Group: group, Spans: [][2]int64{{1699999940000000000, 1700000000000000000}}}}}},
		{"release-request.v1.json", &cqReleaseRequest{}, &cqReleaseRequest{Token: 7}},
	} {
		b, err := os.ReadFile("../../testdata/cqmarks/" + c.file)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, c.into); err != nil {
			t.Fatalf("%s: %v", c.file, err)
		}
		if !reflect.DeepEqual(c.into, c.want) {
			t.Errorf("%s decodes to %+v, want %+v", c.file, c.into, c.want)
		}
		out, err := json.Marshal(c.want)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(append(out, '\n'), b) {
			t.Errorf("%s: encoding gives\n%s\nwant\n%s", c.file, out, b)
		}
	}
}

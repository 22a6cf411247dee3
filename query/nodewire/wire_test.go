package nodewire

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/strata-db/strata/query/funcs"
	"github.com/strata-db/strata/query/partial"
)

var update = flag.Bool("update", false, "rewrite testdata/answer_v2.bin")

// golden is the answer testdata/answer_v2.bin holds: a schema, one series
// with raw points of every value type and one call's sum state in two
// windows, and one SHOW result series.
func golden(t testing.TB) *Response {
	nf, err := partial.NewFactory("sum", funcs.Float)
	if err != nil {
		t.Fatal(err)
	}
	a, b := nf(), nf()
	a.AddFloats([]int64{10, 20}, []float64{1.5, 2.25})
	a.EndSeries()
	b.AddFloats([]int64{70}, []float64{-4})
	b.EndSeries()
	return &Response{Node: "node-1",
		Schema:  Schema{Fields: map[string]funcs.Type{"f": funcs.Float, "s": funcs.String}, Tags: []string{"host", "region"}},
		Results: []Result{{Name: "cpu", Columns: []string{"key", "value"}, Rows: [][]any{{"host", "h1"}, {"n", int64(3)}}}},
		Series: []Series{{
			Measurement: "cpu", Tags: map[string]string{"host": "h1", "region": "eu"},
			Times: []int64{10, 20, 30},
			Fields: map[string][]funcs.Point{
				"f": {{Time: 10, Value: 1.5}, {Time: 20, Value: int64(-3)}, {Time: 30, Value: uint64(7)}},
				"s": {{Time: 10, Value: "x"}, {Time: 20, Value: true}, {Time: 30, Value: nil}},
			},
			States: map[int][]Window{1: {{Start: 0, State: a}, {Start: 60, State: b}}},
		}}}
}

func TestGolden(t *testing.T) {
	want := golden(t)
	enc, err := Append(nil, want)
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile("testdata/answer_v2.bin", enc, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	file, err := os.ReadFile("testdata/answer_v2.bin")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(file, enc) {
		t.Fatalf("encoding drifted from testdata/answer_v2.bin (docs/format/node-protocol.md)")
	}
	got, err := Decode(file)
	if err != nil {
		t.Fatal(err)
	}
	if got.Node != want.Node || !reflect.DeepEqual(got.Series[0].Fields, want.Series[0].Fields) ||
		!reflect.DeepEqual(got.Series[0].Tags, want.Series[0].Tags) || !reflect.DeepEqual(got.Series[0].Times, want.Series[0].Times) {
		t.Fatalf("decoded %+v", got)
	}
	if !reflect.DeepEqual(got.Schema, want.Schema) || !reflect.DeepEqual(got.Results, want.Results) {
		t.Fatalf("decoded schema %+v, results %+v", got.Schema, got.Results)
	}
	ws := got.Series[0].States[1]
	if len(ws) != 2 || ws[1].Start != 60 || ws[0].State.Final(0)[0].Value != 3.75 {
		t.Fatalf("states %+v", ws)
	}
}

// TestVersion1Refused: a node of the previous version answers in bytes this
// one must refuse by name, not misread (a set upgraded one node at a time).
func TestVersion1Refused(t *testing.T) {
	v1, err := os.ReadFile("testdata/answer_v1.bin")
	if err != nil {
		t.Fatal(err)
	}
	_, err = Decode(v1)
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "version 1, this node reads 2") {
		t.Fatalf("Decode(v1) = %v", err)
	}
}

func FuzzDecode(f *testing.F) {
	enc, err := Append(nil, golden(f))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(enc)
	f.Add(enc[:len(enc)/2])
	f.Add([]byte("STNP\x02\x00\x00\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := Decode(b)
		if err != nil {
			return
		}
		again, err := Append(nil, r)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Decode(again); err != nil {
			t.Fatalf("re-encoding does not decode: %v", err)
		}
	})
}

package funcs

import (
	"bytes"
	"encoding/json"
	"flag"
	"math"
	"os"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite testdata/funcs/transforms.golden.json from the current code")

const goldenPath = "../../testdata/funcs/transforms.golden.json"

// TestTransformsGolden pins every transformation's output over the first
// 30 minutes of server01's usage_user (and mem used, an integer field) so a
// change in arithmetic shows up as a diff. Regenerate with -update after
// checking the change against InfluxDB.
func TestTransformsGolden(t *testing.T) {
	ds := loadDataset(t)
	day := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano()
	keep := func(s *lpSeries) bool { return s.tags["host"] == "server01" }
	inputs := map[string][]Point{
		"cpu.usage_user": merged(query(ds, "cpu", "usage_user", keep, day, day+int64(30*time.Minute))),
		"mem.used":       merged(query(ds, "mem", "used", keep, day, day+int64(30*time.Minute))),
	}
	calls := []struct {
		name string
		args []any
	}{
		{"derivative", nil}, {"derivative", []any{time.Minute}}, {"non_negative_derivative", nil},
		{"difference", nil}, {"non_negative_difference", nil}, {"moving_average", []any{int64(4)}},
		{"cumulative_sum", nil}, {"elapsed", []any{time.Second}},
	}
	type row struct {
		Time  int64 `json:"t"`
		Value any   `json:"v"`
	}
	golden := map[string][]row{}
	for in, pts := range inputs {
		for _, c := range calls {
			f, err := NewTransform(c.name, c.args, 0)
			if err != nil {
				t.Fatal(err)
			}
			out, err := f(pts)
			if err != nil {
				t.Fatal(err)
			}
			key := in + " " + c.name
			if len(c.args) > 0 {
				key += " " + literalString(c.args[0])
			}
			for _, p := range out {
				v := p.Value
				if f, ok := v.(float64); ok && (math.IsNaN(f) || math.IsInf(f, 0)) {
					t.Fatalf("%s: non-finite %v", key, f)
				}
				golden[key] = append(golden[key], row{p.Time, v})
			}
		}
	}
	got, err := json.MarshalIndent(golden, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	if *update {
		if err := os.WriteFile(goldenPath, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(goldenPath)
	if err != nil {
		t.Fatalf("%v (run go test -run TestTransformsGolden -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("transformations differ from the golden file; inspect and regenerate with -update")
	}
}

package partial

import (
	"bytes"
	"encoding/hex"
	"flag"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/strata-db/strata/query/funcs"
)

var update = flag.Bool("update", false, "rewrite testdata/partial/*.bin from the current code")

const goldenDir = "../../testdata/partial"

// golden is one fixture: how to build the state, and the rows its Final
// must give, written out by hand from the function's definition.
type golden struct {
	file  string
	name  string
	typ   funcs.Type
	args  []any
	build func(s State) error
	ws    int64
	want  []funcs.Point
}

func cols(s State, ts []int64, vs any) error {
	switch v := vs.(type) {
	case []float64:
		return s.AddFloats(ts, v)
	case []int64:
		return s.AddInts(ts, v)
	case []uint64:
		return s.AddUints(ts, v)
	case []string:
		return s.AddStrings(ts, v)
	}
	return s.AddBools(ts, vs.([]bool))
}

var goldens = []golden{
	{"count.bin", "count", funcs.Float, nil, func(s State) error {
		return cols(s, []int64{1, 2, 3}, []float64{1, 2, 3})
	}, 0, []funcs.Point{{Time: 0, Value: int64(3)}}},
	{"count_empty.bin", "count", funcs.String, nil, func(State) error { return nil }, 0, nil},
	{"sum.bin", "sum", funcs.Integer, nil, func(s State) error {
		if err := cols(s, []int64{1, 2}, []int64{math.MaxInt64, 2}); err != nil {
			return err
		}
		s.EndSeries()
		return cols(s, []int64{1}, []int64{-5})
	}, 100, []funcs.Point{{Time: 100, Value: int64(math.MaxInt64 - 3)}}}, // wraps
	{"mean.bin", "mean", funcs.Float, nil, func(s State) error {
		if err := cols(s, []int64{1, 2}, []float64{1.5, 2.5}); err != nil {
			return err
		}
		s.EndSeries()
		return cols(s, []int64{1}, []float64{4})
	}, 0, []funcs.Point{{Time: 0, Value: 8.0 / 3}}},
	{"min.bin", "min", funcs.Integer, nil, func(s State) error {
		return cols(s, []int64{10, 20, 30}, []int64{7, 3, 3})
	}, 0, []funcs.Point{{Time: 20, Value: int64(3)}}},
	{"max.bin", "max", funcs.Unsigned, nil, func(s State) error {
		return cols(s, []int64{-10, 20, 30}, []uint64{math.MaxUint64, 3, math.MaxUint64})
	}, 0, []funcs.Point{{Time: -10, Value: uint64(math.MaxUint64)}}},
	{"first.bin", "first", funcs.String, nil, func(s State) error {
		return cols(s, []int64{5, 5, 6}, []string{"b", "c", "a"})
	}, 0, []funcs.Point{{Time: 5, Value: "c"}}},
	{"last.bin", "last", funcs.Boolean, nil, func(s State) error {
		return cols(s, []int64{1, 2, 2}, []bool{false, true, false})
	}, 0, []funcs.Point{{Time: 2, Value: true}}},
	{"spread.bin", "spread", funcs.Float, nil, func(s State) error {
		return cols(s, []int64{1, 2, 3}, []float64{-1.25, 4, 0.5})
	}, 7, []funcs.Point{{Time: 7, Value: 5.25}}},
	{"stddev.bin", "stddev", funcs.Integer, nil, func(s State) error {
		return cols(s, []int64{1, 2, 3, 4, 5, 6, 7, 8}, []int64{2, 4, 4, 4, 5, 5, 7, 9})
	}, 0, []funcs.Point{{Time: 0, Value: math.Sqrt(32.0 / 7)}}},
	{"integral.bin", "integral", funcs.Float, []any{time.Second}, func(s State) error {
		sec := int64(time.Second)
		// At 1s the arriving trapezoid uses 3, the leaving one 5: 2 + 6.
		return cols(s, []int64{0, sec, sec, 3 * sec}, []float64{1, 3, 5, 1})
	}, -1, []funcs.Point{{Time: -1, Value: 8.0}}},
	{"median.bin", "median", funcs.Float, nil, func(s State) error {
		return cols(s, []int64{1, 2, 3, 4}, []float64{3, 1, 2, 10})
	}, 0, []funcs.Point{{Time: 0, Value: 2.5}}},
	{"percentile.bin", "percentile", funcs.Integer, []any{50.0}, func(s State) error {
		// Rank floor(4·0.5 + 0.5) = 2 of 1@2, 1@4, 5@1, 9@3.
		return cols(s, []int64{1, 2, 3, 4}, []int64{5, 1, 9, 1})
	}, 0, []funcs.Point{{Time: 4, Value: int64(1)}}},
	{"mode.bin", "mode", funcs.String, nil, func(s State) error {
		// a and b both twice; a's run reached 2 at time 4, b's started at 2.
		return cols(s, []int64{1, 2, 3, 4}, []string{"a", "b", "b", "a"})
	}, 0, []funcs.Point{{Time: 0, Value: "b"}}},
	{"distinct.bin", "distinct", funcs.Unsigned, nil, func(s State) error {
		// First-seen order: 3 at 1, 1 at 2, 2 at 4; 5 and 4 share time 5.
		return cols(s, []int64{1, 2, 3, 4, 5, 5}, []uint64{3, 1, 3, 2, 5, 4})
	}, 9, []funcs.Point{{Time: 9, Value: uint64(3)}, {Time: 9, Value: uint64(1)}, {Time: 9, Value: uint64(2)}, {Time: 9, Value: uint64(4)}, {Time: 9, Value: uint64(5)}}},
	{"top.bin", "top", funcs.Float, []any{int64(2)}, func(s State) error {
		// 5 twice: the earlier wins; then in time order.
		return cols(s, []int64{1, 2, 3, 4}, []float64{1, 5, 2, 5})
	}, 0, []funcs.Point{{Time: 2, Value: 5.0}, {Time: 4, Value: 5.0}}},
	{"bottom.bin", "bottom", funcs.Integer, []any{int64(2)}, func(s State) error {
		return cols(s, []int64{1, 2, 3, 4, 5}, []int64{4, -1, 7, -1, -3})
	}, 0, []funcs.Point{{Time: 2, Value: int64(-1)}, {Time: 5, Value: int64(-3)}}},
	{"count_distinct.bin", "count_distinct", funcs.String, nil, func(s State) error {
		return cols(s, []int64{1, 2, 3}, []string{"x", "y", "x"})
	}, 0, []funcs.Point{{Time: 0, Value: int64(2)}}},
	// The sketch kinds (version 3); the sketches' own fixtures are in
	// testdata/sketch.
	{"approx_count_distinct.bin", "approx_count_distinct", funcs.String, []any{int64(12)}, func(s State) error {
		return cols(s, []int64{1, 2, 3}, []string{"x", "y", "x"})
	}, 0, []funcs.Point{{Time: 0, Value: int64(2)}}},
	{"approx_percentile.bin", "approx_percentile", funcs.Integer, []any{int64(100)}, func(s State) error {
		return cols(s, []int64{1, 2, 3}, []int64{-4, 9, 2})
	}, 5, []funcs.Point{{Time: 5, Value: 9.0}}}, // the maximum is kept exactly
	{"approx_top_k.bin", "approx_top_k", funcs.String, []any{int64(1)}, func(s State) error {
		return cols(s, []int64{1, 2, 3}, []string{"x", "y", "x"})
	}, 0, []funcs.Point{{Time: 0, Value: "x"}}},
	{"approx_count.bin", "approx_count", funcs.Integer, []any{int64(7)}, func(s State) error {
		return cols(s, []int64{1, 2, 3}, []int64{7, 8, 7})
	}, 0, []funcs.Point{{Time: 0, Value: int64(2)}}},
	{"merge_count_distinct.bin", "merge_count_distinct", funcs.String, nil, func(s State) error {
		a, _ := New("sketch_count_distinct", funcs.Integer)
		b, _ := New("sketch_count_distinct", funcs.Integer)
		if err := cols(a, []int64{1, 2}, []int64{1, 2}); err != nil {
			return err
		}
		if err := cols(b, []int64{1, 2}, []int64{2, 3}); err != nil {
			return err
		}
		return cols(s, []int64{10, 20}, []string{a.Final(0)[0].Value.(string), b.Final(0)[0].Value.(string)})
	}, 0, []funcs.Point{{Time: 0, Value: int64(3)}}},
	{"merge_top_k.bin", "merge_top_k", funcs.String, []any{int64(1)}, func(s State) error {
		a, _ := New("sketch_top_k", funcs.String)
		b, _ := New("sketch_top_k", funcs.String)
		if err := cols(a, []int64{1, 2, 3}, []string{"x", "y", "x"}); err != nil {
			return err
		}
		if err := cols(b, []int64{4, 5}, []string{"y", "x"}); err != nil {
			return err
		}
		return cols(s, []int64{10, 20}, []string{a.Final(0)[0].Value.(string), b.Final(0)[0].Value.(string)})
	}, 0, []funcs.Point{{Time: 0, Value: "x", Aux: []any{int64(3), int64(0)}}}},
	{"merge_count.bin", "merge_count", funcs.String, []any{int64(7)}, func(s State) error {
		a, _ := New("sketch_count", funcs.Integer)
		b, _ := New("sketch_count", funcs.Integer)
		if err := cols(a, []int64{1, 2, 3}, []int64{7, 8, 7}); err != nil {
			return err
		}
		if err := cols(b, []int64{4}, []int64{7}); err != nil {
			return err
		}
		return cols(s, []int64{10, 20}, []string{a.Final(0)[0].Value.(string), b.Final(0)[0].Value.(string)})
	}, 0, []funcs.Point{{Time: 0, Value: int64(3)}}},
}

// TestGolden decodes every fixture in testdata/partial, checks its kind,
// type and Final rows against the hand-written expectations, checks that
// re-encoding gives the same bytes and that building the state afresh still
// encodes to them. Regenerate with -update after a deliberate format change
// (and bump FormatVersion if old bytes no longer decode the same).
func TestGolden(t *testing.T) {
	for _, g := range goldens {
		t.Run(g.file, func(t *testing.T) {
			s, err := New(g.name, g.typ, g.args...)
			if err != nil {
				t.Fatal(err)
			}
			if err := g.build(s); err != nil {
				t.Fatal(err)
			}
			built := s.AppendBinary(nil)
			path := filepath.Join(goldenDir, g.file)
			if *update {
				if err := os.WriteFile(path, built, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./query/partial -run TestGolden -update)", err)
			}
			d, err := Decode(b)
			if err != nil {
				t.Fatal(err)
			}
			if d.Kind().String() != g.name || d.Type() != g.typ {
				t.Fatalf("decoded %s of %s, want %s of %s", d.Kind(), d.Type(), g.name, g.typ)
			}
			if err := sameResult(d.Final(g.ws), g.want, 0); err != nil {
				t.Fatal(err)
			}
			if again := d.AppendBinary(nil); !bytes.Equal(again, b) {
				t.Fatalf("re-encoding differs:\n got %x\nwant %x", again, b)
			}
			if !bytes.Equal(built, b) {
				t.Fatalf("the code encodes differently from the fixture:\n got %x\nwant %x", built, b)
			}
		})
	}
}

// TestGoldenSpecExamples pins the hex of the fixtures quoted in the format spec.
func TestGoldenSpecExamples(t *testing.T) {
	for file, want := range map[string]string{
		"count.bin":    "02010103",
		"min.bin":      "020402012806",
		"sum.bin":      "02020202fdffffffffffffffff010109",
		"first.bin":    "020604010a0163",
		"bottom.bin":   "02110202020a050401",
		"distinct.bin": "020e03050203040108020a040a05",
	} {
		b, err := os.ReadFile(filepath.Join(goldenDir, file))
		if err != nil {
			t.Fatal(err)
		}
		if got := hex.EncodeToString(b); got != want {
			t.Errorf("%s: %s, want %s (update docs/format/partial-aggregates.md too)", file, got, want)
		}
	}
}

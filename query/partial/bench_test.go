package partial

import (
	"math/rand/v2"
	"testing"

	"github.com/strata-db/strata/query/funcs"
)

const benchN = 8192 // one decoded block's worth of values

func benchColumn() ([]int64, []float64) {
	r := rand.New(rand.NewPCG(7, 8))
	ts, vs := make([]int64, benchN), make([]float64, benchN)
	for i := range ts {
		ts[i] = int64(i) * 1e9
		vs[i] = r.NormFloat64() * 100
	}
	return ts, vs
}

// BenchmarkAddFloats folds one 8,192-value column per op; bytes are the
// column's times and values.
func BenchmarkAddFloats(b *testing.B) {
	ts, vs := benchColumn()
	for _, name := range []string{"count", "sum", "mean", "min", "max", "first", "last", "spread", "stddev"} {
		b.Run(name, func(b *testing.B) {
			s, err := New(name, funcs.Float)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(benchN * 16)
			b.ReportAllocs()
			for b.Loop() {
				if err := s.AddFloats(ts, vs); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// benchStates builds two states of a call over halves of the column.
func benchStates(b *testing.B, name string, args ...any) (State, State) {
	ts, vs := benchColumn()
	x, err := New(name, funcs.Float, args...)
	if err != nil {
		b.Fatal(err)
	}
	y, _ := New(name, funcs.Float, args...)
	if err := x.AddFloats(ts[:benchN/2], vs[:benchN/2]); err != nil {
		b.Fatal(err)
	}
	if err := y.AddFloats(ts[benchN/2:], vs[benchN/2:]); err != nil {
		b.Fatal(err)
	}
	return x, y
}

var benchKinds = []struct {
	name string
	args []any
}{{"sum", nil}, {"mean", nil}, {"min", nil}, {"stddev", nil}, {"integral", nil}, {"median", nil}, {"distinct", nil}}

// BenchmarkMerge merges one state into another per op. The O(1) states
// merge into the same receiver again and again (integral into a fresh copy
// of it, as its partials must not overlap); the collections (median,
// distinct: 4,096 values) into an empty state, so each op copies them.
func BenchmarkMerge(b *testing.B) {
	for _, k := range benchKinds {
		b.Run(k.name, func(b *testing.B) {
			x, y := benchStates(b, k.name, k.args...)
			b.ReportAllocs()
			switch k.name {
			case "integral":
				xs := x.(*integralState)
				for b.Loop() {
					c := *xs
					if err := c.Merge(y); err != nil {
						b.Fatal(err)
					}
				}
			case "median", "distinct":
				for b.Loop() {
					dst, _ := New(k.name, funcs.Float, k.args...)
					if err := dst.Merge(y); err != nil {
						b.Fatal(err)
					}
				}
			default:
				for b.Loop() {
					if err := x.Merge(y); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}

// BenchmarkEncode and BenchmarkDecode: bytes are the encoding's length.
func BenchmarkEncode(b *testing.B) {
	for _, k := range benchKinds {
		b.Run(k.name, func(b *testing.B) {
			x, _ := benchStates(b, k.name, k.args...)
			buf := x.AppendBinary(nil)
			b.SetBytes(int64(len(buf)))
			b.ReportAllocs()
			for b.Loop() {
				buf = x.AppendBinary(buf[:0])
			}
		})
	}
}

func BenchmarkDecode(b *testing.B) {
	for _, k := range benchKinds {
		b.Run(k.name, func(b *testing.B) {
			x, _ := benchStates(b, k.name, k.args...)
			buf := x.AppendBinary(nil)
			b.SetBytes(int64(len(buf)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Decode(buf); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

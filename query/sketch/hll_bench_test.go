package sketch

import (
	"math"
	"math/rand/v2"
	"testing"
)

// gaugeValues are TSBS-like values: a random walk in hundredths over [0, 100]
// (usage_user takes 10,001 values), so consecutive values often repeat.
func gaugeValues(n int) []float64 {
	rng := rand.New(rand.NewPCG(1, 1))
	vs := make([]float64, n)
	x := 5000
	for i := range vs {
		x = min(max(x+rng.IntN(201)-100, 0), 10000)
		if rng.IntN(3) == 0 {
			x = min(max(x+rng.IntN(3)-1, 0), 10000)
		}
		vs[i] = float64(x) / 100
	}
	return vs
}

// BenchmarkHLLFold is the fold of one decoded block of floats into a dense
// sketch, the loop of approx_count_distinct over a float field:
//
//	go test ./query/sketch -run '^$' -bench HLLFold -benchtime 200x
func BenchmarkHLLFold(b *testing.B) {
	vs := gaugeValues(8640)
	b.Run("AddFloats", func(b *testing.B) {
		h, _ := NewHLL(DefaultPrecision)
		h.AddFloats(gaugeValues(100000))
		b.SetBytes(int64(8 * len(vs)))
		for b.Loop() {
			h.AddFloats(vs)
		}
	})
	b.Run("AddBits", func(b *testing.B) {
		h, _ := NewHLL(DefaultPrecision)
		h.AddFloats(gaugeValues(100000))
		buf := make([]uint64, len(vs))
		b.SetBytes(int64(8 * len(vs)))
		for b.Loop() {
			for i, v := range vs {
				if v == 0 {
					v = 0
				}
				buf[i] = math.Float64bits(v)
			}
			h.AddBits(buf)
		}
	})
}

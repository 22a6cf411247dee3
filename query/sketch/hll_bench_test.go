package sketch

import (
	"math"
	"math/rand/v2"
	"testing"
)

// tsbsValues draws from the 10,001 values in hundredths of [0, 100] that
// the TSBS day's usage_user takes, uniformly: a sketch over many hosts'
// blocks meets them all, each many times.
func tsbsValues(n int) []float64 {
	rng := rand.New(rand.NewPCG(2, 2))
	vs := make([]float64, n)
	for i := range vs {
		vs[i] = float64(rng.IntN(10001)) / 100
	}
	return vs
}

// BenchmarkHLLFold folds the TSBS day's 864,000 usage_user values, a
// block of 1,000 at a time, into a new sketch (the loop of
// approx_count_distinct over a float field), and a million distinct
// values; AddBits is the fold before AddFloats (a conversion pass first),
// AddDecimals the fold of the same values as a decimal block's mantissas:
//
//	go test ./query/sketch -run '^$' -bench HLLFold -benchtime 20x
func BenchmarkHLLFold(b *testing.B) {
	for _, data := range []struct {
		name string
		vs   []float64
	}{{"tsbs", tsbsValues(864000)}, {"distinct", distinctValues(1000000)}} {
		vs := data.vs
		fold := func(b *testing.B, add func(h *HLL, block []float64)) {
			b.SetBytes(int64(8 * len(vs)))
			for b.Loop() {
				h, _ := NewHLL(DefaultPrecision)
				for i := 0; i < len(vs); i += 1000 {
					add(h, vs[i:min(i+1000, len(vs))])
				}
			}
		}
		b.Run(data.name+"/AddFloats", func(b *testing.B) {
			fold(b, func(h *HLL, block []float64) { h.AddFloats(block) })
		})
		b.Run(data.name+"/AddDecimals", func(b *testing.B) {
			// The mantissas at scale 2 the block decoder gives for vs
			// (distinct's values are not two-decimal: they stand in for
			// a million distinct mantissas the memo mostly misses).
			ms := make([]int64, len(vs))
			for i, v := range vs {
				ms[i] = int64(math.Round(v * 100))
				if data.name == "distinct" {
					ms[i] = int64(v * 1e9)
				}
			}
			b.SetBytes(int64(8 * len(ms)))
			for b.Loop() {
				h, _ := NewHLL(DefaultPrecision)
				for i := 0; i < len(ms); i += 1000 {
					h.AddDecimals(ms[i:min(i+1000, len(ms))], 2)
				}
			}
		})
		b.Run(data.name+"/AddBits", func(b *testing.B) {
			buf := make([]uint64, 1000)
			fold(b, func(h *HLL, block []float64) {
				for i, v := range block {
					if v == 0 {
						v = 0
					}
					buf[i] = math.Float64bits(v)
				}
				h.AddBits(buf[:len(block)])
			})
		})
	}
}

func distinctValues(n int) []float64 {
	rng := rand.New(rand.NewPCG(3, 3))
	vs := make([]float64, n)
	for i := range vs {
		vs[i] = rng.Float64()
	}
	return vs
}

// BenchmarkHLLFoldInts folds TSBS's own usage_user, 864,000 integer
// percentages (101 values), and as many integers uniform over a million
// (the memo's window holds 1.6% of them), a block of 1,000 at a time:
// AddInts with its memo against AddBits, which hashes every value that
// differs from the one before:
//
//	go test ./query/sketch -run '^$' -bench HLLFoldInts -benchtime 20x
func BenchmarkHLLFoldInts(b *testing.B) {
	for _, data := range []struct {
		name string
		n    int
	}{{"tsbs", 101}, {"distinct", 1_000_000}} {
		rng := rand.New(rand.NewPCG(4, 4))
		vs := make([]int64, 864000)
		bs := make([]uint64, len(vs))
		for i := range vs {
			vs[i] = int64(rng.IntN(data.n))
			bs[i] = uint64(vs[i])
		}
		b.Run(data.name, func(b *testing.B) { foldInts(b, vs, bs) })
	}
}

func foldInts(b *testing.B, vs []int64, bs []uint64) {
	b.Run("AddInts", func(b *testing.B) {
		b.SetBytes(int64(8 * len(vs)))
		for b.Loop() {
			h, _ := NewHLL(DefaultPrecision)
			for i := 0; i < len(vs); i += 1000 {
				h.AddInts(vs[i:min(i+1000, len(vs))])
			}
		}
	})
	b.Run("AddBits", func(b *testing.B) {
		b.SetBytes(int64(8 * len(bs)))
		for b.Loop() {
			h, _ := NewHLL(DefaultPrecision)
			for i := 0; i < len(bs); i += 1000 {
				h.AddBits(bs[i:min(i+1000, len(bs))])
			}
		}
	})
}

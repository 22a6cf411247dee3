package block

import (
	"math"
	"math/rand/v2"
)

// Generators for realistic columns, shared by tests and benchmarks.

// tsbsStart is TSBS's default start time, 2016-01-01T00:00:00Z, in ns.
const tsbsStart = 1451606400 * int64(1e9)

// tsbsInterval is TSBS's default sampling interval for cpu data.
const tsbsInterval = 10 * int64(1e9)

// tsbsPoints is a day of 10 s samples: one block per series and field per day.
const tsbsPoints = 8640

// regularTimes returns n timestamps start, start+step, ...
func regularTimes(n int, start, step int64) []int64 {
	ts := make([]int64, n)
	for i := range ts {
		ts[i] = start + int64(i)*step
	}
	return ts
}

// jitterTimes returns n timestamps about step apart, each off by up to
// ±jitter, as a collector with a wobbly clock produces.
func jitterTimes(r *rand.Rand, n int, start, step, jitter int64) []int64 {
	ts := make([]int64, n)
	for i := range ts {
		ts[i] = start + int64(i)*step + r.Int64N(2*jitter+1) - jitter
	}
	return ts
}

// tsbsFloats mimics a TSBS cpu field: a random walk over [0, 100] with two
// decimals and steps of at most ±1.00. Values are the float64 nearest each
// decimal, which is what parsing the line protocol text yields.
func tsbsFloats(r *rand.Rand, n int) []float64 {
	vs := make([]float64, n)
	m := r.Int64N(10001) // hundredths
	for i := range vs {
		vs[i] = float64(m) / 100
		m += r.Int64N(201) - 100
		m = min(max(m, 0), 10000)
	}
	return vs
}

// counterInts mimics a byte counter: monotonic with irregular increments.
func counterInts(r *rand.Rand, n int) []int64 {
	vs := make([]int64, n)
	v := r.Int64N(1 << 40)
	for i := range vs {
		vs[i] = v
		v += r.Int64N(1 << 16)
	}
	return vs
}

// randomFloats returns arbitrary finite float64 bit patterns.
func randomFloats(r *rand.Rand, n int) []float64 {
	vs := make([]float64, n)
	for i := range vs {
		for {
			f := math.Float64frombits(r.Uint64())
			if !math.IsInf(f, 0) {
				vs[i] = f
				break
			}
		}
	}
	return vs
}

func tsbsColumn(seed uint64, n int) *Column {
	r := rand.New(rand.NewPCG(seed, 1))
	return &Column{Type: Float, Times: regularTimes(n, tsbsStart, tsbsInterval), Floats: tsbsFloats(r, n)}
}

// tsbsInts mimics a TSBS cpu field as TSBS writes it, an integer: a walk over
// [0, 100] whose steps are a standard normal rounded to an integer (0 in 38 %
// of steps, ±1 in 24 % each, ±2 in 6 %, ±3 in 0.6 %), which matches the
// delta frequencies of tsbs_generate_data's cpu-only output (bench's
// TestTSBSEntropy prints them).
func tsbsInts(r *rand.Rand, n int) []int64 {
	vs := make([]int64, n)
	v := r.Int64N(101)
	for i := range vs {
		vs[i] = v
		v += int64(math.Round(r.NormFloat64()))
		v = min(max(v, 0), 100)
	}
	return vs
}

package sketch

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/cespare/xxhash/v2"
)

// TestHLLMergeExact: any split merged gives the one-pass bytes, at every
// form (sparse, dense, across the switch).
func TestHLLMergeExact(t *testing.T) {
	for _, n := range []int{0, 1, 100, 4096, 5000, 200000} {
		one, _ := NewHLL(DefaultPrecision)
		parts := make([]*HLL, 7)
		for i := range parts {
			parts[i], _ = NewHLL(DefaultPrecision)
		}
		rng := rand.New(rand.NewPCG(uint64(n), 1))
		for i := 0; i < n; i++ {
			h := HashInt(int64(rng.IntN(n + 1)))
			one.Add(h)
			parts[rng.IntN(len(parts))].Add(h)
		}
		m, _ := NewHLL(DefaultPrecision)
		for _, p := range parts {
			m.Merge(p)
		}
		if !bytes.Equal(Append(nil, one), Append(nil, m)) {
			t.Errorf("n=%d: merged encoding differs from one pass", n)
		}
	}
}

// TestHLLDowngrade: a precision-14 sketch merged into a precision-12 one
// equals the precision-12 sketch of the union.
func TestHLLDowngrade(t *testing.T) {
	for _, n := range []int{50, 3000, 100000} {
		hi, _ := NewHLL(14)
		lo, _ := NewHLL(12)
		want, _ := NewHLL(12)
		for i := 0; i < n; i++ {
			h := HashInt(int64(i))
			want.Add(h)
			if i%2 == 0 {
				hi.Add(h)
			} else {
				lo.Add(h)
			}
		}
		hi2 := hi.Clone()
		hi2.Merge(lo)
		lo.Merge(hi)
		for _, got := range []*HLL{lo, hi2} {
			if got.Precision() != 12 || !bytes.Equal(Append(nil, got), Append(nil, want)) {
				t.Errorf("n=%d: downgrade merge differs from a precision-12 pass (p=%d)", n, got.Precision())
			}
		}
	}
}

func TestDDMergeExactAndBound(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	one, _ := NewDD(DefaultAlpha)
	a, _ := NewDD(DefaultAlpha)
	b, _ := NewDD(DefaultAlpha)
	var vals []float64
	for i := 0; i < 20000; i++ {
		v := math.Exp(rng.NormFloat64()*2) * float64(1-2*(i%5/4))
		if i%97 == 0 {
			v = 0
		}
		vals = append(vals, v)
		one.Add(v)
		if i%3 == 0 {
			a.Add(v)
		} else {
			b.Add(v)
		}
	}
	if err := a.Merge(b); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(Append(nil, a), Append(nil, one)) {
		t.Fatal("merged quantile sketch differs from one pass")
	}
	slices.Sort(vals)
	for _, p := range []float64{0, 1, 10, 25, 50, 75, 90, 99, 99.9, 100} {
		k := int(math.Floor(float64(len(vals))*p/100+0.5)) - 1
		k = max(0, min(k, len(vals)-1))
		got, _ := one.Quantile(p)
		if e := math.Abs(got-vals[k]) / math.Abs(vals[k]); vals[k] != 0 && e > DefaultAlpha*(1+1e-9) || vals[k] == 0 && got != 0 {
			t.Errorf("p%v: got %v want %v (error %.4f)", p, got, vals[k], e)
		}
	}
}

func TestTopKBound(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	z := rand.NewZipf(rng, 1.2, 1, 100000)
	exact := map[string]uint64{}
	parts := []*TopK{NewTopK(KeyInt, TopKCapacity(10)), NewTopK(KeyInt, TopKCapacity(10)), NewTopK(KeyInt, TopKCapacity(10))}
	n := 100000
	for i := 0; i < n; i++ {
		k := KeyInt64(int64(z.Uint64()))
		exact[k]++
		parts[i%3].Add(k)
	}
	m := parts[0]
	m.Merge(parts[1])
	m.Merge(parts[2])
	bound := uint64(n / m.Capacity())
	for _, h := range m.Top(10) {
		f := exact[h.Key]
		if h.Count < f || h.Count-h.Err > f || h.Err > bound {
			t.Errorf("%v: count %d err %d, true %d, bound %d", FromKey(KeyInt, h.Key), h.Count, h.Err, f, bound)
		}
	}
	back, err := Decode(Append(nil, m))
	if err != nil || !bytes.Equal(Append(nil, back), Append(nil, m)) {
		t.Fatalf("top-k round trip: %v", err)
	}
}

func TestCountMin(t *testing.T) {
	c, o := NewCountMin(), NewCountMin()
	for i := 0; i < 50000; i++ {
		c.Add(HashInt(int64(i % 1000)))
		o.Add(HashInt(7))
	}
	c.Merge(o)
	est := c.Estimate(HashInt(7))
	if est < 50050 || est > 50050+c.Bound() {
		t.Fatalf("estimate %d, true 50050, bound %d", est, c.Bound())
	}
}

// TestHash8: the 8-byte XXH64 is the library's, bit for bit (the hash is
// part of the stored format).
func TestHash8(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	for i := 0; i < 10000; i++ {
		v := r.Uint64()
		if i < 3 {
			v = uint64(i)
		}
		var b [8]byte
		binary.LittleEndian.PutUint64(b[:], v)
		if got, want := hash8(v), xxhash.Sum64(b[:]); got != want {
			t.Fatalf("hash8(%x) = %x, xxhash %x", v, got, want)
		}
	}
}

// TestHLLAddBits: the batch fold gives Add's bytes, sparse, dense and across
// the switch, with repeats, at the precisions' extremes.
func TestHLLAddBits(t *testing.T) {
	for _, tc := range []struct {
		p, n, domain int
	}{{4, 100, 10}, {14, 1000, 500}, {14, 50000, 1 << 40}, {18, 300000, 100000}, {14, 20000, 3}} {
		rng := rand.New(rand.NewPCG(uint64(tc.n), uint64(tc.p)))
		vs := make([]uint64, tc.n)
		for i := range vs {
			vs[i] = uint64(rng.Int64N(int64(tc.domain)))
			if i > 0 && rng.IntN(4) == 0 {
				vs[i] = vs[i-1]
			}
		}
		one, _ := NewHLL(tc.p)
		for _, v := range vs {
			one.Add(HashUint(v))
		}
		batch, _ := NewHLL(tc.p)
		for i := 0; i < len(vs); i += 777 {
			batch.AddBits(vs[i:min(i+777, len(vs))])
		}
		if !bytes.Equal(Append(nil, one), Append(nil, batch)) {
			t.Errorf("p=%d n=%d: AddBits differs from Add", tc.p, tc.n)
		}
	}
}

// TestHLLAddFloats: the float fold gives HashFloat and Add's bytes, -0 as 0,
// NaNs by their bits, sparse, dense and across the switch.
func TestHLLAddFloats(t *testing.T) {
	for _, tc := range []struct {
		p, n, domain int
	}{{4, 100, 10}, {14, 1000, 500}, {14, 50000, 1 << 40}, {18, 300000, 100000}, {14, 20000, 3}} {
		rng := rand.New(rand.NewPCG(uint64(tc.n), uint64(tc.p)))
		vs := make([]float64, tc.n)
		for i := range vs {
			switch x := rng.Int64N(int64(tc.domain)); {
			case x == 0 && rng.IntN(2) == 0:
				vs[i] = math.Copysign(0, -1)
			case x == 1:
				vs[i] = math.NaN()
			default:
				vs[i] = float64(x) / 100
			}
			if i > 0 && rng.IntN(4) == 0 {
				vs[i] = vs[i-1]
			}
		}
		one, _ := NewHLL(tc.p)
		for _, v := range vs {
			one.Add(HashFloat(v))
		}
		batch, _ := NewHLL(tc.p)
		for i := 0; i < len(vs); i += 777 {
			batch.AddFloats(vs[i:min(i+777, len(vs))])
		}
		if !bytes.Equal(Append(nil, one), Append(nil, batch)) {
			t.Errorf("p=%d n=%d: AddFloats differs from Add", tc.p, tc.n)
		}
	}
}

// TestWeightedAdds: Count-Min's AddN is n Adds byte for byte; Space-Saving's
// AddN keeps count − err ≤ true ≤ count and err ≤ N/capacity under
// evictions, and equals n Adds while nothing is evicted.
func TestWeightedAdds(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	cmA, cmB := NewCountMin(), NewCountMin()
	small, smallRef := NewTopK(KeyString, 256), NewTopK(KeyString, 256)
	big := NewTopK(KeyString, 256)
	truth := map[string]uint64{}
	var total uint64
	for i := 0; i < 20000; i++ {
		k := fmt.Sprintf("v%d", rng.IntN(3000))
		if rng.IntN(5) == 0 {
			k = fmt.Sprintf("h%d", rng.IntN(5))
		}
		n := uint64(1 + rng.IntN(50))
		cmA.AddN(HashString(k), n)
		for j := uint64(0); j < n; j++ {
			cmB.Add(HashString(k))
		}
		big.AddN(k, n)
		truth[k] += n
		total += n
		if i < 200 {
			small.AddN(k, n)
			for j := uint64(0); j < n; j++ {
				smallRef.Add(k)
			}
		}
	}
	if !bytes.Equal(Append(nil, cmA), Append(nil, cmB)) {
		t.Error("CountMin.AddN differs from repeated Add")
	}
	if !bytes.Equal(Append(nil, small), Append(nil, smallRef)) {
		t.Error("TopK.AddN differs from repeated Add without evictions")
	}
	if big.Total() != total {
		t.Errorf("total %d, want %d", big.Total(), total)
	}
	for _, h := range big.Top(10) {
		if f := truth[h.Key]; f > h.Count || h.Count-h.Err > f || h.Err > total/256 {
			t.Errorf("%s: count %d err %d, true %d, N/cap %d", h.Key, h.Count, h.Err, f, total/256)
		}
	}
}

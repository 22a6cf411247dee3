package sketch

import (
	"bytes"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestAddDecimals: folding decimal blocks by their mantissas gives the
// bytes AddFloats of the floats they stand for gives (and AddInts of the
// mantissas as integers AddBits' bytes), at every precision
// and form, whichever window the memo takes, across scales, with merges
// and clones between the blocks (the memo must stay a subset of what the
// registers hold).
func TestAddDecimals(t *testing.T) {
	walk := func(seed uint64, n int, lo, hi, step int64) []int64 {
		rng := rand.New(rand.NewPCG(seed, 9))
		ms := make([]int64, n)
		m := lo + rng.Int64N(hi-lo+1)
		for i := range ms {
			m = min(hi, max(lo, m+rng.Int64N(2*step+1)-step))
			ms[i] = m
		}
		return ms
	}
	type block struct {
		ms    []int64
		scale uint
	}
	cases := []struct {
		name   string
		p      int
		blocks []block
	}{
		{"empty", 14, nil},
		{"one value", 14, []block{{[]int64{1234}, 2}}},
		{"sparse only", 14, []block{{walk(1, 500, 0, 10000, 100), 2}}},
		{"tsbs walk", 14, []block{{walk(2, 100000, 0, 10000, 100), 2}, {walk(3, 100000, 0, 10000, 100), 2}}},
		{"negative, centred memo", 14, []block{{walk(4, 200000, -50000, -20000, 300), 3}}},
		{"past the memo window", 14, []block{{walk(5, 50000, 0, 100, 3), 1}, {walk(6, 200000, 0, 1<<40, 1<<30), 1}}},
		{"mixed scales", 14, []block{{walk(7, 30000, 0, 10000, 100), 2}, {walk(8, 30000, 0, 1000, 10), 1}, {walk(9, 30000, 0, 10000, 100), 2}, {walk(10, 3000, -5, 5, 1), 0}}},
		{"precision 10", 10, []block{{walk(11, 100000, 0, 10000, 100), 2}}},
		{"precision 18", 18, []block{{walk(12, 300000, 0, 1<<20, 500), 4}}},
		{"largest scale", 14, []block{{walk(13, 50000, -(1 << 52), 1<<52, 1<<45), 15}}},
		{"repeats", 14, []block{{walk(15, 20000, 0, 10000, 100), 2}, {walk(14, 100000, 0, 300, 1), 2}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, _ := NewHLL(c.p)
			want, _ := NewHLL(c.p)
			skipped := 0
			for bi, b := range c.blocks {
				vs := make([]float64, len(b.ms))
				for i, m := range b.ms {
					vs[i] = DecimalValue(m, b.scale)
				}
				// Blocks of 1,000, as stored; every third block of a
				// case goes through a clone and a merge.
				for i := 0; i < len(b.ms); i += 1000 {
					j := min(i+1000, len(b.ms))
					want.AddFloats(vs[i:j])
					lo, hi := slices.Min(b.ms[i:j]), slices.Max(b.ms[i:j])
					if got.HoldsDecimals(lo, hi, b.scale) {
						skipped++
						continue // as the fold skips a block its memo holds
					}
					if (bi+i/1000)%3 == 2 {
						o := got.Clone()
						o.AddDecimals(b.ms[i:j], b.scale)
						got.Merge(o)
						continue
					}
					got.AddDecimals(b.ms[i:j], b.scale)
				}
			}
			if !bytes.Equal(Append(nil, got), Append(nil, want)) {
				t.Errorf("AddDecimals' sketch (%d blocks skipped) differs from AddFloats': estimates %d, %d", skipped, got.Estimate(), want.Estimate())
			}
			// The same numbers as integers: AddInts against AddBits.
			gotI, _ := NewHLL(c.p)
			wantI, _ := NewHLL(c.p)
			for _, b := range c.blocks {
				for i := 0; i < len(b.ms); i += 1000 {
					blk := b.ms[i:min(i+1000, len(b.ms))]
					bs := make([]uint64, len(blk))
					for k, v := range blk {
						bs[k] = uint64(v)
					}
					wantI.AddBits(bs)
					if !gotI.HoldsInts(slices.Min(blk), slices.Max(blk)) {
						gotI.AddInts(blk)
					}
				}
			}
			if !bytes.Equal(Append(nil, gotI), Append(nil, wantI)) {
				t.Errorf("AddInts' sketch differs from AddBits': estimates %d, %d", gotI.Estimate(), wantI.Estimate())
			}
			if got.MemBytes() > HLLMaxBytes(c.p) {
				t.Errorf("MemBytes %d past HLLMaxBytes %d", got.MemBytes(), HLLMaxBytes(c.p))
			}
			if c.name == "repeats" && skipped == 0 {
				t.Errorf("no block skipped over 300 values")
			}
		})
	}
}

// TestDecimalValue pins the conversion to the decimal text's float (the
// block format's m / 10^d): a decimal block's values are the floats the
// text parsed to.
func TestDecimalValue(t *testing.T) {
	for _, c := range []struct {
		m     int64
		scale uint
		want  float64
	}{{0, 2, 0}, {1, 1, 0.1}, {-3, 1, -0.3}, {9999, 2, 99.99}, {12345678901, 5, 123456.78901}, {1, 15, 1e-15}, {7, 0, 7}} {
		if got := DecimalValue(c.m, c.scale); got != c.want {
			t.Errorf("DecimalValue(%d, %d) = %v, want %v", c.m, c.scale, got, c.want)
		}
	}
}

// TestHoldsDecimals: HoldsDecimals is true exactly when every mantissa of
// the range was folded at that scale and lies in the memo's window, at
// ranges inside one word, across words and at the window's edges.
func TestHoldsDecimals(t *testing.T) {
	h, _ := NewHLL(DefaultPrecision)
	rng := rand.New(rand.NewPCG(5, 5))
	added := map[int64]bool{}
	// Six values one by one (too few for a memo: forgotten), enough
	// distinct values to densify (remembered, sparse or dense), then a
	// patchwork below 2,000 and all of [5000, 6000].
	for _, m := range []int64{7000, 7001, 7002, 7003, 7004, 7005} {
		h.AddDecimals([]int64{m}, 2)
	}
	if h.memo != nil {
		t.Fatal("a memo for single values")
	}
	var ms []int64
	for m := int64(3000); m <= 6000; m++ {
		ms = append(ms, m)
		added[m] = true
	}
	h.AddDecimals(ms, 2) // sparse, then dense: the memo starts at 0
	ms = ms[:0]
	for m := int64(0); m < 2000; m++ {
		if rng.IntN(10) != 0 {
			ms = append(ms, m)
		}
	}
	for m := int64(5000); m <= 6000; m++ {
		ms = append(ms, m)
	}
	h.AddDecimals(ms, 2)
	for _, m := range ms {
		added[m] = true
	}
	if h.memo == nil || h.memo.base != 0 {
		t.Fatalf("memo %+v, want one from 0", h.memo)
	}
	n := memoBits(h.p)
	held := func(lo, hi int64) bool {
		if lo > hi || lo < 0 || hi >= n {
			return false
		}
		for m := lo; m <= hi; m++ {
			if !added[m] {
				return false
			}
		}
		return true
	}
	ranges := [][2]int64{{5000, 6000}, {5000, 6001}, {3000, 6000}, {2990, 6000}, {7000, 7005}, {5001, 5001}, {5040, 5100}, {5063, 5064}, {6000, 5000}, {-1, 10}, {n - 1, n}}
	for i := 0; i < 2000; i++ {
		lo := rng.Int64N(2100)
		ranges = append(ranges, [2]int64{lo, lo + rng.Int64N(30)})
	}
	for _, r := range ranges {
		if got, want := h.HoldsDecimals(r[0], r[1], 2), held(r[0], r[1]); got != want {
			t.Fatalf("HoldsDecimals(%d, %d) = %v, want %v", r[0], r[1], got, want)
		}
	}
	if h.HoldsDecimals(5000, 5001, 3) {
		t.Error("a memo at scale 2 holds values at scale 3")
	}
	if h.Clone().HoldsDecimals(5000, 5001, 2) {
		t.Error("a clone kept the memo")
	}
}

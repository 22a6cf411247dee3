package block

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"
)

const (
	minI = math.MinInt64
	maxI = math.MaxInt64
)

// hugeTimes spans the whole int64 range, with the neighbours of both ends,
// so deltas overflow int64.
var hugeTimes = []int64{minI, minI + 1, minI + 2, minI + 3, -1, 0, 1, maxI - 2, maxI - 1, maxI}

func nanBits(b uint64) float64 { return math.Float64frombits(b) }

func floatsN(n int, f func(i int) float64) []float64 {
	vs := make([]float64, n)
	for i := range vs {
		vs[i] = f(i)
	}
	return vs
}

func seq[T any](n int, f func(i int) T) []T {
	vs := make([]T, n)
	for i := range vs {
		vs[i] = f(i)
	}
	return vs
}

// roundTripCases covers every type with the shapes the spec calls out.
func roundTripCases() []struct {
	name string
	col  Column
} {
	r := rand.New(rand.NewPCG(1, 2))
	ts := func(n int) []int64 { return regularTimes(n, 1_700_000_000_000_000_000, 1e9) }
	type tc = struct {
		name string
		col  Column
	}
	cases := []tc{
		// Timestamps, carried by a float column.
		{"times/1 point", Column{Type: Float, Times: []int64{42}, Floats: []float64{1.5}}},
		{"times/2 points", Column{Type: Float, Times: []int64{-5, 7}, Floats: []float64{1, 2}}},
		{"times/regular", Column{Type: Float, Times: ts(1000), Floats: make([]float64, 1000)}},
		{"times/irregular", Column{Type: Float, Times: jitterTimes(r, 1000, 0, 10e9, 4e9), Floats: make([]float64, 1000)}},
		{"times/negative", Column{Type: Float, Times: regularTimes(300, -1e18, 7), Floats: make([]float64, 300)}},
		{"times/huge", Column{Type: Float, Times: hugeTimes, Floats: make([]float64, len(hugeTimes))}},
		{"times/extremes only", Column{Type: Float, Times: []int64{minI + 2, maxI - 1}, Floats: []float64{1, 2}}},
		{"times/min max", Column{Type: Float, Times: []int64{minI, maxI}, Floats: []float64{1, 2}}},
		{"times/dense then gap", Column{Type: Float, Times: append(regularTimes(200, 0, 1), regularTimes(200, 1e15, 1)...), Floats: make([]float64, 400)}},

		// Floats.
		{"float/constant", Column{Type: Float, Times: ts(500), Floats: floatsN(500, func(int) float64 { return 3.25 })}},
		{"float/negative zero", Column{Type: Float, Times: ts(4), Floats: []float64{math.Copysign(0, -1), 0, math.Copysign(0, -1), 1}}},
		{"float/only negative zero", Column{Type: Float, Times: ts(3), Floats: []float64{math.Copysign(0, -1), math.Copysign(0, -1), math.Copysign(0, -1)}}},
		{"float/NaN payloads", Column{Type: Float, Times: ts(6), Floats: []float64{
			nanBits(0x7ff8000000000001), 1.5, nanBits(0x7ff0000000000001), nanBits(0xfff8dead0000beef), -2.5, nanBits(0xffffffffffffffff)}}},
		{"float/all NaN", Column{Type: Float, Times: ts(3), Floats: []float64{nanBits(0x7ff0000000000002), math.NaN(), nanBits(0xfff0000000000003)}}},
		{"float/single NaN", Column{Type: Float, Times: ts(1), Floats: []float64{nanBits(0x7ff4000000000abc)}}},
		{"float/subnormals", Column{Type: Float, Times: ts(5), Floats: []float64{math.SmallestNonzeroFloat64, -math.SmallestNonzeroFloat64, 2.2250738585072009e-308, 1e-310, 0}}},
		{"float/extremes", Column{Type: Float, Times: ts(4), Floats: []float64{math.MaxFloat64, -math.MaxFloat64, math.MaxFloat64, 0}}},
		{"float/huge sum", Column{Type: Float, Times: ts(3), Floats: []float64{math.MaxFloat64, math.MaxFloat64, 1}}},
		{"float/TSBS walk", *tsbsColumn(3, tsbsPoints)},
		{"float/random bits", Column{Type: Float, Times: ts(700), Floats: randomFloats(r, 700)}},
		{"float/mixed decimal and random", Column{Type: Float, Times: ts(300), Floats: append(tsbsFloats(r, 150), randomFloats(r, 150)...)}},
		{"float/integers", Column{Type: Float, Times: ts(300), Floats: floatsN(300, func(i int) float64 { return float64(i*i - 5000) })}},
		{"float/2^53 boundary", Column{Type: Float, Times: ts(3), Floats: []float64{1 << 53, 1<<53 - 1, -(1<<53 - 1)}}},
	}
	for d := 0; d <= 16; d++ {
		// Values with exactly d decimals (16 is beyond the decimal encoding).
		p := math.Pow(10, float64(d))
		cases = append(cases, tc{fmt.Sprintf("float/%d decimals", d), Column{Type: Float, Times: ts(200),
			Floats: floatsN(200, func(i int) float64 {
				m := (r.Int64N(1<<40) - 1<<39) | 1
				if d > 0 {
					m = m*10 + 1 + r.Int64N(9) // last decimal non-zero
				}
				return float64(m%(1<<52)) / p
			})}})
	}
	cases = append(cases, []tc{
		// Integers.
		{"int/1 point", Column{Type: Integer, Times: ts(1), Ints: []int64{minI}}},
		{"int/2 points", Column{Type: Integer, Times: ts(2), Ints: []int64{maxI, minI}}},
		{"int/3 points", Column{Type: Integer, Times: ts(3), Ints: []int64{1, 2, 3}}},
		{"int/constant", Column{Type: Integer, Times: ts(400), Ints: seq(400, func(int) int64 { return -77 })}},
		{"int/extremes", Column{Type: Integer, Times: ts(8), Ints: []int64{minI, maxI, minI + 1, maxI - 1, 0, minI, maxI, -1}}},
		{"int/overflowing deltas", Column{Type: Integer, Times: ts(300), Ints: seq(300, func(i int) int64 {
			return [...]int64{minI, maxI, minI + 2, maxI - 1}[i%4]
		})}},
		{"int/counter", Column{Type: Integer, Times: ts(1000), Ints: counterInts(r, 1000)}},
		{"int/regular counter", Column{Type: Integer, Times: ts(1000), Ints: seq(1000, func(i int) int64 { return 1e12 + int64(i)*4096 })}},
		{"int/random", Column{Type: Integer, Times: ts(500), Ints: seq(500, func(int) int64 { return int64(r.Uint64()) })}},
		{"int/TSBS walk", Column{Type: Integer, Times: ts(tsbsPoints), Ints: tsbsInts(r, tsbsPoints)}},
		{"int/TSBS walk, 65 points", Column{Type: Integer, Times: ts(65), Ints: tsbsInts(r, 65)}},
		{"int/FSE escapes", Column{Type: Integer, Times: ts(300), Ints: seq(300, func(i int) int64 {
			// Small steps and, every 50 points, a jump of each kind: the
			// first escaped delta (zigzag 255), a wrapping one, the extremes.
			return [...]int64{0, -128, maxI, minI, 1 << 40, 7}[i/50] + int64(i%3)
		})}},
		{"int/wide steps", Column{Type: Integer, Times: ts(2000), Ints: walk(r, 2000, 40)}},

		// Unsigned.
		{"uint/1 point", Column{Type: Unsigned, Times: ts(1), Uints: []uint64{math.MaxUint64}}},
		{"uint/extremes", Column{Type: Unsigned, Times: ts(6), Uints: []uint64{0, math.MaxUint64, 0, math.MaxUint64 - 1, 1, math.MaxUint64}}},
		{"uint/constant", Column{Type: Unsigned, Times: ts(300), Uints: seq(300, func(int) uint64 { return 1 << 63 })}},
		{"uint/counter", Column{Type: Unsigned, Times: ts(1000), Uints: seq(1000, func(i int) uint64 { return uint64(i) * 1000003 })}},
		{"uint/random", Column{Type: Unsigned, Times: ts(500), Uints: seq(500, func(int) uint64 { return r.Uint64() })}},

		// Strings.
		{"string/1 empty", Column{Type: String, Times: ts(1), Strings: [][]byte{{}}}},
		{"string/empties", Column{Type: String, Times: ts(5), Strings: [][]byte{nil, {}, []byte("x"), nil, {}}}},
		{"string/binary", Column{Type: String, Times: ts(3), Strings: [][]byte{
			seq(256, func(i int) byte { return byte(i) }), {0, 0, 0xff}, []byte("\xc3\x28 invalid utf8")}}},
		{"string/long", Column{Type: String, Times: ts(3), Strings: [][]byte{bytes.Repeat([]byte("ab"), 40000), []byte("short"), bytes.Repeat([]byte{0}, 200)}}},
		{"string/repeated", Column{Type: String, Times: ts(1000), Strings: seq(1000, func(i int) []byte { return []byte(fmt.Sprintf("status=%d ok", i%3)) })}},

		// Booleans.
		{"bool/1 point", Column{Type: Boolean, Times: ts(1), Bools: []bool{true}}},
		{"bool/all true", Column{Type: Boolean, Times: ts(1000), Bools: seq(1000, func(int) bool { return true })}},
		{"bool/all false", Column{Type: Boolean, Times: ts(999), Bools: make([]bool, 999)}},
		{"bool/alternating", Column{Type: Boolean, Times: ts(17), Bools: seq(17, func(i int) bool { return i%2 == 0 })}},
		{"bool/random", Column{Type: Boolean, Times: ts(1001), Bools: seq(1001, func(int) bool { return r.IntN(2) == 1 })}},
	}...)
	for n := 1; n <= 9; n++ {
		cases = append(cases, tc{fmt.Sprintf("bool/%d true", n), Column{Type: Boolean, Times: ts(n), Bools: seq(n, func(int) bool { return true })}})
	}
	return cases
}

func TestRoundTrip(t *testing.T) {
	enc, dec := NewEncoder(), NewDecoder()
	var got Column // reused across cases and types on purpose
	for _, tc := range roundTripCases() {
		t.Run(tc.name, func(t *testing.T) {
			b, err := enc.Encode([]byte("prefix"), &tc.col)
			if err != nil {
				t.Fatalf("Encode: %v", err)
			}
			if string(b[:6]) != "prefix" {
				t.Fatalf("Encode clobbered dst")
			}
			b = b[6:]
			if err := dec.Decode(&got, b); err != nil {
				t.Fatalf("Decode: %v", err)
			}
			requireEqualColumns(t, &tc.col, &got)
			h, err := DecodeHeader(b)
			if err != nil {
				t.Fatalf("DecodeHeader: %v", err)
			}
			checkHeader(t, h, &tc.col)
			// Encoding the decoded column reproduces the block byte for byte.
			again, err := enc.Encode(nil, &got)
			if err != nil {
				t.Fatalf("re-Encode: %v", err)
			}
			if !bytes.Equal(again, b) {
				t.Fatalf("re-encoding differs")
			}
		})
	}
}

// requireEqualColumns compares bit-exactly (NaN payloads, -0).
func requireEqualColumns(t *testing.T, want, got *Column) {
	t.Helper()
	if got.Type != want.Type || got.Len() != want.Len() {
		t.Fatalf("got %s x %d, want %s x %d", got.Type, got.Len(), want.Type, want.Len())
	}
	if !slices.Equal(got.Times, want.Times) {
		t.Fatalf("times differ")
	}
	match, other := got.valuesLen()
	if match != want.Len() || other != 0 {
		t.Fatalf("decoded value slices: %d matching, %d other", match, other)
	}
	for i := range want.Times {
		var ok bool
		switch want.Type {
		case Float:
			ok = math.Float64bits(got.Floats[i]) == math.Float64bits(want.Floats[i])
		case Integer:
			ok = got.Ints[i] == want.Ints[i]
		case Unsigned:
			ok = got.Uints[i] == want.Uints[i]
		case String:
			ok = bytes.Equal(got.Strings[i], want.Strings[i])
		case Boolean:
			ok = got.Bools[i] == want.Bools[i]
		}
		if !ok {
			t.Fatalf("value %d differs", i)
		}
	}
}

// checkHeader recomputes the stats a different way than computeStats does.
func checkHeader(t *testing.T, h Header, c *Column) {
	t.Helper()
	n := c.Len()
	want := Header{Version: FormatVersion, Type: c.Type, Count: n, MinTime: slices.Min(c.Times), MaxTime: slices.Max(c.Times)}
	switch c.Type {
	case Float:
		sum := c.Floats[0]
		for i := 1; i < n; i++ {
			sum += c.Floats[i]
		}
		nonNaN := slices.DeleteFunc(slices.Clone(c.Floats), math.IsNaN)
		want.FFirst, want.FLast, want.FSum = c.Floats[0], c.Floats[n-1], sum
		if len(nonNaN) == 0 {
			want.FMin, want.FMax = c.Floats[0], c.Floats[0]
		} else {
			// The earliest of equal values wins, which matters for ±0.
			mn, mx := slices.Min(nonNaN), slices.Max(nonNaN)
			want.FMin = nonNaN[slices.IndexFunc(nonNaN, func(v float64) bool { return v == mn })]
			want.FMax = nonNaN[slices.IndexFunc(nonNaN, func(v float64) bool { return v == mx })]
		}
		// Which NaN payload a NaN+NaN addition keeps depends on operand
		// order the compiler picks, so a NaN sum is only checked for NaN-ness.
		if math.IsNaN(h.FSum) && math.IsNaN(want.FSum) {
			h.FSum = want.FSum
		}
		for _, p := range [][2]float64{{h.FMin, want.FMin}, {h.FMax, want.FMax}, {h.FSum, want.FSum}, {h.FFirst, want.FFirst}, {h.FLast, want.FLast}} {
			if math.Float64bits(p[0]) != math.Float64bits(p[1]) {
				t.Fatalf("float stats %+v, want %+v", h, want)
			}
		}
		h.FMin, h.FMax, h.FSum, h.FFirst, h.FLast = 0, 0, 0, 0, 0
		want.FMin, want.FMax, want.FSum, want.FFirst, want.FLast = 0, 0, 0, 0, 0
	case Integer:
		s := slices.Clone(c.Ints)
		sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
		var sum uint64 // unsigned addition wraps identically
		for _, v := range c.Ints {
			sum += uint64(v)
		}
		want.IMin, want.IMax, want.ISum, want.IFirst, want.ILast = s[0], s[n-1], int64(sum), c.Ints[0], c.Ints[n-1]
	case Unsigned:
		s := slices.Clone(c.Uints)
		slices.Sort(s)
		var sum uint64
		for _, v := range c.Uints {
			sum += v
		}
		want.UMin, want.UMax, want.USum, want.UFirst, want.ULast = s[0], s[n-1], sum, c.Uints[0], c.Uints[n-1]
	}
	if h != want {
		t.Fatalf("header\n got %+v\nwant %+v", h, want)
	}
}

func TestEncodeErrors(t *testing.T) {
	ts := []int64{1, 2, 3}
	tests := []struct {
		name string
		col  Column
		want error
	}{
		{"empty float", Column{Type: Float}, ErrEmpty},
		{"empty string", Column{Type: String, Times: []int64{}, Strings: [][]byte{}}, ErrEmpty},
		{"zero type", Column{Times: ts, Floats: []float64{1, 2, 3}}, ErrType},
		{"unknown type", Column{Type: 6, Times: ts}, ErrType},
		{"other slice set", Column{Type: Integer, Times: ts, Ints: []int64{1, 2, 3}, Floats: []float64{1}}, ErrType},
		{"wrong slice", Column{Type: Integer, Times: ts, Floats: []float64{1, 2, 3}}, ErrType},
		{"short values", Column{Type: Float, Times: ts, Floats: []float64{1, 2}}, ErrLength},
		{"long values", Column{Type: Boolean, Times: ts, Bools: []bool{true, false, true, true}}, ErrLength},
		{"values no times", Column{Type: Unsigned, Uints: []uint64{1}}, ErrLength},
		{"duplicate time", Column{Type: Float, Times: []int64{1, 2, 2}, Floats: []float64{1, 2, 3}}, ErrUnsorted},
		{"decreasing time", Column{Type: Integer, Times: []int64{maxI, minI}, Ints: []int64{1, 2}}, ErrUnsorted},
		{"+Inf", Column{Type: Float, Times: ts, Floats: []float64{1, math.Inf(1), 3}}, ErrInfinity},
		{"-Inf", Column{Type: Float, Times: ts[:1], Floats: []float64{math.Inf(-1)}}, ErrInfinity},
		{"too many", Column{Type: Boolean, Times: regularTimes(MaxCount+1, 0, 1), Bools: make([]bool, MaxCount+1)}, ErrTooLarge},
		{"body too large", Column{Type: String, Times: ts[:2], Strings: [][]byte{make([]byte, MaxBodyLen/2), make([]byte, MaxBodyLen/2)}}, ErrTooLarge},
	}
	enc := NewEncoder()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dst := []byte("keep")
			got, err := enc.Encode(dst, &tc.col)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if string(got) != "keep" {
				t.Fatalf("dst changed on error: %q", got)
			}
		})
	}
}

// TestEncodingChoice pins which encoding realistic columns get, so a change
// that silently falls back to a worse one fails.
func TestEncodingChoice(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	ts := regularTimes(1000, 0, 10)
	tests := []struct {
		name      string
		col       Column
		enc       byte
		scale     uint
		zstd      bool
		maxPerVal float64 // bytes per point, all included
	}{
		{"tsbs", *tsbsColumn(1, tsbsPoints), encFloatDecimal, 2, true, 1.0},
		{"random floats", Column{Type: Float, Times: ts, Floats: randomFloats(r, 1000)}, encFloatXOR, 0, false, 9},
		{"integral floats", Column{Type: Float, Times: ts, Floats: floatsN(1000, func(i int) float64 { return float64(i % 7) })}, encFloatDecimal, 0, true, 0.5},
		{"regular counter", Column{Type: Integer, Times: ts, Ints: seq(1000, func(i int) int64 { return int64(i) * 3 })}, encIntDoD, 0, false, 0.1},
		{"counter", Column{Type: Integer, Times: ts, Ints: counterInts(r, 1000)}, encIntDelta, 0, false, 2.2},
		{"tiny", Column{Type: Integer, Times: ts[:2], Ints: []int64{1, 2}}, encIntDelta, 0, false, 20},
		// The TSBS day in two blocks: entropy is 0.268 bytes/value, header
		// and CRC add 0.008.
		{"tsbs ints", Column{Type: Integer, Times: regularTimes(4320, tsbsStart, tsbsInterval), Ints: tsbsInts(r, 4320)}, encIntFSE, 0, false, 0.285},
		{"small steps, rare jumps", Column{Type: Integer, Times: ts, Ints: seq(1000, func(i int) int64 { return int64(r.IntN(3) + i/250*1000) })}, encIntFSE, 0, false, 0.36},
		{"too few for a table", Column{Type: Integer, Times: ts[:60], Ints: tsbsInts(r, 60)}, encIntDelta, 0, false, 1.5},
	}
	enc := NewEncoder()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := enc.Encode(nil, &tc.col)
			if err != nil {
				t.Fatal(err)
			}
			h, err := parseHeader(b)
			if err != nil {
				t.Fatal(err)
			}
			gotEnc, gotScale := h.flags>>encShift&encMask, uint(h.flags>>scaleShift)
			if gotEnc != tc.enc || gotScale != tc.scale || (h.flags&flagZstd != 0) != tc.zstd {
				t.Errorf("flags %08b: encoding %d scale %d, want %d scale %d zstd %t", h.flags, gotEnc, gotScale, tc.enc, tc.scale, tc.zstd)
			}
			if per := float64(len(b)) / float64(tc.col.Len()); per > tc.maxPerVal {
				t.Errorf("%.3f bytes per point, want <= %.3f", per, tc.maxPerVal)
			}
		})
	}
}

func TestDecimalScale(t *testing.T) {
	tests := []struct {
		vs    []float64
		scale uint
		ok    bool
	}{
		{[]float64{1, 2, 3}, 0, true},
		{[]float64{0.1, 0.2, 0.3}, 1, true},
		{[]float64{1, 0.25, 12.125}, 3, true},
		{[]float64{0.30000000000000004}, 0, false}, // 0.1+0.2 at run time: 17 digits
		{[]float64{1e-15, 1}, 15, true},
		{[]float64{1e-16}, 0, false},
		{[]float64{math.Copysign(0, -1)}, 0, false},
		{[]float64{math.NaN()}, 0, false},
		{[]float64{1 << 53}, 0, false},
		{[]float64{1<<53 - 1}, 0, true},
		{[]float64{1<<52 - 1, 0.5}, 0, false}, // 0.5 needs scale 1, where the first value passes 2^53
		{[]float64{123456.789, -0.001}, 3, true},
		{[]float64{math.SmallestNonzeroFloat64}, 0, false},
	}
	for _, tc := range tests {
		scale, ok := decimalScale(tc.vs)
		if ok != tc.ok || scale != tc.scale {
			t.Errorf("decimalScale(%v) = %d, %t; want %d, %t", tc.vs, scale, ok, tc.scale, tc.ok)
		}
	}
}

func TestPackWidths(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for w := 0; w <= 64; w++ {
		for _, n := range []int{1, 7, groupLen - 1, groupLen, groupLen + 1, 3*groupLen + 5} {
			vs := make([]uint64, n)
			for i := range vs {
				if w > 0 {
					vs[i] = r.Uint64() >> (64 - w)
				}
			}
			if w > 0 {
				vs[n/2] = math.MaxUint64 >> (64 - w) // ensure the width is reached
			}
			b := pack(nil, vs)
			if len(b) != packedLen(vs) {
				t.Fatalf("w=%d n=%d: packed %d bytes, packedLen says %d", w, n, len(b), packedLen(vs))
			}
			if min := groupsLen(n); len(b) < min {
				t.Fatalf("w=%d n=%d: %d bytes below minimum %d", w, n, len(b), min)
			}
			got := make([]uint64, n)
			buf := append(b, make([]byte, readSlack)...)
			if used := unpack(got, buf[:len(b)]); used != len(b) {
				t.Fatalf("w=%d n=%d: unpack used %d of %d", w, n, used, len(b))
			}
			if !slices.Equal(got, vs) {
				t.Fatalf("w=%d n=%d: round trip differs", w, n)
			}
			if len(b) > 0 && unpack(got, buf[:len(b)-1]) >= 0 && w > 0 {
				t.Fatalf("w=%d n=%d: truncated input accepted", w, n)
			}
		}
	}
}

func TestColumnReset(t *testing.T) {
	c := Column{Type: Float, Times: []int64{1, 2}, Floats: []float64{1, 2}, Strings: [][]byte{[]byte("a")}}
	c.Reset(String)
	if c.Type != String || c.Len() != 0 || len(c.Floats) != 0 || len(c.Strings) != 0 {
		t.Fatalf("Reset left %+v", c)
	}
	if cap(c.Times) != 2 || cap(c.Floats) != 2 {
		t.Fatalf("Reset dropped capacity")
	}
	if c.Strings[:1][0] != nil {
		t.Fatalf("Reset kept a reference to old string data")
	}
}

// TestDecodeReusesColumn checks that decoding into a Column with capacity
// does not allocate, and that string data survives a later Decode into a
// different Column.
func TestDecodeReusesColumn(t *testing.T) {
	enc, dec := NewEncoder(), NewDecoder()
	blk, err := enc.Encode(nil, tsbsColumn(9, 1000))
	if err != nil {
		t.Fatal(err)
	}
	var c Column
	if err := dec.Decode(&c, blk); err != nil {
		t.Fatal(err)
	}
	dst := make([]byte, 0, 2*len(blk))
	if allocs := testing.AllocsPerRun(20, func() {
		if err := dec.Decode(&c, blk); err != nil {
			t.Fatal(err)
		}
	}); allocs != 0 {
		t.Errorf("Decode into a warm Column allocated %v times", allocs)
	}
	if allocs := testing.AllocsPerRun(20, func() {
		if _, err := enc.Encode(dst[:0], &c); err != nil {
			t.Fatal(err)
		}
	}); allocs != 0 {
		t.Errorf("Encode into a roomy dst allocated %v times", allocs)
	}

	s1, _ := enc.Encode(nil, &Column{Type: String, Times: []int64{1}, Strings: [][]byte{[]byte("first")}})
	s2, _ := enc.Encode(nil, &Column{Type: String, Times: []int64{1}, Strings: [][]byte{[]byte("other")}})
	var a, b Column
	if err := dec.Decode(&a, s1); err != nil {
		t.Fatal(err)
	}
	if err := dec.Decode(&b, s2); err != nil {
		t.Fatal(err)
	}
	if string(a.Strings[0]) != "first" || string(b.Strings[0]) != "other" {
		t.Fatalf("strings aliased decoder scratch: %q %q", a.Strings[0], b.Strings[0])
	}
}

// TestFSENearEntropy: on integer gauges of several step distributions, the
// FSE section costs at most 1 % over the deltas' order-0 empirical entropy
// plus its table (a few bytes and about one per distinct delta).
func TestFSENearEntropy(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	tests := []struct {
		name string
		vs   []int64
	}{
		{"tsbs 4320", tsbsInts(r, 4320)},
		{"tsbs 8640", tsbsInts(r, 8640)},
		{"tsbs 1000", tsbsInts(r, 1000)},
		{"wide steps", walk(r, 4000, 20)},
		{"mostly flat", seq(4000, func(i int) int64 { return int64(i / 400) })},
	}
	enc := NewEncoder()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			zs := make([]uint64, len(tc.vs)-1)
			hist := map[uint64]int{}
			for i := range zs {
				zs[i] = zigzag(tc.vs[i+1] - tc.vs[i])
				hist[zs[i]]++
			}
			bits := 0.0
			for _, c := range hist {
				bits -= float64(c) * math.Log2(float64(c)/float64(len(zs)))
			}
			sec, ok := enc.appendFSE(nil, zs)
			if !ok {
				t.Fatal("FSE refused the column")
			}
			if limit := 1.01*bits/8 + 8 + float64(len(hist)); float64(len(sec)) > limit {
				t.Errorf("FSE section %d bytes, entropy %.0f bytes: want <= %.0f", len(sec), bits/8, limit)
			}
			got := make([]int64, len(tc.vs))
			got[0] = tc.vs[0]
			if n := NewDecoder().decodeFSEInts(got, sec); n != len(sec) || !slices.Equal(got, tc.vs) {
				t.Errorf("decodeFSEInts used %d of %d bytes; equal %v", n, len(sec), slices.Equal(got, tc.vs))
			}
		})
	}
}

// walk is a random walk of n integers with normal steps of deviation sigma,
// rounded.
func walk(r *rand.Rand, n int, sigma float64) []int64 {
	vs := make([]int64, n)
	for i := 1; i < n; i++ {
		vs[i] = vs[i-1] + int64(math.Round(r.NormFloat64()*sigma))
	}
	return vs
}

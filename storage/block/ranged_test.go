package block

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/klauspost/compress/fse"
)

// TestFSEPrefix: fsePrefix's first k symbols are fse.Decompress's, for
// every k it accepts, over symbol streams of the shapes the encoder meets
// (TSBS gauges, a dominant symbol, whose states read no bits, many
// distinct symbols raising the table log, escapes) and lengths from the
// encoder's minimum up.
func TestFSEPrefix(t *testing.T) {
	r := rand.New(rand.NewPCG(31, 32))
	gauge := func(int) byte { return byte(zigzag(int64(math.Round(r.NormFloat64())))) }
	cases := map[string]func(i int) byte{
		"tsbs gauge": gauge,
		"dominant":   func(int) byte { return byte(min(r.IntN(40), 2)) },
		"wide":       func(int) byte { return byte(r.IntN(200) * r.IntN(2)) },
		"escapes":    func(i int) byte { return []byte{0, 1, 2, fseEscape}[r.IntN(4)] },
		"two":        func(i int) byte { return byte(r.IntN(8) / 7) },
	}
	for name, gen := range cases {
		for _, m := range []int{fseMinDeltas, 65, 100, 257, 1000, 4319, 8639} {
			syms := seq(m, gen)
			var sc fse.Scratch
			sc.TableLog = fseTableLog
			coded, err := fse.Compress(syms, &sc)
			if err != nil {
				continue // not FSE-codable: the encoder packs these
			}
			var dsc fse.Scratch
			want, err := fse.Decompress(coded, &dsc)
			if err != nil || string(want) != string(syms) {
				t.Fatalf("%s/%d: fse round trip failed: %v", name, m, err)
			}
			section := append(appendUvarint(nil, uint64(len(coded))), coded...)
			section = append(section, make([]byte, readSlack)...)
			d := NewDecoder()
			step := max(1, m/97)
			for k := 0; k <= m-2; k += step {
				got, esc, ok := d.fsePrefix(section, k)
				if !ok {
					t.Fatalf("%s/%d: prefix of %d refused", name, m, k)
				}
				if string(got) != string(syms[:k]) {
					t.Fatalf("%s/%d: prefix of %d differs from fse.Decompress", name, m, k)
				}
				if esc != len(section)-readSlack {
					t.Fatalf("%s/%d: escapes at %d, want %d", name, m, esc, len(section)-readSlack)
				}
			}
		}
	}
}

func appendUvarint(dst []byte, x uint64) []byte {
	for x >= 0x80 {
		dst = append(dst, byte(x)|0x80)
		x >>= 7
	}
	return append(dst, byte(x))
}

// rangesOf returns ranges that probe every edge of ts: empty ones before,
// after and between points, single points, ranges starting or ending on a
// point or between two, one row short of either end, and the whole block.
func rangesOf(ts []int64) [][2]int64 {
	n := len(ts)
	first, last := ts[0], ts[n-1]
	out := [][2]int64{
		{math.MinInt64, math.MaxInt64}, {first, last}, {math.MinInt64, first - 1}, {last + 1, math.MaxInt64},
		{math.MinInt64, first}, {last, math.MaxInt64}, {first + 1, last - 1},
	}
	for _, i := range []int{0, 1, 2, n / 3, n / 2, n - 4, n - 3, n - 2, n - 1} {
		if i < 0 || i >= n {
			continue
		}
		t := ts[i]
		out = append(out, [2]int64{t, t}, [2]int64{t, last}, [2]int64{first, t}, [2]int64{t + 1, last}, [2]int64{first, t - 1})
		if i+1 < n && ts[i+1]-t > 1 {
			out = append(out, [2]int64{t + 1, ts[i+1] - 1}) // between two points
		}
		if j := min(i+360, n-1); j > i {
			out = append(out, [2]int64{t, ts[j]}, [2]int64{t - 1, ts[j] + 1})
		}
	}
	return out
}

// TestDecodeRange: DecodeRange is Decode followed by keeping the rows in
// range, for every round-trip case and a TSBS-like half-day integer block
// at every hour, through one reused decoder and column.
func TestDecodeRange(t *testing.T) {
	enc, dec := NewEncoder(), NewDecoder()
	var got Column
	cases := roundTripCases()
	r := rand.New(rand.NewPCG(33, 34))
	cases = append(cases, struct {
		name string
		col  Column
	}{"tsbs int half day", Column{Type: Integer, Times: regularTimes(4320, tsbsStart, tsbsInterval), Ints: tsbsInts(r, 4320)}})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b, full := encodeDecoded(t, enc, &tc.col)
			ranges := rangesOf(full.Times)
			if tc.col.Len() == 4320 {
				for h := range int64(13) {
					lo := tsbsStart + h*3600e9
					ranges = append(ranges, [2]int64{lo, lo + 3600e9 - 1}, [2]int64{lo - 1800e9, lo + 1800e9})
				}
			}
			for _, rg := range ranges {
				if err := dec.DecodeRange(&got, b, rg[0], rg[1]); err != nil {
					t.Fatalf("DecodeRange(%d, %d): %v", rg[0], rg[1], err)
				}
				var want Column
				want.Type = full.Type
				i, j := searchRows(full.Times, rg[0], rg[1])
				want.AppendRows(&full, i, j)
				requireEqualColumns(t, &want, &got)
			}
		})
	}
}

// TestDecodeRangeCorrupt: with the checksum patched to match, a block cut
// at any length or with any byte flipped never makes DecodeRange panic,
// every error wraps ErrCorrupt, a header DecodeHeader refuses is refused,
// and a range covering the block is refused wherever Decode refuses it.
// What a narrower range accepts holds no more rows than its range allows.
func TestDecodeRangeCorrupt(t *testing.T) {
	dec := NewDecoder()
	var c Column
	check := func(t *testing.T, b []byte) {
		_, herr := DecodeHeader(b)
		derr := NewDecoder().Decode(&Column{}, b)
		for _, rg := range [][2]int64{{math.MinInt64, math.MaxInt64}, {1e18 + 30e9, 1e18 + 60e9}, {1e18, 1e18 + 10e9}} {
			err := dec.DecodeRange(&c, b, rg[0], rg[1])
			if err != nil && !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error does not wrap ErrCorrupt: %v", err)
			}
			if herr != nil && err == nil {
				t.Fatalf("header refused (%v), DecodeRange accepted", herr)
			}
			if rg[0] == math.MinInt64 && (err == nil) != (derr == nil) {
				t.Fatalf("whole-range DecodeRange err %v, Decode err %v", err, derr)
			}
			if err != nil {
				continue
			}
			if m, _ := c.valuesLen(); m != c.Len() {
				t.Fatalf("%d values for %d times", m, c.Len())
			}
			for k, ts := range c.Times {
				if ts < rg[0] || ts > rg[1] || (k > 0 && ts <= c.Times[k-1]) {
					t.Fatalf("time %d out of range %v or order", ts, rg)
				}
			}
		}
	}
	for name, b := range corruptionBlocks(t) {
		t.Run(name, func(t *testing.T) {
			for i := range len(b) {
				check(t, withCRC(b[:i]))
				for _, bit := range []byte{1, 0x10, 0x80} {
					flipped := append([]byte(nil), b...)
					flipped[i] ^= bit
					check(t, withCRC(flipped))
				}
			}
		})
	}
}

// BenchmarkDecodeRange decodes one hour of a TSBS-like half-day integer
// block (4,320 points: the blocks of the loaded TSBS day), at the block's
// start, middle and end, against Decode of the whole block; "almost all"
// is every row but the last two, the longest prefix fsePrefix decodes,
// which compares its speed per symbol with fse.Decompress's.
func BenchmarkDecodeRange(b *testing.B) {
	r := rand.New(rand.NewPCG(35, 36))
	const n = 4320
	col := &Column{Type: Integer, Times: regularTimes(n, tsbsStart, tsbsInterval), Ints: tsbsInts(r, n)}
	blk, err := NewEncoder().Encode(nil, col)
	if err != nil {
		b.Fatal(err)
	}
	hour := int64(3600e9)
	for _, bc := range []struct {
		name     string
		min, max int64
	}{
		{"whole", math.MinInt64, math.MaxInt64},
		{"almost all", tsbsStart + 1, col.Times[n-3]},
		{"first hour", tsbsStart, tsbsStart + hour - 1},
		{"hour 6", tsbsStart + 6*hour, tsbsStart + 7*hour - 1},
		{"hour 11", tsbsStart + 11*hour, tsbsStart + 12*hour - 1},
	} {
		b.Run(bc.name, func(b *testing.B) {
			dec := NewDecoder()
			var c Column
			b.ReportAllocs()
			for b.Loop() {
				if err := dec.DecodeRange(&c, blk, bc.min, bc.max); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds()/1e6, "Mblockvalues/s")
		})
	}
}

package block

import (
	"math/rand/v2"
	"testing"
)

// benchColumns are the columns the format is tuned for: a TSBS-like cpu
// gauge (a day at 10 s) as floats and as integers (TSBS's own generator
// writes integers), a byte counter over the same day, and a boolean column.
func benchColumns() []struct {
	name string
	col  *Column
} {
	r := rand.New(rand.NewPCG(21, 22))
	ts := regularTimes(tsbsPoints, tsbsStart, tsbsInterval)
	return []struct {
		name string
		col  *Column
	}{
		{"tsbs-float", tsbsColumn(21, tsbsPoints)},
		{"tsbs-int", &Column{Type: Integer, Times: ts, Ints: tsbsInts(r, tsbsPoints)}},
		{"int-counter", &Column{Type: Integer, Times: ts, Ints: counterInts(r, tsbsPoints)}},
		{"bool", &Column{Type: Boolean, Times: ts, Bools: seq(tsbsPoints, func(i int) bool { return i/100%2 == 0 })}},
	}
}

// reportBlock adds the figures the format is judged by. SetBytes uses the
// in-memory size of the column (16 bytes per point) so MB/s compares codecs
// on the same footing.
func reportBlock(b *testing.B, points, blockLen int) {
	b.ReportMetric(float64(blockLen)/float64(points), "B/value")
	b.ReportMetric(float64(points)*float64(b.N)/b.Elapsed().Seconds()/1e6, "Mvalues/s")
}

func BenchmarkEncode(b *testing.B) {
	for _, bc := range benchColumns() {
		b.Run(bc.name, func(b *testing.B) {
			enc := NewEncoder()
			dst, err := enc.Encode(nil, bc.col)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(16 * bc.col.Len()))
			b.ReportAllocs()
			for b.Loop() {
				dst, _ = enc.Encode(dst[:0], bc.col)
			}
			reportBlock(b, bc.col.Len(), len(dst))
		})
	}
}

func BenchmarkDecode(b *testing.B) {
	for _, bc := range benchColumns() {
		b.Run(bc.name, func(b *testing.B) {
			blk, err := NewEncoder().Encode(nil, bc.col)
			if err != nil {
				b.Fatal(err)
			}
			dec := NewDecoder()
			var c Column
			b.SetBytes(int64(16 * bc.col.Len()))
			b.ReportAllocs()
			for b.Loop() {
				if err := dec.Decode(&c, blk); err != nil {
					b.Fatal(err)
				}
			}
			reportBlock(b, bc.col.Len(), len(blk))
		})
	}
}

func BenchmarkDecodeHeader(b *testing.B) {
	blk, err := NewEncoder().Encode(nil, tsbsColumn(21, tsbsPoints))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(blk)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeHeader(blk); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTimes measures the timestamp codec alone (no header, no zstd):
// regular 10 s stamps and stamps with ±1 s collector jitter. B/value is the
// packed size before zstd.
func BenchmarkTimes(b *testing.B) {
	r := rand.New(rand.NewPCG(23, 24))
	for _, tc := range []struct {
		name string
		ts   []int64
	}{
		{"regular", regularTimes(tsbsPoints, tsbsStart, tsbsInterval)},
		{"jitter", jitterTimes(r, tsbsPoints, tsbsStart, tsbsInterval, 1e9)},
	} {
		enc, dec := NewEncoder(), NewDecoder()
		packed := enc.appendTimes(nil, tc.ts)
		body := append(packed, make([]byte, readSlack)...)[:len(packed)]
		h := rawHeader{Header: Header{Version: FormatVersion, MinTime: tc.ts[0], MaxTime: tc.ts[len(tc.ts)-1]}}
		b.Run("encode/"+tc.name, func(b *testing.B) {
			b.SetBytes(int64(8 * len(tc.ts)))
			b.ReportAllocs()
			for b.Loop() {
				packed = enc.appendTimes(packed[:0], tc.ts)
			}
			reportBlock(b, len(tc.ts), len(packed))
		})
		b.Run("decode/"+tc.name, func(b *testing.B) {
			out := make([]int64, len(tc.ts))
			b.SetBytes(int64(8 * len(tc.ts)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := dec.decodeTimes(out, body, &h); err != nil {
					b.Fatal(err)
				}
			}
			reportBlock(b, len(tc.ts), len(body))
		})
	}
}

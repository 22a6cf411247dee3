package block

import (
	"encoding/binary"
	"math/rand/v2"
	"testing"
)

// TestDecodeRangeMarked: decoding from marks gives DecodeRange's rows, for
// every probing range of TSBS-like blocks (one with escapes), taken in a
// random order with the marks each decode returns carried to the next, so
// that decodes start from marks taken by decodes of other ranges; marks
// grow only when a decode passes the last; another block's marks are
// ignored.
func TestDecodeRangeMarked(t *testing.T) {
	r := rand.New(rand.NewPCG(41, 42))
	enc := NewEncoder()
	escapes := tsbsInts(r, 4320)
	for i := 100; i < len(escapes); i += 97 {
		for k := i; k < len(escapes); k++ {
			escapes[k] += 1000 // a jump past fseEscape: an escaped delta
		}
	}
	blocks := map[string]*Column{
		"tsbs half day": {Type: Integer, Times: regularTimes(4320, tsbsStart, tsbsInterval), Ints: tsbsInts(r, 4320)},
		"escapes":       {Type: Integer, Times: regularTimes(4320, tsbsStart, tsbsInterval), Ints: escapes},
		"short":         {Type: Integer, Times: regularTimes(300, tsbsStart, tsbsInterval), Ints: tsbsInts(r, 300)},
	}
	other, _ := encodeDecoded(t, enc, &Column{Type: Integer, Times: regularTimes(4320, tsbsStart, tsbsInterval), Ints: tsbsInts(r, 4320)})
	for name, col := range blocks {
		t.Run(name, func(t *testing.T) {
			b, full := encodeDecoded(t, enc, col)
			ranges := rangesOf(full.Times)
			for h := range int64(13) {
				lo := tsbsStart + h*3600e9
				ranges = append(ranges, [2]int64{lo, lo + 3600e9 - 1}, [2]int64{lo - 1800e9, lo + 1800e9})
			}
			r.Shuffle(len(ranges), func(i, j int) { ranges[i], ranges[j] = ranges[j], ranges[i] })
			// The other block's marks, for the first decode: ignored.
			var m *Marks
			if _, j := searchRows(full.Times, tsbsStart, full.Times[full.Len()-3]); j > 1 {
				var err error
				if m, err = NewDecoder().DecodeRangeMarked(&Column{}, other, tsbsStart, full.Times[full.Len()-3], nil); err != nil || m == nil {
					t.Fatalf("other block's marks: %v, %v", m, err)
				}
			}
			dec := NewDecoder()
			var got Column
			for _, rg := range ranges {
				next, err := dec.DecodeRangeMarked(&got, b, rg[0], rg[1], m)
				if err != nil {
					t.Fatalf("DecodeRangeMarked(%d, %d): %v", rg[0], rg[1], err)
				}
				var want Column
				want.Type = full.Type
				i, j := searchRows(full.Times, rg[0], rg[1])
				want.AppendRows(&full, i, j)
				requireEqualColumns(t, &want, &got)
				if next != nil {
					if m != nil && next != m && next.crc == m.crc && len(next.at) <= len(m.at) {
						t.Fatalf("new marks without more of them: %d, had %d", len(next.at), len(m.at))
					}
					if want := (j - 1) / markEvery; i < j && j > 1 && j <= full.Len()-2 && len(next.at) <= want {
						t.Fatalf("range [%d, %d): %d marks, want more than %d", i, j, len(next.at), want)
					}
					m = next
				}
			}
			if m == nil || m.crc != binary.LittleEndian.Uint32(b[len(b)-trailerLen:]) || len(m.at) < 2 && full.Len() > 2*markEvery {
				t.Fatalf("no marks kept: the block does not take the FSE path")
			}
		})
	}
}

// BenchmarkDecodeRangeMarked is BenchmarkDecodeRange's hours with the
// block's marks taken (by a decode of the block up to its end), as a
// repeated read of a block finds them in storage's cache.
func BenchmarkDecodeRangeMarked(b *testing.B) {
	r := rand.New(rand.NewPCG(35, 36))
	const n = 4320
	col := &Column{Type: Integer, Times: regularTimes(n, tsbsStart, tsbsInterval), Ints: tsbsInts(r, n)}
	blk, err := NewEncoder().Encode(nil, col)
	if err != nil {
		b.Fatal(err)
	}
	m, err := NewDecoder().DecodeRangeMarked(&Column{}, blk, tsbsStart+1, col.Times[n-1], nil)
	if err != nil || m == nil {
		b.Fatal(m, err)
	}
	hour := int64(3600e9)
	for _, bc := range []struct {
		name     string
		min, max int64
	}{
		{"first hour", tsbsStart, tsbsStart + hour - 1},
		{"hour 6", tsbsStart + 6*hour, tsbsStart + 7*hour - 1},
		{"hour 11", tsbsStart + 11*hour, tsbsStart + 12*hour - 1},
		{"last hour and past", tsbsStart + 11*hour + 1800e9, tsbsStart + 12*hour + 1800e9},
	} {
		b.Run(bc.name, func(b *testing.B) {
			dec := NewDecoder()
			var c Column
			b.ReportAllocs()
			for b.Loop() {
				if _, err := dec.DecodeRangeMarked(&c, blk, bc.min, bc.max, m); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

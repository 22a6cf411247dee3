package block

import (
	"errors"
	"slices"
	"testing"
)

// TestPartialDecodes: DecodeValues gives Decode's values and no times,
// DecodeTimes Decode's times, for every round-trip case (every type, value
// encoding and timestamp shape), through one reused decoder and column.
func TestPartialDecodes(t *testing.T) {
	enc, dec := NewEncoder(), NewDecoder()
	var vals Column
	var ts []int64
	for _, tc := range roundTripCases() {
		t.Run(tc.name, func(t *testing.T) {
			b, full := encodeDecoded(t, enc, &tc.col)
			if err := dec.DecodeValues(&vals, b); err != nil {
				t.Fatalf("DecodeValues: %v", err)
			}
			if len(vals.Times) != 0 {
				t.Fatalf("DecodeValues left %d times", len(vals.Times))
			}
			got := vals
			got.Times = full.Times
			requireEqualColumns(t, &full, &got)
			var err error
			if ts, err = dec.DecodeTimes(ts, b); err != nil {
				t.Fatalf("DecodeTimes: %v", err)
			}
			if !slices.Equal(ts, full.Times) {
				t.Fatalf("DecodeTimes = %v, want %v", ts, full.Times)
			}
		})
	}
}

// TestPartialDecodesCorrupt: with the checksum patched to match, a block
// cut at any length or with any byte flipped is refused by DecodeValues
// and DecodeTimes wherever Decode refuses it for a fault in the section
// they read, and they never panic. A fault only in the skipped section
// may go unseen (the CRC is what guards it); what they return is then
// still the right length.
func TestPartialDecodesCorrupt(t *testing.T) {
	dec := NewDecoder()
	var c Column
	check := func(t *testing.T, b []byte) {
		h, herr := DecodeHeader(b)
		verr := dec.DecodeValues(&c, b)
		ts, terr := dec.DecodeTimes(nil, b)
		for _, e := range []error{verr, terr} {
			if e != nil && !errors.Is(e, ErrCorrupt) {
				t.Fatalf("error does not wrap ErrCorrupt: %v", e)
			}
		}
		if herr != nil && (verr == nil || terr == nil) {
			t.Fatalf("header refused (%v), partial decodes accepted (values %v, times %v)", herr, verr, terr)
		}
		if verr == nil {
			if m, _ := c.valuesLen(); m != h.Count || c.Type != h.Type {
				t.Fatalf("DecodeValues gave %s x %d, header %+v", c.Type, m, h)
			}
		}
		if terr == nil && (len(ts) != h.Count || ts[0] != h.MinTime || ts[len(ts)-1] != h.MaxTime) {
			t.Fatalf("DecodeTimes gave %d times, header %+v", len(ts), h)
		}
	}
	for name, b := range corruptionBlocks(t) {
		t.Run(name, func(t *testing.T) {
			for i := range len(b) {
				cut := withCRC(b[:i])
				check(t, cut)
				if err := dec.DecodeValues(&c, cut); err == nil {
					t.Fatalf("DecodeValues accepted the block cut at %d", i)
				}
			}
			for i := range len(b) - trailerLen {
				for _, x := range []byte{1, 0x80, 0xff} {
					m := slices.Clone(b)
					m[i] ^= x
					check(t, withCRC(m))
				}
			}
		})
	}
}

// FuzzPartialDecodes: on arbitrary bytes DecodeValues and DecodeTimes never
// panic, and whatever Decode accepts they accept with the same contents.
func FuzzPartialDecodes(f *testing.F) {
	enc := NewEncoder()
	for _, tc := range roundTripCases() {
		if tc.col.Len() > 300 {
			continue
		}
		b, err := enc.Encode(nil, &tc.col)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	dec := NewDecoder()
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, src := range [][]byte{b, withCRC(b)} {
			var full, vals Column
			ferr := NewDecoder().Decode(&full, src)
			verr := dec.DecodeValues(&vals, src)
			ts, terr := dec.DecodeTimes(nil, src)
			if ferr != nil {
				continue
			}
			if verr != nil || terr != nil {
				t.Fatalf("Decode accepted, partial decodes refused: %v, %v", verr, terr)
			}
			vals.Times = full.Times
			requireEqualColumns(t, &full, &vals)
			if !slices.Equal(ts, full.Times) {
				t.Fatalf("DecodeTimes = %v, want %v", ts, full.Times)
			}
		}
	})
}

// BenchmarkPartialDecodes compares Decode with the partial decodes on the
// format's benchmark columns (a TSBS day of one gauge, a counter, booleans):
//
//	go test ./storage/block -run '^$' -bench 'Decode$|PartialDecodes' -count 5
func BenchmarkPartialDecodes(b *testing.B) {
	for _, bc := range benchColumns() {
		blk, err := NewEncoder().Encode(nil, bc.col)
		if err != nil {
			b.Fatal(err)
		}
		b.Run("values/"+bc.name, func(b *testing.B) {
			dec := NewDecoder()
			var c Column
			b.SetBytes(int64(16 * bc.col.Len()))
			b.ReportAllocs()
			for b.Loop() {
				if err := dec.DecodeValues(&c, blk); err != nil {
					b.Fatal(err)
				}
			}
			reportBlock(b, bc.col.Len(), len(blk))
		})
		b.Run("times/"+bc.name, func(b *testing.B) {
			dec := NewDecoder()
			var ts []int64
			b.SetBytes(int64(16 * bc.col.Len()))
			b.ReportAllocs()
			for b.Loop() {
				if ts, err = dec.DecodeTimes(ts, blk); err != nil {
					b.Fatal(err)
				}
			}
			reportBlock(b, bc.col.Len(), len(blk))
		})
	}
}

// encodeDecoded encodes col and decodes it whole with a fresh decoder: the
// block and the column every partial decode of it is compared with.
func encodeDecoded(t *testing.T, enc *Encoder, col *Column) ([]byte, Column) {
	t.Helper()
	b, err := enc.Encode(nil, col)
	if err != nil {
		t.Fatal(err)
	}
	var full Column
	if err := NewDecoder().Decode(&full, b); err != nil {
		t.Fatal(err)
	}
	return b, full
}

package block

import (
	"errors"
	"math"
	"slices"
	"testing"
)

// decimalsAsValues decodes src with DecodeDecimals and turns the mantissas
// back into the floats they stand for, so the result compares with
// DecodeValues'; it reports whether the block came as decimals.
func decimalsAsValues(dec *Decoder, c *Column, src []byte) (bool, error) {
	scale, ok, err := dec.DecodeDecimals(c, src)
	if err != nil || !ok {
		return ok, err
	}
	if len(c.Floats) != 0 {
		return ok, errors.New("DecodeDecimals left floats beside the mantissas")
	}
	for _, m := range c.Ints {
		c.Floats = append(c.Floats, fromDecimal(m, scale))
	}
	c.Ints = c.Ints[:0]
	return ok, nil
}

// TestDecodeDecimals: DecodeDecimals' mantissas stand for DecodeValues'
// floats bit for bit, for every round-trip case, and it gives DecodeValues'
// column for every block not stored as decimals; on every corruption of
// corruptionBlocks it refuses exactly where DecodeValues refuses.
// DecimalRange bounds the mantissas DecodeDecimals gives and refuses only
// what DecodeValues refuses.
func TestDecodeDecimals(t *testing.T) {
	enc, dec := NewEncoder(), NewDecoder()
	var got, want Column
	decimals := 0
	for _, tc := range roundTripCases() {
		b, err := enc.Encode(nil, &tc.col)
		if err != nil {
			t.Fatal(err)
		}
		if err := NewDecoder().DecodeValues(&want, b); err != nil {
			t.Fatal(err)
		}
		ok, err := decimalsAsValues(dec, &got, b)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if ok {
			decimals++
		}
		if got.Type != want.Type || !slices.EqualFunc(got.Floats, want.Floats, func(a, b float64) bool { return math.Float64bits(a) == math.Float64bits(b) }) ||
			!slices.Equal(got.Ints, want.Ints) || !slices.Equal(got.Uints, want.Uints) || !slices.Equal(got.Bools, want.Bools) || len(got.Strings) != len(want.Strings) {
			t.Fatalf("%s: DecodeDecimals (decimals %v) differs from DecodeValues", tc.name, ok)
		}
	}
	if decimals < 3 {
		t.Fatalf("only %d round-trip cases came as decimals", decimals)
	}
	// DecimalRange bounds every decimal block's mantissas, at their
	// extremes, and names no other block.
	for _, tc := range roundTripCases() {
		b, err := enc.Encode(nil, &tc.col)
		if err != nil {
			t.Fatal(err)
		}
		scale, lo, hi, ok, err := DecimalRange(b)
		if err != nil {
			t.Fatalf("%s: DecimalRange: %v", tc.name, err)
		}
		dscale, dok, err := dec.DecodeDecimals(&got, b)
		if err != nil || ok != dok || ok && (scale != dscale || lo != slices.Min(got.Ints) || hi != slices.Max(got.Ints)) {
			t.Fatalf("%s: DecimalRange = %d [%d, %d] %v; DecodeDecimals %d %v %v", tc.name, scale, lo, hi, ok, dscale, dok, err)
		}
	}
	check := func(t *testing.T, b []byte) {
		verr := NewDecoder().DecodeValues(&want, b)
		_, derr := decimalsAsValues(dec, &got, b)
		_, _, _, _, rerr := DecimalRange(b)
		if rerr != nil && !errors.Is(rerr, ErrCorrupt) || rerr != nil && verr == nil {
			t.Fatalf("DecimalRange refused (%v) what DecodeValues took", rerr)
		}
		if (verr == nil) != (derr == nil) || derr != nil && !errors.Is(derr, ErrCorrupt) {
			t.Fatalf("DecodeValues: %v, DecodeDecimals: %v", verr, derr)
		}
		if derr == nil && !slices.EqualFunc(got.Floats, want.Floats, func(a, b float64) bool { return math.Float64bits(a) == math.Float64bits(b) }) {
			t.Fatalf("DecodeDecimals' floats differ from DecodeValues'")
		}
	}
	for name, b := range corruptionBlocks(t) {
		t.Run(name, func(t *testing.T) {
			for i := range len(b) {
				check(t, withCRC(b[:i]))
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

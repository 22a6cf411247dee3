package block

import (
	"encoding/binary"
	"math"
	"math/bits"
)

// Partial decodes: a query that needs only one of a block's two sections.
// An approximate distinct count or percentile of a block lying in one
// window needs its values, not its times (the header's MinTime and MaxTime
// place it); a tag's row count over a series of several fields needs each
// field's times, not its values. The timestamp section is a uvarint and
// packed groups, each self-delimiting (a width byte, then ⌈k·width/8⌉
// bytes: docs/format/block.md), so the value section is found by skipping
// groups without unpacking them. The section that is decoded is checked as
// Decode checks it; the skipped one only for its structure (its groups fit
// the body), the CRC having vouched for its bytes.

// DecodeValues decodes the values of block src into c, and no times:
// c.Times is empty and the value slice of c.Type holds the block's Count
// values, in time order. It reuses c's capacity and d's scratch as Decode
// does, and src is as untrusted: anything that is not a valid block yields
// an error wrapping ErrCorrupt.
func (d *Decoder) DecodeValues(c *Column, src []byte) error {
	h, body, err := d.open(src)
	if err != nil {
		return err
	}
	off, err := skipTimes(body, &h)
	if err != nil {
		return err
	}
	c.Reset(h.Type)
	return d.decodeValues(c, body[off:], &h)
}

// DecodeDecimals is DecodeValues for a caller that takes a decimal float
// block's mantissas instead of its floats (an approximate distinct count
// remembers which it has folded: query/sketch's AddDecimals). When src is
// a float block stored as decimals (docs/format/block.md) it puts the
// mantissas m in c.Ints, leaves c.Floats empty and returns the scale d and
// true: the block's values are m / 10^d, what DecodeValues gives. Any other
// block, or one whose first value is not its first mantissa's (a writer
// never stores that), it decodes as DecodeValues does and returns false.
func (d *Decoder) DecodeDecimals(c *Column, src []byte) (uint, bool, error) {
	h, body, err := d.open(src)
	if err != nil {
		return 0, false, err
	}
	off, err := skipTimes(body, &h)
	if err != nil {
		return 0, false, err
	}
	c.Reset(h.Type)
	rest := body[off:]
	enc, scale := h.flags>>encShift&encMask, uint(h.flags>>scaleShift)
	m := mantissa(h.FFirst, scale)
	if h.Type != Float || enc != encFloatDecimal || math.Float64bits(fromDecimal(m, scale)) != math.Float64bits(h.FFirst) {
		return 0, false, d.decodeValues(c, rest, &h)
	}
	n := h.Count
	c.Ints = grow(c.Ints, n)
	c.Ints[0] = m
	used := 0
	if n > 1 {
		u := grow(d.u, n-1)
		d.u = u
		if used = unpack(u, rest); used < 0 {
			return 0, false, corruptf("malformed packed decimals")
		}
		for i, z := range u {
			m += unzigzag(z)
			c.Ints[i+1] = m
		}
	}
	if math.Float64bits(fromDecimal(m, scale)) != math.Float64bits(h.FLast) {
		return 0, false, corruptf("last float %v, header says %v", fromDecimal(m, scale), h.FLast)
	}
	if used != len(rest) {
		return 0, false, corruptf("%d trailing body bytes", len(rest)-used)
	}
	return scale, true, nil
}

// DecimalRange tells, from block src's header alone, whether it is a
// float block stored as decimals, and if so its scale d and the mantissas
// lo and hi of its least and greatest values (the header's min and max):
// every value of the block is m / 10^d for an integer m in [lo, hi]. A
// caller that already holds every such value (an HLL's memo of mantissas)
// need not decode the block.
func DecimalRange(src []byte) (scale uint, lo, hi int64, ok bool, err error) {
	h, err := parseHeader(src)
	if err != nil {
		return 0, 0, 0, false, err
	}
	enc, scale := h.flags>>encShift&encMask, uint(h.flags>>scaleShift)
	if h.Type != Float || enc != encFloatDecimal || !exactAt(h.FMin, scale) || !exactAt(h.FMax, scale) {
		return 0, 0, 0, false, nil
	}
	return scale, mantissa(h.FMin, scale), mantissa(h.FMax, scale), true, nil
}

// DecodeTimes decodes the timestamps of block src into ts (reusing its
// capacity) and returns them, checked as Decode checks them; the value
// section is not read.
func (d *Decoder) DecodeTimes(ts []int64, src []byte) ([]int64, error) {
	h, body, err := d.open(src)
	if err != nil {
		return nil, err
	}
	ts = grow(ts, h.Count)
	if _, err := d.decodeTimes(ts, body, &h); err != nil {
		return nil, err
	}
	return ts, nil
}

// skipTimes returns the length of the timestamp section of a body of h's
// points (decodeTimes' layout, either version), reading only its varint,
// its times mark and width bytes; a regular section's span is checked as
// decodeTimes checks it.
func skipTimes(body []byte, h *rawHeader) (int, error) {
	n := h.Count
	if n == 1 {
		return 0, nil
	}
	delta, off := binary.Uvarint(body)
	if off <= 0 {
		return 0, corruptf("truncated first time delta")
	}
	if n == 2 {
		return off, nil
	}
	mark := byte(timesPacked)
	if h.Version >= 2 {
		if off >= len(body) {
			return 0, corruptf("truncated times mark")
		}
		mark = body[off]
		off++
	}
	switch mark {
	case timesRegular:
		hi, lo := bits.Mul64(delta, uint64(n-1))
		if hi != 0 || lo != uint64(h.MaxTime)-uint64(h.MinTime) {
			return 0, corruptf("%d regular intervals of %d do not span %d", n-1, delta, uint64(h.MaxTime)-uint64(h.MinTime))
		}
	case timesPacked:
		k := skipPacked(body[off:], n-2)
		if k < 0 {
			return 0, corruptf("malformed packed timestamps")
		}
		off += k
	default:
		return 0, corruptf("unknown times mark %d", mark)
	}
	return off, nil
}

// skipPacked returns the bytes n values written by pack take at the start
// of src, or -1 if src is too short or a width is out of range (unpack's
// checks, without unpacking).
func skipPacked(src []byte, n int) int {
	off := 0
	for ; n > 0; n -= min(n, groupLen) {
		if off >= len(src) {
			return -1
		}
		w := int(src[off])
		off++
		if w > 64 {
			return -1
		}
		size := (min(n, groupLen)*w + 7) / 8
		if size > len(src)-off {
			return -1
		}
		off += size
	}
	return off
}

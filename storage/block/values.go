package block

import (
	"encoding/binary"
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

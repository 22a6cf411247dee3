package block

import (
	"encoding/binary"
	"math"
	"math/bits"

	"github.com/klauspost/compress/fse"
	"github.com/klauspost/compress/zstd"
)

// Decoder turns blocks back into Columns. It keeps the decompressed body and
// unpacking scratch between calls, so reuse one per goroutine; it is not safe
// for concurrent use.
type Decoder struct {
	body []byte      // uncompressed body followed by readSlack zero bytes
	u    []uint64    // unpacked integers
	fse  fse.Scratch // FSE tables and decoded symbols
	ftab []fseCell   // fsePrefix's decoding table
	sym  []byte      // fsePrefix's symbols
	// scratch are the marks of a decode that keeps none (DecodeRange).
	scratch Marks
}

// NewDecoder returns a Decoder with empty scratch space.
func NewDecoder() *Decoder { return &Decoder{} }

// Decode decodes the block src into c, reusing the capacity of c's slices.
// src is untrusted: anything that is not a valid block yields an error
// wrapping ErrCorrupt, and Decode allocates no more than the block's point
// count (at most MaxCount) and body length (at most MaxBodyLen) justify. On
// error c's contents are unspecified.
func (d *Decoder) Decode(c *Column, src []byte) error {
	h, body, err := d.open(src)
	if err != nil {
		return err
	}
	return d.decodeBody(c, body, &h)
}

// decodeBody decodes all of an opened block's body into c: Decode's work
// after the header, shared with DecodeRange.
func (d *Decoder) decodeBody(c *Column, body []byte, h *rawHeader) error {
	c.Reset(h.Type)
	c.Times = grow(c.Times, h.Count)
	off, err := d.decodeTimes(c.Times, body, h)
	if err != nil {
		return err
	}
	return d.decodeValues(c, body[off:], h)
}

// open parses block src's header and returns it with the uncompressed body:
// what every decode, whole or partial, starts with.
func (d *Decoder) open(src []byte) (rawHeader, []byte, error) {
	h, err := parseHeader(src)
	if err != nil {
		return h, nil, err
	}
	body, err := d.loadBody(&h)
	return h, body, err
}

// decodeValues decodes a body's value section, rest, into c's value slice
// for h's type; the section must take all of rest. Decode and DecodeValues
// share it.
func (d *Decoder) decodeValues(c *Column, rest []byte, h *rawHeader) error {
	n := h.Count
	enc, scale := h.flags>>encShift&encMask, uint(h.flags>>scaleShift)
	if scale != 0 && !(h.Type == Float && enc == encFloatDecimal) {
		return corruptf("decimal scale %d on a %s block with encoding %d", scale, h.Type, enc)
	}
	var used int
	var err error
	switch h.Type {
	case Float:
		c.Floats = grow(c.Floats, n)
		used, err = d.decodeFloats(c.Floats, rest, h, enc, scale)
	case Integer:
		c.Ints = grow(c.Ints, n)
		used, err = d.decodeInts(c.Ints, rest, h, enc)
	case Unsigned:
		c.Uints = grow(c.Uints, n)
		used, err = d.decodeUints(c.Uints, rest, h, enc)
	case Boolean:
		c.Bools = grow(c.Bools, n)
		used, err = decodeBools(c.Bools, rest, enc)
	case String:
		used, err = decodeStrings(c, rest, n, enc)
	}
	if err != nil {
		return err
	}
	if used != len(rest) {
		return corruptf("%d trailing body bytes", len(rest)-used)
	}
	return nil
}

// loadBody puts the uncompressed body into d.body and returns it; its
// capacity extends readSlack zero bytes past its length.
func (d *Decoder) loadBody(h *rawHeader) ([]byte, error) {
	need := h.bodyLen + readSlack
	if cap(d.body) < need {
		d.body = make([]byte, 0, need)
	}
	buf := d.body[:0]
	if h.flags&flagZstd == 0 {
		buf = append(buf, h.payload...)
	} else {
		var zh zstd.Header
		if err := zh.Decode(h.payload); err != nil {
			return nil, corruptf("zstd frame header: %v", err)
		}
		// zstd omits the content size from frames of a few bytes; when it is
		// present it must agree with the header.
		if zh.HasFCS && zh.FrameContentSize != uint64(h.bodyLen) {
			return nil, corruptf("zstd frame holds %d bytes, header says %d", zh.FrameContentSize, h.bodyLen)
		}
		// The cap limit stops DecodeAll at cap(buf) bytes whatever the frame
		// claims, so a hostile frame cannot grow the buffer.
		var err error
		buf, err = zstdDecoder().DecodeAll(h.payload, buf[:0:need])
		if err != nil {
			return nil, corruptf("zstd: %v", err)
		}
		if len(buf) != h.bodyLen {
			return nil, corruptf("zstd body is %d bytes, header says %d", len(buf), h.bodyLen)
		}
	}
	if cap(buf) < need {
		// DecodeAll is documented to stay within cap(dst) under the cap
		// limit; do not let the slack guarantee depend on that.
		buf = append(make([]byte, 0, need), buf...)
	}
	clear(buf[len(buf):need])
	d.body = buf
	return buf, nil
}

// decodeTimes is appendTimes' inverse. It checks that the timestamps rise
// strictly and end at MaxTime, and returns the body bytes consumed.
func (d *Decoder) decodeTimes(ts []int64, body []byte, h *rawHeader) (int, error) {
	n := len(ts)
	t := h.MinTime
	ts[0] = t
	if n == 1 {
		return 0, nil
	}
	delta, off := binary.Uvarint(body)
	if off <= 0 {
		return 0, corruptf("truncated first time delta")
	}
	if next := int64(uint64(t) + delta); next > t {
		t = next
	} else {
		return 0, corruptf("time delta %d overflows from %d", delta, t)
	}
	ts[1] = t
	mark := byte(timesPacked)
	if n > 2 && h.Version >= 2 {
		if off >= len(body) {
			return 0, corruptf("truncated times mark")
		}
		mark = body[off]
		off++
	}
	switch {
	case n == 2:
	case mark == timesRegular:
		// MinTime + (n-1)·delta must be MaxTime, which the header keeps
		// within int64: so every timestamp in between is too, and they
		// rise by delta ≥ 1.
		hi, lo := bits.Mul64(delta, uint64(n-1))
		if hi != 0 || lo != uint64(h.MaxTime)-uint64(h.MinTime) {
			return 0, corruptf("%d regular intervals of %d do not span %d", n-1, delta, uint64(h.MaxTime)-uint64(h.MinTime))
		}
		for i := 2; i < n; i++ {
			t += int64(delta)
			ts[i] = t
		}
	case mark == timesPacked:
		u := grow(d.u, n-2)
		d.u = u
		k := unpack(u, body[off:])
		if k < 0 {
			return 0, corruptf("malformed packed timestamps")
		}
		off += k
		for i, z := range u {
			delta += uint64(unzigzag(z))
			next := int64(uint64(t) + delta)
			if next <= t {
				return 0, corruptf("timestamp %d not after %d at index %d", next, t, i+2)
			}
			ts[i+2] = next
			t = next
		}
	default:
		return 0, corruptf("unknown times mark %d", mark)
	}
	if t != h.MaxTime {
		return 0, corruptf("last timestamp %d, header says %d", t, h.MaxTime)
	}
	return off, nil
}

func (d *Decoder) decodeFloats(vs []float64, body []byte, h *rawHeader, enc byte, scale uint) (int, error) {
	n := len(vs)
	vs[0] = h.FFirst
	if n == 1 {
		return 0, nil
	}
	var used int
	switch enc {
	case encFloatXOR:
		if !decodeXOR(vs, body[:len(body)+readSlack], len(body)) {
			return 0, corruptf("malformed XOR floats")
		}
		used = len(body)
	case encFloatDecimal:
		u := grow(d.u, n-1)
		d.u = u
		used = unpack(u, body)
		if used < 0 {
			return 0, corruptf("malformed packed decimals")
		}
		m := mantissa(h.FFirst, scale)
		p := pow10[scale]
		for i, z := range u {
			m += unzigzag(z)
			vs[i+1] = float64(m) / p
		}
	default:
		return 0, corruptf("unknown float encoding %d", enc)
	}
	if math.Float64bits(vs[n-1]) != math.Float64bits(h.FLast) {
		return 0, corruptf("last float %v, header says %v", vs[n-1], h.FLast)
	}
	return used, nil
}

func (d *Decoder) decodeInts(vs []int64, body []byte, h *rawHeader, enc byte) (int, error) {
	n := len(vs)
	vs[0] = h.IFirst
	if n == 1 {
		return 0, nil
	}
	var used int
	switch enc {
	case encIntDelta:
		u := grow(d.u, n-1)
		d.u = u
		used = unpack(u, body)
		if used < 0 {
			return 0, corruptf("malformed packed integers")
		}
		v := vs[0]
		for i, z := range u {
			v += unzigzag(z)
			vs[i+1] = v
		}
	case encIntFSE:
		if h.Version < 2 {
			return 0, corruptf("integer encoding %d in a version %d block", enc, h.Version)
		}
		used = d.decodeFSEInts(vs, body)
		if used < 0 {
			return 0, corruptf("malformed FSE integers")
		}
	case encIntDoD:
		delta, k := binary.Varint(body)
		if k <= 0 || n < 3 {
			return 0, corruptf("malformed first integer delta")
		}
		u := grow(d.u, n-2)
		d.u = u
		used = unpack(u, body[k:])
		if used < 0 {
			return 0, corruptf("malformed packed integers")
		}
		used += k
		v := vs[0] + delta
		vs[1] = v
		for i, z := range u {
			delta += unzigzag(z)
			v += delta
			vs[i+2] = v
		}
	default:
		return 0, corruptf("unknown integer encoding %d", enc)
	}
	if vs[n-1] != h.ILast {
		return 0, corruptf("last integer %d, header says %d", vs[n-1], h.ILast)
	}
	return used, nil
}

func (d *Decoder) decodeUints(vs []uint64, body []byte, h *rawHeader, enc byte) (int, error) {
	n := len(vs)
	vs[0] = h.UFirst
	if n == 1 {
		return 0, nil
	}
	if enc != encUintDelta {
		return 0, corruptf("unknown unsigned encoding %d", enc)
	}
	u := grow(d.u, n-1)
	d.u = u
	used := unpack(u, body)
	if used < 0 {
		return 0, corruptf("malformed packed unsigned integers")
	}
	v := vs[0]
	for i, z := range u {
		v += uint64(unzigzag(z))
		vs[i+1] = v
	}
	if v != h.ULast {
		return 0, corruptf("last unsigned %d, header says %d", v, h.ULast)
	}
	return used, nil
}

func decodeBools(vs []bool, body []byte, enc byte) (int, error) {
	if enc != encBoolBitmap {
		return 0, corruptf("unknown boolean encoding %d", enc)
	}
	n := len(vs)
	size := (n + 7) / 8
	if len(body) < size {
		return 0, corruptf("boolean bitmap needs %d bytes, has %d", size, len(body))
	}
	for i := range vs {
		vs[i] = body[i>>3]>>(i&7)&1 != 0
	}
	if n&7 != 0 && body[size-1]>>(n&7) != 0 {
		return 0, corruptf("boolean bitmap padding not zero")
	}
	return size, nil
}

// decodeStrings copies the string section into c.strBuf once and points each
// string into it.
func decodeStrings(c *Column, body []byte, n int, enc byte) (int, error) {
	if enc != encStringPlain {
		return 0, corruptf("unknown string encoding %d", enc)
	}
	c.strBuf = append(c.strBuf[:0], body...)
	buf := c.strBuf
	c.Strings = grow(c.Strings, n)
	off := 0
	for i := range c.Strings {
		l, k := binary.Uvarint(buf[off:])
		if k <= 0 {
			return 0, corruptf("malformed length of string %d", i)
		}
		off += k
		if l > uint64(len(buf)-off) {
			return 0, corruptf("string %d of %d bytes overruns the body", i, l)
		}
		end := off + int(l)
		c.Strings[i] = buf[off:end:end]
		off = end
	}
	return off, nil
}

package block

import (
	"encoding/binary"
	"math"
	"math/bits"
)

// The XOR float encoding follows Gorilla (Pelkonen et al., VLDB 2015): each
// value is XORed with its predecessor and only the meaningful bits between the
// leading and trailing zeros are stored, reusing the previous window when the
// new bits fit in it. Unlike Gorilla the leading-zero count gets 6 bits, so no
// window is ever widened artificially, and the first value is not in the body
// at all: it is FFirst in the header. Control codes, most significant first:
//
//	0                      value equals the previous one
//	1 0 <bits>             meaningful bits fit the previous window
//	1 1 <lead:6> <len-1:6> <bits>   a new window
//
// Bits are written most significant first into bytes, and the stream is
// padded with zero bits to a whole byte.

// bitWriter appends bits to a byte slice through a 64-bit accumulator.
type bitWriter struct {
	dst []byte
	acc uint64 // pending bits, left-aligned
	n   uint   // number of pending bits
}

// write appends the low nb (<= 64) bits of v.
func (w *bitWriter) write(v uint64, nb uint) {
	if nb == 0 {
		return
	}
	if nb < 64 {
		v &= 1<<nb - 1
	}
	free := 64 - w.n
	if nb <= free {
		w.acc |= v << (free - nb)
		w.n += nb
		if w.n == 64 {
			w.dst = binary.BigEndian.AppendUint64(w.dst, w.acc)
			w.acc, w.n = 0, 0
		}
		return
	}
	rest := nb - free
	w.acc |= v >> rest
	w.dst = binary.BigEndian.AppendUint64(w.dst, w.acc)
	w.acc = v << (64 - rest)
	w.n = rest
}

func (w *bitWriter) flush() []byte {
	for ; w.n > 0; w.n -= min(w.n, 8) {
		w.dst = append(w.dst, byte(w.acc>>56))
		w.acc <<= 8
	}
	return w.dst
}

// bitReader reads bits written by bitWriter from a buffer followed by at
// least readSlack readable bytes, so every read is two loads and no loop.
// Reading past the logical end sets bad instead of panicking; callers check it
// once per value.
type bitReader struct {
	buf    []byte
	p, end uint // bit position and logical length in bits
	bad    bool
}

// read returns the next nb (<= 64) bits.
func (r *bitReader) read(nb uint) uint64 {
	if nb == 0 {
		return 0
	}
	if r.end-r.p < nb {
		r.bad = true
		r.p = r.end
		return 0
	}
	b, s := r.p>>3, r.p&7
	v := binary.BigEndian.Uint64(r.buf[b:]) << s
	if s != 0 {
		v |= uint64(r.buf[b+8]) >> (8 - s)
	}
	r.p += nb
	return v >> (64 - nb)
}

// clean reports whether only zero padding, less than a byte, is left.
func (r *bitReader) clean() bool {
	left := r.end - r.p
	return !r.bad && left < 8 && r.read(left) == 0
}

// xorLen returns the number of bytes appendXOR would add for vs[1:].
func xorLen(vs []float64) int {
	nbits := 0
	prev := math.Float64bits(vs[0])
	lead, trail := uint(64), uint(64) // no window yet
	for _, f := range vs[1:] {
		cur := math.Float64bits(f)
		x := cur ^ prev
		prev = cur
		if x == 0 {
			nbits++
			continue
		}
		l, t := uint(bits.LeadingZeros64(x)), uint(bits.TrailingZeros64(x))
		if lead != 64 && l >= lead && t >= trail {
			nbits += 2 + int(64-lead-trail)
			continue
		}
		lead, trail = l, t
		nbits += 2 + 12 + int(64-l-t)
	}
	return (nbits + 7) / 8
}

// appendXOR appends the XOR encoding of vs[1:] (vs[0] is in the header).
func appendXOR(dst []byte, vs []float64) []byte {
	w := bitWriter{dst: dst}
	prev := math.Float64bits(vs[0])
	lead, trail := uint(64), uint(64)
	for _, f := range vs[1:] {
		cur := math.Float64bits(f)
		x := cur ^ prev
		prev = cur
		if x == 0 {
			w.write(0, 1)
			continue
		}
		l, t := uint(bits.LeadingZeros64(x)), uint(bits.TrailingZeros64(x))
		if lead != 64 && l >= lead && t >= trail {
			w.write(0b10, 2)
			w.write(x>>trail, 64-lead-trail)
			continue
		}
		lead, trail = l, t
		sig := 64 - l - t
		w.write(0b11, 2)
		w.write(uint64(l)<<6|uint64(sig-1), 12)
		w.write(x>>t, sig)
	}
	return w.flush()
}

// decodeXOR fills out[1:] from the first n bytes of buf given out[0]; buf
// must have readSlack bytes past n. It reports false if the stream is
// malformed, too short, or has bits left over.
func decodeXOR(out []float64, buf []byte, n int) bool {
	r := bitReader{buf: buf, end: uint(n) * 8}
	prev := math.Float64bits(out[0])
	lead, trail := uint(64), uint(64)
	for i := 1; i < len(out); i++ {
		if r.read(1) == 0 {
			out[i] = math.Float64frombits(prev)
			continue
		}
		if r.read(1) == 1 {
			hdr := r.read(12)
			l, sig := uint(hdr>>6), uint(hdr&63)+1
			if l+sig > 64 {
				return false
			}
			lead, trail = l, 64-l-sig
		} else if lead == 64 {
			return false // reuse of a window that was never opened
		}
		prev ^= r.read(64-lead-trail) << trail
		if r.bad {
			return false
		}
		out[i] = math.Float64frombits(prev)
	}
	return r.clean()
}

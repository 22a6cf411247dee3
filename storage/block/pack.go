package block

import (
	"encoding/binary"
	"math/bits"
)

// groupLen is how many integers share one bit width. 128 keeps the width byte
// at 1/16 bit per value while still adapting to local bursts (a gap in a time
// series, a counter reset) within 128 points instead of a whole block.
const groupLen = 128

// readSlack is the zeroed tail the decoder keeps after a body so unpack can
// always load 8 bytes plus one more without a bounds branch per value.
const readSlack = 16

func zigzag(v int64) uint64   { return uint64(v<<1) ^ uint64(v>>63) }
func unzigzag(u uint64) int64 { return int64(u>>1) ^ -int64(u&1) }

// packedLen returns the size pack would produce for vs.
func packedLen(vs []uint64) int {
	n := 0
	for len(vs) > 0 {
		k := min(len(vs), groupLen)
		var or uint64
		for _, v := range vs[:k] {
			or |= v
		}
		n += 1 + (k*bits.Len64(or)+7)/8
		vs = vs[k:]
	}
	return n
}

// pack appends vs in groups of groupLen: a width byte w (0..64), then the
// group's values as w-bit little-endian fields, padded to a whole byte.
func pack(dst []byte, vs []uint64) []byte {
	for len(vs) > 0 {
		k := min(len(vs), groupLen)
		g := vs[:k]
		vs = vs[k:]
		var or uint64
		for _, v := range g {
			or |= v
		}
		w := uint(bits.Len64(or))
		dst = append(dst, byte(w))
		if w == 0 {
			continue
		}
		var acc uint64
		var n uint // bits held in acc
		for _, v := range g {
			acc |= v << n
			n += w
			if n >= 64 {
				dst = binary.LittleEndian.AppendUint64(dst, acc)
				n -= 64
				// Shifts by 64 yield 0 in Go, which is what n == 0 needs.
				acc = v >> (w - n)
			}
		}
		for ; n > 0; n -= min(n, 8) {
			dst = append(dst, byte(acc))
			acc >>= 8
		}
	}
	return dst
}

// unpack reads len(out) values written by pack from src, which must be
// followed by at least readSlack readable bytes past its length (the Decoder's
// body buffer guarantees this). It returns the bytes consumed, or -1 if src is
// too short or a width is out of range.
func unpack(out []uint64, src []byte) int {
	off := 0
	for len(out) > 0 {
		k := min(len(out), groupLen)
		g := out[:k]
		out = out[k:]
		if off >= len(src) {
			return -1
		}
		w := int(src[off])
		off++
		if w > 64 {
			return -1
		}
		size := (k*w + 7) / 8
		if size > len(src)-off {
			return -1
		}
		unpackGroup(g, src[off:off+size+readSlack], uint(w))
		off += size
	}
	return off
}

// unpackGroup decodes len(g) w-bit fields from buf, which holds them plus
// readSlack bytes.
func unpackGroup(g []uint64, buf []byte, w uint) {
	switch w {
	case 0:
		clear(g)
		return
	case 8:
		for i := range g {
			g[i] = uint64(buf[i])
		}
		return
	case 16:
		for i := range g {
			g[i] = uint64(binary.LittleEndian.Uint16(buf[2*i:]))
		}
		return
	case 32:
		for i := range g {
			g[i] = uint64(binary.LittleEndian.Uint32(buf[4*i:]))
		}
		return
	case 64:
		for i := range g {
			g[i] = binary.LittleEndian.Uint64(buf[8*i:])
		}
		return
	}
	mask := uint64(1)<<w - 1
	if w <= 56 {
		// A field starting at bit s (< 8) of a byte ends within the next 8
		// bytes whenever s+w <= 64.
		p := uint(0)
		for i := range g {
			g[i] = binary.LittleEndian.Uint64(buf[p>>3:]) >> (p & 7) & mask
			p += w
		}
		return
	}
	p := uint(0)
	for i := range g {
		b, s := p>>3, p&7
		v := binary.LittleEndian.Uint64(buf[b:]) >> s
		if s != 0 {
			v |= uint64(buf[b+8]) << (64 - s)
		}
		g[i] = v & mask
		p += w
	}
}

// groupsLen is the least number of bytes pack can produce for n values: one
// width byte per group.
func groupsLen(n int) int { return (n + groupLen - 1) / groupLen }

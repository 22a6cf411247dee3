package block

import (
	"encoding/binary"

	"github.com/klauspost/compress/fse"
)

// Gauges stored as integers (TSBS writes its cpu fields as integers: a random
// walk in unit steps) have deltas of a few distinct sizes with very unequal
// frequencies: 0 in 38 % of steps, ±1 in 24 % each, ±2 in 7 %. Bit packing
// spends a whole 3-bit field on each, and Huffman coding the packed bytes
// reaches 2.75 bits per value against 2.15 bits of entropy. Huffman codes
// cost at least one bit per symbol and round every probability to a power of
// two; tANS (finite state entropy, klauspost/compress/fse) codes each
// symbol in fractional bits, within a fraction of a percent of the entropy
// plus a table of about a dozen bytes.
//
// The FSE section codes one byte per delta: zigzag(delta) itself when it is
// below fseEscape, else fseEscape, with zigzag(delta) − fseEscape stored as a
// uvarint after the coded stream, in order. Blocks with many large deltas
// (counters) are escapes throughout and pack smaller, so the encoder keeps
// this section only when it is smaller than the packed ones.

// fseEscape is the symbol that stands for a delta whose zigzag value does not
// fit below it.
const fseEscape = 255

// fseMinDeltas is the fewest deltas worth a table: below a few dozen, the
// table (4 bits of table log and a count per symbol) outweighs what
// fractional bits save over packing.
const fseMinDeltas = 64

// appendFSE appends the FSE section for zs (zigzag deltas), or returns
// ok=false when FSE cannot code them (a single repeated symbol, or symbols
// too evenly spread to compress).
func (e *Encoder) appendFSE(dst []byte, zs []uint64) (_ []byte, ok bool) {
	if len(zs) < fseMinDeltas {
		return dst, false
	}
	e.sym = grow(e.sym, len(zs))
	escapes := 0
	for i, z := range zs {
		if z >= fseEscape {
			e.sym[i] = fseEscape
			escapes++
		} else {
			e.sym[i] = byte(z)
		}
	}
	e.fse.Out = e.fse.Out[:0]
	coded, err := fse.Compress(e.sym, &e.fse)
	if err != nil {
		return dst, false
	}
	dst = binary.AppendUvarint(dst, uint64(len(coded)))
	dst = append(dst, coded...)
	if escapes > 0 {
		for _, z := range zs {
			if z >= fseEscape {
				dst = binary.AppendUvarint(dst, z-fseEscape)
			}
		}
	}
	return dst, true
}

// decodeFSE is appendFSE's inverse: it fills out with the zigzag deltas and
// returns the bytes of src consumed, or -1 if src is not a valid section for
// len(out) deltas. The coded stream may only produce exactly len(out)
// symbols; the decoder stops it a table's worth past that, so a hostile
// stream cannot make it allocate more.
func (d *Decoder) decodeFSE(out []uint64, src []byte) int {
	l, k := binary.Uvarint(src)
	if k <= 0 || l > uint64(len(src)-k) || l < 2 {
		return -1
	}
	coded := src[k : k+int(l)]
	off := k + int(l)
	n := len(out)
	if cap(d.fse.Out) < n+fseSlack {
		d.fse.Out = make([]byte, 0, n+fseSlack)
	}
	d.fse.Out = d.fse.Out[:0]
	d.fse.DecompressLimit = n + 1
	syms, err := fse.Decompress(coded, &d.fse)
	if err != nil || len(syms) != n {
		return -1
	}
	for i, s := range syms {
		if s != fseEscape {
			out[i] = uint64(s)
			continue
		}
		x, k := binary.Uvarint(src[off:])
		if k <= 0 || x > ^uint64(0)-fseEscape {
			return -1
		}
		out[i] = x + fseEscape
		off += k
	}
	return off
}

// fseSlack is how far past the expected symbol count fse.Decompress may run
// before it checks its limit (it appends 256 symbols at a time).
const fseSlack = 512

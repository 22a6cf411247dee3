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

// fseTableLog is the largest table the encoder builds, 2^8 states (fse
// raises it when more distinct symbols need it, and lowers it for short
// inputs). On the 2,000 blocks of the TSBS day, tables of 2^8 to 2^11
// states coded within 0.1 % of each other (2^7: +0.3 %), but the decoder
// builds its table for every block, and at 4,320 points a block that costs
// as much as decoding a fifth of the symbols at 2^9: 2^8 decodes the 8,640
// point benchmark block in 3 % fewer instructions than 2^9.
const fseTableLog = 8

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
	e.fse.TableLog = fseTableLog
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

// decodeFSEInts is appendFSE's inverse for integers: it rebuilds vs[1:]
// from vs[0] and the zigzag deltas of the FSE section at the start of src,
// and returns the bytes of src consumed, or -1 if src is not a valid section
// for len(vs)-1 deltas. The coded stream may only produce exactly that many
// symbols; the decoder stops it a table's worth past that, so a hostile
// stream cannot make it allocate more.
func (d *Decoder) decodeFSEInts(vs []int64, src []byte) int {
	syms, off := d.fseSymbols(src, len(vs)-1)
	if off < 0 {
		return -1
	}
	v := vs[0]
	out := vs[1:]
	out = out[:len(syms)] // one bounds check for the loop
	for i, s := range syms {
		if s != fseEscape {
			v += fseDeltas[s]
			out[i] = v
			continue
		}
		x, k := binary.Uvarint(src[off:])
		if k <= 0 || x > ^uint64(0)-fseEscape {
			return -1
		}
		off += k
		v += unzigzag(x + fseEscape)
		out[i] = v
	}
	return off
}

// fseDeltas maps each symbol below fseEscape to its delta (the unzigzag),
// saving the arithmetic per value in the decoder's loop; a byte indexes it
// without a bounds check.
var fseDeltas = func() (t [256]int64) {
	for i := range fseEscape {
		t[i] = unzigzag(uint64(i))
	}
	return t
}()

// fseSymbols decodes the length-prefixed FSE stream at the start of src,
// which must hold exactly n symbols, and returns them with the offset of the
// escapes after the stream, or -1.
func (d *Decoder) fseSymbols(src []byte, n int) ([]byte, int) {
	l, k := binary.Uvarint(src)
	if k <= 0 || l > uint64(len(src)-k) || l < 2 {
		return nil, -1
	}
	coded := src[k : k+int(l)]
	if cap(d.fse.Out) < n+fseSlack {
		d.fse.Out = make([]byte, 0, n+fseSlack)
	}
	d.fse.Out = d.fse.Out[:0]
	d.fse.DecompressLimit = n + 1
	syms, err := fse.Decompress(coded, &d.fse)
	if err != nil || len(syms) != n {
		return nil, -1
	}
	return syms, k + int(l)
}

// fseSlack is how far past the expected symbol count fse.Decompress may run
// before it checks its limit (it appends 256 symbols at a time).
const fseSlack = 512

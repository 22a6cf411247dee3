package block

import (
	"encoding/binary"
	"math/bits"
)

// A query over one hour of a 12-hour block needs the block's first values up
// to the hour's end, not all 4,320: the FSE stream emits its symbols in time
// order (the encoder codes them backwards), so decoding can stop after the
// last one the range needs. fse.Decompress has no such stop, and it is half
// the CPU of TSBS's 8-host one-hour queries; fsePrefix is Strata's own
// decoder for the first k symbols of a stream in the format of
// docs/format/block.md ("FSE integers"). The whole-block decode keeps
// fse.Decompress and its check that the stream yields exactly m symbols; a
// prefix cannot check what it does not read, the block's CRC having vouched
// for those bytes (as DecodeValues trusts the times it skips).

// fseCell is one state of a decoding table: the symbol it emits, and the
// next state, base plus the nbBits read after emitting.
type fseCell struct {
	base   uint16
	sym    byte
	nbBits uint8
}

// fseMaxLog is the largest accuracy log a table description may give
// (RFC 8878 §4.1.1); the encoder writes at most fseTableLog, raised only
// when more distinct symbols need it.
const fseMaxLog = 15

// fsePrefix decodes the first k symbols of the length-prefixed FSE section
// at the start of src into d.sym and returns them with the offset of the
// section's escapes. src must extend readSlack bytes past the body (the
// bit reader loads 8 bytes at a time). k must be at most m−2 for a stream
// of m symbols: the last two are the decoders' final states, emitted with
// no bits after them, which only a decoder that knows m can stop at. It
// returns ok=false when the section's structure is invalid (a table
// description that does not describe a table, or bits running out).
func (d *Decoder) fsePrefix(src []byte, k int) (syms []byte, escapes int, ok bool) {
	s, ok := d.fseOpen(src)
	if !ok {
		return nil, 0, false
	}
	out := grow(d.sym, k)
	d.sym = out
	if _, ok := fseRun(d.ftab, src[s.bits:], s.start, out); !ok {
		return nil, 0, false
	}
	return out, s.escapes, true
}

// fseSection is an opened FSE section: where its bitstream and escapes
// start in the section's bytes, and the decoders' state before the first
// symbol. Its table is in Decoder.ftab.
type fseSection struct {
	bits, escapes int
	start         fseState
}

// fseState is where decoding stands before an even-numbered symbol: p
// counts the unread bits below the stream's end mark (reading takes the
// highest nb of them: the stream is read backwards), s1 and s2 are the two
// interleaved decoders' states. Decoding resumes from it exactly.
type fseState struct {
	p      int32
	s1, s2 uint16
}

// fseOpen reads the length, the table description (building the table in
// d.ftab) and the initial states of the FSE section at the start of src,
// which must extend readSlack bytes past the body.
func (d *Decoder) fseOpen(src []byte) (fseSection, bool) {
	avail := len(src) - readSlack
	l, n := binary.Uvarint(src[:avail])
	if n <= 0 || l > uint64(avail-n) || l < 2 {
		return fseSection{}, false
	}
	stream := src[n : n+int(l)+readSlack]
	log, hdr, ok := d.fseTable(stream[:l])
	if !ok || hdr >= int(l) {
		return fseSection{}, false
	}
	bs := stream[hdr:]
	last := bs[int(l)-hdr-1]
	if last == 0 {
		return fseSection{}, false
	}
	// Each pair of states reads at most 2·15 bits, so one 8-byte load ending
	// at or above p serves both: w holds the bits from q·8 up, q·8 ≥ p−64.
	p := (int(l)-hdr-1)*8 + bits.Len8(last) - 1
	q := max(p-57, 0) >> 3
	w := binary.LittleEndian.Uint64(bs[q:])
	p -= 2 * int(log)
	lmask := uint64(1)<<log - 1
	s1 := uint16(w >> uint(p+int(log)-q*8) & lmask)
	s2 := uint16(w >> uint(p-q*8) & lmask)
	return fseSection{bits: n + hdr, escapes: n + int(l), start: fseState{p: int32(p), s1: s1, s2: s2}}, true
}

// fseRun decodes len(out) symbols from state st of bitstream bs (extending
// readSlack bytes past the stream) with table t, and returns the state
// after them (valid to resume from when len(out) is even; after an odd
// count, s1 has moved and s2 is next). A stream that
// runs out drives p below 0 (the shift then yields 0 bits, the states stay
// inside the table) and is refused (ok=false) at the end.
func fseRun(t []fseCell, bs []byte, st fseState, out []byte) (_ fseState, ok bool) {
	p, s1, s2 := int(st.p), st.s1, st.s2
	k := len(out)
	i := 0
	for ; i+1 < k; i += 2 {
		q := max(p-57, 0) >> 3
		w := binary.LittleEndian.Uint64(bs[q:])
		c := t[s1]
		out[i] = c.sym
		p -= int(c.nbBits)
		s1 = c.base + uint16(w>>uint(p-q*8)&(1<<c.nbBits-1))
		c = t[s2]
		out[i+1] = c.sym
		p -= int(c.nbBits)
		s2 = c.base + uint16(w>>uint(p-q*8)&(1<<c.nbBits-1))
	}
	if i < k {
		// The state after the last symbol must exist too.
		q := max(p-57, 0) >> 3
		w := binary.LittleEndian.Uint64(bs[q:])
		c := t[s1]
		out[i] = c.sym
		p -= int(c.nbBits)
		s1 = c.base + uint16(w>>uint(p-q*8)&(1<<c.nbBits-1))
	}
	return fseState{p: int32(p), s1: s1, s2: s2}, p >= 0
}

// fseTable reads the table description at the start of src (RFC 8878
// §4.1.1: 4 bits of accuracy log − 5, then the normalized counts, each in
// as many bits as the remaining total needs, a count of zero followed by
// 2-bit repeat flags), builds the decoding table in d.ftab, and returns its
// accuracy log and the description's length in bytes.
func (d *Decoder) fseTable(src []byte) (log uint8, used int, ok bool) {
	var norm [256]int16
	var r fwdBits
	r.b = src
	log = uint8(r.take(4)) + 5
	if log > fseMaxLog {
		return 0, 0, false
	}
	size := 1 << log
	remaining, threshold := size+1, size
	nb := uint(log) + 1 // bits of the next count: log2(threshold)+1
	nsym := 0
	for remaining > 1 {
		if nsym > 255 {
			return 0, 0, false
		}
		lim := 2*threshold - 1 - remaining // counts below it take nb−1 bits
		var count int
		if low := int(r.peek(nb-1)) & (threshold - 1); low < lim {
			count = low
			r.skip(nb - 1)
		} else {
			count = int(r.peek(nb)) & (2*threshold - 1)
			if count >= threshold {
				count -= lim
			}
			r.skip(nb)
		}
		prob := count - 1 // −1: "less than 1", a state of its own
		remaining -= max(prob, -prob)
		if remaining < 1 {
			return 0, 0, false
		}
		norm[nsym] = int16(prob)
		nsym++
		if prob == 0 {
			for {
				rep := int(r.take(2))
				if nsym+rep > 256 {
					return 0, 0, false
				}
				nsym += rep // norm is zero already
				if rep != 3 {
					break
				}
			}
		}
		for remaining < threshold {
			nb--
			threshold >>= 1
		}
	}
	used = int((r.pos + 7) / 8)
	if nsym < 2 || used > len(src) {
		return 0, 0, false
	}
	return log, used, d.buildTable(&norm, nsym, log)
}

// buildTable spreads the symbols of norm over a table of 2^log states as
// RFC 8878 §4.1.1 describes and fills in each state's successor.
func (d *Decoder) buildTable(norm *[256]int16, nsym int, log uint8) bool {
	size := 1 << log
	if cap(d.ftab) < size {
		d.ftab = make([]fseCell, size)
	}
	t := d.ftab[:size]
	d.ftab = t
	var next [256]uint16
	high := size - 1
	for s, v := range norm[:nsym] {
		if v == -1 {
			t[high].sym = byte(s)
			high--
			next[s] = 1
		} else {
			next[s] = uint16(v)
		}
	}
	step, mask := size>>1+size>>3+3, size-1 // step is odd: it visits every state
	pos := 0
	for s, v := range norm[:nsym] {
		for range max(v, 0) {
			t[pos].sym = byte(s)
			pos = (pos + step) & mask
			for pos > high {
				pos = (pos + step) & mask
			}
		}
	}
	if pos != 0 {
		return false // the counts do not fill the table
	}
	for u := range t {
		s := t[u].sym
		ns := next[s]
		next[s]++
		nb := log - uint8(bits.Len16(ns)-1)
		t[u].nbBits = nb
		t[u].base = ns<<nb - uint16(size)
	}
	return true
}

// fwdBits reads a little-endian bit string from its start (the table
// description's order); past the end it reads zeros, and pos tells how far
// it went.
type fwdBits struct {
	b   []byte
	pos uint
}

func (r *fwdBits) peek(n uint) uint64 {
	var w uint64
	i := int(r.pos >> 3)
	for k := 0; k < 4 && i+k < len(r.b); k++ {
		w |= uint64(r.b[i+k]) << (8 * k)
	}
	return w >> (r.pos & 7) & (1<<n - 1)
}

func (r *fwdBits) skip(n uint) { r.pos += n }

func (r *fwdBits) take(n uint) uint64 {
	v := r.peek(n)
	r.skip(n)
	return v
}

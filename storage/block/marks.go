package block

import (
	"encoding/binary"
)

// Marks: a one-hour query over a 12-hour block of FSE integers decodes the
// block's values from its first row up to the hour's end (fsePrefix), on
// average half the block to keep a twelfth of it, and builds the block's
// decoding table each time. The stream cannot be entered in the middle
// without the decoders' state there, which the format does not store (a
// backward second stream or stored checkpoints would cost bytes per block,
// over the 1.1× entropy budget). Marks are that state, taken while
// decoding: every markEvery symbols the two decoders' states, the bit
// position, the value reached and the offset of the next escape, with a
// copy of the table. A later decode of the same block starts at the last
// mark before its range instead of at row 0. They are derived data, kept
// by the caller (storage's bounded cache), never written.

// markEvery is the number of symbols between marks. A decode starts on
// average markEvery/2 symbols before its range; a one-hour range is 360
// rows. At 256 a 4,320-point block has 16 marks (400 bytes with the 1 KiB
// table of a 2^8 state log), and a decode wastes 128 symbols on average.
// It must be even: a mark is a state before an even symbol (fseState).
const markEvery = 256

// Marks are resume points into one block's FSE integer stream. They are
// immutable once returned: DecodeRangeMarked returns new Marks when it
// adds some, so Marks may be shared between goroutines.
type Marks struct {
	crc  uint32    // the block's checksum: Marks of another block are ignored
	bits int       // offset of the bitstream in the value section
	tab  []fseCell // the decoding table
	at   []mark    // at[k]: before symbol k·markEvery; at[0] is the stream's start
	// scratch marks are a Decoder's own, for a decode that keeps none
	// (DecodeRange): their table is the decoder's, and none are added.
	scratch bool
}

// mark is the decoding state before symbol k·markEvery: the row value
// reached (row k·markEvery's) and where the next escape is in the value
// section.
type mark struct {
	fseState
	esc int32
	v   int64
}

// Bytes is the memory the marks hold, for a cache's budget.
func (m *Marks) Bytes() int64 {
	const fixed = 64 // the struct and slice headers
	const cell, markSize = 4, 24
	return fixed + int64(cap(m.tab))*cell + int64(cap(m.at))*markSize
}

// DecodeRangeMarked is DecodeRange starting from marks m of the same block
// when it has them (m may be nil, or another block's: then ignored). It
// returns the marks to keep for this block: m when it added none, new Marks
// when it did, nil when the block's encoding has no use for marks (not FSE
// integers, or a range that decodes the whole block).
func (d *Decoder) DecodeRangeMarked(c *Column, src []byte, min, max int64, m *Marks) (*Marks, error) {
	h, body, err := d.open(src)
	if err != nil {
		return nil, err
	}
	if min <= h.MinTime && max >= h.MaxTime || h.Type != Integer || h.flags>>encShift&encMask != encIntFSE || h.flags>>scaleShift != 0 || h.Version < 2 {
		return nil, d.rangeBody(c, body, &h, min, max)
	}
	c.Reset(h.Type)
	i, j, off, err := d.rangeTimes(c, body, &h, min, max)
	if err != nil {
		return nil, err
	}
	crc := binary.LittleEndian.Uint32(src[len(src)-trailerLen:])
	if m != nil && m.crc != crc {
		m = nil
	}
	if m == nil {
		m = &Marks{crc: crc}
	}
	if m, err = d.rangeFSEInts(c, body[off:], &h, i, j, m); err != nil || len(m.at) == 0 {
		return nil, err // no marks taken: the range decoded the whole block, or none of it
	}
	return m, nil
}

// openMarks opens the FSE section at the start of rest (extending
// readSlack past the body) and gives m, empty, its first mark, the stream's
// start, and the table (a copy, unless m is scratch).
func (d *Decoder) openMarks(m *Marks, rest []byte, first int64) bool {
	s, ok := d.fseOpen(rest)
	if !ok {
		return false
	}
	m.bits = s.bits
	if m.scratch {
		m.tab = d.ftab
	} else {
		m.tab = append([]fseCell(nil), d.ftab...)
	}
	m.at = append(m.at[:0], mark{fseState: s.start, esc: int32(s.escapes), v: first})
	return true
}

// decodeFrom puts rows [i, j) (0 ≤ i < j ≤ total+1, 1 < j, total the
// stream's symbols) of the integers of value section rest (extending readSlack past
// the body) into out[:j-i], decoding from the last of m's marks at or
// before row i's symbols, a segment of markEvery symbols at a time, and
// recording a mark at each segment's end that m lacks. It returns m, or m
// extended. ok=false reports a malformed stream; tailOK=false a range
// reaching the stream's last two symbols whose end did not check (the bits
// or the escapes not used up exactly), for the caller to decode the block
// whole, with the whole decode's checks.
func (d *Decoder) decodeFrom(out []int64, rest []byte, i, j, total int, m *Marks) (_ *Marks, ok, tailOK bool) {
	k := j - 1 // symbol s is the delta from row s to row s+1
	a := min(max(i-1, 0)/markEvery, len(m.at)-1)
	from := a * markEvery
	st := m.at[a]
	v, esc := st.v, int(st.esc)
	state := st.fseState
	at := m.at[:len(m.at):len(m.at)] // appending copies: m stays as others see it
	syms := grow(d.sym, max(min(k-from, markEvery), 2))
	d.sym = syms
	bs := rest[m.bits:]
	body := rest[:len(rest)-readSlack]
	if i == 0 {
		out[0] = v
	}
	// feed accumulates seg, symbols x.. (rows x+1..), storing the rows from i.
	feed := func(seg []byte, x int) bool {
		skip := min(max(i-1-x, 0), len(seg))
		if v, esc, ok = accumulate(seg[:skip], v, esc, body, nil); !ok {
			return false
		}
		if skip < len(seg) {
			dst := out[x+skip+1-i:]
			v, esc, ok = accumulate(seg[skip:], v, esc, body, dst[:len(seg)-skip])
		}
		return ok
	}
	// The last two symbols are the final states, which read no bits:
	// decoded by the segments up to the two before them.
	body2 := min(k, total-2)
	for x := from; x < body2; {
		y := min(body2, (x/markEvery+1)*markEvery)
		seg := syms[:y-x]
		if state, ok = fseRun(m.tab, bs, state, seg); !ok || !feed(seg, x) {
			return nil, false, true
		}
		if y%markEvery == 0 && y/markEvery == len(at) && !m.scratch {
			at = append(at, mark{fseState: state, esc: int32(esc), v: v})
		}
		x = y
	}
	if k > body2 {
		// As fse.Decompress ends: the decoder whose turn it is emits its
		// state's symbol, then the other; every bit is read by then.
		if body2 < from || state.p != 0 {
			return nil, true, false
		}
		first, second := m.tab[state.s1].sym, m.tab[state.s2].sym
		if body2%2 == 1 {
			first, second = second, first
		}
		seg := append(syms[:0], first, second)[:k-body2]
		if !feed(seg, body2) {
			return nil, true, false
		}
		if k == total && esc != len(body) {
			return nil, true, false
		}
	}
	if len(at) == len(m.at) {
		return m, true, true
	}
	return &Marks{crc: m.crc, bits: m.bits, tab: m.tab, at: at}, true, true
}

// accumulate applies the deltas of syms to v, escapes read from body at
// esc, storing each value reached in dst when dst is not nil (len(syms)
// values). Two loops rather than a nil check per symbol: skipping ahead to
// a range (dst nil) runs without a store or a branch for it on each symbol.
func accumulate(syms []byte, v int64, esc int, body []byte, dst []int64) (int64, int, bool) {
	if dst == nil {
		for _, s := range syms {
			if s != fseEscape {
				v += fseDeltas[s]
				continue
			}
			delta, k := escapeDelta(body[esc:])
			if k <= 0 {
				return 0, 0, false
			}
			esc += k
			v += delta
		}
		return v, esc, true
	}
	dst = dst[:len(syms)] // one bounds check for the loop
	for x, s := range syms {
		if s != fseEscape {
			v += fseDeltas[s]
			dst[x] = v
			continue
		}
		delta, k := escapeDelta(body[esc:])
		if k <= 0 {
			return 0, 0, false
		}
		esc += k
		v += delta
		dst[x] = v
	}
	return v, esc, true
}

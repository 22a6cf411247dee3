package block

import (
	"encoding/binary"
	"sort"
)

// Range decodes: a query over one hour reads blocks of twelve (the engine
// flushes a series' field per partition), and decoding all 4,320 points to
// keep 360 was half the CPU of TSBS's 8-host one-hour types (cpu profile of
// single-groupby-5-8-1, stop 22). The times of a regular section are
// arithmetic, so the rows a range needs are found without decoding any;
// the FSE values are decoded only up to the last of those rows (fseRun),
// from the block's start or from a mark before the first (marks.go), and
// accumulated without being stored before the first. A range reaching the
// block's last two rows ends as fse.Decompress does, on the final states.
// Other encodings decode the whole block and keep the rows in range.

// DecodeRange decodes the points of block src whose times lie in
// [min, max] into c: c.Times and the value slice of c.Type hold exactly
// those points, in time order (none if no point is in range). A range
// covering the block is Decode, with all its checks. Otherwise the parts of
// the body the range does not need are checked only for their structure as
// far as finding the needed parts requires, the block's CRC having vouched
// for their bytes; src is as untrusted as for Decode, and anything invalid
// that is read yields an error wrapping ErrCorrupt.
func (d *Decoder) DecodeRange(c *Column, src []byte, min, max int64) error {
	h, body, err := d.open(src)
	if err != nil {
		return err
	}
	if min <= h.MinTime && max >= h.MaxTime || h.Type != Integer || h.flags>>encShift&encMask != encIntFSE || h.flags>>scaleShift != 0 || h.Version < 2 {
		return d.rangeBody(c, body, &h, min, max)
	}
	c.Reset(h.Type)
	i, j, off, err := d.rangeTimes(c, body, &h, min, max)
	if err != nil {
		return err
	}
	d.scratch = Marks{scratch: true, at: d.scratch.at[:0]}
	_, err = d.rangeFSEInts(c, body[off:], &h, i, j, &d.scratch)
	return err
}

// rangeBody is DecodeRange for a block whose values are not FSE integers, or
// a range covering the block: the whole body decoded, the rows in range kept.
func (d *Decoder) rangeBody(c *Column, body []byte, h *rawHeader, min, max int64) error {
	if err := d.decodeBody(c, body, h); err != nil {
		return err
	}
	if min > h.MinTime || max < h.MaxTime {
		c.keepRows(searchRows(c.Times, min, max))
	}
	return nil
}

// searchRows returns the rows [i, j) of ascending ts inside [min, max].
func searchRows(ts []int64, min, max int64) (i, j int) {
	i = sort.Search(len(ts), func(k int) bool { return ts[k] >= min })
	j = i + sort.Search(len(ts)-i, func(k int) bool { return ts[i+k] > max })
	return i, j
}

// keepRows keeps rows [i, j) of c, moved to the front of its slices so
// their capacity stays for the next decode.
func (c *Column) keepRows(i, j int) {
	c.Times = c.Times[:copy(c.Times, c.Times[i:j])]
	switch c.Type {
	case Float:
		c.Floats = c.Floats[:copy(c.Floats, c.Floats[i:j])]
	case Integer:
		c.Ints = c.Ints[:copy(c.Ints, c.Ints[i:j])]
	case Unsigned:
		c.Uints = c.Uints[:copy(c.Uints, c.Uints[i:j])]
	case String:
		c.Strings = c.Strings[:copy(c.Strings, c.Strings[i:j])]
	case Boolean:
		c.Bools = c.Bools[:copy(c.Bools, c.Bools[i:j])]
	}
}

// rangeTimes puts the times of h's block inside [min, max] into c.Times and
// returns their rows [i, j) and the length of the timestamp section. A
// regular section (version 2) is arithmetic: row r is at MinTime + r·delta,
// the span having been checked by skipTimes. A packed one is decoded whole,
// with Decode's checks.
func (d *Decoder) rangeTimes(c *Column, body []byte, h *rawHeader, min, max int64) (i, j, off int, err error) {
	n := h.Count
	if n < 3 {
		return d.searchTimes(c, body, h, min, max)
	}
	if off, err = skipTimes(body, h); err != nil {
		return 0, 0, 0, err
	}
	delta, k := binary.Uvarint(body) // skipTimes read it: valid
	if body[k] != timesRegular {
		return d.searchTimes(c, body, h, min, max)
	}
	// Differences from MinTime as uint64: they do not fit int64 for wide
	// ranges, and the span does.
	i, j = 0, n
	switch {
	case max < h.MinTime || min > h.MaxTime:
		i, j = 0, 0
	default:
		if min > h.MinTime {
			diff := uint64(min) - uint64(h.MinTime)
			q := diff / delta
			if q*delta < diff {
				q++ // the first row at or after min
			}
			i = int(q)
		}
		if max < h.MaxTime {
			j = int((uint64(max)-uint64(h.MinTime))/delta) + 1
		}
		if j < i {
			j = i // no row in range
		}
	}
	c.Times = grow(c.Times, j-i)
	t := uint64(h.MinTime) + uint64(i)*delta
	for r := range c.Times {
		c.Times[r] = int64(t)
		t += delta
	}
	return i, j, off, nil
}

// searchTimes is rangeTimes for a section that is not regular: it decodes
// all the times, with Decode's checks, and keeps those in range.
func (d *Decoder) searchTimes(c *Column, body []byte, h *rawHeader, min, max int64) (i, j, off int, err error) {
	c.Times = grow(c.Times, h.Count)
	if off, err = d.decodeTimes(c.Times, body, h); err != nil {
		return 0, 0, 0, err
	}
	i, j = searchRows(c.Times, min, max)
	c.Times = c.Times[:copy(c.Times, c.Times[i:j])]
	return i, j, off, nil
}

// rangeFSEInts decodes rows [i, j) of h's FSE-coded integers from the value
// section rest into c.Ints, from marks m (see decodeFrom; m without marks
// yet is given its first). It returns the marks to keep: m, or m extended.
func (d *Decoder) rangeFSEInts(c *Column, rest []byte, h *rawHeader, i, j int, m *Marks) (*Marks, error) {
	n := h.Count
	if i >= j {
		c.Ints = c.Ints[:0]
		return m, nil
	}
	out := grow(c.Ints, j-i)
	c.Ints = out
	if j == 1 {
		out[0] = h.IFirst
		return m, nil
	}
	src := rest[:len(rest)+readSlack]
	if len(m.at) == 0 && !d.openMarks(m, src, h.IFirst) {
		return nil, corruptf("malformed FSE integers")
	}
	next, ok, tailOK := d.decodeFrom(out, src, i, j, n-1, m)
	if !ok {
		return nil, corruptf("malformed FSE integers")
	}
	if tailOK {
		return next, nil
	}
	// A range to the block's end whose end did not check: the whole
	// decode, with its checks, says why.
	c.Ints = grow(c.Ints, n)
	used, err := d.decodeInts(c.Ints, rest, h, encIntFSE)
	if err != nil {
		return nil, err
	}
	if used != len(rest) {
		return nil, corruptf("%d trailing body bytes", len(rest)-used)
	}
	c.Ints = c.Ints[:copy(c.Ints, c.Ints[i:j])]
	return m, nil
}

// escapeDelta reads the uvarint of an escaped delta at the start of src and
// returns the delta with the bytes read, or k ≤ 0 if it is malformed.
func escapeDelta(src []byte) (delta int64, k int) {
	x, k := binary.Uvarint(src)
	if k <= 0 || x > ^uint64(0)-fseEscape {
		return 0, -1
	}
	return unzigzag(x + fseEscape), k
}

package block

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"math"
)

// Flags byte layout (see docs/format/block.md).
const (
	flagZstd   = 1 << 0 // body is one zstd frame; otherwise stored raw
	encShift   = 1      // bits 1-3: value encoding, meaning depends on Type
	encMask    = 7
	scaleShift = 4 // bits 4-7: decimal scale of encFloatDecimal
)

// Value encodings, per type. Zero is each type's baseline encoding.
const (
	encFloatXOR     = 0
	encFloatDecimal = 1
	encIntDelta     = 0
	encIntDoD       = 1
	encIntFSE       = 2
	encUintDelta    = 0
	encBoolBitmap   = 0
	encStringPlain  = 0
)

// Times marks (version 2): what follows the first interval of a block of
// three or more points.
const (
	timesPacked  = 0 // packed zigzag deltas of deltas, as in version 1
	timesRegular = 1 // nothing: every interval equals the first
)

// fixedHeaderLen is version, type and flags.
const fixedHeaderLen = 3

// trailerLen is the CRC-32C at the end of every block.
const trailerLen = 4

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// computeStats fills h's value statistics from c, which has been validated.
func computeStats(h *Header, c *Column) {
	n := len(c.Times)
	h.Count = n
	h.MinTime, h.MaxTime = c.Times[0], c.Times[n-1]
	switch c.Type {
	case Float:
		vs := c.Floats
		h.FFirst, h.FLast = vs[0], vs[n-1]
		// Summing from the first value, not from 0, keeps a lone -0 or
		// signalling NaN bit-exact, so a 1-point block's sum is its value.
		sum := vs[0]
		for _, v := range vs[1:] {
			sum += v
		}
		mn, mx := math.NaN(), math.NaN()
		seen := false
		for _, v := range vs {
			if v != v {
				continue
			}
			if !seen {
				mn, mx, seen = v, v, true
				continue
			}
			if v < mn {
				mn = v
			}
			if v > mx {
				mx = v
			}
		}
		if !seen {
			mn, mx = vs[0], vs[0]
		}
		h.FMin, h.FMax, h.FSum = mn, mx, sum
	case Integer:
		vs := c.Ints
		h.IFirst, h.ILast = vs[0], vs[n-1]
		mn, mx, sum := vs[0], vs[0], int64(0)
		for _, v := range vs {
			sum += v
			mn = min(mn, v)
			mx = max(mx, v)
		}
		h.IMin, h.IMax, h.ISum = mn, mx, sum
	case Unsigned:
		vs := c.Uints
		h.UFirst, h.ULast = vs[0], vs[n-1]
		mn, mx, sum := vs[0], vs[0], uint64(0)
		for _, v := range vs {
			sum += v
			mn = min(mn, v)
			mx = max(mx, v)
		}
		h.UMin, h.UMax, h.USum = mn, mx, sum
	}
}

// appendHeader appends everything up to the body: the fixed bytes, count,
// time range, stats and the uncompressed body length.
func appendHeader(dst []byte, h *Header, flags byte, bodyLen int) []byte {
	dst = append(dst, FormatVersion, byte(h.Type), flags)
	dst = binary.AppendUvarint(dst, uint64(h.Count))
	dst = binary.AppendVarint(dst, h.MinTime)
	dst = binary.AppendUvarint(dst, uint64(h.MaxTime)-uint64(h.MinTime))
	// A single value is its own min, max, sum, first and last, so it is
	// stored once: sparse fields produce many 1-point blocks.
	one := h.Count == 1
	switch h.Type {
	case Float:
		dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(h.FFirst))
		if !one {
			for _, v := range [...]float64{h.FLast, h.FMin, h.FMax, h.FSum} {
				dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(v))
			}
		}
	case Integer:
		dst = binary.AppendVarint(dst, h.IFirst)
		if !one {
			for _, v := range [...]int64{h.ILast, h.IMin, h.IMax, h.ISum} {
				dst = binary.AppendVarint(dst, v)
			}
		}
	case Unsigned:
		dst = binary.AppendUvarint(dst, h.UFirst)
		if !one {
			for _, v := range [...]uint64{h.ULast, h.UMin, h.UMax, h.USum} {
				dst = binary.AppendUvarint(dst, v)
			}
		}
	}
	return binary.AppendUvarint(dst, uint64(bodyLen))
}

// rawHeader is a parsed header plus what Decode needs to find the body.
type rawHeader struct {
	Header
	flags   byte
	bodyLen int    // uncompressed body length
	payload []byte // the body as stored: raw or a zstd frame
}

func corruptf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrCorrupt}, args...)...)
}

// headerReader reads varints and fixed fields, remembering the first failure
// so parseHeader checks once at the end instead of after every field.
type headerReader struct {
	b   []byte
	err error
}

func (r *headerReader) fail(what string) {
	if r.err == nil {
		r.err = corruptf("truncated or overlong %s", what)
	}
	r.b = nil
}

func (r *headerReader) uvarint(what string) uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail(what)
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *headerReader) varint(what string) int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.fail(what)
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *headerReader) float(what string) float64 {
	if len(r.b) < 8 {
		r.fail(what)
		return 0
	}
	v := math.Float64frombits(binary.LittleEndian.Uint64(r.b))
	r.b = r.b[8:]
	return v
}

// parseHeader checks the CRC and parses everything up to the body.
func parseHeader(src []byte) (rawHeader, error) {
	var h rawHeader
	if len(src) < fixedHeaderLen+trailerLen {
		return h, corruptf("block of %d bytes is too short", len(src))
	}
	body := src[:len(src)-trailerLen]
	want := binary.LittleEndian.Uint32(src[len(body):])
	if got := crc32.Checksum(body, castagnoli); got != want {
		return h, corruptf("checksum mismatch: stored %#08x, computed %#08x", want, got)
	}
	if src[0] < minFormatVersion || src[0] > FormatVersion {
		return h, corruptf("unknown format version %d", src[0])
	}
	h.Version = src[0]
	h.Type = Type(src[1])
	if !h.Type.valid() {
		return h, corruptf("unknown type %d", src[1])
	}
	h.flags = src[2]
	r := headerReader{b: body[fixedHeaderLen:]}
	count := r.uvarint("count")
	h.MinTime = r.varint("min time")
	span := r.uvarint("time span")
	one := count == 1
	switch h.Type {
	case Float:
		h.FFirst = r.float("first")
		h.FLast, h.FMin, h.FMax, h.FSum = h.FFirst, h.FFirst, h.FFirst, h.FFirst
		if !one {
			h.FLast, h.FMin, h.FMax, h.FSum = r.float("last"), r.float("min"), r.float("max"), r.float("sum")
		}
	case Integer:
		h.IFirst = r.varint("first")
		h.ILast, h.IMin, h.IMax, h.ISum = h.IFirst, h.IFirst, h.IFirst, h.IFirst
		if !one {
			h.ILast, h.IMin, h.IMax, h.ISum = r.varint("last"), r.varint("min"), r.varint("max"), r.varint("sum")
		}
	case Unsigned:
		h.UFirst = r.uvarint("first")
		h.ULast, h.UMin, h.UMax, h.USum = h.UFirst, h.UFirst, h.UFirst, h.UFirst
		if !one {
			h.ULast, h.UMin, h.UMax, h.USum = r.uvarint("last"), r.uvarint("min"), r.uvarint("max"), r.uvarint("sum")
		}
	}
	bodyLen := r.uvarint("body length")
	if r.err != nil {
		return h, r.err
	}
	if count == 0 || count > MaxCount {
		return h, corruptf("count %d out of range [1, %d]", count, MaxCount)
	}
	h.Count = int(count)
	h.MaxTime = int64(uint64(h.MinTime) + span)
	// Strictly increasing timestamps: the span covers at least count-1 steps
	// (exactly none for one point) and does not run past MaxInt64.
	if h.MaxTime < h.MinTime || span < count-1 || (count == 1 && span != 0) {
		return h, corruptf("time span %d invalid for %d points from %d", span, count, h.MinTime)
	}
	if bodyLen > maxBodyLen(h.Type, h.Count) || bodyLen < uint64(minBodyLen(h.Version, h.Type, h.Count)) {
		return h, corruptf("body length %d impossible for %d %s points", bodyLen, count, h.Type)
	}
	h.bodyLen = int(bodyLen)
	h.payload = r.b
	if h.flags&flagZstd == 0 && len(h.payload) != h.bodyLen {
		return h, corruptf("raw body is %d bytes, header says %d", len(h.payload), h.bodyLen)
	}
	return h, nil
}

// maxBodyLen bounds the uncompressed body a valid block of n points can have,
// so a corrupt length cannot make Decode allocate more than n justifies. A
// timestamp costs at most 9 bytes (a 64-bit field plus its share of a width
// byte) and a numeric value at most 10 (a 78-bit XOR record), plus a varint.
func maxBodyLen(t Type, n int) uint64 {
	if t == String {
		return MaxBodyLen
	}
	return min(uint64(n)*20+16, MaxBodyLen)
}

// minBodyLen is the smallest body n points of type t can have in a block of
// the given version: a first delta and, in version 1, a width byte per group
// of timestamps (version 2: one times mark), and at least a width byte per
// group of numbers (XOR needs more; an FSE section, version 2 only, at least
// its length and a two-byte stream), a bit per bool or a length byte per
// string for the values.
func minBodyLen(version uint8, t Type, n int) int {
	times := 0
	if n >= 2 {
		times = 1
	}
	if n >= 3 {
		if version == 1 {
			times += groupsLen(n - 2)
		} else {
			times++
		}
	}
	vals := 0
	switch t {
	case Float, Unsigned:
		vals = groupsLen(n - 1)
	case Integer:
		vals = groupsLen(n - 1)
		if version >= 2 && n > fseMinDeltas {
			vals = min(vals, 3)
		}
	case Boolean:
		vals = (n + 7) / 8
	case String:
		vals = n
	}
	return times + vals
}

// DecodeHeader reads only the header: it verifies the checksum but does not
// decompress the body, so it is cheap enough to answer aggregate queries over
// whole blocks.
func DecodeHeader(src []byte) (Header, error) {
	h, err := parseHeader(src)
	if err != nil {
		return Header{}, err
	}
	return h.Header, nil
}

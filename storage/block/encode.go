package block

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"math"

	"github.com/klauspost/compress/fse"
	"github.com/klauspost/compress/huff0"
)

// Encoder turns Columns into blocks. It keeps scratch buffers between calls,
// so reuse one per goroutine; it is not safe for concurrent use.
type Encoder struct {
	body []byte        // uncompressed body under construction
	a, b []uint64      // integer sequences to pack (two candidates)
	lit  []byte        // literal-only zstd frame candidate
	huff huff0.Scratch // Huffman tables and output for lit
	sym  []byte        // FSE symbols of integer deltas
	fse  fse.Scratch   // FSE tables and output for sym
}

// NewEncoder returns an Encoder with empty scratch space.
func NewEncoder() *Encoder { return &Encoder{} }

// Encode appends the block encoding c to dst and returns the extended slice.
// It fails if c is empty, too large, its value slice does not match Type or
// differs in length from Times, Times is not strictly increasing, or a float
// is ±Inf. NaN values, including their payloads, and -0 are kept bit-exactly.
// On error dst is returned unchanged.
func (e *Encoder) Encode(dst []byte, c *Column) ([]byte, error) {
	if err := validate(c); err != nil {
		return dst, err
	}
	h := Header{Version: FormatVersion, Type: c.Type}
	computeStats(&h, c)

	body, flags := e.encodeBody(c)
	if len(body) > MaxBodyLen {
		return dst, fmt.Errorf("%w: body of %d bytes exceeds %d", ErrTooLarge, len(body), MaxBodyLen)
	}
	start := len(dst)
	dst = appendHeader(dst, &h, flags, len(body))
	flagsAt := start + 2
	if len(body) >= minZstdBody {
		// Two zstd encoders, one frame format: the real one finds repeats,
		// the literal-only one entropy-codes noise that zstd leaves raw.
		// Keep the smaller, or the raw body if neither shrinks it.
		mark := len(dst)
		dst = zstdEncoder().EncodeAll(body, dst)
		e.lit = appendLiteralFrame(e.lit[:0], body, &e.huff)
		if len(e.lit) < len(dst)-mark {
			dst = append(dst[:mark], e.lit...)
		}
		if len(dst)-mark < len(body) {
			dst[flagsAt] |= flagZstd
		} else {
			dst = append(dst[:mark], body...)
		}
	} else {
		dst = append(dst, body...)
	}
	return binary.LittleEndian.AppendUint32(dst, crc32.Checksum(dst[start:], castagnoli)), nil
}

func validate(c *Column) error {
	if !c.Type.valid() {
		return fmt.Errorf("%w: unknown type %d", ErrType, uint8(c.Type))
	}
	n := len(c.Times)
	match, other := c.valuesLen()
	if other != 0 {
		return fmt.Errorf("%w: %s column holds %d values of other types", ErrType, c.Type, other)
	}
	if match != n {
		return fmt.Errorf("%w: %d times, %d %s values", ErrLength, n, match, c.Type)
	}
	if n == 0 {
		return ErrEmpty
	}
	if n > MaxCount {
		return fmt.Errorf("%w: %d points, at most %d", ErrTooLarge, n, MaxCount)
	}
	for i := 1; i < n; i++ {
		if c.Times[i] <= c.Times[i-1] {
			return fmt.Errorf("%w: times[%d]=%d after times[%d]=%d", ErrUnsorted, i, c.Times[i], i-1, c.Times[i-1])
		}
	}
	if c.Type == Float {
		for i, f := range c.Floats {
			if math.IsInf(f, 0) {
				return fmt.Errorf("%w: floats[%d]=%v", ErrInfinity, i, f)
			}
		}
	}
	return nil
}

// grow returns s resized to n, reusing its capacity.
func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

// encodeBody builds the uncompressed body in e.body and returns it with the
// flags describing the value encoding chosen.
func (e *Encoder) encodeBody(c *Column) ([]byte, byte) {
	body := e.appendTimes(e.body[:0], c.Times)
	var enc, scale byte
	n := len(c.Times)
	switch c.Type {
	case Float:
		body, enc, scale = e.appendFloats(body, c.Floats)
	case Integer:
		body, enc = e.appendInts(body, c.Ints)
	case Unsigned:
		vs := c.Uints
		e.a = grow(e.a, n-1)
		for i := 1; i < n; i++ {
			e.a[i-1] = zigzag(int64(vs[i] - vs[i-1]))
		}
		body, enc = pack(body, e.a), encUintDelta
	case Boolean:
		body, enc = appendBools(body, c.Bools), encBoolBitmap
	case String:
		for _, s := range c.Strings {
			body = binary.AppendUvarint(body, uint64(len(s)))
			body = append(body, s...)
		}
		enc = encStringPlain
	}
	e.body = body
	return body, enc<<encShift | scale<<scaleShift
}

// appendTimes writes the first delta as a uvarint, then (from three points)
// a times mark: timesRegular when every interval equals the first, else
// timesPacked and the deltas of deltas, zigzagged and packed. The first
// timestamp is MinTime in the header. Deltas are taken as uint64 so spans
// wider than MaxInt64 still round-trip through wrapping arithmetic.
func (e *Encoder) appendTimes(dst []byte, ts []int64) []byte {
	n := len(ts)
	if n < 2 {
		return dst
	}
	prev := uint64(ts[1] - ts[0])
	dst = binary.AppendUvarint(dst, prev)
	if n < 3 {
		return dst
	}
	e.a = grow(e.a, n-2)
	var or uint64
	for i := 2; i < n; i++ {
		d := uint64(ts[i] - ts[i-1])
		e.a[i-2] = zigzag(int64(d - prev))
		or |= e.a[i-2]
		prev = d
	}
	if or == 0 {
		return append(dst, timesRegular)
	}
	return pack(append(dst, timesPacked), e.a)
}

// appendFloats picks the decimal encoding when every value is an exact
// decimal at one scale and that packs smaller than XOR, else XOR.
func (e *Encoder) appendFloats(dst []byte, vs []float64) (_ []byte, enc, scale byte) {
	n := len(vs)
	if n < 2 {
		return dst, encFloatXOR, 0
	}
	if d, ok := decimalScale(vs); ok {
		e.a = grow(e.a, n-1)
		prev := mantissa(vs[0], d)
		for i := 1; i < n; i++ {
			m := mantissa(vs[i], d)
			e.a[i-1] = zigzag(m - prev)
			prev = m
		}
		if packedLen(e.a) <= xorLen(vs) {
			return pack(dst, e.a), encFloatDecimal, byte(d)
		}
	}
	return appendXOR(dst, vs), encFloatXOR, 0
}

// appendInts packs zigzag deltas, or deltas of deltas when those pack
// smaller (regular counters, sequence numbers), or entropy-codes the deltas
// with FSE when that is smaller still (gauges in small steps). With dod the
// first delta is a varint in front, as for timestamps.
func (e *Encoder) appendInts(dst []byte, vs []int64) ([]byte, byte) {
	n := len(vs)
	if n < 2 {
		return dst, encIntDelta
	}
	e.a = grow(e.a, n-1)
	for i := 1; i < n; i++ {
		e.a[i-1] = zigzag(vs[i] - vs[i-1])
	}
	best, enc := packedLen(e.a), byte(encIntDelta)
	var first [binary.MaxVarintLen64]byte
	var k int
	if n >= 3 {
		e.b = grow(e.b, n-2)
		for i := 2; i < n; i++ {
			e.b[i-2] = zigzag((vs[i] - vs[i-1]) - (vs[i-1] - vs[i-2]))
		}
		k = binary.PutVarint(first[:], vs[1]-vs[0])
		if l := k + packedLen(e.b); l < best {
			best, enc = l, encIntDoD
		}
	}
	mark := len(dst)
	out, ok := e.appendFSE(dst, e.a)
	if ok && len(out)-mark < best {
		return out, encIntFSE
	}
	dst = out[:mark]
	if enc == encIntDoD {
		dst = append(dst, first[:k]...)
		return pack(dst, e.b), encIntDoD
	}
	return pack(dst, e.a), encIntDelta
}

func appendBools(dst []byte, vs []bool) []byte {
	var acc byte
	for i, v := range vs {
		if v {
			acc |= 1 << (i & 7)
		}
		if i&7 == 7 {
			dst = append(dst, acc)
			acc = 0
		}
	}
	if len(vs)&7 != 0 {
		dst = append(dst, acc)
	}
	return dst
}

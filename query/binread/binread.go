// Package binread is the bounds-checked reader the query side's binary
// decoders share: partial-aggregate states (query/partial), sketches
// (query/sketch) and the node-to-node answers (query/nodewire). Each format's
// own fields (flags, strings, values) stay in its package, built on Reader.
//
// The first failure sticks: later reads return zero values and consume
// nothing, so a decoder checks Err once at the end, and every count it reads
// is checked against the bytes left, so that no input makes it allocate more
// than its own length allows.
package binread

import (
	"encoding/binary"
	"fmt"
	"math"
)

// Reader consumes B. Failures wrap Corrupt, the format's sentinel error.
type Reader struct {
	B       []byte
	Err     error
	Corrupt error
}

// New returns a reader of b whose errors wrap corrupt.
func New(b []byte, corrupt error) Reader { return Reader{B: b, Corrupt: corrupt} }

// Fail records the first failure and stops the reading.
func (r *Reader) Fail(format string, args ...any) {
	if r.Err == nil {
		r.Err = fmt.Errorf("%w: "+format, append([]any{r.Corrupt}, args...)...)
	}
	r.B = nil
}

// Byte reads one byte.
func (r *Reader) Byte() byte {
	if len(r.B) < 1 {
		r.Fail("truncated")
		return 0
	}
	c := r.B[0]
	r.B = r.B[1:]
	return c
}

// Uvarint reads an unsigned varint.
func (r *Reader) Uvarint() uint64 {
	v, n := binary.Uvarint(r.B)
	if n <= 0 {
		r.Fail("bad uvarint")
		return 0
	}
	r.B = r.B[n:]
	return v
}

// Varint reads a zig-zag signed varint.
func (r *Reader) Varint() int64 {
	v, n := binary.Varint(r.B)
	if n <= 0 {
		r.Fail("bad varint")
		return 0
	}
	r.B = r.B[n:]
	return v
}

// Fixed64 reads 8 little-endian bytes.
func (r *Reader) Fixed64() uint64 {
	if len(r.B) < 8 {
		r.Fail("truncated")
		return 0
	}
	v := binary.LittleEndian.Uint64(r.B)
	r.B = r.B[8:]
	return v
}

// Float reads an IEEE 754 double as Fixed64.
func (r *Reader) Float() float64 { return math.Float64frombits(r.Fixed64()) }

// Count reads a uvarint element count whose elements take at least min
// bytes each, refusing counts the remaining input cannot hold.
func (r *Reader) Count(min int) int {
	n := r.Uvarint()
	if r.Err != nil {
		return 0
	}
	if n > uint64(len(r.B)/min) {
		r.Fail("count %d larger than the input allows", n)
		return 0
	}
	return int(n)
}

package partial

import (
	"encoding/binary"
	"fmt"
	"github.com/strata-db/strata/query/binread"
	"math"

	"github.com/strata-db/strata/query/funcs"
)

// FormatVersion is the newest version (docs/format/partial-aggregates.md),
// the first byte of every encoded state. Version 3 added the sketch kinds
// (32 and up) and nothing else, so a state of the older kinds is still
// written as version 2, which readers of version 2 keep decoding; Decode
// takes version 2 for those kinds and version 3 for every kind.
const FormatVersion = 3

// firstSketchKind: kinds from here on need version 3.
const firstSketchKind = ApproxCountDistinct

func versionOf(k Kind) byte {
	if k >= firstSketchKind {
		return FormatVersion
	}
	return 2
}

// appendState writes the header and the state's fields.
func appendState(dst []byte, s state) []byte {
	dst = append(dst, versionOf(s.Kind()), byte(s.Kind()), byte(s.Type()))
	return s.appendFields(dst)
}

// Decode reads one encoded state; b must hold exactly one. It never panics,
// and allocates at most a small multiple of len(b): every count is checked
// against the bytes that remain before anything is allocated.
func Decode(b []byte) (State, error) {
	if len(b) < 3 {
		return nil, fmt.Errorf("%w: %d bytes, shorter than the header", ErrCorrupt, len(b))
	}
	k, t := Kind(b[1]), funcs.Type(b[2])
	if b[0] != FormatVersion && (b[0] != 2 || k >= firstSketchKind) {
		return nil, fmt.Errorf("%w: format version %d, want 2 (kinds below %d) or %d", ErrCorrupt, b[0], firstSketchKind, FormatVersion)
	}
	if _, ok := kindNames[k]; !ok {
		return nil, fmt.Errorf("%w: unknown kind tag %d", ErrCorrupt, b[1])
	}
	if t < funcs.Float || t > funcs.Boolean {
		return nil, fmt.Errorf("%w: unknown value type %d", ErrCorrupt, b[2])
	}
	// Arguments are fields; a placeholder passes newState's checks and
	// decodeFields overwrites it.
	s, err := newState(k, t, params{unit: 1, limit: 1})
	if err != nil {
		return nil, fmt.Errorf("%w: %s does not take %s values", ErrCorrupt, k, t)
	}
	r := &reader{binread.New(b[3:], ErrCorrupt)}
	if err := s.decodeFields(r); err != nil {
		return nil, err
	}
	if r.Err != nil {
		return nil, r.Err
	}
	if len(r.B) != 0 {
		return nil, fmt.Errorf("%w: %d trailing bytes after %s state", ErrCorrupt, len(r.B), k)
	}
	return s, nil
}

// reader is binread.Reader over the state format (ErrCorrupt); the first
// error sticks, so field decoders check r.Err once at the end.
type reader struct{ binread.Reader }

// flag reads a 0/1 byte.
func (r *reader) flag() bool {
	switch r.Byte() {
	case 0:
		return false
	case 1:
		return true
	}
	r.Fail("flag byte not 0 or 1")
	return false
}

// count reads a uvarint element count whose elements take at least min bytes
// each, refusing counts the remaining input cannot hold (bounded allocation).
func (r *reader) count(min int) int {
	n := r.Count(min)
	if n > MaxValues {
		r.Fail("count %d larger than the input allows", n)
		return 0
	}
	return n
}

// nonNegative reads a uvarint that must fit an int (counts of values folded).
func (r *reader) nonNegative() int64 {
	n := r.Uvarint()
	if n > math.MaxInt64 {
		r.Fail("count %d overflows", n)
		return 0
	}
	return int64(n)
}

func appendFloat(b []byte, f float64) []byte {
	return binary.LittleEndian.AppendUint64(b, math.Float64bits(f))
}

func appendFlag(b []byte, f bool) []byte {
	if f {
		return append(b, 1)
	}
	return append(b, 0)
}

// appendVal encodes one value of a column type: float 8 bytes LE, integer a
// zigzag varint, unsigned a uvarint, string a uvarint length and the bytes,
// boolean one byte 0/1.
func appendVal[T value](b []byte, v T) []byte {
	switch x := any(v).(type) {
	case float64:
		return appendFloat(b, x)
	case int64:
		return binary.AppendVarint(b, x)
	case uint64:
		return binary.AppendUvarint(b, x)
	case string:
		b = binary.AppendUvarint(b, uint64(len(x)))
		return append(b, x...)
	case bool:
		return appendFlag(b, x)
	}
	panic("partial: unreachable value type")
}

// readVal decodes what appendVal encodes.
func readVal[T value](r *reader) T {
	var v T
	switch p := any(&v).(type) {
	case *float64:
		*p = r.Float()
	case *int64:
		*p = r.Varint()
	case *uint64:
		*p = r.Uvarint()
	case *string:
		n := r.Uvarint()
		if n > uint64(len(r.B)) {
			r.Fail("string of %d bytes, %d left", n, len(r.B))
			return v
		}
		*p = string(r.B[:n])
		r.B = r.B[n:]
	case *bool:
		*p = r.flag()
	}
	return v
}

// minSize is the fewest bytes one encoded T takes, for count checks.
func minSize[T value]() int {
	var v T
	if _, ok := any(v).(float64); ok {
		return 8
	}
	return 1
}

func appendUvarint(b []byte, v uint64) []byte { return binary.AppendUvarint(b, v) }
func appendVarint(b []byte, v int64) []byte   { return binary.AppendVarint(b, v) }

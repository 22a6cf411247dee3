package sketch

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"github.com/strata-db/strata/query/binread"
	"math"
)

// Version is the first byte of every encoded sketch
// (docs/format/sketches.md). Decode rejects others.
const Version = 1

// Kind is a sketch's type tag in the encoding; never reuse or renumber one.
type Kind uint8

// The sketch kinds.
const (
	KindHLL      Kind = 1
	KindDD       Kind = 2
	KindTopK     Kind = 3
	KindCountMin Kind = 4
)

func (k Kind) String() string {
	switch k {
	case KindHLL:
		return "hyperloglog"
	case KindDD:
		return "quantile sketch"
	case KindTopK:
		return "top-k summary"
	case KindCountMin:
		return "count-min sketch"
	}
	return fmt.Sprintf("sketch kind %d", uint8(k))
}

// ErrCorrupt: Decode input that is not a valid sketch.
var ErrCorrupt = errors.New("corrupt sketch")

// Sketch is any of the four; Kind says which concrete type it is.
type Sketch interface {
	Kind() Kind
	appendBody([]byte) []byte
}

func (*HLL) Kind() Kind      { return KindHLL }
func (*DD) Kind() Kind       { return KindDD }
func (*TopK) Kind() Kind     { return KindTopK }
func (*CountMin) Kind() Kind { return KindCountMin }

// Append appends s's encoding: version <1b>, kind <1b>, body.
func Append(dst []byte, s Sketch) []byte {
	return s.appendBody(append(dst, Version, byte(s.Kind())))
}

// Decode reads one encoded sketch; b must hold exactly one. It never
// panics and allocates at most a small multiple of len(b) (a dense HLL's
// registers and a count-min's fixed table excepted, which are bounded).
func Decode(b []byte) (Sketch, error) {
	if len(b) < 2 {
		return nil, fmt.Errorf("%w: %d bytes, shorter than the header", ErrCorrupt, len(b))
	}
	if b[0] != Version {
		return nil, fmt.Errorf("%w: version %d, want %d", ErrCorrupt, b[0], Version)
	}
	r := &reader{binread.New(b[2:], ErrCorrupt)}
	var s Sketch
	switch k := Kind(b[1]); k {
	case KindHLL:
		if h := decodeHLL(r); h != nil {
			s = h
		}
	case KindDD:
		if d := decodeDD(r); d != nil {
			s = d
		}
	case KindTopK:
		if t := decodeTopK(r); t != nil {
			s = t
		}
	case KindCountMin:
		if c := decodeCountMin(r); c != nil {
			s = c
		}
	default:
		return nil, fmt.Errorf("%w: unknown kind %d", ErrCorrupt, b[1])
	}
	if r.Err != nil {
		return nil, r.Err
	}
	if len(r.B) != 0 {
		return nil, fmt.Errorf("%w: %d trailing bytes after the %s", ErrCorrupt, len(r.B), Kind(b[1]))
	}
	return s, nil
}

// Text is a sketch as a stored string field value: base64 (standard,
// padded) of its encoding, so it passes unchanged through the JSON API,
// line-protocol exports and re-imports, which a raw binary string would not.
func Text(s Sketch) string { return base64.StdEncoding.EncodeToString(Append(nil, s)) }

// ParseText decodes what Text encodes.
func ParseText(v string) (Sketch, error) {
	if len(v) > maxText {
		return nil, fmt.Errorf("%w: %d bytes of text, more than %d", ErrCorrupt, len(v), maxText)
	}
	b, err := base64.StdEncoding.DecodeString(v)
	if err != nil {
		return nil, fmt.Errorf("%w: not base64: %v", ErrCorrupt, err)
	}
	return Decode(b)
}

// maxText bounds a stored sketch's text: a dense HLL at MaxPrecision is
// 256 KiB, a DDSketch over float64's whole range under 1.5 MiB of counts.
const maxText = 8 << 20

// Value keys for TopK: a type tag and canonical bytes.
const (
	KeyFloat  uint8 = 1
	KeyInt    uint8 = 2
	KeyUint   uint8 = 3
	KeyString uint8 = 4
)

// KeyFloat64 and friends make a TopK key; FromKey reverses them.
func KeyFloat64(v float64) string {
	if v == 0 {
		v = 0
	}
	return KeyUint64(math.Float64bits(v))
}
func KeyInt64(v int64) string { return KeyUint64(uint64(v)) }
func KeyUint64(v uint64) string {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], v)
	return string(b[:])
}

// FromKey returns the value a key of type typ stands for.
func FromKey(typ uint8, k string) any {
	if typ == KeyString {
		return k
	}
	u := binary.BigEndian.Uint64([]byte(k))
	switch typ {
	case KeyFloat:
		return math.Float64frombits(u)
	case KeyInt:
		return int64(u)
	}
	return u
}

// reader is binread.Reader over the sketch formats (ErrCorrupt).
type reader struct{ binread.Reader }

func appendUvarint(b []byte, v uint64) []byte { return binary.AppendUvarint(b, v) }
func appendVarint(b []byte, v int64) []byte   { return binary.AppendVarint(b, v) }
func appendFloat(b []byte, f float64) []byte {
	return binary.LittleEndian.AppendUint64(b, math.Float64bits(f))
}

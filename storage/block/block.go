package block

import (
	"errors"
	"fmt"
)

// Type is the value type of a column. The numbering matches the line protocol
// parser's field types so the two can be converted with a cast.
type Type uint8

// Value types. Zero is deliberately invalid so an uninitialised Column is
// rejected instead of being encoded as some default type.
const (
	Float    Type = 1
	Integer  Type = 2
	Unsigned Type = 3
	String   Type = 4
	Boolean  Type = 5
)

// String returns the line protocol name of the type.
func (t Type) String() string {
	switch t {
	case Float:
		return "float"
	case Integer:
		return "integer"
	case Unsigned:
		return "unsigned"
	case String:
		return "string"
	case Boolean:
		return "boolean"
	}
	return fmt.Sprintf("Type(%d)", uint8(t))
}

func (t Type) valid() bool { return t >= Float && t <= Boolean }

// FormatVersion is the block layout written by this package, stored in the
// first byte of every block. It only ever moves forward; a decoder rejects a
// version it does not know rather than misreading it. Version 2 added a mark
// for regular timestamps (nothing stored after the first interval); Decode
// still reads version 1 blocks.
const FormatVersion = 2

// minFormatVersion is the oldest block layout Decode reads.
const minFormatVersion = 1

// MaxCount is the most points one block may hold. A day of 1 s data is 86,400
// points, so this leaves 12x headroom while capping what a corrupt count can
// make Decode allocate at 8 MiB per slice.
const MaxCount = 1 << 20

// MaxBodyLen is the largest uncompressed body (timestamps plus values) a block
// may hold. Only string blocks can get near it; it bounds the memory a hostile
// zstd frame can make Decode allocate, and the storage engine must split
// columns that would exceed it (Encode returns ErrTooLarge).
const MaxBodyLen = 32 << 20

// Errors returned by Encode. They are wrapped with details; test with
// errors.Is.
var (
	ErrEmpty    = errors.New("block: empty column")
	ErrLength   = errors.New("block: times and values differ in length")
	ErrType     = errors.New("block: type mismatch")
	ErrUnsorted = errors.New("block: timestamps not strictly increasing")
	ErrInfinity = errors.New("block: infinite float")
	ErrTooLarge = errors.New("block: column too large")
)

// ErrCorrupt is wrapped by every error Decode and DecodeHeader return for
// bytes that are not a valid block.
var ErrCorrupt = errors.New("block: corrupt")

// Column is a decoded block or a block to encode: Times plus exactly one value
// slice, the one matching Type, of the same length. Times must be strictly
// increasing.
//
// After Decode, Strings alias a buffer owned by the Column: they stay valid
// until the next Decode into the same Column.
type Column struct {
	Type    Type
	Times   []int64
	Floats  []float64
	Ints    []int64
	Uints   []uint64
	Strings [][]byte
	Bools   []bool

	// strBuf backs Strings after Decode so string blocks decode without an
	// allocation per value and without aliasing the Decoder's scratch.
	strBuf []byte
}

// Len returns the number of points.
func (c *Column) Len() int { return len(c.Times) }

// Reset empties the column and sets its type, keeping every slice's capacity
// for reuse.
func (c *Column) Reset(t Type) {
	c.Type = t
	c.Times = c.Times[:0]
	c.Floats = c.Floats[:0]
	c.Ints = c.Ints[:0]
	c.Uints = c.Uints[:0]
	clear(c.Strings) // drop references so old string data can be collected
	c.Strings = c.Strings[:0]
	c.Bools = c.Bools[:0]
	c.strBuf = c.strBuf[:0]
}

// valuesLen returns the length of the value slice that matches c.Type and the
// total length of the others, which must be zero.
func (c *Column) valuesLen() (match, other int) {
	lens := [...]int{len(c.Floats), len(c.Ints), len(c.Uints), len(c.Strings), len(c.Bools)}
	for i, l := range lens {
		if Type(i+1) == c.Type {
			match = l
		} else {
			other += l
		}
	}
	return match, other
}

// Header is stored uncompressed at the front of every block so queries can
// answer count/sum/min/max/mean/first/last of a block without decompressing
// it.
type Header struct {
	Version          uint8
	Type             Type
	Count            int
	MinTime, MaxTime int64 // first and last timestamp

	// Numeric stats: Float fills F*, Integer I*, Unsigned U*; Boolean and
	// String have none. ISum and USum wrap like Go (and InfluxDB's sum())
	// addition. FSum is the float64 sum in time order, so a NaN value makes it
	// NaN (with an unspecified payload when several NaNs meet). FMin and FMax
	// skip NaN values; if every value is NaN they hold the first value. Among
	// equal values (including -0 and +0) the earliest wins.
	FMin, FMax, FSum, FFirst, FLast float64
	IMin, IMax, ISum, IFirst, ILast int64
	UMin, UMax, USum, UFirst, ULast uint64
}

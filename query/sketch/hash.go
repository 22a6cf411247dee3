package sketch

import (
	"encoding/binary"
	"math"

	"github.com/cespare/xxhash/v2"
)

// Values are hashed by their canonical bytes with xxHash64: the hash is
// part of the stored format (a sketch stored today must merge with one built
// tomorrow), xxHash64 is specified, stable and already in the module graph
// (Pebble and the Prometheus client use it), and it mixes well enough that
// HLL's registers and Count-Min's rows see uniform bits.

// HashFloat hashes a float; -0 and 0 hash alike, as they compare equal.
func HashFloat(v float64) uint64 {
	if v == 0 {
		v = 0
	}
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], math.Float64bits(v))
	return xxhash.Sum64(b[:])
}

// HashInt hashes a signed integer by its 8 little-endian bytes.
func HashInt(v int64) uint64 { return HashUint(uint64(v)) }

// HashUint hashes an unsigned integer by its 8 little-endian bytes.
func HashUint(v uint64) uint64 {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], v)
	return xxhash.Sum64(b[:])
}

// HashString hashes a string's bytes.
func HashString(v string) uint64 { return xxhash.Sum64String(v) }

// HashBytes hashes bytes as HashString hashes the same string.
func HashBytes(v []byte) uint64 { return xxhash.Sum64(v) }

// HashBool hashes a boolean as the integer 0 or 1.
func HashBool(v bool) uint64 {
	if v {
		return HashUint(1)
	}
	return HashUint(0)
}

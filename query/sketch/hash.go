package sketch

import (
	"math"
	"math/bits"

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
	return hash8(math.Float64bits(v))
}

// HashInt hashes a signed integer by its 8 little-endian bytes.
func HashInt(v int64) uint64 { return HashUint(uint64(v)) }

// HashUint hashes an unsigned integer by its 8 little-endian bytes.
func HashUint(v uint64) uint64 { return hash8(v) }

// The XXH64 primes (the algorithm's specification).
const (
	prime1 uint64 = 11400714785074694791
	prime2 uint64 = 14029467366897019727
	prime3 uint64 = 1609587929392839161
	prime4 uint64 = 9650029242287828579
	prime5 uint64 = 2870177450012600261
)

// hash8 is XXH64 with seed 0 of 8 little-endian bytes, written out for
// that one length: the library's general loop was a fifth of an
// approx_count_distinct over numbers (BenchmarkAggregateTSBS). TestHash8
// holds it to xxhash.Sum64.
func hash8(v uint64) uint64 {
	h := prime5 + 8
	k := bits.RotateLeft64(v*prime2, 31) * prime1
	h ^= k
	h = bits.RotateLeft64(h, 27)*prime1 + prime4
	h ^= h >> 33
	h *= prime2
	h ^= h >> 29
	h *= prime3
	h ^= h >> 32
	return h
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

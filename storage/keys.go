package storage

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// KeyFormatVersion is the version of the Pebble key layout in docs/format/keys.md.
// It is stored under the meta key "format" and checked on open.
const KeyFormatVersion = 1

// Key kinds: the first byte of every Pebble key.
const (
	kindMeta        byte = 0x01 // kindMeta | name                                -> value per name
	kindDatabase    byte = 0x02 // kindDatabase | name                            -> lp(default RP)
	kindSeriesByKey byte = 0x03 // kindSeriesByKey | bucket | seriesKey           -> SeriesID u32
	kindSeriesByID  byte = 0x04 // kindSeriesByID | SeriesID                      -> bucket | seriesKey
	kindMeasurement byte = 0x05 // kindMeasurement | bucket | lp(measurement)     -> roaring bitmap
	kindTagPosting  byte = 0x06 // kindTagPosting | bucket | lp(m) | lp(k) | v    -> roaring bitmap
	kindField       byte = 0x07 // kindField | bucket | lp(m) | fieldKey          -> FieldID u32 | type u8
	kindBlock       byte = 0x08 // kindBlock | bucket | series | field | maxTime | seq -> block
	kindRetention   byte = 0x09 // kindRetention | lp(database) | rp name         -> bucket u32 | policy
)

// PartitionWidth bounds the time span of one block: a block never holds points from
// two partitions. That lets a range scan stop at the first key whose max time lies
// beyond the partition of the range's end (see blockScanBounds), which keeps it a
// single seek even when blocks overlap. One day fits a day of 10 s samples (8,640
// points) in a handful of blocks; it is part of the key format.
const PartitionWidth = int64(24 * 3600 * 1e9)

// Meta key names.
const (
	metaFormat       = "format"         // u32 KeyFormatVersion
	metaNextSeriesID = "next_series"    // u32
	metaNextBucketID = "next_bucket"    // u32
	metaNextFieldID  = "next_field"     // u32
	metaWALStart     = "wal_start"      // u64: first WAL segment whose data is not yet in blocks
	metaFlushSeq     = "flush_seq"      // u64: last block sequence number used
	metaPartition    = "partition_ns"   // u64 PartitionWidth the blocks were cut with
	metaBlockMaxTime = "block_max_time" // u64 flush seq, u64 biased time: see blockMax
)

var errBadKey = errors.New("storage: malformed key")

func metaKey(name string) []byte {
	return append([]byte{kindMeta}, name...)
}

func databaseKey(name string) []byte {
	return append([]byte{kindDatabase}, name...)
}

func retentionKey(db, rp string) []byte {
	return append(appendLP([]byte{kindRetention}, []byte(db)), rp...)
}

func retentionPrefix(db string) []byte {
	return appendLP([]byte{kindRetention}, []byte(db))
}

func appendU32(dst []byte, v uint32) []byte { return binary.BigEndian.AppendUint32(dst, v) }
func appendU64(dst []byte, v uint64) []byte { return binary.BigEndian.AppendUint64(dst, v) }

// appendLP appends a uvarint length followed by b. Length prefixes keep composite
// keys unambiguous without escaping; they change sort order only among names of
// different lengths, which no scan depends on.
func appendLP(dst, b []byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(b)))
	return append(dst, b...)
}

func readLP(src []byte) (field, rest []byte, err error) {
	n, w := binary.Uvarint(src)
	if w <= 0 || uint64(len(src)-w) < n {
		return nil, nil, errBadKey
	}
	return src[w : w+int(n)], src[w+int(n):], nil
}

// sortableTime maps an int64 timestamp to a uint64 whose big-endian bytes sort in
// the same order as the signed value.
func sortableTime(t int64) uint64 { return uint64(t) ^ (1 << 63) }

func unsortableTime(u uint64) int64 { return int64(u ^ (1 << 63)) }

func seriesByKeyKey(db BucketID, seriesKey []byte) []byte {
	k := make([]byte, 0, 5+len(seriesKey))
	k = append(k, kindSeriesByKey)
	k = appendU32(k, uint32(db))
	return append(k, seriesKey...)
}

func seriesByIDKey(id SeriesID) []byte {
	return appendU32([]byte{kindSeriesByID}, uint32(id))
}

func measurementKey(db BucketID, m []byte) []byte {
	k := appendU32([]byte{kindMeasurement}, uint32(db))
	return appendLP(k, m)
}

func measurementPrefix(db BucketID) []byte {
	return appendU32([]byte{kindMeasurement}, uint32(db))
}

func tagPostingKey(db BucketID, m, key, value []byte) []byte {
	k := appendU32([]byte{kindTagPosting}, uint32(db))
	k = appendLP(k, m)
	k = appendLP(k, key)
	return append(k, value...)
}

// tagKeyPrefix is the prefix of all postings of one tag key of a measurement.
func tagKeyPrefix(db BucketID, m, key []byte) []byte {
	k := appendU32([]byte{kindTagPosting}, uint32(db))
	k = appendLP(k, m)
	return appendLP(k, key)
}

func tagMeasurementPrefix(db BucketID, m []byte) []byte {
	k := appendU32([]byte{kindTagPosting}, uint32(db))
	return appendLP(k, m)
}

func fieldKey(db BucketID, m, name []byte) []byte {
	k := appendU32([]byte{kindField}, uint32(db))
	k = appendLP(k, m)
	return append(k, name...)
}

func fieldPrefix(db BucketID) []byte {
	return appendU32([]byte{kindField}, uint32(db))
}

// blockKey is kindBlock | db u32 | series u32 | field u32 | sortable maxTime u64 | seq u64.
// Ordering by max time makes "first block that can hold t" a seek; seq keeps blocks
// of later flushes that cover the same time distinct (and newer on merge).
func blockKey(dst []byte, db BucketID, s SeriesID, f FieldID, maxTime int64, seq uint64) []byte {
	dst = append(dst, kindBlock)
	dst = appendU32(dst, uint32(db))
	dst = appendU32(dst, uint32(s))
	dst = appendU32(dst, uint32(f))
	dst = appendU64(dst, sortableTime(maxTime))
	return appendU64(dst, seq)
}

const blockKeyLen = 1 + 4 + 4 + 4 + 8 + 8

func parseBlockKey(k []byte) (maxTime int64, seq uint64, err error) {
	if len(k) != blockKeyLen || k[0] != kindBlock {
		return 0, 0, errBadKey
	}
	return unsortableTime(binary.BigEndian.Uint64(k[13:21])), binary.BigEndian.Uint64(k[21:29]), nil
}

// blockScanBounds returns the key range holding every block of (db, s, f) that may
// overlap [min, max]: from the first block whose max time is >= min up to (excluded)
// the first block whose max time lies in a partition after max's partition.
func blockScanBounds(db BucketID, s SeriesID, f FieldID, min, max int64) (lower, upper []byte) {
	lower = blockKey(nil, db, s, f, min, 0)
	end := partitionStart(max)
	if end > math.MaxInt64-PartitionWidth {
		upper = blockSeriesFieldPrefix(db, s, f)
		return lower, prefixEnd(upper)
	}
	upper = blockKey(nil, db, s, f, end+PartitionWidth, 0)
	return lower, upper
}

func blockSeriesFieldPrefix(db BucketID, s SeriesID, f FieldID) []byte {
	k := appendU32([]byte{kindBlock}, uint32(db))
	k = appendU32(k, uint32(s))
	return appendU32(k, uint32(f))
}

func blockSeriesPrefix(db BucketID, s SeriesID) []byte {
	k := appendU32([]byte{kindBlock}, uint32(db))
	return appendU32(k, uint32(s))
}

func blockDatabasePrefix(db BucketID) []byte {
	return appendU32([]byte{kindBlock}, uint32(db))
}

// partitionStart returns the start of the partition holding t (floor division).
func partitionStart(t int64) int64 {
	p := t / PartitionWidth
	if t%PartitionWidth < 0 {
		p--
	}
	return p * PartitionWidth
}

// prefixEnd returns the smallest key greater than every key with the given prefix.
func prefixEnd(prefix []byte) []byte {
	end := bytes.Clone(prefix)
	for i := len(end) - 1; i >= 0; i-- {
		end[i]++
		if end[i] != 0 {
			return end[:i+1]
		}
	}
	return nil // the prefix was all 0xff: no upper bound
}

// Series keys. A series key identifies a series within its database: the
// measurement and the sorted tag set, each length-prefixed (docs/format/keys.md).

// AppendSeriesKey appends the binary series key of measurement m and tags (which must
// be sorted by key) to dst.
func AppendSeriesKey(dst, m []byte, tags []Tag) []byte {
	dst = appendLP(dst, m)
	for _, t := range tags {
		dst = appendLP(dst, t.Key)
		dst = appendLP(dst, t.Value)
	}
	return dst
}

// SeriesKeyMeasurement returns the measurement of a binary series key without
// reading its tags (an observer told of every written point needs no more).
// The returned slice aliases key.
func SeriesKeyMeasurement(key []byte) ([]byte, error) {
	m, _, err := readLP(key)
	if err != nil {
		return nil, fmt.Errorf("series key: %w", err)
	}
	return m, nil
}

// ParseSeriesKey splits a binary series key into its measurement and tags. The
// returned slices alias key.
func ParseSeriesKey(key []byte, tags []Tag) (m []byte, _ []Tag, err error) {
	m, rest, err := readLP(key)
	if err != nil {
		return nil, nil, fmt.Errorf("series key: %w", err)
	}
	tags = tags[:0]
	for len(rest) > 0 {
		var k, v []byte
		if k, rest, err = readLP(rest); err != nil {
			return nil, nil, fmt.Errorf("series key: %w", err)
		}
		if v, rest, err = readLP(rest); err != nil {
			return nil, nil, fmt.Errorf("series key: %w", err)
		}
		tags = append(tags, Tag{Key: k, Value: v})
	}
	return m, tags, nil
}

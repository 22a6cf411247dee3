// Package block owns the byte format of Strata's column blocks: the immutable
// values the storage engine writes to pebble, each holding the points of one
// series and one field over a time range.
//
// A block is a small uncompressed header (count, time range and, for numeric
// types, min/max/sum/first/last) followed by a body holding the timestamps and
// the values, compressed with zstd, and a CRC-32C trailer. Integer gauges in
// small steps have their deltas entropy-coded with FSE (tANS) instead, which
// gets within about 1 % of their entropy (fse.go). The header lets
// queries answer count/sum/min/max/mean/first/last for a whole block without
// decompressing it (see DecodeHeader); Decode restores the full column,
// DecodeValues and DecodeTimes one of its two sections (values.go), and
// DecodeRange the points of a time range, decoding FSE integers only up to
// the range's end (ranged.go, fseprefix.go), and DecodeRangeMarked the same
// from the last of the block's marks, decoding states a caller keeps,
// before the range (marks.go).
//
// The storage engine owns the pebble keys and decides which points go into
// which block; this package only turns a Column into bytes and back. It has no
// knowledge of series, tags or retention and imports nothing from Strata.
//
// The byte layout is specified in docs/format/block.md and pinned by the golden
// blocks in testdata/block (version 1's frozen in testdata/block/v1);
// FormatVersion names the layout a block was written with, and a decoder
// reads versions 1 and 2 and refuses others.
//
// Encoder and Decoder keep scratch buffers between calls so a flush or query
// worker encodes and decodes without allocating; neither is safe for
// concurrent use, so keep one per goroutine. The zstd coders behind them are
// shared by the whole process because they are expensive to build.
package block

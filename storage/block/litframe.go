package block

import (
	"encoding/binary"

	"github.com/klauspost/compress/huff0"
)

// Packed deltas of noisy gauges are close to uniform bytes: a TSBS random walk
// with steps of up to ±1.00 has 201 equally likely deltas, 7.65 bits of
// entropy per value. Huffman coding gets about 7.73 bits, but zstd's encoder
// keeps literals raw unless Huffman saves at least 1/16 (6.25%), so on exactly
// the data that dominates a time-series database it stores the body
// uncompressed at 8 bits per value.
//
// appendLiteralFrame closes that gap without a second format: it writes a
// standard zstd frame (RFC 8878) whose blocks carry only Huffman-coded
// literals and zero sequences, accepting any saving. Any zstd decoder reads
// it, so Decode does not care which of the two encoders produced the frame;
// Encode keeps whichever output is smaller.

// zstdMagic starts every zstd frame (RFC 8878 §3.1.1), little-endian.
const zstdMagic = 0xFD2FB528

// zstdMaxBlock is the largest block content zstd allows (Block_Maximum_Size).
const zstdMaxBlock = 128 << 10

// Block types (RFC 8878 §3.1.1.2.2).
const (
	zBlockRaw        = 0
	zBlockRLE        = 1
	zBlockCompressed = 2
)

// huffMin4Streams is the literal count from which four Huffman streams are
// used: one stream can only describe sizes below 1024 (10-bit size fields),
// and four streams decode in parallel.
const huffMin4Streams = 1024

// huffMinLiterals is the smallest literal run worth a Huffman table: the
// table alone costs more than a handful of bytes can save.
const huffMinLiterals = 32

// appendLiteralFrame appends a zstd frame decoding to src, which must be
// non-empty and at most MaxBodyLen bytes.
func appendLiteralFrame(dst, src []byte, s *huff0.Scratch) []byte {
	dst = binary.LittleEndian.AppendUint32(dst, zstdMagic)
	// Frame_Header_Descriptor: Single_Segment_flag (bit 5) so no window
	// descriptor is needed, no checksum, no dictionary, and the smallest
	// Frame_Content_Size field that fits (bits 6-7).
	n := uint64(len(src))
	switch {
	case n < 256:
		dst = append(dst, 0<<6|1<<5, byte(n))
	case n < 65536+256:
		dst = append(dst, 1<<6|1<<5)
		dst = binary.LittleEndian.AppendUint16(dst, uint16(n-256))
	default:
		dst = append(dst, 2<<6|1<<5)
		dst = binary.LittleEndian.AppendUint32(dst, uint32(n))
	}
	for len(src) > 0 {
		chunk := src[:min(len(src), zstdMaxBlock)]
		src = src[len(chunk):]
		dst = appendLiteralBlock(dst, chunk, s, len(src) == 0)
	}
	return dst
}

// appendLiteralBlock appends one block holding lits: Huffman-coded if that
// is smaller, run-length if all bytes are equal, raw otherwise.
func appendLiteralBlock(dst, lits []byte, s *huff0.Scratch, last bool) []byte {
	var (
		out []byte
		err error
	)
	s.Reuse = huff0.ReusePolicyNone // each block carries its own table
	s.WantLogLess = 0               // take any saving: the point of this encoder
	switch {
	case len(lits) >= huffMin4Streams:
		out, _, err = huff0.Compress4X(lits, s)
	case len(lits) >= huffMinLiterals:
		out, _, err = huff0.Compress1X(lits, s)
	default:
		err = huff0.ErrIncompressible
	}
	blockHeader := func(typ, size int) []byte {
		h := uint32(size)<<3 | uint32(typ)<<1
		if last {
			h |= 1
		}
		return append(dst, byte(h), byte(h>>8), byte(h>>16))
	}
	if err == huff0.ErrUseRLE {
		return append(blockHeader(zBlockRLE, len(lits)), lits[0])
	}
	if err != nil {
		return append(blockHeader(zBlockRaw, len(lits)), lits...)
	}
	// Literals_Section_Header (RFC 8878 §3.1.1.3.1.1): block type 2
	// (Huffman-compressed), then a size format picking stream count and
	// field widths, then Regenerated_Size and Compressed_Size.
	var lh uint64
	var lhLen, sizeBits int
	switch {
	case len(lits) < huffMin4Streams: // one stream, 10-bit sizes
		lh, lhLen, sizeBits = 0<<2, 3, 10
	case len(lits) < 1<<14 && len(out) < 1<<14:
		lh, lhLen, sizeBits = 2<<2, 4, 14
	default:
		lh, lhLen, sizeBits = 3<<2, 5, 18
	}
	lh |= 2 | uint64(len(lits))<<4 | uint64(len(out))<<(4+sizeBits)
	// Block content: literals header, Huffman table and streams, and a
	// Number_of_Sequences byte of 0.
	content := lhLen + len(out) + 1
	if content >= len(lits) {
		return append(blockHeader(zBlockRaw, len(lits)), lits...)
	}
	dst = blockHeader(zBlockCompressed, content)
	for i := 0; i < lhLen; i++ {
		dst = append(dst, byte(lh>>(8*i)))
	}
	dst = append(dst, out...)
	return append(dst, 0)
}

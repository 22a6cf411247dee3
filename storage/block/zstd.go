package block

import (
	"sync"

	"github.com/klauspost/compress/zstd"
)

// zstdLevel is the compression level for block bodies. Measured on day-long
// (8,640-point) columns: numeric bodies come out byte-identical at every level
// (zstd finds no matches in packed noise; the literal-only frame does the
// work), while SpeedBetterCompression took 74 µs instead of 6 µs per TSBS
// body. Only a repetitive string body gained (57,284 -> 54,159 bytes, -5.5%)
// for 2.7x the time, and SpeedBestCompression (47,812) took 56 ms.
const zstdLevel = zstd.SpeedDefault

// minZstdBody is the smallest body worth handing to zstd: a frame costs at
// least 9 bytes of headers, so shorter bodies cannot shrink.
const minZstdBody = 16

// The zstd coders are expensive to build (tables, windows), and EncodeAll and
// DecodeAll are safe for concurrent use, so the process shares one of each,
// built on first use. They run up to GOMAXPROCS operations at once.
var (
	zstdEncoder = sync.OnceValue(func() *zstd.Encoder {
		e, err := zstd.NewWriter(nil,
			zstd.WithEncoderLevel(zstdLevel),
			// The block has its own CRC-32C over the stored bytes; zstd's
			// content checksum would be a second hash of the same data.
			zstd.WithEncoderCRC(false),
			zstd.WithEncoderConcurrency(0),
		)
		if err != nil {
			panic("block: building zstd encoder: " + err.Error()) // options are constant
		}
		return e
	})
	zstdDecoder = sync.OnceValue(func() *zstd.Decoder {
		d, err := zstd.NewReader(nil,
			zstd.WithDecoderConcurrency(0),
			// Never produce more than the caller's buffer capacity, which
			// Decode sizes from the header's body length.
			zstd.WithDecodeAllCapLimit(true),
			zstd.WithDecoderMaxMemory(MaxBodyLen),
		)
		if err != nil {
			panic("block: building zstd decoder: " + err.Error()) // options are constant
		}
		return d
	})
)

package ingest

import (
	"bufio"
	"fmt"
	"io"
	"net/http"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/snappy"
	"github.com/klauspost/compress/zstd"
)

// Compressed write bodies. Content-Encoding gzip (InfluxDB's), zstd (a
// stream) and snappy (the block format, as Prometheus remote write sends it)
// are inflated with klauspost/compress under MaxDecompressedSize; any other
// value is read as plain line protocol, as InfluxDB 1.x does. gzip and zstd
// readers are pooled: a new gzip reader costs its inflate tables and window
// (about 40 KB) per request, and klauspost's inflate is about twice as fast
// as the standard library's (BenchmarkReadBody).

// gzipInflater is a pooled gzip reader and the buffered reader it reads the
// wire through (a flate.Reader, so gzip adds no buffer of its own).
type gzipInflater struct {
	br *bufio.Reader
	zr *gzip.Reader // nil until a body's header was read once
}

// gzipReadBuffer is the read step on the wire of a gzip body.
const gzipReadBuffer = 16 << 10

// inflater returns a reader inflating src with enc ("gzip" or "zstd") and the
// function that releases it.
func (h *Handler) inflater(enc string, src io.Reader) (io.Reader, func(), error) {
	if enc == "gzip" {
		g, _ := h.gzips.Get().(*gzipInflater)
		if g == nil {
			g = &gzipInflater{br: bufio.NewReaderSize(nil, gzipReadBuffer)}
		}
		g.br.Reset(src)
		var err error
		if g.zr == nil {
			g.zr, err = gzip.NewReader(g.br)
		} else {
			err = g.zr.Reset(g.br)
		}
		release := func() {
			g.br.Reset(nil) // drop the reference to the request body
			h.gzips.Put(g)
		}
		if err != nil {
			release()
			return nil, nil, err
		}
		return g.zr, release, nil
	}
	zr, _ := h.zstds.Get().(*zstd.Decoder)
	if zr == nil {
		// Single-goroutine decoding (no goroutines to leak from a pooled
		// decoder) with the window capped at 8 MiB, zstd's default maximum for
		// streams: a hostile frame header cannot make it allocate more before
		// the body limit applies.
		var err error
		zr, err = zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxWindow(8<<20),
			zstd.WithDecoderMaxMemory(uint64(h.opts.MaxDecompressedSize)))
		if err != nil {
			return nil, nil, err
		}
	}
	if err := zr.Reset(src); err != nil {
		h.zstds.Put(zr)
		return nil, nil, err
	}
	return zr, func() {
		zr.Reset(nil) // drop the reference to the request body
		h.zstds.Put(zr)
	}, nil
}

// readSnappy reads a snappy block body: the whole compressed body, then its
// decoded length (checked against the limit before allocating), then the
// decoded bytes; both buffers are reserved from the in-flight budget.
func (h *Handler) readSnappy(st *requestState, wire *limitedReader) (int, error) {
	var raw bodyBuffer
	defer raw.release(h.opts.Inflight)
	exceeded, err := raw.readFrom(wire, h.opts.MaxBodySize, h.opts.Inflight)
	if status, err := bodyStatus(wire.exceeded || exceeded, err); status != 0 {
		return status, err
	}
	n, err := snappy.DecodedLen(raw.buf)
	if err != nil {
		return http.StatusBadRequest, fmt.Errorf("snappy: %w", err)
	}
	if int64(n) > h.opts.MaxDecompressedSize {
		return http.StatusRequestEntityTooLarge, errTooLarge
	}
	if err := st.body.reserve(int64(n), h.opts.Inflight); err != nil {
		return bodyStatus(false, err)
	}
	out, err := snappy.Decode(st.body.buf[:n], raw.buf)
	if err != nil {
		return http.StatusBadRequest, fmt.Errorf("snappy: %w", err)
	}
	st.body.buf = out
	return 0, nil
}

package wal

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
)

// Segment header and record framing; docs/format/wal.md is the byte-level
// specification and must change together with anything in this file.
const (
	// segmentMagic identifies a Strata WAL segment ("STWL").
	segmentMagic uint32 = 0x5354574c
	// FormatVersion is the segment format written by this package. Bump it on
	// any change to the header or the record framing. Version 2 puts a
	// checksum of magic and version in the header's last 3 bytes (zero in
	// version 1, which is still read), so a flipped version byte reads as
	// damage, not as a file from a newer release.
	FormatVersion byte = 2
	// formatV1 is the first format: the same framing, reserved bytes zero.
	formatV1 byte = 1
	// segmentHeaderSize is magic(4) + version(1) + checksum(3); 8 bytes keep
	// the first record header 8-byte aligned.
	segmentHeaderSize = 8
	// recordHeaderSize is length(4) + CRC-32C(4).
	recordHeaderSize = 8
	// MaxRecordSize bounds one record so a corrupt length field can never make
	// a reader allocate more than this; 64 MiB is far above the engine's
	// largest batch (a few MiB) while small enough to hold in memory twice.
	MaxRecordSize = 64 << 20
)

// castagnoli is built once: CRC-32C has hardware support on amd64 and arm64,
// which makes checksumming cheaper than the copy into the batch buffer.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Marker errors carried by CorruptionError.Err, usable with errors.Is.
var (
	ErrChecksum           = errors.New("record checksum mismatch")
	ErrTruncated          = errors.New("truncated record")
	ErrRecordLength       = errors.New("record length out of range")
	ErrBadHeader          = errors.New("bad segment header")
	ErrHeaderChecksum     = errors.New("segment header checksum mismatch")
	ErrMissingSegment     = errors.New("missing segment")
	ErrUnsupportedVersion = errors.New("unsupported segment format version")
)

// CorruptionError reports damage found while reading a segment. Offset is the
// byte offset in the segment file where the first unreadable record (or the
// header, at offset 0) starts.
type CorruptionError struct {
	Segment SegmentID
	Offset  int64
	Err     error
}

func (e *CorruptionError) Error() string {
	return fmt.Sprintf("wal: corruption in segment %d at offset %d: %v", e.Segment, e.Offset, e.Err)
}

func (e *CorruptionError) Unwrap() error { return e.Err }

// appendSegmentHeader appends the 8-byte segment header to dst.
func appendSegmentHeader(dst []byte) []byte {
	var h [5]byte
	binary.BigEndian.PutUint32(h[:], segmentMagic)
	h[4] = FormatVersion
	dst = append(dst, h[:]...)
	return appendHeaderCRC(dst, h[:])
}

// appendHeaderCRC appends the low 24 bits of the CRC-32C of magic+version,
// little-endian.
func appendHeaderCRC(dst, h []byte) []byte {
	c := crc32.Checksum(h[:5], castagnoli)
	return append(dst, byte(c), byte(c>>8), byte(c>>16))
}

func headerCRCMatches(h []byte) bool {
	return bytes.Equal(appendHeaderCRC(nil, h[:5]), h[5:8])
}

// checkSegmentHeader validates a segment header (version 1 or 2). A header of
// another version whose checksum holds is reported as ErrUnsupportedVersion,
// not as corruption, so that recovery never truncates a file written by a
// newer release (which must keep this header checksum); a version byte that
// fails the checksum is damage (ErrHeaderChecksum).
func checkSegmentHeader(h []byte) error {
	if len(h) < segmentHeaderSize {
		return fmt.Errorf("%w: %d bytes", ErrBadHeader, len(h))
	}
	magicOK := binary.BigEndian.Uint32(h) == segmentMagic
	switch {
	case h[4] == FormatVersion && headerCRCMatches(h) && magicOK:
		return nil
	case h[4] == formatV1 && h[5] == 0 && h[6] == 0 && h[7] == 0 && magicOK:
		return nil
	case h[4] == FormatVersion || h[4] == formatV1:
		return fmt.Errorf("%w: header %x", ErrHeaderChecksum, h[:segmentHeaderSize])
	case magicOK && headerCRCMatches(h):
		return fmt.Errorf("%w: %d (this build reads %d and %d)", ErrUnsupportedVersion, h[4], formatV1, FormatVersion)
	}
	// Which byte is damaged: with the version put back, does the rest check out?
	fixed := append([]byte(nil), h[:segmentHeaderSize]...)
	fixed[4] = FormatVersion
	if binary.BigEndian.Uint32(h) == segmentMagic && !headerCRCMatches(fixed) && h[5] == 0 && h[6] == 0 && h[7] == 0 {
		// A version-1 header with its version byte changed cannot be told from a
		// newer format without a checksum: refuse rather than guess.
		return fmt.Errorf("%w: %d (this build reads %d and %d; or the version byte of a version-1 segment is damaged)", ErrUnsupportedVersion, h[4], formatV1, FormatVersion)
	}
	return fmt.Errorf("%w: header %x", ErrHeaderChecksum, h[:segmentHeaderSize])
}

// recordHeader returns the frame header for payload rec. The CRC covers the
// length field too, so a flipped length bit is caught even when the bogus
// length still fits in the file.
func recordHeader(rec []byte) [recordHeaderSize]byte {
	var h [recordHeaderSize]byte
	binary.LittleEndian.PutUint32(h[0:4], uint32(len(rec)))
	crc := crc32.Update(0, castagnoli, h[0:4])
	crc = crc32.Update(crc, castagnoli, rec)
	binary.LittleEndian.PutUint32(h[4:8], crc)
	return h
}

// segmentReader decodes the records of one segment file of known size.
// Knowing the size up front is what bounds allocation: a length field is
// checked against the bytes actually left before any buffer is grown.
type segmentReader struct {
	id   SegmentID
	r    *bufio.Reader
	size int64
	off  int64 // offset of the next record header
	bufs *readBuffers
}

// readBuffers are shared by the segment readers of one replay, so a log of
// many small segments costs one read buffer, not one per segment.
type readBuffers struct {
	br  *bufio.Reader
	rec []byte // grows to the largest record read
}

// readBufferSize is large enough that the 100 KiB–1 MiB records the engine
// writes are read with few syscalls, and small enough to not matter in RAM.
const readBufferSize = 1 << 20

func newSegmentReader(id SegmentID, r io.Reader, size int64, bufs *readBuffers) (*segmentReader, error) {
	if bufs.br == nil {
		bufs.br = bufio.NewReaderSize(r, readBufferSize)
	} else {
		bufs.br.Reset(r)
	}
	sr := &segmentReader{id: id, r: bufs.br, size: size, bufs: bufs}
	var h [segmentHeaderSize]byte
	n, err := io.ReadFull(sr.r, h[:min(int64(segmentHeaderSize), size)])
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("wal: read header of segment %d: %w", id, err)
	}
	if err := checkSegmentHeader(h[:n]); err != nil {
		if errors.Is(err, ErrUnsupportedVersion) {
			return nil, fmt.Errorf("wal: segment %d: %w", id, err)
		}
		return nil, &CorruptionError{Segment: id, Offset: 0, Err: err}
	}
	sr.off = segmentHeaderSize
	return sr, nil
}

// next returns the next record and its position. The record aliases the
// shared buffer and is valid until the following call. It returns io.EOF at
// a clean end of segment and a *CorruptionError for anything else that stops
// decoding; I/O errors are returned wrapped as they are.
func (sr *segmentReader) next() (Position, []byte, error) {
	pos := Position{Segment: sr.id, Offset: sr.off}
	left := sr.size - sr.off
	if left == 0 {
		return pos, nil, io.EOF
	}
	corrupt := func(err error) (Position, []byte, error) {
		return pos, nil, &CorruptionError{Segment: sr.id, Offset: pos.Offset, Err: err}
	}
	if left < recordHeaderSize {
		return corrupt(fmt.Errorf("%w: %d bytes left for an %d-byte header", ErrTruncated, left, recordHeaderSize))
	}
	var h [recordHeaderSize]byte
	if _, err := io.ReadFull(sr.r, h[:]); err != nil {
		return pos, nil, fmt.Errorf("wal: read segment %d at %d: %w", sr.id, pos.Offset, err)
	}
	n := int64(binary.LittleEndian.Uint32(h[0:4]))
	if n > MaxRecordSize {
		return corrupt(fmt.Errorf("%w: %d bytes > limit %d", ErrRecordLength, n, MaxRecordSize))
	}
	if n > left-recordHeaderSize {
		return corrupt(fmt.Errorf("%w: length %d, %d bytes left", ErrTruncated, n, left-recordHeaderSize))
	}
	if int64(cap(sr.bufs.rec)) < n {
		sr.bufs.rec = make([]byte, n)
	}
	rec := sr.bufs.rec[:n]
	if _, err := io.ReadFull(sr.r, rec); err != nil {
		return pos, nil, fmt.Errorf("wal: read segment %d at %d: %w", sr.id, pos.Offset, err)
	}
	crc := crc32.Update(0, castagnoli, h[0:4])
	crc = crc32.Update(crc, castagnoli, rec)
	if want := binary.LittleEndian.Uint32(h[4:8]); crc != want {
		return corrupt(fmt.Errorf("%w: stored %#08x, computed %#08x", ErrChecksum, want, crc))
	}
	sr.off += recordHeaderSize + n
	return pos, rec, nil
}

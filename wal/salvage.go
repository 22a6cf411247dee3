package wal

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
)

// Damage describes bytes of a segment that recovery could not read as records
// and skipped. Bit rot in the middle of a segment costs only the records it
// hits: every valid record after it is kept (see salvage).
type Damage struct {
	Segment SegmentID
	Offset  int64  // where the unreadable bytes start in the segment file
	Length  int64  // how many bytes were skipped
	Cause   string // why the first of them did not decode
	// Quarantine is the file holding a copy of the skipped bytes, or "" when
	// it could not be written (the cause is logged).
	Quarantine string
}

// quarantineDir is where skipped bytes are copied, inside the log's directory;
// listSegments ignores it because it is not a regular file.
const quarantineDir = "quarantine"

// maxSalvage bounds the bytes read into memory to resynchronise one segment;
// segments are rolled at 64 MiB, so only a foreign file comes near it.
const maxSalvage = 4 * DefaultSegmentSize

// checkFrame reports whether a complete, valid record frame starts at data[p:]
// and returns its framed length.
func checkFrame(data []byte, p int) (int, error) {
	left := len(data) - p
	if left < recordHeaderSize {
		return 0, fmt.Errorf("%w: %d bytes left for an %d-byte header", ErrTruncated, left, recordHeaderSize)
	}
	n := int64(binary.LittleEndian.Uint32(data[p : p+4]))
	if n > MaxRecordSize {
		return 0, fmt.Errorf("%w: %d bytes > limit %d", ErrRecordLength, n, MaxRecordSize)
	}
	if n > int64(left-recordHeaderSize) {
		return 0, fmt.Errorf("%w: length %d, %d bytes left", ErrTruncated, n, left-recordHeaderSize)
	}
	crc := crc32.Update(0, castagnoli, data[p:p+4])
	crc = crc32.Update(crc, castagnoli, data[p+recordHeaderSize:p+recordHeaderSize+int(n)])
	if want := binary.LittleEndian.Uint32(data[p+4 : p+8]); crc != want {
		return 0, fmt.Errorf("%w: stored %#08x, computed %#08x", ErrChecksum, want, crc)
	}
	return recordHeaderSize + int(n), nil
}

// nextFrame returns the first offset >= from in data where a valid record
// starts, or -1. A false match needs a CRC-32C collision on top of a length
// that fits, so a resync after damage does not invent records.
func nextFrame(data []byte, from int) int {
	for p := from; p+recordHeaderSize <= len(data); p++ {
		if _, err := checkFrame(data, p); err == nil {
			return p
		}
	}
	return -1
}

// salvage handles damage found at ce.Offset of segment id (size bytes): it
// reads the rest of the segment, skips to the next valid record (resync),
// quarantines and reports the skipped bytes, and delivers every valid record
// after them to fn. Damage with nothing valid after it is a torn tail. It
// returns fn's error, or an error only when the segment cannot be read.
func (w *WAL) salvage(id SegmentID, f *os.File, size int64, ce *CorruptionError, fn func(Position, []byte) error) error {
	base := ce.Offset
	if size-base > maxSalvage {
		return fmt.Errorf("wal: segment %d is %d bytes, too large to resynchronise: %w", id, size, ce)
	}
	data := make([]byte, size-base)
	if _, err := f.ReadAt(data, base); err != nil {
		return fmt.Errorf("wal: read segment %d at %d: %w", id, base, err)
	}
	bad, cause := 0, ce.Err
	from := 1
	if base == 0 {
		from = segmentHeaderSize // the header is damaged; records may be intact
	}
	for {
		next := nextFrame(data, from)
		end := next
		if next < 0 {
			end = len(data)
		}
		w.report(id, base+int64(bad), data[bad:end], cause, next >= 0)
		if next < 0 {
			return nil
		}
		p := next
		for p < len(data) {
			n, err := checkFrame(data, p)
			if err != nil {
				cause = err
				break
			}
			if err := fn(Position{Segment: id, Offset: base + int64(p)}, data[p+recordHeaderSize:p+n]); err != nil {
				return err
			}
			p += n
		}
		if p == len(data) {
			return nil
		}
		bad, from = p, p+1
	}
}

// report quarantines skipped bytes, logs them at error level and counts them.
func (w *WAL) report(id SegmentID, off int64, b []byte, cause error, resynced bool) {
	d := Damage{Segment: id, Offset: off, Length: int64(len(b)), Cause: cause.Error()}
	path, err := writeQuarantine(w.dir, id, off, b, w.noSync)
	if err != nil {
		w.logger.Error("wal: could not quarantine damaged bytes", "segment", uint64(id), "offset", off, "err", err)
	} else {
		d.Quarantine = path
	}
	w.mu.Lock()
	w.damage = append(w.damage, d)
	w.mu.Unlock()
	w.metrics.corruptions.Inc()
	w.metrics.quarantined.Add(float64(len(b)))
	what := "torn or corrupt tail: nothing valid follows"
	if resynced {
		what = "corrupt bytes inside the segment: replay resumed at the next valid record"
	}
	w.logger.Error("wal: skipped damaged bytes; records in them are lost",
		"segment", uint64(id), "offset", off, "bytes", len(b), "cause", cause, "kind", what, "quarantine", d.Quarantine)
}

// writeQuarantine copies b to dir/quarantine, named by segment and offset so
// that a repeated replay overwrites rather than piles up copies.
func writeQuarantine(dir string, id SegmentID, off int64, b []byte, noSync bool) (string, error) {
	qdir := filepath.Join(dir, quarantineDir)
	if err := os.MkdirAll(qdir, 0o755); err != nil {
		return "", err
	}
	path := filepath.Join(qdir, fmt.Sprintf("%020d-offset-%d.bad", uint64(id), off))
	f, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return "", err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return "", err
	}
	if !noSync {
		if err := f.Sync(); err != nil {
			f.Close()
			return "", err
		}
	}
	return path, f.Close()
}

// Damage returns what recovery skipped since Open: bytes truncated off the
// last segment's tail and bytes Replay resynchronised past or found missing.
func (w *WAL) Damage() []Damage {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]Damage(nil), w.damage...)
}

package wal

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"os"
	"testing"
)

// FuzzReplay feeds arbitrary bytes to Open+Replay as the only segment. The
// log must open (unless the header claims another version), skip damage
// instead of failing, and return only records whose framing and CRC check out
// against the original bytes; Repair then leaves a log that Check finds clean
// and that replays the same records.
func FuzzReplay(f *testing.F) {
	golden, err := os.ReadFile(goldenPath)
	if err != nil {
		f.Fatal(err)
	}
	hdr := appendSegmentHeader(nil)
	rec := func(p string) []byte {
		h := recordHeader([]byte(p))
		return append(h[:], p...)
	}
	f.Add(golden)
	f.Add([]byte{})
	f.Add(hdr)
	f.Add(hdr[:5])
	f.Add(append(bytes.Clone(hdr), rec("hello")...))
	f.Add(append(append(bytes.Clone(hdr), rec("hello")...), rec("world")[:9]...))
	f.Add(append(bytes.Clone(hdr), make([]byte, 64)...))
	f.Add(append(bytes.Clone(hdr), 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0))
	f.Add(append(bytes.Clone(hdr), 0x10, 0, 0, 0, 1, 2, 3, 4, 5))
	f.Add(append(append([]byte(nil), golden[:4]...), 2, 0, 0, 0))
	f.Add(golden[:len(golden)-1])

	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(segmentPath(dir, 1), data, 0o644); err != nil {
			t.Fatal(err)
		}
		opts := Options{Dir: dir, NoSync: true, Logger: quietLogger(nil)}
		w, err := Open(opts)
		if err != nil {
			if errors.Is(err, ErrUnsupportedVersion) && len(data) >= 5 && data[4] != FormatVersion {
				return
			}
			t.Fatalf("Open: %v", err)
		}
		got, err := replayAll(t, w, 0)
		w.Close()
		if err != nil {
			t.Fatalf("Replay after repair: %v", err)
		}
		// Every record is a valid frame of the input at the offset reported,
		// in order and without overlap; damage between them was skipped.
		off := int64(segmentHeaderSize)
		for i, r := range got {
			if r.pos.Segment != 1 || r.pos.Offset < off {
				t.Fatalf("record %d at %+v, want segment 1 at or after offset %d", i, r.pos, off)
			}
			end := r.pos.Offset + recordHeaderSize + int64(len(r.rec))
			if end > int64(len(data)) {
				t.Fatalf("record %d ends at %d, beyond the %d input bytes", i, end, len(data))
			}
			frame := data[r.pos.Offset:end]
			n := binary.LittleEndian.Uint32(frame)
			crc := crc32.Checksum(append(bytes.Clone(frame[:4]), frame[8:]...), crc32.MakeTable(crc32.Castagnoli))
			if int(n) != len(r.rec) || crc != binary.LittleEndian.Uint32(frame[4:]) || !bytes.Equal(frame[8:], r.rec) {
				t.Fatalf("record %d at %d does not match a valid frame in the input", i, r.pos.Offset)
			}
			off = end
		}

		// Offline repair leaves a log that checks clean and replays the same
		// records without reporting anything.
		if _, err := Repair(dir, 0); err != nil {
			t.Fatalf("Repair: %v", err)
		}
		if d, err := Check(dir, 0); err != nil || len(d) != 0 {
			t.Fatalf("Check after Repair: %+v, %v", d, err)
		}
		var logs bytes.Buffer
		opts.Logger = quietLogger(&logs)
		w, err = Open(opts)
		if err != nil {
			t.Fatalf("Open after Repair: %v", err)
		}
		again, err := replayAll(t, w, 0)
		w.Close()
		if err != nil || logs.Len() != 0 {
			t.Fatalf("open after repair: err %v, log %q", err, logs.String())
		}
		equalRecords(t, payloads(again), payloads(got))
	})
}

// FuzzAppendReplay round-trips records cut from the input, with a segment
// size and rotations chosen by the input too, and checks that replay returns
// exactly what was appended, in order.
func FuzzAppendReplay(f *testing.F) {
	f.Add(uint16(64), []byte("\x03abc\x00\x05hello\xffrotate"))
	f.Add(uint16(9), []byte("\x01a\x01b\x01c\x01d"))
	f.Add(uint16(0), bytes.Repeat([]byte{0x20}, 300))
	f.Add(uint16(4096), []byte{})
	f.Fuzz(func(t *testing.T, segSize uint16, data []byte) {
		dir := t.TempDir()
		w, err := Open(Options{Dir: dir, SegmentSize: int64(segSize), NoSync: true, Logger: quietLogger(nil)})
		if err != nil {
			t.Fatal(err)
		}
		// Each record is a length byte and that many bytes; the length 0xff
		// means "rotate" instead.
		var want [][]byte
		for len(data) > 0 {
			n := int(data[0])
			data = data[1:]
			if n == 0xff {
				if _, err := w.Rotate(); err != nil {
					t.Fatal(err)
				}
				continue
			}
			n = min(n, len(data))
			want = append(want, data[:n])
			if _, err := w.Append(data[:n]); err != nil {
				t.Fatal(err)
			}
			data = data[n:]
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		w, err = Open(Options{Dir: dir, NoSync: true, Logger: quietLogger(nil)})
		if err != nil {
			t.Fatal(err)
		}
		defer w.Close()
		got, err := replayAll(t, w, 0)
		if err != nil {
			t.Fatal(err)
		}
		equalRecords(t, payloads(got), want)
	})
}

package wal

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// writeSegmentFixture writes records into a fresh log in dir, closes it and
// returns the raw bytes of its only segment plus the offset of each record.
func writeSegmentFixture(t *testing.T, dir string, records [][]byte) ([]byte, []int64) {
	t.Helper()
	w := mustOpen(t, Options{Dir: dir, NoSync: true})
	for _, r := range records {
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(segmentPath(dir, 1))
	if err != nil {
		t.Fatal(err)
	}
	offs := make([]int64, len(records))
	off := int64(segmentHeaderSize)
	for i, r := range records {
		offs[i] = off
		off += recordHeaderSize + int64(len(r))
	}
	if off != int64(len(data)) {
		t.Fatalf("segment is %d bytes, framing predicts %d", len(data), off)
	}
	return data, offs
}

func fixtureRecords(n, size int) [][]byte {
	recs := make([][]byte, n)
	for i := range recs {
		recs[i] = bytes.Repeat([]byte{byte('a' + i)}, size)
	}
	return recs
}

// reopenAndCheck opens dir, expects exactly want to replay, then appends one
// record and checks that a second open replays want plus that record with no
// further repair.
func reopenAndCheck(t *testing.T, dir string, want [][]byte) string {
	t.Helper()
	var logs bytes.Buffer
	w := mustOpen(t, Options{Dir: dir, NoSync: true, Logger: quietLogger(&logs)})
	got, err := replayAll(t, w, 0)
	if err != nil {
		t.Fatalf("Replay after repair: %v", err)
	}
	equalRecords(t, payloads(got), want)
	extra := []byte("after-repair")
	if err := w.Write(extra); err != nil {
		t.Fatalf("Write after repair: %v", err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}

	var logs2 bytes.Buffer
	w = mustOpen(t, Options{Dir: dir, NoSync: true, Logger: quietLogger(&logs2)})
	defer w.Close()
	got, err = replayAll(t, w, 0)
	if err != nil {
		t.Fatalf("Replay after second open: %v", err)
	}
	equalRecords(t, payloads(got), append(want[:len(want):len(want)], extra))
	if logs2.Len() != 0 {
		t.Fatalf("second open logged again, repair was not complete: %s", logs2.String())
	}
	return logs.String()
}

// TestWAL_TornTailEveryOffset cuts the last record at every byte and checks
// that recovery keeps exactly the complete records.
func TestWAL_TornTailEveryOffset(t *testing.T) {
	base := t.TempDir()
	recs := fixtureRecords(4, 40)
	data, offs := writeSegmentFixture(t, base, recs)
	last := offs[len(offs)-1]
	for cut := last; cut < int64(len(data)); cut++ {
		t.Run(fmt.Sprintf("cut_at_%d", cut), func(t *testing.T) {
			dir := t.TempDir()
			path := segmentPath(dir, 1)
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Truncate(path, cut); err != nil {
				t.Fatal(err)
			}
			logs := reopenAndCheck(t, dir, recs[:len(recs)-1])
			if cut == last {
				if logs != "" {
					t.Fatalf("a cut on a record boundary is a clean end, but open logged: %s", logs)
				}
				return
			}
			for _, want := range []string{"segment=1", fmt.Sprintf("offset=%d", last), fmt.Sprintf("dropped_bytes=%d", cut-last)} {
				if !strings.Contains(logs, want) {
					t.Fatalf("repair log %q lacks %q", logs, want)
				}
			}
			if fi, err := os.Stat(path); err != nil || fi.Size() != last {
				t.Fatalf("repaired segment: %v, size %d, want %d", err, fi.Size(), last)
			}
		})
	}
}

// TestWAL_Repair damages the last segment in the ways a crash or a bad disk
// does and lists the records that must survive.
func TestWAL_Repair(t *testing.T) {
	recs := fixtureRecords(5, 64)
	cases := []struct {
		name     string
		corrupt  func(data []byte, offs []int64) []byte
		survive  int
		repaired bool
		resynced []int // instead of survive: damage inside the segment loses just these records
	}{
		{"clean", func(d []byte, _ []int64) []byte { return d }, 5, false, nil},
		{"torn_last_record", func(d []byte, o []int64) []byte { return d[:o[4]+20] }, 4, true, nil},
		{"torn_last_record_header", func(d []byte, o []int64) []byte { return d[:o[4]+3] }, 4, true, nil},
		{"corrupt_last_payload", func(d []byte, o []int64) []byte {
			d[o[4]+recordHeaderSize+10] ^= 0x01
			return d
		}, 4, true, nil},
		{"corrupt_last_crc", func(d []byte, o []int64) []byte {
			d[o[4]+5] ^= 0x80
			return d
		}, 4, true, nil},
		{"corrupt_last_length_smaller", func(d []byte, o []int64) []byte {
			d[o[4]] ^= 0x01 // 64 -> 65: still fits the file, caught by the CRC
			return d
		}, 4, true, nil},
		{"corrupt_last_length_huge", func(d []byte, o []int64) []byte {
			binary.LittleEndian.PutUint32(d[o[4]:], 0xffffffff)
			return d
		}, 4, true, nil},
		{"corrupt_middle_record", func(d []byte, o []int64) []byte {
			d[o[2]+recordHeaderSize] ^= 0xff
			return d
		}, 0, false, []int{2}},
		{"zeroed_tail", func(d []byte, _ []int64) []byte { return append(d, make([]byte, 4096)...) }, 5, true, nil},
		{"zeroed_tail_short", func(d []byte, _ []int64) []byte { return append(d, 0, 0, 0) }, 5, true, nil},
		{"garbage_appended", func(d []byte, _ []int64) []byte {
			return append(d, []byte("\x07\x00\x00\x00garbage that is not a record")...)
		}, 5, true, nil},
		{"bad_magic", func(d []byte, _ []int64) []byte {
			d[0] = 'X'
			return d
		}, 0, false, []int{}},
		{"partial_segment_header", func(d []byte, _ []int64) []byte { return d[:5] }, 0, true, nil},
		{"empty_file", func(d []byte, _ []int64) []byte { return d[:0] }, 0, true, nil},
	}
	base := t.TempDir()
	data, offs := writeSegmentFixture(t, base, recs)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(segmentPath(dir, 1), tc.corrupt(bytes.Clone(data), offs), 0o644); err != nil {
				t.Fatal(err)
			}
			if tc.resynced != nil {
				checkResynced(t, dir, recs, tc.resynced)
				return
			}
			logs := reopenAndCheck(t, dir, recs[:tc.survive])
			if repaired := strings.Contains(logs, "truncated torn or corrupt tail"); repaired != tc.repaired {
				t.Fatalf("repair logged: %v, want %v (log %q)", repaired, tc.repaired, logs)
			}
		})
	}
}

// checkResynced opens dir, whose only segment has bit rot followed by valid
// records, and expects every record but the lost ones, a loud log and a
// quarantined copy of the damage; the segment itself is left as it is.
func checkResynced(t *testing.T, dir string, recs [][]byte, lost []int) {
	t.Helper()
	before, _ := os.ReadFile(segmentPath(dir, 1))
	var logs bytes.Buffer
	w := mustOpen(t, Options{Dir: dir, NoSync: true, Logger: quietLogger(&logs)})
	defer w.Close()
	got, err := replayAll(t, w, 0)
	if err != nil {
		t.Fatalf("Replay: %v", err)
	}
	var want [][]byte
	for i, r := range recs {
		if !slices.Contains(lost, i) {
			want = append(want, r)
		}
	}
	equalRecords(t, payloads(got), want)
	if !strings.Contains(logs.String(), "skipped damaged bytes") || !strings.Contains(logs.String(), "level=ERROR") {
		t.Errorf("damage not logged at error level: %s", logs.String())
	}
	d := w.Damage()
	if len(d) == 0 || d[0].Quarantine == "" {
		t.Fatalf("damage not quarantined: %+v", d)
	}
	q, err := os.ReadFile(d[0].Quarantine)
	if err != nil || int64(len(q)) != d[0].Length || !bytes.Equal(q, before[d[0].Offset:d[0].Offset+d[0].Length]) {
		t.Errorf("quarantine %s holds %d bytes (%v), want the %d damaged bytes at %d", d[0].Quarantine, len(q), err, d[0].Length, d[0].Offset)
	}
	if !strings.Contains(d[0].Quarantine, fmt.Sprintf("%020d-offset-%d", 1, d[0].Offset)) {
		t.Errorf("quarantine name %q does not say segment and offset", d[0].Quarantine)
	}
}

// TestWAL_CorruptionInOlderSegment checks that damage outside the last
// segment costs only the records it hits: it is skipped, reported with its
// segment and offset, and every valid record after it is delivered.
func TestWAL_CorruptionInOlderSegment(t *testing.T) {
	cases := []struct {
		name    string
		corrupt func(t *testing.T, dir string, pos []Position)
		segment SegmentID
		lost    []int // indexes of the records that must not be delivered
		offset  func(pos []Position) int64
		marker  error
	}{
		{"flipped_payload", func(t *testing.T, dir string, pos []Position) {
			flipByte(t, segmentPath(dir, 2), pos[4].Offset+recordHeaderSize+3)
		}, 2, []int{4}, func(p []Position) int64 { return p[4].Offset }, ErrChecksum},
		{"flipped_length", func(t *testing.T, dir string, pos []Position) {
			flipByte(t, segmentPath(dir, 2), pos[3].Offset+3)
		}, 2, []int{3}, func(p []Position) int64 { return p[3].Offset }, ErrRecordLength},
		{"torn_older_segment", func(t *testing.T, dir string, pos []Position) {
			if err := os.Truncate(segmentPath(dir, 1), pos[2].Offset+5); err != nil {
				t.Fatal(err)
			}
		}, 1, []int{2}, func(p []Position) int64 { return p[2].Offset }, ErrTruncated},
		{"bad_header", func(t *testing.T, dir string, _ []Position) {
			flipByte(t, segmentPath(dir, 2), 1)
		}, 2, []int{}, func([]Position) int64 { return 0 }, ErrHeaderChecksum},
		{"missing_segment", func(t *testing.T, dir string, _ []Position) {
			if err := os.Remove(segmentPath(dir, 2)); err != nil {
				t.Fatal(err)
			}
		}, 2, []int{3, 4, 5}, func([]Position) int64 { return 0 }, ErrMissingSegment},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			// Three segments of three records each: 1, 2, 3.
			w := mustOpen(t, Options{Dir: dir, NoSync: true})
			var recs [][]byte
			for i := range 9 {
				rec := bytes.Repeat([]byte{byte(i)}, 100+i)
				recs = append(recs, rec)
				if err := w.Write(rec); err != nil {
					t.Fatal(err)
				}
				if i%3 == 2 && i < 8 {
					if _, err := w.Rotate(); err != nil {
						t.Fatal(err)
					}
				}
			}
			w.Close()
			w = mustOpen(t, Options{Dir: dir, NoSync: true})
			all, err := replayAll(t, w, 0)
			if err != nil {
				t.Fatal(err)
			}
			w.Close()
			pos := make([]Position, len(all))
			for i, r := range all {
				pos[i] = r.pos
			}
			if pos[3].Segment != 2 || pos[8].Segment != 3 {
				t.Fatalf("unexpected layout %v", pos)
			}

			tc.corrupt(t, dir, pos)
			var logs bytes.Buffer
			w = mustOpen(t, Options{Dir: dir, NoSync: true, Logger: quietLogger(&logs)})
			defer w.Close()
			if logs.Len() != 0 {
				t.Fatalf("open repaired an older segment: %s", logs.String())
			}
			logs.Reset()
			got, err := replayAll(t, w, 0)
			if err != nil {
				t.Fatalf("Replay = %v, want the damage skipped", err)
			}
			d := w.Damage()
			if len(d) != 1 || d[0].Segment != tc.segment || d[0].Offset != tc.offset(pos) || !strings.Contains(d[0].Cause, tc.marker.Error()) {
				t.Fatalf("damage %+v, want segment %d offset %d marker %v", d, tc.segment, tc.offset(pos), tc.marker)
			}
			if !strings.Contains(logs.String(), "level=ERROR") {
				t.Errorf("damage not logged at error level: %s", logs.String())
			}
			var want [][]byte
			for i, r := range recs {
				if !slices.Contains(tc.lost, i) {
					want = append(want, r)
				}
			}
			equalRecords(t, payloads(got), want)
		})
	}
}

func flipByte(t *testing.T, path string, off int64) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	data[off] ^= 0xff
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestWAL_UnsupportedVersion(t *testing.T) {
	dir := t.TempDir()
	data, _ := writeSegmentFixture(t, dir, fixtureRecords(2, 10))
	// A well-formed header of a newer version: its checksum holds.
	data[4] = FormatVersion + 1
	copy(data[5:8], appendHeaderCRC(nil, data[:5]))
	path := segmentPath(dir, 1)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Open(Options{Dir: dir, NoSync: true, Logger: quietLogger(nil)})
	if !errors.Is(err, ErrUnsupportedVersion) {
		t.Fatalf("Open = %v, want ErrUnsupportedVersion", err)
	}
	after, _ := os.ReadFile(path)
	if !bytes.Equal(after, data) {
		t.Fatal("Open modified a segment of an unsupported version")
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Fatalf("failed Open left files behind: %v", ents)
	}
}

func TestListSegmentsIgnoresStrangers(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"00000000000000000003.wal", "00000000000000000001.wal", "notes.txt", "1.wal", "0000000000000000000x.wal"} {
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "00000000000000000002.wal"), 0o755); err != nil {
		t.Fatal(err)
	}
	ids, err := listSegments(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != 2 || ids[0] != 1 || ids[1] != 3 {
		t.Fatalf("listSegments = %v, want [1 3]", ids)
	}
}

// TestWAL_HeaderDamage: a flipped byte anywhere in a version-2 header is
// reported as a header checksum mismatch (not as a newer version), and the
// records after it are kept; a version-1 header still reads.
func TestWAL_HeaderDamage(t *testing.T) {
	recs := fixtureRecords(3, 20)
	for off := int64(0); off < segmentHeaderSize; off++ {
		t.Run(fmt.Sprint("byte_", off), func(t *testing.T) {
			dir := t.TempDir()
			data, _ := writeSegmentFixture(t, dir, recs)
			data[off] ^= 0xff
			if err := os.WriteFile(segmentPath(dir, 1), data, 0o644); err != nil {
				t.Fatal(err)
			}
			w := mustOpen(t, Options{Dir: dir, NoSync: true, Logger: quietLogger(nil)})
			defer w.Close()
			got, err := replayAll(t, w, 0)
			if err != nil {
				t.Fatal(err)
			}
			equalRecords(t, payloads(got), recs)
			if d := w.Damage(); len(d) != 1 || !strings.Contains(d[0].Cause, ErrHeaderChecksum.Error()) {
				t.Fatalf("damage %+v, want a header checksum mismatch", d)
			}
		})
	}
	t.Run("v1_header", func(t *testing.T) {
		dir := t.TempDir()
		data, _ := writeSegmentFixture(t, dir, recs)
		copy(data, []byte{0x53, 0x54, 0x57, 0x4c, 1, 0, 0, 0})
		if err := os.WriteFile(segmentPath(dir, 1), data, 0o644); err != nil {
			t.Fatal(err)
		}
		w := mustOpen(t, Options{Dir: dir, NoSync: true, Logger: quietLogger(nil)})
		defer w.Close()
		got, err := replayAll(t, w, 0)
		if err != nil || len(w.Damage()) != 0 {
			t.Fatalf("v1 segment: %v, damage %+v", err, w.Damage())
		}
		equalRecords(t, payloads(got), recs)
	})
}

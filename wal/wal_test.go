package wal

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"slices"
	"testing"
)

// quietLogger keeps expected repair warnings out of test output while still
// letting tests inspect them.
func quietLogger(buf *bytes.Buffer) *slog.Logger {
	if buf == nil {
		return slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return slog.New(slog.NewTextHandler(buf, nil))
}

func mustOpen(t testing.TB, opts Options) *WAL {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = quietLogger(nil)
	}
	w, err := Open(opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return w
}

type replayed struct {
	pos Position
	rec []byte
}

func replayAll(t testing.TB, w *WAL, from SegmentID) ([]replayed, error) {
	t.Helper()
	var out []replayed
	err := w.Replay(from, func(pos Position, rec []byte) error {
		out = append(out, replayed{pos, bytes.Clone(rec)})
		return nil
	})
	return out, err
}

func payloads(rs []replayed) [][]byte {
	out := make([][]byte, len(rs))
	for i, r := range rs {
		out[i] = r.rec
	}
	return out
}

func equalRecords(t testing.TB, got, want [][]byte) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d records, want %d", len(got), len(want))
	}
	for i := range got {
		if !bytes.Equal(got[i], want[i]) {
			t.Fatalf("record %d: got %d bytes %.16x..., want %d bytes %.16x...", i, len(got[i]), got[i], len(want[i]), want[i])
		}
	}
}

func randomRecord(rng *rand.Rand, maxSize int) []byte {
	rec := make([]byte, rng.IntN(maxSize+1))
	for i := range rec {
		rec[i] = byte(rng.Uint32())
	}
	return rec
}

func TestWAL_RoundTrip(t *testing.T) {
	cases := []struct {
		name        string
		segmentSize int64
		records     int
		maxSize     int
		noSync      bool
	}{
		{"tiny segments", 512, 300, 200, true},
		{"records larger than segments", 1024, 40, 4096, true},
		{"default segments", 0, 200, 64 << 10, true},
		{"fsync", 4096, 50, 1024, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			rng := rand.New(rand.NewPCG(1, uint64(tc.records)))
			w := mustOpen(t, Options{Dir: dir, SegmentSize: tc.segmentSize, NoSync: tc.noSync})
			var want [][]byte
			var rotated SegmentID
			var beforeRotate int
			for i := range tc.records {
				rec := randomRecord(rng, tc.maxSize)
				want = append(want, rec)
				if err := w.Write(rec); err != nil {
					t.Fatalf("Write %d: %v", i, err)
				}
				if i == tc.records/2 {
					id, err := w.Rotate()
					if err != nil {
						t.Fatalf("Rotate: %v", err)
					}
					rotated, beforeRotate = id, i+1
				}
			}
			if err := w.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}

			w = mustOpen(t, Options{Dir: dir, SegmentSize: tc.segmentSize, NoSync: tc.noSync})
			got, err := replayAll(t, w, 0)
			if err != nil {
				t.Fatalf("Replay: %v", err)
			}
			equalRecords(t, payloads(got), want)
			for i, r := range got {
				if before := i < beforeRotate; before != (r.pos.Segment < rotated) {
					t.Fatalf("record %d at %+v, rotate returned %d, appended before rotate: %v", i, r.pos, rotated, before)
				}
				if i > 0 && !posLess(got[i-1].pos, r.pos) {
					t.Fatalf("positions out of order: %+v then %+v", got[i-1].pos, r.pos)
				}
			}
			if tc.segmentSize > 0 && tc.maxSize+recordHeaderSize+segmentHeaderSize <= int(tc.segmentSize) {
				checkSegmentSizes(t, dir, w.Segments(), tc.segmentSize)
			}

			if err := w.RemoveBefore(rotated); err != nil {
				t.Fatalf("RemoveBefore: %v", err)
			}
			if segs := w.Segments(); segs[0] != rotated {
				t.Fatalf("after RemoveBefore(%d) segments are %v", rotated, segs)
			}
			got, err = replayAll(t, w, 0)
			if err != nil {
				t.Fatalf("Replay after RemoveBefore: %v", err)
			}
			equalRecords(t, payloads(got), want[beforeRotate:])
			fromRotated, err := replayAll(t, w, rotated)
			if err != nil {
				t.Fatalf("Replay from %d: %v", rotated, err)
			}
			equalRecords(t, payloads(fromRotated), want[beforeRotate:])
			if err := w.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
		})
	}
}

func posLess(a, b Position) bool {
	return a.Segment < b.Segment || a.Segment == b.Segment && a.Offset < b.Offset
}

func checkSegmentSizes(t *testing.T, dir string, segs []SegmentID, limit int64) {
	t.Helper()
	for _, id := range segs {
		fi, err := os.Stat(segmentPath(dir, id))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Size() > limit {
			t.Errorf("segment %d is %d bytes, limit %d", id, fi.Size(), limit)
		}
	}
}

func TestWAL_Rotate(t *testing.T) {
	w := mustOpen(t, Options{Dir: t.TempDir(), NoSync: true})
	defer w.Close()
	first := w.Segments()[0]
	id, err := w.Rotate()
	if err != nil {
		t.Fatal(err)
	}
	if id != first {
		t.Fatalf("Rotate on an empty segment returned %d, want the active %d", id, first)
	}
	if err := w.Write([]byte("a")); err != nil {
		t.Fatal(err)
	}
	id2, err := w.Rotate()
	if err != nil {
		t.Fatal(err)
	}
	if id2 != first+1 {
		t.Fatalf("Rotate returned %d, want %d", id2, first+1)
	}
	if got, want := w.Segments(), []SegmentID{first, first + 1}; !slices.Equal(got, want) {
		t.Fatalf("segments %v, want %v", got, want)
	}
	if err := w.RemoveBefore(id2 + 1); err == nil {
		t.Fatal("RemoveBefore beyond the active segment succeeded")
	}
}

func TestWAL_NewSegmentPerOpen(t *testing.T) {
	dir := t.TempDir()
	for i := range 3 {
		w := mustOpen(t, Options{Dir: dir, NoSync: true})
		if err := w.Write(fmt.Appendf(nil, "open %d", i)); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	w := mustOpen(t, Options{Dir: dir, NoSync: true})
	defer w.Close()
	if got, want := w.Segments(), []SegmentID{1, 2, 3, 4}; !slices.Equal(got, want) {
		t.Fatalf("segments %v, want %v", got, want)
	}
	got, err := replayAll(t, w, 0)
	if err != nil {
		t.Fatal(err)
	}
	equalRecords(t, payloads(got), [][]byte{[]byte("open 0"), []byte("open 1"), []byte("open 2")})
	for i, r := range got {
		if r.pos != (Position{SegmentID(i + 1), segmentHeaderSize}) {
			t.Errorf("record %d at %+v", i, r.pos)
		}
	}
}

func TestWAL_Errors(t *testing.T) {
	w := mustOpen(t, Options{Dir: t.TempDir(), NoSync: true})
	if _, err := w.Append(make([]byte, MaxRecordSize+1)); !errors.Is(err, ErrRecordTooLarge) {
		t.Errorf("Append of an oversized record: %v, want ErrRecordTooLarge", err)
	}
	if err := w.WaitDurable(5); err == nil {
		t.Error("WaitDurable of a never appended sequence succeeded")
	}
	seq, err := w.Append([]byte("x"))
	if err != nil || seq != 1 {
		t.Fatalf("Append = %d, %v; want 1, nil", seq, err)
	}
	if err := w.Replay(0, func(Position, []byte) error { return nil }); !errors.Is(err, ErrReplayAfterAppend) {
		t.Errorf("Replay after Append: %v, want ErrReplayAfterAppend", err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.WaitDurable(seq); err != nil {
		t.Errorf("WaitDurable after Close of a record Close flushed: %v", err)
	}
	if err := w.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := w.Append([]byte("y")); !errors.Is(err, ErrClosed) {
		t.Errorf("Append after Close: %v, want ErrClosed", err)
	}
	if _, err := w.Rotate(); !errors.Is(err, ErrClosed) {
		t.Errorf("Rotate after Close: %v, want ErrClosed", err)
	}
	if _, err := Open(Options{}); err == nil {
		t.Error("Open without Dir succeeded")
	}
}

func TestWAL_ReplayCallbackError(t *testing.T) {
	dir := t.TempDir()
	w := mustOpen(t, Options{Dir: dir, NoSync: true})
	for range 3 {
		if err := w.Write([]byte("r")); err != nil {
			t.Fatal(err)
		}
	}
	w.Close()
	w = mustOpen(t, Options{Dir: dir, NoSync: true})
	defer w.Close()
	stop := errors.New("stop")
	n := 0
	err := w.Replay(0, func(Position, []byte) error {
		n++
		if n == 2 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || n != 2 {
		t.Fatalf("Replay = %v after %d records, want the callback's error after 2", err, n)
	}
}

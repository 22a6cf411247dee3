package storage

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// writeWithOffsets stores one float point per value of vals (or none) with offs.
func writeWithOffsets(t *testing.T, e *Engine, vals []float64, offs ...SourceOffset) WriteResult {
	t.Helper()
	b, err := e.NewBatch(bucketOf(t, e, "db"))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Release()
	for i, v := range vals {
		if err := b.Add([]byte("m"), nil, []FieldValue{{Key: []byte("v"), Type: Float, Float: v}}, int64(i+1)); err != nil {
			t.Fatal(err)
		}
	}
	b.SetOffsets(offs)
	res, err := e.Write(b)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// TestSourceOffsetsSurviveCrashAndFlush: offsets written with points come back
// after a crash (from the WAL) and after a flush (from Pebble), together with
// the points, and a batch whose points were all rejected still moves them.
func TestSourceOffsetsSurviveCrashAndFlush(t *testing.T) {
	dir := t.TempDir()
	e := openTestEngine(t, dir, Options{})
	if err := e.CreateDatabase("db", nil); err != nil {
		t.Fatal(err)
	}
	const s = "kafka/g/t"
	writeWithOffsets(t, e, []float64{1, 2}, SourceOffset{s, 0, 10, -1}, SourceOffset{s, 3, 7, -1})
	writeWithOffsets(t, e, []float64{3}, SourceOffset{s, 0, 12, 10})
	want := map[int32]int64{0: 12, 3: 7}
	if got := e.SourceOffsets(s); !reflect.DeepEqual(got, want) {
		t.Fatalf("live offsets %v, want %v", got, want)
	}
	crash(t, e)

	e = openTestEngine(t, dir, Options{})
	if got := e.SourceOffsets(s); !reflect.DeepEqual(got, want) {
		t.Fatalf("offsets after replay %v, want %v", got, want)
	}
	if err := e.Flush(); err != nil {
		t.Fatal(err)
	}
	// A batch of only rejected points: the consumer moved past them.
	b, _ := e.NewBatch(bucketOf(t, e, "db"))
	b.Add([]byte("m"), nil, []FieldValue{{Key: []byte("v"), Type: Integer, Int: 1}}, 9)
	b.SetOffsets([]SourceOffset{{s, 3, 8, 7}})
	if res, err := e.Write(b); err != nil || res.Written != 0 || res.Rejected != 1 {
		t.Fatalf("write of a rejected point: %+v, %v", res, err)
	}
	want[3] = 8
	crash(t, e)

	// The flushed offsets come from Pebble (their WAL segments are gone), the
	// later one from the WAL.
	e = openTestEngine(t, dir, Options{})
	defer e.Close()
	if got := e.SourceOffsets(s); !reflect.DeepEqual(got, want) {
		t.Fatalf("offsets after flush and replay %v, want %v", got, want)
	}
	if got := e.SourceOffsets("other"); len(got) != 0 {
		t.Fatalf("unknown stream has offsets %v", got)
	}
}

// TestSourceOffsetsRecordGolden pins the offsets header of
// docs/format/source-offsets.md: a fixed header encodes to the golden bytes,
// which decode to the offsets listed here.
func TestSourceOffsetsRecordGolden(t *testing.T) {
	offs := []SourceOffset{{"kafka/g/events", 0, 42, -1}, {"kafka/g/events", 2, 300, -1}}
	b := &Batch{bkt: &bucket{id: 7}}
	rec := encodeWriteRecord(appendOffsetsHeader(nil, offs), b, nil, nil)
	checkGolden(t, "offsets-record.v1.bin", rec)
	golden, err := os.ReadFile(filepath.Join(goldenDir, "offsets-record.v1.bin"))
	if err != nil {
		t.Fatal(err)
	}
	got, inner, err := decodeOffsetsHeader(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, offs) {
		t.Fatalf("decoded %v, want %v", got, offs)
	}
	w, err := decodeWriteRecord(inner)
	if err != nil || w.bucket != 7 || w.n != 0 {
		t.Fatalf("inner write record %+v, %v", w, err)
	}
	if k := sourceOffsetKey("kafka/g/events", 2); !bytes.Equal(k, append([]byte{0x20, 14}, append([]byte("kafka/g/events"), 0, 0, 0, 2)...)) {
		t.Fatalf("key %x", k)
	}
}

func TestSourceOffsetsRecordCorrupt(t *testing.T) {
	good := encodeWriteRecord(appendOffsetsHeader(nil, []SourceOffset{{"s", 1, 2, -1}}), &Batch{bkt: &bucket{id: 1}}, nil, nil)
	cases := map[string][]byte{
		"truncated":           good[:4],
		"huge count":          {recordOffsets, 0xff, 0xff, 0x03},
		"no write record":     appendOffsetsHeader(nil, []SourceOffset{{"s", 1, 2, -1}}),
		"partition too large": {recordOffsets, 1, 1, 's', 0x80, 0x80, 0x80, 0x80, 0x10, 2, recordWrite},
	}
	for name, rec := range cases {
		if _, _, err := decodeOffsetsHeader(rec); !errors.Is(err, errBadRecord) {
			t.Errorf("%s: err = %v, want errBadRecord", name, err)
		}
	}
}

// TestOverloaded: a head past twice its budget while a flush runs is overload.
func TestOverloaded(t *testing.T) {
	e := openTestEngine(t, t.TempDir(), Options{HeadMaxBytes: 1 << 10})
	defer e.Close()
	if e.Overloaded() {
		t.Fatal("an empty engine is overloaded")
	}
	if err := e.CreateDatabase("db", nil); err != nil {
		t.Fatal(err)
	}
	e.commitMu.Lock()
	e.flushing = newHead() // as if a flush were running
	e.commitMu.Unlock()
	vals := make([]float64, 200)
	writeWithOffsets(t, e, vals)
	if !e.Overloaded() {
		t.Fatal("a head of 200 values over a 1 KiB budget during a flush is not overload")
	}
	e.commitMu.Lock()
	e.flushing = nil
	e.commitMu.Unlock()
	if e.Overloaded() {
		t.Fatal("overloaded without a flush running or failing")
	}
}

// TestSourceOffsetsConflict: a batch that does not continue from the stored
// offset is refused whole, and nothing of it is stored.
func TestSourceOffsetsConflict(t *testing.T) {
	e := openTestEngine(t, t.TempDir(), Options{})
	defer e.Close()
	if err := e.CreateDatabase("db", nil); err != nil {
		t.Fatal(err)
	}
	writeWithOffsets(t, e, []float64{1}, SourceOffset{"s", 0, 5, -1})
	b, _ := e.NewBatch(bucketOf(t, e, "db"))
	b.Add([]byte("m"), nil, []FieldValue{{Key: []byte("v"), Type: Float, Float: 9}}, 100)
	b.SetOffsets([]SourceOffset{{"s", 0, 9, 3}}) // a stale writer: it read 3
	var conflict *OffsetConflictError
	if _, err := e.Write(b); !errors.As(err, &conflict) || conflict.Stored != 5 {
		t.Fatalf("err = %v, want a conflict with stored 5", err)
	}
	if got := e.SourceOffsets("s"); got[0] != 5 {
		t.Fatalf("offsets moved to %v", got)
	}
}

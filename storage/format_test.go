package storage

import (
	"bytes"
	"encoding/hex"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cockroachdb/pebble"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/keys")

const goldenDir = "../testdata/keys"

func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join(goldenDir, name)
	if *update {
		if err := os.MkdirAll(goldenDir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create)", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s changed: the on-disk format moved without a version bump.\ngot:\n%s\nwant:\n%s", name, got, want)
	}
}

// TestKeyLayoutGolden pins the key layout of docs/format/keys.md.
func TestKeyLayoutGolden(t *testing.T) {
	tags := []Tag{{Key: []byte("host"), Value: []byte("a")}, {Key: []byte("region"), Value: []byte("eu west")}}
	sk := AppendSeriesKey(nil, []byte("cpu"), tags)
	keys := []struct {
		name string
		key  []byte
	}{
		{"meta format", metaKey(metaFormat)},
		{"meta wal_start", metaKey(metaWALStart)},
		{"meta block_max_time", metaKey(metaBlockMaxTime)},
		{"block_max_time value", blockMaxValue(5, 1451606400e9)},
		{"block_max_time none", blockMaxValue(0, math.MinInt64)},
		{"database", databaseKey("metrics")},
		{"database value", databaseValue(&database{defaultRP: "autogen", created: 7})},
		{"database value old", databaseValue(&database{defaultRP: "autogen"})},
		{"retention policy", retentionKey("metrics", "autogen")},
		{"retention value", retentionValue(7, DefaultRetentionPolicy())},
		{"series key", sk},
		{"series by key", seriesByKeyKey(7, sk)},
		{"series by id", seriesByIDKey(258)},
		{"measurement postings", measurementKey(7, []byte("cpu"))},
		{"tag postings", tagPostingKey(7, []byte("cpu"), []byte("host"), []byte("a"))},
		{"field", fieldKey(7, []byte("cpu"), []byte("usage_user"))},
		{"field value", fieldValue(3, Float)},
		{"block t=0", blockKey(nil, 7, 258, 3, 0, 1)},
		{"block t=-1", blockKey(nil, 7, 258, 3, -1, 2)},
		{"block t=2016-01-01", blockKey(nil, 7, 258, 3, 1451606400e9, 3)},
		{"block t=max", blockKey(nil, 7, 258, 3, math.MaxInt64, math.MaxUint64)},
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# storage key layout v%d (docs/format/keys.md)\n", KeyFormatVersion)
	for _, k := range keys {
		fmt.Fprintf(&b, "%-22s %s\n", k.name, hex.EncodeToString(k.key))
	}
	checkGolden(t, fmt.Sprintf("v%d.golden", KeyFormatVersion), []byte(b.String()))

	// Keys must sort as the layout promises: by signed time within a series/field.
	if bytes.Compare(blockKey(nil, 7, 258, 3, -1, 9), blockKey(nil, 7, 258, 3, 0, 1)) >= 0 {
		t.Fatal("block keys do not sort by signed time")
	}
	if m, got, err := ParseSeriesKey(sk, nil); err != nil || string(m) != "cpu" || len(got) != 2 || string(got[1].Value) != "eu west" {
		t.Fatalf("ParseSeriesKey: %q %v %v", m, got, err)
	}
}

func TestBlockScanBounds(t *testing.T) {
	day := PartitionWidth
	cases := []struct {
		min, max int64
		in       []int64 // block max times that must fall inside the bounds
		out      []int64 // and outside
	}{
		{0, 10, []int64{0, 10, day - 1}, []int64{-1, day}},
		{5 * day, 5*day + 1, []int64{5 * day, 6*day - 1}, []int64{5*day - 1, 6 * day}},
		{-day, -1, []int64{-day, -1}, []int64{-day - 1, 0}},
		{0, math.MaxInt64, []int64{0, math.MaxInt64}, []int64{-1}},
		{math.MinInt64, -1, []int64{math.MinInt64, -1}, []int64{0}},
	}
	for _, c := range cases {
		lo, hi := blockScanBounds(1, 2, 3, c.min, c.max)
		for _, mt := range c.in {
			k := blockKey(nil, 1, 2, 3, mt, 5)
			if bytes.Compare(k, lo) < 0 || (hi != nil && bytes.Compare(k, hi) >= 0) {
				t.Errorf("[%d,%d]: block with max %d outside bounds", c.min, c.max, mt)
			}
		}
		for _, mt := range c.out {
			k := blockKey(nil, 1, 2, 3, mt, 5)
			if bytes.Compare(k, lo) >= 0 && (hi == nil || bytes.Compare(k, hi) < 0) {
				t.Errorf("[%d,%d]: block with max %d inside bounds", c.min, c.max, mt)
			}
		}
	}
}

// TestWALRecordGolden pins the write-record payload of docs/format/wal-records.md:
// a fixed batch encodes to the golden bytes, and the golden bytes decode to values
// listed here independently of the encoder.
func TestWALRecordGolden(t *testing.T) {
	b := &Batch{bkt: &bucket{id: 7}}
	key := AppendSeriesKey(nil, []byte("m"), []Tag{{Key: []byte("t"), Value: []byte("a")}})
	b.arena = append(b.arena, key...)
	b.arena = append(b.arena, "hi"...)
	minus2 := int64(-2)
	neg2 := uint64(minus2)
	b.newField = []newField{{m: "m", name: "s", typ: String, fid: 12}}
	b.values = []batchValue{
		{fid: 10, typ: Float, bits: math.Float64bits(1.5)},
		{fid: 11, typ: Integer, bits: neg2},
		{fid: 12, typ: String, bits: uint64(len(key)), strN: 2}, // a string's offset in the arena is its bits
		{fid: 13, typ: Boolean, bits: 1},
		{fid: 14, typ: Unsigned, bits: math.MaxUint64},
	}
	b.points = []batchPoint{
		{keyOff: 0, keyEnd: len(key), sid: 5, t: 1704067200e9, vOff: 0, vEnd: 3},
		{dropped: true},
		{keyOff: 0, keyEnd: len(key), sid: 5, t: -1, vOff: 3, vEnd: 5},
	}
	b.rejected, b.droppedLate = 1, 1
	rec := encodeWriteRecord(nil, b, []int{0}, []int{0})
	checkGolden(t, "write-record.v1.bin", rec)

	golden, err := os.ReadFile(filepath.Join(goldenDir, "write-record.v1.bin"))
	if err != nil {
		t.Fatal(err)
	}
	w, err := decodeWriteRecord(golden)
	if err != nil {
		t.Fatal(err)
	}
	if w.bucket != 7 || len(w.series) != 1 || w.series[0].id != 5 || !bytes.Equal(w.series[0].key, key) {
		t.Fatalf("series defs: %+v", w)
	}
	if len(w.fields) != 1 || w.fields[0].id != 12 || w.fields[0].typ != String || string(w.fields[0].m) != "m" || string(w.fields[0].name) != "s" {
		t.Fatalf("field defs: %+v", w.fields)
	}
	var got []string
	if err := w.forEachValue(func(s SeriesID, f FieldID, ts int64, v value) {
		got = append(got, fmt.Sprintf("%d/%d@%d:%d:%x:%s", s, f, ts, v.typ, v.bits, v.str))
	}); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"5/10@1704067200000000000:1:3ff8000000000000:",
		"5/11@1704067200000000000:2:fffffffffffffffe:",
		"5/12@1704067200000000000:4:0:hi",
		"5/13@-1:5:1:",
		"5/14@-1:3:ffffffffffffffff:",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("decoded:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// Every truncation is an error, never a panic or a silent short record.
	for i := 0; i < len(golden); i++ {
		w, err := decodeWriteRecord(golden[:i])
		if err == nil {
			err = w.forEachValue(func(SeriesID, FieldID, int64, value) {})
		}
		if err == nil {
			t.Fatalf("truncated at %d of %d decoded without error", i, len(golden))
		}
	}
}

// FuzzWALRecord: arbitrary bytes never panic the record decoders.
func FuzzWALRecord(f *testing.F) {
	if golden, err := os.ReadFile(filepath.Join(goldenDir, "write-record.v1.bin")); err == nil {
		f.Add(golden)
	}
	f.Add([]byte{recordWrite, 1, 0, 0, 1, 1, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0})
	for _, name := range []string{"drop-series.v1.bin", "delete-range.v1.bin"} {
		if golden, err := os.ReadFile(filepath.Join(goldenDir, name)); err == nil {
			f.Add(golden)
		}
	}
	f.Fuzz(func(t *testing.T, rec []byte) {
		if d, err := decodeDropRecord(rec); err == nil && len(d.trim)+len(d.drop) > len(rec) {
			t.Fatalf("%d series IDs from %d bytes", len(d.trim)+len(d.drop), len(rec))
		}
		w, err := decodeWriteRecord(rec)
		if err != nil {
			return
		}
		n := 0
		w.forEachValue(func(SeriesID, FieldID, int64, value) { n++ })
		if n > len(rec) {
			t.Fatalf("%d values from %d bytes", n, len(rec))
		}
	})
}

// TestOpenRefusesAnotherFormat: a store written with another key format version or
// partition width is refused on open, not misread.
func TestOpenRefusesAnotherFormat(t *testing.T) {
	for _, c := range []struct {
		name  string
		key   string
		value []byte
	}{
		{"format version", metaFormat, appendU32(nil, KeyFormatVersion+1)},
		{"partition width", metaPartition, appendU64(nil, uint64(PartitionWidth/2))},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			e := openTestEngine(t, dir, Options{})
			if err := e.pebble.Set(metaKey(c.key), c.value, pebble.NoSync); err != nil {
				t.Fatal(err)
			}
			if err := e.Close(); err != nil {
				t.Fatal(err)
			}
			if e, err := Open(Options{Dir: dir, NoSync: true}); err == nil {
				e.Close()
				t.Fatal("opened a store of another format")
			}
		})
	}
}

// TestDropRecordsGolden pins the drop-series and delete-range payloads of
// docs/format/wal-records.md: fixed records encode to the golden bytes, and the
// golden bytes decode to the values listed here.
func TestDropRecordsGolden(t *testing.T) {
	records := []struct {
		file string
		rec  dropRecord
	}{
		{"drop-series.v1.bin", dropRecord{bucket: 7, measurement: "cpu", dropFields: true, drop: []SeriesID{5, 300}}},
		{"delete-range.v1.bin", dropRecord{deleteRange: true, bucket: 7, min: -1, max: 1704067200e9, trim: []SeriesID{5}, drop: []SeriesID{6, 7}}},
	}
	for _, r := range records {
		t.Run(r.file, func(t *testing.T) {
			enc := encodeDropRecord(r.rec)
			checkGolden(t, r.file, enc)
			golden, err := os.ReadFile(filepath.Join(goldenDir, r.file))
			if err != nil {
				t.Fatal(err)
			}
			got, err := decodeDropRecord(golden)
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", r.rec) {
				t.Fatalf("decoded %+v, want %+v", got, r.rec)
			}
			for i := 0; i < len(golden); i++ {
				if _, err := decodeDropRecord(golden[:i]); err == nil {
					t.Fatalf("truncated at %d of %d decoded without error", i, len(golden))
				}
			}
		})
	}
}

package wal

import (
	"bytes"
	"encoding/hex"
	"flag"
	"io"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden segment in ../testdata/wal")

// goldenPath is versioned so a format change adds a fixture instead of
// silently replacing the only proof of what older files look like.
var goldenPath = filepath.Join("..", "testdata", "wal", "v2.wal")

// goldenV1Path is the version-1 fixture, which this build must still read.
var goldenV1Path = filepath.Join("..", "testdata", "wal", "v1.wal")

// goldenRecords are the payloads of the golden segment: an empty record, a
// one-byte record, text, and binary data spanning every byte value.
func goldenRecords() [][]byte {
	bin := make([]byte, 300)
	for i := range bin {
		bin[i] = byte(i)
	}
	return [][]byte{{}, []byte("a"), []byte("hello, wal"), bin}
}

// goldenHeaderHex is the version-2 header of docs/format/wal.md: "STWL", 2,
// and the low 24 bits of CRC-32C("STWL\x02") little-endian.
const goldenHeaderHex = "5354574c02" + "389f57"

// TestGoldenSegmentV1 decodes the version-1 fixture: same records, header
// with zero reserved bytes.
func TestGoldenSegmentV1(t *testing.T) {
	data, err := os.ReadFile(goldenV1Path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(data, []byte{0x53, 0x54, 0x57, 0x4c, 1, 0, 0, 0}) {
		t.Fatalf("v1 fixture header %x", data[:8])
	}
	replayGolden(t, data, "v1 golden segment")
}

func TestGoldenSegment(t *testing.T) {
	if *update {
		dir := t.TempDir()
		w := mustOpen(t, Options{Dir: dir, NoSync: true})
		for _, r := range goldenRecords() {
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
		if err := os.WriteFile(goldenPath, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	data, err := os.ReadFile(goldenPath)
	if err != nil {
		t.Fatalf("%v (regenerate with go test -run TestGoldenSegment -update)", err)
	}

	// These literals are the worked examples in docs/format/wal.md; if they
	// fail, the spec, FormatVersion and the fixture must change together.
	prefix := []struct {
		name string
		hex  string
	}{
		{"segment header", goldenHeaderHex},
		{"empty record", "00000000" + "c74b6748"},
		{"record \"a\"", "01000000" + "f809ceee" + "61"},
		{"record \"hello, wal\"", "0a000000" + "2ffe2ec0" + hex.EncodeToString([]byte("hello, wal"))},
		{"300-byte record header", "2c010000" + "424194e0"},
	}
	rest := data
	for _, p := range prefix {
		want, _ := hex.DecodeString(p.hex)
		if !bytes.HasPrefix(rest, want) {
			t.Fatalf("%s: file has %x, spec says %x", p.name, rest[:min(len(rest), len(want))], want)
		}
		rest = rest[len(want):]
	}
	if data[4] != FormatVersion {
		t.Fatalf("golden segment has version %d, code writes %d", data[4], FormatVersion)
	}

	// Decode through the reader and through Open+Replay.
	sr, err := newSegmentReader(1, bytes.NewReader(data), int64(len(data)), &readBuffers{})
	if err != nil {
		t.Fatal(err)
	}
	var direct [][]byte
	for {
		_, rec, err := sr.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		direct = append(direct, bytes.Clone(rec))
	}
	equalRecords(t, direct, goldenRecords())

	replayGolden(t, data, "golden segment")
}

// replayGolden opens a log whose only segment is data and checks that replay
// yields the golden records without any repair (nothing logged).
func replayGolden(t *testing.T, data []byte, what string) {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(segmentPath(dir, 1), data, 0o644); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	w := mustOpen(t, Options{Dir: dir, NoSync: true, Logger: quietLogger(&logs)})
	defer w.Close()
	got, err := replayAll(t, w, 0)
	if err != nil {
		t.Fatal(err)
	}
	equalRecords(t, payloads(got), goldenRecords())
	if logs.Len() != 0 {
		t.Fatalf("%s needed repair: %s", what, logs.String())
	}
}

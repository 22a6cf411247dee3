package block

import (
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/cockroachdb/pebble"
)

// TestDiskBreakdown splits the bytes of a stopped server's Pebble store into
// what they hold: for each key kind (docs/format/keys.md) the key and value
// bytes, and for the column blocks (kind 0x08) the header, the payload and
// the CRC, per value encoding, next to the order-0 entropy of each block's
// value deltas (the least a per-block delta coder can store). It reads the
// index directory named by STRATA_INDEX_DIR (a data directory's index/,
// server stopped) and is skipped without it:
//
//	STRATA_INDEX_DIR=DATA/index go test ./storage/block -run TestDiskBreakdown -v
func TestDiskBreakdown(t *testing.T) {
	dir := os.Getenv("STRATA_INDEX_DIR")
	if dir == "" {
		t.Skip("STRATA_INDEX_DIR not set")
	}
	db, err := pebble.Open(dir, &pebble.Options{ReadOnly: true, Merger: concatMerger, Logger: quietLogger{}})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	type sizes struct{ n, key, val int }
	kinds := map[byte]*sizes{}
	type encStat struct {
		blocks, points, header, payload, crc int
		entropyBits                          float64
	}
	encs := map[string]*encStat{}
	it, err := db.NewIter(nil)
	if err != nil {
		t.Fatal(err)
	}
	dec, enc := NewDecoder(), NewEncoder()
	var c Column
	var reenc []byte
	reencoded := 0
	values := 0
	for it.First(); it.Valid(); it.Next() {
		k, v := it.Key(), it.Value()
		s := kinds[k[0]]
		if s == nil {
			s = &sizes{}
			kinds[k[0]] = s
		}
		s.n++
		s.key += len(k)
		s.val += len(v)
		if k[0] != 0x08 {
			continue
		}
		h, err := parseHeader(v)
		if err != nil {
			t.Fatalf("block %x: %v", k, err)
		}
		if err := dec.Decode(&c, v); err != nil {
			t.Fatalf("block %x: %v", k, err)
		}
		values += h.Count
		reenc, err = enc.Encode(reenc[:0], &c)
		if err != nil {
			t.Fatal(err)
		}
		reencoded += len(reenc)
		name := fmt.Sprintf("%s/enc%d/zstd=%v", h.Type, h.flags>>encShift&encMask, h.flags&flagZstd != 0)
		e := encs[name]
		if e == nil {
			e = &encStat{}
			encs[name] = e
		}
		e.blocks++
		e.points += h.Count
		e.payload += len(h.payload)
		e.crc += trailerLen
		e.header += len(v) - len(h.payload) - trailerLen
		if h.Type == Integer {
			hist := map[int64]int{}
			for i := 1; i < len(c.Ints); i++ {
				hist[c.Ints[i]-c.Ints[i-1]]++
			}
			for _, n := range hist {
				e.entropyBits -= float64(n) * math.Log2(float64(n)/float64(len(c.Ints)-1))
			}
		}
	}
	if err := it.Close(); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	var disk int64
	var fileList []string
	for _, f := range files {
		if st, err := os.Stat(f); err == nil {
			disk += st.Size()
			fileList = append(fileList, fmt.Sprintf("%s=%d", filepath.Base(f), st.Size()))
		}
	}
	t.Logf("index files: %d bytes (%s)", disk, strings.Join(fileList, " "))
	if values == 0 {
		t.Fatal("no blocks")
	}
	per := func(b float64) string { return fmt.Sprintf("%.4f B/value", b/float64(values)) }
	var ks []int
	for k := range kinds {
		ks = append(ks, int(k))
	}
	sort.Ints(ks)
	total := 0
	for _, k := range ks {
		s := kinds[byte(k)]
		total += s.key + s.val
		t.Logf("kind %#02x: %6d keys, keys %8d B, values %8d B (%s)", k, s.n, s.key, s.val, per(float64(s.key+s.val)))
	}
	t.Logf("all live keys and values: %d B (%s); sstable and other overhead: %d B (%s)", total, per(float64(total)), disk-int64(total), per(float64(disk-int64(total))))
	t.Logf("the same blocks encoded by this version of the code: %d B (%s)", reencoded, per(float64(reencoded)))
	var names []string
	for n := range encs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		e := encs[n]
		t.Logf("%s: %d blocks, %d points (%.0f/block); header %d B (%s), payload %d B (%s), crc %s; delta entropy %s",
			n, e.blocks, e.points, float64(e.points)/float64(e.blocks), e.header, per(float64(e.header)), e.payload, per(float64(e.payload)),
			per(float64(e.crc)), per(e.entropyBits/8))
	}
}

// concatMerger stands in for the storage engine's posting-list merger (same
// name, so Pebble opens the store); the breakdown only counts bytes, so
// concatenating operands is close enough.
var concatMerger = &pebble.Merger{
	Name: "strata.roaring32.or.v1",
	Merge: func(key, value []byte) (pebble.ValueMerger, error) {
		return &concatValues{b: append([]byte(nil), value...)}, nil
	},
}

type concatValues struct{ b []byte }

func (m *concatValues) MergeNewer(v []byte) error { m.b = append(m.b, v...); return nil }
func (m *concatValues) MergeOlder(v []byte) error { m.b = append(m.b, v...); return nil }
func (m *concatValues) Finish(bool) ([]byte, io.Closer, error) {
	return m.b, nil, nil
}

type quietLogger struct{}

func (quietLogger) Infof(string, ...any)  {}
func (quietLogger) Errorf(string, ...any) {}
func (quietLogger) Fatalf(f string, a ...any) {
	panic(fmt.Sprintf(f, a...))
}

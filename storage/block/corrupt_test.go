package block

import (
	"encoding/binary"
	"errors"
	"hash/crc32"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// corruptionBlocks returns valid blocks covering every type and every body
// storage: raw, zstd's own frames and the literal-only frames.
func corruptionBlocks(t *testing.T) map[string][]byte {
	t.Helper()
	r := rand.New(rand.NewPCG(11, 12))
	ts := regularTimes(400, 1e18, 1e9)
	cols := map[string]*Column{
		"float decimal literal frame": tsbsColumn(4, 2000),
		"float xor raw":               {Type: Float, Times: ts[:50], Floats: randomFloats(r, 50)},
		"float 1 point":               {Type: Float, Times: ts[:1], Floats: []float64{2.5}},
		"int zstd":                    {Type: Integer, Times: ts, Ints: seq(400, func(i int) int64 { return int64(i % 5) })},
		"int dod":                     {Type: Integer, Times: ts[:3], Ints: []int64{1, 5, 9}},
		"int fse":                     {Type: Integer, Times: ts[:200], Ints: tsbsInts(r, 200)},
		"int fse escapes":             {Type: Integer, Times: jitterTimes(r, 100, 1e18, 1e9, 1e8), Ints: seq(100, func(i int) int64 { return int64(i%2 + i/40*300) })},
		"uint":                        {Type: Unsigned, Times: ts[:40], Uints: seq(40, func(int) uint64 { return r.Uint64() })},
		"string":                      {Type: String, Times: ts, Strings: seq(400, func(i int) []byte { return []byte{byte(i), 'x'} })},
		"bool":                        {Type: Boolean, Times: ts[:13], Bools: seq(13, func(i int) bool { return i%3 == 0 })},
	}
	enc := NewEncoder()
	out := map[string][]byte{}
	// Version 1 blocks take the older timestamp path.
	for _, name := range []string{"float_decimal", "integer_dod", "boolean"} {
		b, err := os.ReadFile(filepath.Join(goldenV1Dir, name+".block"))
		if err != nil {
			t.Fatal(err)
		}
		out["v1 "+name] = b
	}
	for name, c := range cols {
		b, err := enc.Encode(nil, c)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out[name] = b
	}
	return out
}

// requireCorrupt checks that Decode rejects src and, with header set, that
// DecodeHeader does too (it reads no body, so it cannot see a cut body).
func requireCorrupt(t *testing.T, src []byte, what string, header bool) {
	t.Helper()
	var c Column
	err := NewDecoder().Decode(&c, src)
	if !errors.Is(err, ErrCorrupt) {
		t.Fatalf("%s: Decode err = %v, want ErrCorrupt", what, err)
	}
	if _, err := DecodeHeader(src); header && !errors.Is(err, ErrCorrupt) {
		t.Fatalf("%s: DecodeHeader err = %v, want ErrCorrupt", what, err)
	}
}

// TestCorruptTruncation cuts every block at every length. The checksum
// catches all of them; with the checksum patched to match, the structural
// checks (lengths, frame sizes, last value against the header) must still
// catch them, since a short block must never decode as a shorter column.
func TestCorruptTruncation(t *testing.T) {
	for name, b := range corruptionBlocks(t) {
		t.Run(name, func(t *testing.T) {
			for i := range len(b) {
				requireCorrupt(t, b[:i], "truncated", true)
				if i >= trailerLen+fixedHeaderLen {
					// Drop i..end of the content, keep a patched trailer.
					cut := append(append([]byte(nil), b[:i-trailerLen]...), 0, 0, 0, 0)
					requireCorrupt(t, withCRC(cut), "truncated with valid CRC", false)
				}
			}
		})
	}
}

// TestCorruptFlips flips every bit of every block: CRC-32C detects every
// single-bit error, so each must fail. It then flips random bytes with the
// checksum patched, where the only requirement is no panic and, on error,
// ErrCorrupt: those flips can land in values nothing else constrains.
func TestCorruptFlips(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	dec := NewDecoder()
	var c Column
	for name, b := range corruptionBlocks(t) {
		t.Run(name, func(t *testing.T) {
			m := append([]byte(nil), b...)
			for i := range m {
				for bit := range 8 {
					m[i] ^= 1 << bit
					requireCorrupt(t, m, "bit flip", true)
					m[i] ^= 1 << bit
				}
			}
			survived := 0
			for range 2000 {
				i := r.IntN(len(m) - trailerLen)
				m[i] ^= byte(1 + r.IntN(255))
				if err := dec.Decode(&c, withCRC(m)); err == nil {
					survived++
				} else if !errors.Is(err, ErrCorrupt) {
					t.Fatalf("error does not wrap ErrCorrupt: %v", err)
				}
				copy(m, b)
			}
			t.Logf("%d of 2000 CRC-patched byte flips still decoded", survived)
		})
	}
}

// fseBlock builds an integer block of c's header and times with the given
// value section under encoding FSE, stored raw and with a valid CRC, so a
// test can hand the decoder any FSE section it likes.
func fseBlock(c *Column, section []byte) []byte {
	h := Header{Version: FormatVersion, Type: Integer}
	computeStats(&h, c)
	body := NewEncoder().appendTimes(nil, c.Times)
	body = append(body, section...)
	b := appendHeader(nil, &h, encIntFSE<<encShift, len(body))
	b = append(b, body...)
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
}

// TestCorruptFSE hands the decoder FSE sections that are wrong in each way
// the format allows, behind a valid CRC and header: each must be refused
// with ErrCorrupt, without a panic and without allocating more than the
// block's count justifies.
func TestCorruptFSE(t *testing.T) {
	r := rand.New(rand.NewPCG(17, 18))
	n := 400
	col := &Column{Type: Integer, Times: regularTimes(n, 1e18, 1e9), Ints: tsbsInts(r, n)}
	zs := make([]uint64, n-1)
	for i := range zs {
		zs[i] = zigzag(col.Ints[i+1] - col.Ints[i])
	}
	enc := NewEncoder()
	good, ok := enc.appendFSE(nil, zs)
	if !ok {
		t.Fatal("FSE refused the column")
	}
	if _, err := decodeOK(fseBlock(col, good)); err != nil {
		t.Fatalf("the uncorrupted section does not decode: %v", err)
	}
	l, k := binary.Uvarint(good)
	stream := good[k : k+int(l)]
	// A longer column's stream: more symbols than the block has deltas.
	long := make([]uint64, 100000)
	for i := range long {
		long[i] = uint64(r.IntN(5))
	}
	longSec, _ := enc.appendFSE(nil, long)
	shortSec, _ := enc.appendFSE(nil, zs[:n/2])
	withLen := func(l uint64, rest []byte) []byte { return append(binary.AppendUvarint(nil, l), rest...) }
	garbage := make([]byte, 200)
	for i := range garbage {
		garbage[i] = byte(r.Uint32())
	}
	escCol := &Column{Type: Integer, Times: col.Times[:100], Ints: seq(100, func(i int) int64 { return int64(i%3 + i/50*1000) })}
	escZs := make([]uint64, 99)
	for i := range escZs {
		escZs[i] = zigzag(escCol.Ints[i+1] - escCol.Ints[i])
	}
	escSec, ok := enc.appendFSE(nil, escZs)
	if !ok {
		t.Fatal("FSE refused the escape column")
	}
	tests := []struct {
		name    string
		col     *Column
		section []byte
	}{
		{"empty section", col, nil},
		{"stream length past the body", col, withLen(uint64(len(stream)+1), stream)},
		{"stream length of 1", col, withLen(1, stream[:1])},
		{"stream length overlong varint", col, append([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, stream...)},
		{"stream cut short", col, withLen(uint64(len(stream)-3), stream[:len(stream)-3])},
		{"trailing byte", col, append(append([]byte(nil), good...), 0)},
		{"garbage stream", col, withLen(uint64(len(garbage)), garbage)},
		{"table log 15", col, withLen(uint64(len(stream)), append([]byte{stream[0] | 0x0f}, stream[1:]...))},
		{"zeroed table", col, withLen(uint64(len(stream)), append(make([]byte, 8), stream[8:]...))},
		{"more symbols than deltas", col, longSec},
		{"fewer symbols than deltas", col, shortSec},
		{"escape missing", escCol, escSec[:len(escSec)-1]},
		{"escape overflows", escCol, append(append([]byte(nil), escSec[:len(escSec)-2]...), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01)},
	}
	t.Run("FSE in a version 1 block", func(t *testing.T) {
		// Version 1 has no times mark: rebuild the body without it.
		b := fseBlock(col, good)
		h, err := parseHeader(b)
		if err != nil {
			t.Fatal(err)
		}
		body := append(binary.AppendUvarint(nil, 1e9), make([]byte, groupsLen(n-2))...)
		body = append(body, good...)
		v1 := appendHeader(nil, &h.Header, h.flags, len(body))
		v1[0] = 1
		v1 = append(v1, body...)
		v1 = binary.LittleEndian.AppendUint32(v1, crc32.Checksum(v1, castagnoli))
		if _, err := decodeOK(v1); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("Decode err = %v, want ErrCorrupt", err)
		}
	})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := fseBlock(tc.col, tc.section)
			alloc, err := decodeOK(b)
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("Decode err = %v, want ErrCorrupt", err)
			}
			// Times and values (16 bytes a point), the body and the FSE
			// tables and output: nothing near the 100,000-symbol stream.
			if limit := uint64(64 << 10); alloc > limit {
				t.Errorf("Decode allocated %d bytes, want <= %d", alloc, limit)
			}
		})
	}
}

// decodeOK decodes b with a fresh Decoder and Column and returns the bytes
// that allocated and the error.
func decodeOK(b []byte) (uint64, error) {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	var c Column
	err := NewDecoder().Decode(&c, b)
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc, err
}

// TestCorruptTimesMark: version 2's times mark and the regular shortcut,
// behind a valid CRC and header, must be refused when they do not add up.
func TestCorruptTimesMark(t *testing.T) {
	var blockFrom func(n int, minTime int64, span uint64, times []byte) []byte
	block := func(n int, span uint64, times []byte) []byte {
		return blockFrom(n, 1e18, span, times)
	}
	blockFrom = func(n int, minTime int64, span uint64, times []byte) []byte {
		h := Header{Version: FormatVersion, Type: Boolean, Count: n, MinTime: minTime, MaxTime: int64(uint64(minTime) + span)}
		body := append(append([]byte(nil), times...), make([]byte, (n+7)/8)...)
		b := appendHeader(nil, &h, encBoolBitmap<<encShift, len(body))
		b = append(b, body...)
		return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
	}
	regular := func(delta uint64) []byte { return append(binary.AppendUvarint(nil, delta), timesRegular) }
	tests := []struct {
		name  string
		b     []byte
		valid bool
	}{
		{"regular", block(100, 99*7, regular(7)), true},
		{"packed mark, zero deltas", block(3, 14, append(binary.AppendUvarint(nil, 7), timesPacked, 0)), true},
		{"unknown mark", block(100, 99*7, append(binary.AppendUvarint(nil, 7), 2)), false},
		{"mark missing", block(100, 99*7, binary.AppendUvarint(nil, 7)), false},
		{"regular, span one short", block(100, 99*7-1, regular(7)), false},
		{"regular, span one long", block(100, 99*7+1, regular(7)), false},
		// From MinInt64+1, one interval of 2^63+5 is fine, but two wrap
		// to 10: the span matches only modulo 2^64.
		{"regular, intervals overflow", blockFrom(3, minI+1, 10, regular(1<<63+5)), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := decodeOK(tc.b)
			if tc.valid && err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if !tc.valid && !errors.Is(err, ErrCorrupt) {
				t.Fatalf("Decode err = %v, want ErrCorrupt", err)
			}
		})
	}
}

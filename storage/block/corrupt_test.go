package block

import (
	"errors"
	"math/rand/v2"
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
		"uint":                        {Type: Unsigned, Times: ts[:40], Uints: seq(40, func(int) uint64 { return r.Uint64() })},
		"string":                      {Type: String, Times: ts, Strings: seq(400, func(i int) []byte { return []byte{byte(i), 'x'} })},
		"bool":                        {Type: Boolean, Times: ts[:13], Bools: seq(13, func(i int) bool { return i%3 == 0 })},
	}
	enc := NewEncoder()
	out := map[string][]byte{}
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

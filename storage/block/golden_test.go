package block

import (
	"bytes"
	"encoding/json"
	"flag"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden blocks of the current version in ../../testdata/block")

// goldenDir holds the fixtures of FormatVersion, which the encoder must
// reproduce byte for byte; goldenV1Dir those written by version 1, frozen:
// the decoder must still read them, the encoder no longer writes them.
const (
	goldenDir   = "../../testdata/block"
	goldenV1Dir = "../../testdata/block/v1"
)

// goldenColumn is the JSON form of an expected column. Floats are stored as
// their bits so NaN payloads and -0 survive; int64 and uint64 as JSON numbers,
// which encoding/json round-trips exactly.
type goldenColumn struct {
	Type    Type     `json:"type"`
	Times   []int64  `json:"times"`
	Floats  []string `json:"float_bits,omitempty"`
	Ints    []int64  `json:"ints,omitempty"`
	Uints   []uint64 `json:"uints,omitempty"`
	Strings [][]byte `json:"strings_base64,omitempty"`
	Bools   []bool   `json:"bools,omitempty"`
}

func toGolden(c *Column) goldenColumn {
	g := goldenColumn{Type: c.Type, Times: c.Times, Ints: c.Ints, Uints: c.Uints, Strings: c.Strings, Bools: c.Bools}
	for _, f := range c.Floats {
		g.Floats = append(g.Floats, "0x"+hex16(math.Float64bits(f)))
	}
	return g
}

func hex16(v uint64) string {
	const digits = "0123456789abcdef"
	var b [16]byte
	for i := 15; i >= 0; i-- {
		b[i] = digits[v&15]
		v >>= 4
	}
	return string(b[:])
}

func fromGolden(t *testing.T, g goldenColumn) *Column {
	c := &Column{Type: g.Type, Times: g.Times, Ints: g.Ints, Uints: g.Uints, Strings: g.Strings, Bools: g.Bools}
	for _, s := range g.Floats {
		var v uint64
		for _, ch := range s[2:] {
			v <<= 4
			switch {
			case ch >= '0' && ch <= '9':
				v |= uint64(ch - '0')
			case ch >= 'a' && ch <= 'f':
				v |= uint64(ch-'a') + 10
			default:
				t.Fatalf("bad float bits %q", s)
			}
		}
		c.Floats = append(c.Floats, math.Float64frombits(v))
	}
	return c
}

// goldenColumns are the fixtures: one per type and per value encoding, plus
// the single-point header shortcut and, from version 2, regular and
// irregular timestamps.
func goldenColumns() map[string]*Column {
	cols := goldenColumnsV1()
	r := rand.New(rand.NewPCG(15, 15))
	ts := regularTimes(300, tsbsStart, tsbsInterval)
	cols["integer_fse"] = &Column{Type: Integer, Times: ts, Ints: tsbsInts(r, 300)}
	// Escapes: deltas whose zigzag value is 255 or more, both signs, the
	// widest there is, among small ones; and irregular timestamps.
	esc := tsbsInts(r, 300)
	esc[100], esc[101], esc[200] = esc[100]+128, math.MinInt64, math.MaxInt64
	cols["integer_fse_escapes"] = &Column{Type: Integer, Times: jitterTimes(r, 300, tsbsStart, tsbsInterval, 1e9), Ints: esc}
	return cols
}

// goldenColumnsV1 are the columns of the version 1 fixtures.
func goldenColumnsV1() map[string]*Column {
	ts := regularTimes(200, tsbsStart, tsbsInterval)
	return map[string]*Column{
		"float_decimal": tsbsColumn(42, 200),
		"float_xor": {Type: Float, Times: []int64{minI + 2, -1, 0, maxI - 1}, Floats: []float64{
			math.Copysign(0, -1), nanBits(0x7ff8000000000bad), math.SmallestNonzeroFloat64, math.MaxFloat64}},
		"float_single":  {Type: Float, Times: []int64{1704067200000000000}, Floats: []float64{45.3}},
		"integer_delta": {Type: Integer, Times: ts[:100], Ints: seq(100, func(i int) int64 { return int64(i*i*37%1009) - 500 })},
		"integer_dod":   {Type: Integer, Times: ts[:100], Ints: seq(100, func(i int) int64 { return 1 << 40 * int64(i+1) })},
		"unsigned":      {Type: Unsigned, Times: ts[:50], Uints: seq(50, func(i int) uint64 { return math.MaxUint64 - uint64(i*i) })},
		"string":        {Type: String, Times: ts[:6], Strings: [][]byte{[]byte("ok"), {}, []byte(`say "hi"`), {0, 0xff}, []byte("ok"), []byte("ok")}},
		"boolean":       {Type: Boolean, Times: ts[:11], Bools: []bool{true, false, false, true, true, true, false, true, false, false, true}},
	}
}

// TestGolden decodes the committed blocks and compares them with their
// expected columns, so the format in docs/format/block.md cannot drift
// unnoticed: the current version's fixtures must also be what the encoder
// writes today, and version 1's must still decode. Run with -update to
// rewrite the current ones after a deliberate change (and bump FormatVersion,
// freezing the old fixtures in their own directory, if old blocks are not
// what the encoder writes any more).
func TestGolden(t *testing.T) {
	enc := NewEncoder()
	for name, col := range goldenColumns() {
		if *update {
			b, err := enc.Encode(nil, col)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			j, err := json.MarshalIndent(toGolden(col), "", " ")
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(goldenDir, name+".block"), b, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(goldenDir, name+".json"), append(j, '\n'), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		t.Run(name, func(t *testing.T) {
			b, want := checkGolden(t, goldenDir, name, FormatVersion)
			// The fixture's expectation must be what the generator makes, or
			// the fixture no longer tests what its name says.
			requireEqualColumns(t, col, want)
			again, err := enc.Encode(nil, want)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(again, b) {
				t.Errorf("encoder output changed from the golden block; if deliberate and old blocks still decode, run -update")
			}
		})
	}
	for name, col := range goldenColumnsV1() {
		t.Run("v1/"+name, func(t *testing.T) {
			_, want := checkGolden(t, goldenV1Dir, name, 1)
			requireEqualColumns(t, col, want)
		})
	}
}

// checkGolden decodes dir/name.block, checks it against dir/name.json and
// its header against the column and version, and returns both.
func checkGolden(t *testing.T, dir, name string, version uint8) ([]byte, *Column) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name+".block"))
	if err != nil {
		t.Fatalf("%v (run go test -run TestGolden -update to create)", err)
	}
	j, err := os.ReadFile(filepath.Join(dir, name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var g goldenColumn
	if err := json.Unmarshal(j, &g); err != nil {
		t.Fatal(err)
	}
	want := fromGolden(t, g)
	var got Column
	if err := NewDecoder().Decode(&got, b); err != nil {
		t.Fatalf("Decode: %v", err)
	}
	requireEqualColumns(t, want, &got)
	h, err := DecodeHeader(b)
	if err != nil {
		t.Fatal(err)
	}
	if h.Version != version {
		t.Fatalf("version %d, want %d", h.Version, version)
	}
	h.Version = FormatVersion // checkHeader expects the current one
	checkHeader(t, h, want)
	return b, want
}

package block

import (
	"encoding/binary"
	"errors"
	"hash/crc32"
	"math"
	"slices"
	"testing"
)

// pointsFromBytes splits raw into 16-byte (time, value bits) pairs. With
// sorted set, times are sorted and deduplicated so most inputs are valid
// columns; otherwise they are taken as given to exercise ErrUnsorted.
func pointsFromBytes(raw []byte, sorted bool) (ts []int64, vs []uint64) {
	for len(raw) >= 16 {
		ts = append(ts, int64(binary.LittleEndian.Uint64(raw)))
		vs = append(vs, binary.LittleEndian.Uint64(raw[8:]))
		raw = raw[16:]
	}
	if sorted {
		idx := make([]int, len(ts))
		for i := range idx {
			idx[i] = i
		}
		slices.SortStableFunc(idx, func(a, b int) int {
			if ts[a] < ts[b] {
				return -1
			}
			if ts[a] > ts[b] {
				return 1
			}
			return 0
		})
		var nts []int64
		var nvs []uint64
		for _, i := range idx {
			if len(nts) > 0 && nts[len(nts)-1] == ts[i] {
				continue
			}
			nts, nvs = append(nts, ts[i]), append(nvs, vs[i])
		}
		ts, vs = nts, nvs
	}
	return ts, vs
}

func seedPoints(f *testing.F, extra ...uint64) {
	var b []byte
	add := func(t int64, v uint64) {
		b = binary.LittleEndian.AppendUint64(b, uint64(t))
		b = binary.LittleEndian.AppendUint64(b, v)
	}
	for i, t := range hugeTimes {
		add(t, uint64(i)*0x9E3779B97F4A7C15)
	}
	for _, v := range extra {
		add(int64(len(b)), v)
	}
	f.Add(b, true, uint8(0))
	f.Add(b, false, uint8(0))
	f.Add(b[:16], true, uint8(5))
	f.Add(b[:48], true, uint8(1))
	var walk []byte
	for i := range 300 {
		walk = binary.LittleEndian.AppendUint64(walk, uint64(i)*10)
		walk = binary.LittleEndian.AppendUint64(walk, uint64(i*i%201))
	}
	f.Add(walk, true, uint8(4))
	f.Add(walk, true, uint8(31))
	// Small steps in the top bits, so that mode's shift (>> 56) turns them
	// into a gauge of unit steps the FSE encoding takes, jumps included.
	var gauge []byte
	v := uint64(50)
	for i := range 300 {
		gauge = binary.LittleEndian.AppendUint64(gauge, uint64(i)*10)
		gauge = binary.LittleEndian.AppendUint64(gauge, v<<56)
		v += uint64(i*7%5) - 2
		if i%97 == 0 {
			v += 100
		}
	}
	f.Add(gauge, true, uint8(56<<2))
}

// FuzzFloatRoundTrip: arbitrary float bits and times round-trip bit-exactly,
// or Encode fails cleanly for ±Inf and unsorted times. mode&1 turns the value
// bits into decimals with scale mode>>1 so the decimal encoding gets
// exercised, not just XOR.
func FuzzFloatRoundTrip(f *testing.F) {
	seedPoints(f, math.Float64bits(math.Inf(1)), 0x7ff8000000000001, 0x8000000000000000, 1, math.Float64bits(0.1))
	enc, dec := NewEncoder(), NewDecoder()
	f.Fuzz(func(t *testing.T, raw []byte, sorted bool, mode uint8) {
		ts, bits := pointsFromBytes(raw, sorted)
		c := Column{Type: Float, Times: ts, Floats: make([]float64, len(bits))}
		wantErr := error(nil)
		for i, b := range bits {
			if mode&1 == 1 {
				c.Floats[i] = float64(int64(b)>>(b&63)) / pow10[(mode>>1)%16]
			} else {
				c.Floats[i] = math.Float64frombits(b)
			}
			if math.IsInf(c.Floats[i], 0) {
				wantErr = ErrInfinity
			}
		}
		for i := 1; i < len(ts); i++ {
			if ts[i] <= ts[i-1] {
				wantErr = ErrUnsorted
			}
		}
		if len(ts) == 0 {
			wantErr = ErrEmpty
		}
		checkFuzzRoundTrip(t, enc, dec, &c, wantErr)
	})
}

// FuzzIntRoundTrip does the same for Integer and, with mode&1, Unsigned.
func FuzzIntRoundTrip(f *testing.F) {
	seedPoints(f, 0, math.MaxUint64, 1<<63, 1<<63-1)
	enc, dec := NewEncoder(), NewDecoder()
	f.Fuzz(func(t *testing.T, raw []byte, sorted bool, mode uint8) {
		ts, vs := pointsFromBytes(raw, sorted)
		c := Column{Type: Integer, Times: ts}
		if mode&1 == 1 {
			c.Type, c.Uints = Unsigned, vs
		} else {
			c.Ints = make([]int64, len(vs))
			for i, v := range vs {
				c.Ints[i] = int64(v) >> (mode >> 2) // small shifts make packable deltas
			}
		}
		wantErr := error(nil)
		for i := 1; i < len(ts); i++ {
			if ts[i] <= ts[i-1] {
				wantErr = ErrUnsorted
			}
		}
		if len(ts) == 0 {
			wantErr = ErrEmpty
		}
		checkFuzzRoundTrip(t, enc, dec, &c, wantErr)
	})
}

func checkFuzzRoundTrip(t *testing.T, enc *Encoder, dec *Decoder, c *Column, wantErr error) {
	b, err := enc.Encode(nil, c)
	if wantErr != nil {
		if !errors.Is(err, wantErr) {
			t.Fatalf("Encode err = %v, want %v", err, wantErr)
		}
		return
	}
	if err != nil {
		t.Fatalf("Encode: %v", err)
	}
	var got Column
	if err := dec.Decode(&got, b); err != nil {
		t.Fatalf("Decode: %v", err)
	}
	requireEqualColumns(t, c, &got)
	h, err := DecodeHeader(b)
	if err != nil {
		t.Fatalf("DecodeHeader: %v", err)
	}
	checkHeader(t, h, c)
}

// withCRC returns b with its trailer replaced by the right checksum, so
// mutated blocks get past the CRC and reach the parsers behind it.
func withCRC(b []byte) []byte {
	if len(b) < trailerLen {
		return b
	}
	out := slices.Clone(b)
	n := len(out) - trailerLen
	binary.LittleEndian.PutUint32(out[n:], crc32.Checksum(out[:n], castagnoli))
	return out
}

// FuzzDecode feeds arbitrary bytes to Decode, DecodeHeader and DecodeRange,
// both as given and with a valid checksum patched in. They must never
// panic, every error must wrap ErrCorrupt, and whatever decodes must be a
// valid column.
func FuzzDecode(f *testing.F) {
	enc := NewEncoder()
	for _, tc := range roundTripCases() {
		if tc.col.Len() > 300 {
			continue // keep the corpus small so mutations stay focused
		}
		b, err := enc.Encode(nil, &tc.col)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, seed := range [][]byte{nil, {1}, {1, 1, 0, 1, 0, 0, 0}, {FormatVersion, byte(Float), flagZstd, 5, 0, 8}} {
		f.Add(seed)
	}
	dec := NewDecoder()
	var c Column
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, src := range [][]byte{b, withCRC(b)} {
			h, herr := DecodeHeader(src)
			err := dec.Decode(&c, src)
			for _, e := range []error{herr, err} {
				if e != nil && !errors.Is(e, ErrCorrupt) {
					t.Fatalf("error does not wrap ErrCorrupt: %v", e)
				}
			}
			checkFuzzRange(t, dec, src, herr)
			if err != nil {
				continue
			}
			if herr != nil {
				t.Fatalf("Decode accepted what DecodeHeader rejected: %v", herr)
			}
			if c.Len() != h.Count || c.Type != h.Type || c.Times[0] != h.MinTime || c.Times[c.Len()-1] != h.MaxTime {
				t.Fatalf("decoded %s x %d does not match header %+v", c.Type, c.Len(), h)
			}
			// A decoded column is valid input again, except that a crafted
			// block can smuggle in ±Inf, which Encode refuses.
			again, err := enc.Encode(nil, &c)
			if errors.Is(err, ErrInfinity) {
				continue
			}
			if err != nil {
				t.Fatalf("re-Encode of decoded column: %v", err)
			}
			var c2 Column
			if err := NewDecoder().Decode(&c2, again); err != nil {
				t.Fatalf("decode of re-encoded column: %v", err)
			}
			requireEqualColumns(t, &c, &c2)
		}
	})
}

// checkFuzzRange runs DecodeRange over src for ranges cutting its block at
// a third and two thirds of its span (the prefix decode and the whole-block
// fallback): it must refuse what DecodeHeader refuses, wrap ErrCorrupt, and
// return only rows in range, in order, with one value per time.
func checkFuzzRange(t *testing.T, dec *Decoder, src []byte, herr error) {
	h, _ := DecodeHeader(src)
	third := int64((uint64(h.MaxTime) - uint64(h.MinTime)) / 3)
	var c Column
	for _, rg := range [][2]int64{{h.MinTime, h.MinTime + third}, {h.MinTime + third, h.MaxTime - third}, {h.MaxTime - third, h.MaxTime}} {
		err := dec.DecodeRange(&c, src, rg[0], rg[1])
		if err != nil && !errors.Is(err, ErrCorrupt) {
			t.Fatalf("DecodeRange error does not wrap ErrCorrupt: %v", err)
		}
		if err != nil {
			continue
		}
		if herr != nil {
			t.Fatalf("DecodeRange accepted what DecodeHeader rejected: %v", herr)
		}
		if m, _ := c.valuesLen(); m != c.Len() || c.Type != h.Type {
			t.Fatalf("DecodeRange gave %s with %d values for %d times", c.Type, m, c.Len())
		}
		for k, ts := range c.Times {
			if ts < rg[0] || ts > rg[1] || (k > 0 && ts <= c.Times[k-1]) {
				t.Fatalf("DecodeRange time %d out of range %v or order", ts, rg)
			}
		}
	}
}

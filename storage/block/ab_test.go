package block

import (
	"encoding/binary"
	"hash/crc32"
	"math/rand/v2"
	"os"
	"slices"
	"testing"
	"time"
)

// packedBlock encodes c as version 1 did: timestamps always packed, integer
// deltas packed (the smaller of delta and delta-of-delta), the body in the
// smaller of a zstd frame and the literal-only frame. The decoder still
// takes these paths for version 1 blocks, so they measure the old decode.
//
// With version 2 it writes regular timestamps with their mark instead, and
// the values as before: the difference to Encode's block is then the value
// coding alone.
func packedBlock(t *testing.T, c *Column, version uint8) []byte {
	e := NewEncoder()
	n := len(c.Times)
	body := binary.AppendUvarint(nil, uint64(c.Times[1]-c.Times[0]))
	if version == 1 {
		dod := make([]uint64, n-2)
		for i := 2; i < n; i++ {
			dod[i-2] = zigzag(int64(uint64(c.Times[i]-c.Times[i-1]) - uint64(c.Times[i-1]-c.Times[i-2])))
		}
		body = pack(body, dod)
	} else {
		body = append(body, timesRegular)
	}
	zs := make([]uint64, n-1)
	for i := range zs {
		zs[i] = zigzag(c.Ints[i+1] - c.Ints[i])
	}
	body = pack(body, zs)
	h := Header{Version: version, Type: Integer}
	computeStats(&h, c)
	b := appendHeader(nil, &h, flagZstd, len(body))
	b[0] = version
	z := zstdEncoder().EncodeAll(body, nil)
	if lit := appendLiteralFrame(nil, body, &e.huff); len(lit) < len(z) {
		z = lit
	}
	b = append(b, z...)
	b = binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
	var got Column
	if err := NewDecoder().Decode(&got, b); err != nil {
		t.Fatal(err)
	}
	requireEqualColumns(t, c, &got)
	return b
}

// TestDecodeAB times the decoding of one TSBS integer column written as
// version 1, as version 2, and as version 2 with the values packed as in
// version 1, alternating them in short batches inside one process so that a
// busy machine slows all alike. It is skipped unless
// STRATA_BLOCK_AB is set:
//
//	STRATA_BLOCK_AB=1 go test ./storage/block -run TestDecodeAB -v
func TestDecodeAB(t *testing.T) {
	if os.Getenv("STRATA_BLOCK_AB") == "" {
		t.Skip("STRATA_BLOCK_AB not set")
	}
	r := rand.New(rand.NewPCG(21, 22))
	for _, points := range []int{4320, tsbsPoints} {
		c := &Column{Type: Integer, Times: regularTimes(points, tsbsStart, tsbsInterval), Ints: tsbsInts(r, points)}
		blocks := [3][]byte{packedBlock(t, c, 1), nil, packedBlock(t, c, 2)}
		var err error
		if blocks[1], err = NewEncoder().Encode(nil, c); err != nil {
			t.Fatal(err)
		}
		dec := NewDecoder()
		var col Column
		const rounds, batch = 400, 20
		var ns [3][]float64
		for range rounds {
			for v, b := range blocks {
				start := time.Now()
				for range batch {
					if err := dec.Decode(&col, b); err != nil {
						t.Fatal(err)
					}
				}
				ns[v] = append(ns[v], float64(time.Since(start).Nanoseconds())/batch/float64(points))
			}
		}
		for v := range ns {
			slices.Sort(ns[v])
		}
		med := func(v int) float64 { return ns[v][rounds/2] }
		q := func(v int) float64 { return ns[v][rounds/10] }
		t.Logf("%d points: v1 %d B, v2 %d B, v2 with packed values %d B", points, len(blocks[0]), len(blocks[1]), len(blocks[2]))
		t.Logf("  ns/value median: v1 %.2f, v2 %.2f (v2/v1 %.3f), v2 packed %.2f (v2/v2 packed %.3f)",
			med(0), med(1), med(1)/med(0), med(2), med(1)/med(2))
		t.Logf("  10th percentile: v1 %.2f, v2 %.2f (%.3f), v2 packed %.2f (%.3f)", q(0), q(1), q(1)/q(0), q(2), q(1)/q(2))
	}
}

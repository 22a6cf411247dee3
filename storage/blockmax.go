package storage

import (
	"encoding/binary"
	"math"
	"sync/atomic"

	"github.com/cockroachdb/pebble"
)

// blockMax is the latest timestamp any stored block may hold (the largest
// max time a flush has written), so that a cursor over a range after it
// skips the block index: the open window of a dashboard's refresh is read
// from the head alone, where every series' seek through Pebble's levels cost
// a tenth of a cached refresh's CPU (docs/cache.md, "Measured"). Merges and
// deletes only rewrite blocks within their old extents, so only a flush
// raises it, and it never falls. math.MaxInt64 means unknown: every cursor
// seeks.
//
// It is raised before the blocks that need it are committed, and a snapshot
// reads it after its iterator is made, so a snapshot's value covers every
// block its iterator sees. It is stored with the flush sequence number it
// was written at (docs/format/keys.md, "Meta", block_max_time) in every
// batch that carries blocks, so that whatever prefix of a flush survives a
// crash is covered; a stored sequence below flush_seq means a flush wrote
// blocks without it (an older version), and the value is unknown.
type blockMax struct{ t atomic.Int64 }

// load is the watermark as of now.
func (m *blockMax) load() int64 { return m.t.Load() }

// raise makes the watermark cover a block ending at t. Only flushes raise
// it, one at a time (flushMu).
func (m *blockMax) raise(t int64) {
	if t > m.t.Load() {
		m.t.Store(t)
	}
}

// set puts the watermark, as a flush with sequence number seq has raised
// it, into b.
func (m *blockMax) set(b *pebble.Batch, seq uint64) error {
	return b.Set(metaKey(metaBlockMaxTime), blockMaxValue(seq, m.t.Load()), nil)
}

// blockMaxValue is the stored block_max_time: the flush sequence number,
// then the time with its sign bit flipped, both 8 bytes big-endian.
func blockMaxValue(seq uint64, t int64) []byte {
	v := binary.BigEndian.AppendUint64(nil, seq)
	return binary.BigEndian.AppendUint64(v, uint64(t)^1<<63)
}

// restore reads the stored watermark on open, given the stored flush_seq
// (0 if none: nothing was ever flushed, so no block exists).
func (m *blockMax) restore(db *pebble.DB, flushSeq uint64) error {
	v, err := getMeta(db, metaBlockMaxTime)
	if err != nil {
		return err
	}
	switch {
	case len(v) == 16 && binary.BigEndian.Uint64(v) >= flushSeq:
		m.t.Store(int64(binary.BigEndian.Uint64(v[8:]) ^ 1<<63))
	case len(v) == 0 && flushSeq == 0:
		m.t.Store(math.MinInt64)
	default:
		m.t.Store(math.MaxInt64)
	}
	return nil
}

package storage

import (
	"encoding/binary"
	"fmt"
	"sync"

	"github.com/cockroachdb/pebble"
)

// Source offsets: the position in an external, replayable log (a Kafka
// partition) up to which that log's records are stored here. A consumer puts
// the offsets its batch reaches on the batch (Batch.SetOffsets); Write logs
// them in the same WAL record as the batch's points (docs/format/source-offsets.md),
// so the points and the position become durable in one atomic append, and a
// flush of the head persists them into Pebble in the same batch as the blocks
// and wal_start. After a crash the replay restores both together: a consumer
// that resumes from SourceOffsets neither skips nor repeats a record.

// SourceOffset is the next record to consume of one partition of a stream.
type SourceOffset struct {
	// Stream names the log, opaque to storage (Kafka: "kafka/<group>/<topic>").
	Stream    string
	Partition int32
	// Next is the offset of the first record not yet stored.
	Next int64
	// Prev is the stored Next this batch continues from (-1: none stored).
	// Write refuses the batch with an *OffsetConflictError when the stored
	// offset is another: two writers of one partition (a member the group
	// expired while it was writing, and its successor) cannot both apply the
	// same records. Not logged: checked before the record is.
	Prev int64
}

// OffsetConflictError refuses a batch whose offsets do not continue from the
// stored ones; the writer reads SourceOffsets again and resumes from them.
type OffsetConflictError struct {
	Stream       string
	Partition    int32
	Stored, Prev int64
}

func (e *OffsetConflictError) Error() string {
	return fmt.Sprintf("source offsets of %s/%d: stored %d, the batch continues from %d", e.Stream, e.Partition, e.Stored, e.Prev)
}

// recordOffsets prefixes a write record with the source offsets it reaches:
// 0x04 | uvarint n | n × (lp(stream) | uvarint partition | uvarint next) | write record.
const recordOffsets byte = 4

// kindSourceOffset keys the persisted offsets:
// kindSourceOffset | lp(stream) | partition u32 -> next u64 (big-endian).
// 0x20, far from the kinds in use: other additions take the next small numbers.
const kindSourceOffset byte = 0x20

// SetOffsets makes the batch carry offs: Write stores them atomically with the
// batch's points, even when every point was rejected (the records were
// consumed all the same).
func (b *Batch) SetOffsets(offs []SourceOffset) {
	b.offsets = append(b.offsets[:0], offs...)
}

// SourceOffsets returns the stored next offset of every partition of stream:
// those of the writes applied so far, which after a restart are those that
// were durable.
func (e *Engine) SourceOffsets(stream string) map[int32]int64 {
	return e.offsets.get(stream)
}

// offsetTable is the engine's view of the source offsets, updated under
// commitMu in WAL order; its own mutex lets readers in without commitMu.
type offsetTable struct {
	mu   sync.Mutex
	next map[string]map[int32]int64
	// cut is the table as of the WAL rotation of the running flush: exactly the
	// offsets of the records in the segments that flush retires.
	cut map[string]map[int32]int64
}

func (t *offsetTable) get(stream string) map[int32]int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make(map[int32]int64, len(t.next[stream]))
	for p, n := range t.next[stream] {
		out[p] = n
	}
	return out
}

func (t *offsetTable) set(stream string, p int32, next int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.next == nil {
		t.next = make(map[string]map[int32]int64)
	}
	m := t.next[stream]
	if m == nil {
		m = make(map[int32]int64)
		t.next[stream] = m
	}
	m[p] = next
}

// checkOffsets refuses b if its offsets do not continue from the stored ones.
// The caller holds commitMu, so no other batch moves them before b's record.
func (e *Engine) checkOffsets(b *Batch) error {
	if len(b.offsets) == 0 {
		return nil
	}
	t := &e.offsets
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, o := range b.offsets {
		stored, ok := t.next[o.Stream][o.Partition]
		if !ok {
			stored = -1
		}
		if stored != o.Prev {
			return &OffsetConflictError{Stream: o.Stream, Partition: o.Partition, Stored: stored, Prev: o.Prev}
		}
	}
	return nil
}

// applyOffsets records the offsets of a batch just appended to the WAL. The
// caller holds commitMu.
func (e *Engine) applyOffsets(b *Batch) {
	for _, o := range b.offsets {
		e.offsets.set(o.Stream, o.Partition, o.Next)
	}
}

// cutOffsets snapshots the table for the flush starting now. The caller holds
// commitMu right after rotating the WAL.
func (e *Engine) cutOffsets() {
	t := &e.offsets
	t.mu.Lock()
	defer t.mu.Unlock()
	t.cut = make(map[string]map[int32]int64, len(t.next))
	for s, m := range t.next {
		c := make(map[int32]int64, len(m))
		for p, n := range m {
			c[p] = n
		}
		t.cut[s] = c
	}
}

// persistOffsets adds the snapshot of the running flush to pb, the batch that
// also moves wal_start past the records the snapshot was taken from.
func (e *Engine) persistOffsets(pb *pebble.Batch) {
	t := &e.offsets
	t.mu.Lock()
	defer t.mu.Unlock()
	for s, m := range t.cut {
		for p, n := range m {
			pb.Set(sourceOffsetKey(s, p), appendU64(nil, uint64(n)), nil)
		}
	}
}

func sourceOffsetKey(stream string, p int32) []byte {
	return appendU32(appendLP([]byte{kindSourceOffset}, []byte(stream)), uint32(p))
}

// loadOffsets reads the persisted offsets at Open, before the WAL replay
// brings them up to date.
func (e *Engine) loadOffsets() error {
	it, err := e.pebble.NewIter(&pebble.IterOptions{LowerBound: []byte{kindSourceOffset}, UpperBound: []byte{kindSourceOffset + 1}})
	if err != nil {
		return err
	}
	for valid := it.First(); valid; valid = it.Next() {
		stream, rest, err := readLP(it.Key()[1:])
		if err != nil || len(rest) != 4 || len(it.Value()) != 8 {
			it.Close()
			return fmt.Errorf("source offset key %x: %w", it.Key(), errBadKey)
		}
		e.offsets.set(string(stream), int32(binary.BigEndian.Uint32(rest)), int64(binary.BigEndian.Uint64(it.Value())))
	}
	return it.Close()
}

// appendOffsetsHeader starts a WAL record with the batch's offsets, if any;
// the write record follows.
func appendOffsetsHeader(dst []byte, offs []SourceOffset) []byte {
	if len(offs) == 0 {
		return dst
	}
	dst = append(dst, recordOffsets)
	dst = binary.AppendUvarint(dst, uint64(len(offs)))
	for _, o := range offs {
		dst = appendLP(dst, []byte(o.Stream))
		dst = binary.AppendUvarint(dst, uint64(uint32(o.Partition)))
		dst = binary.AppendUvarint(dst, uint64(o.Next))
	}
	return dst
}

// decodeOffsetsHeader splits a record into its offsets and the write record
// after them; a record without the header is returned as it is.
func decodeOffsetsHeader(rec []byte) ([]SourceOffset, []byte, error) {
	if len(rec) == 0 || rec[0] != recordOffsets {
		return nil, rec, nil
	}
	r := &recordReader{b: rec[1:]}
	n := r.uvarint()
	if n > uint64(len(r.b)) {
		return nil, nil, fmt.Errorf("%w: %d source offsets in %d bytes", errBadRecord, n, len(r.b))
	}
	offs := make([]SourceOffset, 0, n)
	for ; n > 0 && r.err == nil; n-- {
		s := r.lp()
		p := r.uvarint()
		next := r.uvarint()
		if p > 1<<31-1 || next > 1<<63-1 {
			r.fail()
		}
		offs = append(offs, SourceOffset{Stream: string(s), Partition: int32(p), Next: int64(next), Prev: -1})
	}
	if r.err != nil {
		return nil, nil, r.err
	}
	if len(r.b) == 0 || r.b[0] != recordWrite {
		return nil, nil, fmt.Errorf("%w: source offsets not followed by a write record", errBadRecord)
	}
	return offs, r.b, nil
}

// replayOffsets applies the offsets header of a replayed record and returns
// the write record inside it.
func (e *Engine) replayOffsets(rec []byte) ([]byte, error) {
	offs, inner, err := decodeOffsetsHeader(rec)
	if err != nil {
		return nil, err
	}
	for _, o := range offs {
		e.offsets.set(o.Stream, o.Partition, o.Next)
	}
	return inner, nil
}

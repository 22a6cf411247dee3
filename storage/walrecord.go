package storage

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// WAL payloads (docs/format/wal.md, "Payload"). The wal package frames and checksums
// records; this file gives them meaning. A write record carries the definitions of
// the series and fields it created, so replay never depends on Pebble having kept
// catalog writes that were not synced, and refers to everything else by ID.

const (
	recordWrite byte = 1 // points of one batch, version 1
)

var errBadRecord = errors.New("storage: malformed WAL record")

// encodeWriteRecord appends batch b (already resolved: every kept point has a series
// ID and every value a field ID) to dst.
func encodeWriteRecord(dst []byte, b *Batch, seriesDefs, fieldDefs []int) []byte {
	dst = append(dst, recordWrite)
	dst = binary.AppendUvarint(dst, uint64(b.bkt.id))
	dst = binary.AppendUvarint(dst, uint64(len(seriesDefs)))
	for _, pi := range seriesDefs {
		p := &b.points[pi]
		dst = binary.AppendUvarint(dst, uint64(p.sid))
		dst = appendLP(dst, b.arena[p.keyOff:p.keyEnd])
	}
	dst = binary.AppendUvarint(dst, uint64(len(fieldDefs)))
	for _, i := range fieldDefs {
		nf := &b.newField[i]
		dst = binary.AppendUvarint(dst, uint64(nf.fid))
		dst = append(dst, byte(nf.typ))
		dst = appendLP(dst, []byte(nf.m))
		dst = appendLP(dst, []byte(nf.name))
	}
	dst = binary.AppendUvarint(dst, uint64(b.Len()))
	for i := range b.points {
		p := &b.points[i]
		if p.dropped {
			continue
		}
		dst = binary.AppendUvarint(dst, uint64(p.sid))
		dst = binary.AppendVarint(dst, p.t)
		dst = binary.AppendUvarint(dst, uint64(p.vEnd-p.vOff))
		for _, v := range b.values[p.vOff:p.vEnd] {
			dst = binary.AppendUvarint(dst, uint64(v.fid))
			dst = append(dst, byte(v.typ))
			switch v.typ {
			case Float:
				dst = binary.LittleEndian.AppendUint64(dst, v.bits)
			case Integer:
				dst = binary.AppendVarint(dst, int64(v.bits))
			case Unsigned:
				dst = binary.AppendUvarint(dst, v.bits)
			case Boolean:
				dst = append(dst, byte(v.bits))
			case String:
				dst = appendLP(dst, v.str(b.arena))
			}
		}
	}
	return dst
}

// writeRecord is a decoded write record. Slices alias the record bytes.
type writeRecord struct {
	bucket BucketID
	series []seriesDef
	fields []fieldDef
	points []byte // the encoded points, walked by nextPoint
	n      int
}

type seriesDef struct {
	id  SeriesID
	key []byte
}

type fieldDef struct {
	id      FieldID
	typ     FieldType
	m, name []byte
}

type recordReader struct {
	b   []byte
	err error
}

func (r *recordReader) uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail()
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *recordReader) varint() int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.fail()
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *recordReader) bytes(n uint64) []byte {
	if uint64(len(r.b)) < n {
		r.fail()
		return nil
	}
	out := r.b[:n]
	r.b = r.b[n:]
	return out
}

func (r *recordReader) lp() []byte { return r.bytes(r.uvarint()) }

func (r *recordReader) byte1() byte {
	b := r.bytes(1)
	if b == nil {
		return 0
	}
	return b[0]
}

func (r *recordReader) fail() {
	if r.err == nil {
		r.err = errBadRecord
	}
	r.b = nil
}

// decodeWriteRecord parses the header and definitions of a write record.
func decodeWriteRecord(rec []byte) (*writeRecord, error) {
	if len(rec) == 0 || rec[0] != recordWrite {
		return nil, fmt.Errorf("%w: unknown record type", errBadRecord)
	}
	r := &recordReader{b: rec[1:]}
	w := &writeRecord{bucket: BucketID(r.uvarint())}
	for n := r.uvarint(); n > 0 && r.err == nil; n-- {
		w.series = append(w.series, seriesDef{id: SeriesID(r.uvarint()), key: r.lp()})
	}
	for n := r.uvarint(); n > 0 && r.err == nil; n-- {
		w.fields = append(w.fields, fieldDef{id: FieldID(r.uvarint()), typ: FieldType(r.byte1()), m: r.lp(), name: r.lp()})
	}
	w.n = int(r.uvarint())
	w.points = r.b
	return w, r.err
}

// forEachValue calls fn for every value of every point of the record.
func (w *writeRecord) forEachValue(fn func(s SeriesID, f FieldID, t int64, v value)) error {
	r := &recordReader{b: w.points}
	for i := 0; i < w.n && r.err == nil; i++ {
		sid := SeriesID(r.uvarint())
		t := r.varint()
		for nv := r.uvarint(); nv > 0 && r.err == nil; nv-- {
			fid := FieldID(r.uvarint())
			v := value{typ: FieldType(r.byte1())}
			switch v.typ {
			case Float:
				if b := r.bytes(8); b != nil {
					v.bits = binary.LittleEndian.Uint64(b)
				}
			case Integer:
				v.bits = uint64(r.varint())
			case Unsigned:
				v.bits = r.uvarint()
			case Boolean:
				v.bits = uint64(r.byte1())
			case String:
				v.str = r.lp()
			default:
				r.fail()
			}
			if r.err == nil {
				fn(sid, fid, t, v)
			}
		}
	}
	if r.err == nil && len(r.b) != 0 {
		r.fail()
	}
	return r.err
}

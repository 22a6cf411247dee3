package storage

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/cockroachdb/pebble"

	"github.com/strata-db/strata/storage/block"
)

// Deletion: DROP SERIES, DROP MEASUREMENT and DELETE. Each is first appended to the
// WAL as a tombstone record and made durable, then applied; replay applies the same
// records in log order, so a write logged before a drop is dropped again after a
// crash, and one logged after it survives. Applying is idempotent.

const (
	recordDropSeries  byte = 2 // bucket, measurement, flags, series IDs
	recordDeleteRange byte = 3 // bucket, min, max, series IDs to trim, series IDs to drop
)

// dropFieldsFlag in a drop record: also forget the measurement's fields (DROP
// MEASUREMENT); DROP SERIES keeps them, as InfluxDB does.
const dropFieldsFlag = 1

func appendIDs(dst []byte, ids []SeriesID) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(ids)))
	for _, id := range ids {
		dst = binary.AppendUvarint(dst, uint64(id))
	}
	return dst
}

func (r *recordReader) ids() []SeriesID {
	n := r.uvarint()
	if n > uint64(len(r.b)) { // each ID takes at least a byte
		r.fail()
		return nil
	}
	out := make([]SeriesID, 0, n)
	for ; n > 0 && r.err == nil; n-- {
		out = append(out, SeriesID(r.uvarint()))
	}
	return out
}

// DropMeasurement deletes measurement m of bucket b: its series, their data and its
// fields. Dropping a measurement that does not exist is not an error.
func (e *Engine) DropMeasurement(b BucketID, m string) error {
	ids, err := e.SeriesIDs(b, m, nil)
	if err != nil {
		return err
	}
	return e.dropSeries(b, m, true, bitmapIDs(ids.ToArray()))
}

// DropSeries deletes the series of measurement m (every measurement if m is "")
// matching expr, with their data. It returns how many were dropped.
func (e *Engine) DropSeries(b BucketID, m string, expr *TagExpr) (int, error) {
	ms := []string{m}
	if m == "" {
		var err error
		if ms, err = e.Measurements(b); err != nil {
			return 0, err
		}
	}
	n := 0
	for _, m := range ms {
		ids, err := e.SeriesIDs(b, m, expr)
		if err != nil {
			return n, err
		}
		if ids.IsEmpty() {
			continue
		}
		if err := e.dropSeries(b, m, false, bitmapIDs(ids.ToArray())); err != nil {
			return n, err
		}
		n += int(ids.GetCardinality())
	}
	return n, nil
}

func bitmapIDs(x []uint32) []SeriesID {
	out := make([]SeriesID, len(x))
	for i, v := range x {
		out[i] = SeriesID(v)
	}
	return out
}

func (e *Engine) dropSeries(b BucketID, m string, dropFields bool, ids []SeriesID) error {
	if len(ids) == 0 && !dropFields {
		return nil
	}
	e.flushMu.Lock()
	defer e.flushMu.Unlock()
	e.commitMu.Lock()
	defer e.commitMu.Unlock()
	if e.closed {
		return ErrClosed
	}
	dr := dropRecord{bucket: b, measurement: m, dropFields: dropFields, drop: ids}
	if err := e.wal.Write(encodeDropRecord(dr)); err != nil {
		return fmt.Errorf("wal: %w", err)
	}
	defer e.notifyDrop(e.dropTouch(dr, false)) // keys now, the report once applied
	return e.applyDropSeries(b, m, dropFields, ids)
}

// applyDropSeries removes series from the catalog, the index, the blocks and the
// heads. The caller holds commitMu (so no posting list changes under it).
func (e *Engine) applyDropSeries(id BucketID, m string, dropFields bool, ids []SeriesID) error {
	pb := e.pebble.NewBatch()
	e.catMu.Lock()
	b := e.cat.buckets[id]
	if b == nil {
		e.catMu.Unlock()
		return pb.Close()
	}
	// Posting lists are read (cache or Pebble) and shrunk here, then written whole
	// (a Set replaces the list and its merge operands). All under catMu, so no
	// reader sees Pebble and the caches disagree.
	changed := map[string]*roaring.Bitmap{} // posting key -> its new list
	for _, sid := range ids {
		sb, key, ok, err := e.seriesEntry(sid)
		if err != nil {
			e.catMu.Unlock()
			pb.Close()
			return err
		}
		if !ok || sb != b {
			continue
		}
		mm, tags, err := ParseSeriesKey(key, nil)
		if err != nil {
			e.catMu.Unlock()
			pb.Close()
			return err
		}
		kk := seriesByKeyKey(id, key)
		pb.Delete(kk, nil)
		pb.Delete(seriesByIDKey(sid), nil)
		e.idx.keys.remove(kk)
		e.idx.ids.remove(seriesByIDKey(sid))
		p := blockSeriesPrefix(id, sid)
		pb.DeleteRange(p, prefixEnd(p), nil)
		b.live.Remove(uint32(sid))
		meas := b.measurements[string(mm)]
		if meas == nil || meas.all == nil {
			continue
		}
		meas.series--
		meas.tagKeys.Store(nil)
		meas.all.Remove(uint32(sid))
		changed[string(measurementKey(id, mm))] = meas.all
		for _, t := range tags {
			tk := tagPostingKey(id, mm, t.Key, t.Value)
			bm := changed[string(tk)]
			if bm == nil {
				cur, err := e.posting(tk)
				if err != nil {
					e.catMu.Unlock()
					pb.Close()
					return err
				}
				bm = cur.Clone()
				changed[string(tk)] = bm
			}
			bm.Remove(uint32(sid))
		}
	}
	for k, bm := range changed {
		if bm.IsEmpty() {
			pb.Delete([]byte(k), nil)
			continue
		}
		v, err := bm.ToBytes()
		if err != nil {
			e.catMu.Unlock()
			pb.Close()
			return err
		}
		pb.Set([]byte(k), v, nil)
	}
	if dropFields {
		if meas := b.measurements[m]; meas != nil {
			for name := range meas.fields {
				pb.Delete(fieldKey(id, []byte(m), []byte(name)), nil)
			}
			delete(b.measurements, m)
		}
	}
	if err := pb.Commit(pebble.NoSync); err != nil {
		e.catMu.Unlock()
		return err
	}
	for k, bm := range changed {
		if k[0] == kindTagPosting {
			e.idx.postings.put([]byte(k), bm)
		}
	}
	e.catMu.Unlock()
	e.headsMu.RLock()
	heads := []*head{e.active, e.flushing}
	e.headsMu.RUnlock()
	for _, h := range heads {
		if h != nil {
			h.dropSeries(ids)
		}
	}
	return nil
}

// Delete removes the points of measurement m (every measurement if "") of bucket b
// whose series match expr and whose time lies in [min, max]. Series left without any
// point are dropped from the index, as InfluxDB does.
func (e *Engine) Delete(b BucketID, m string, expr *TagExpr, min, max int64) error {
	ms := []string{m}
	if m == "" {
		var err error
		if ms, err = e.Measurements(b); err != nil {
			return err
		}
	}
	for _, m := range ms {
		ids, err := e.SeriesIDs(b, m, expr)
		if err != nil {
			return err
		}
		if ids.IsEmpty() {
			continue
		}
		if err := e.deleteRange(b, m, bitmapIDs(ids.ToArray()), min, max); err != nil {
			return err
		}
	}
	return nil
}

func (e *Engine) deleteRange(b BucketID, m string, ids []SeriesID, min, max int64) error {
	e.flushMu.Lock()
	defer e.flushMu.Unlock()
	e.commitMu.Lock()
	defer e.commitMu.Unlock()
	if e.closed {
		return ErrClosed
	}
	fields, err := e.Fields(b, m)
	if err != nil {
		return err
	}
	// Which series keep points outside the range? Decided before logging, so that
	// replay drops exactly the same ones.
	var trim, drop []SeriesID
	for _, sid := range ids {
		keeps, err := e.hasPointsOutside(b, sid, fields, min, max)
		if err != nil {
			return err
		}
		if keeps {
			trim = append(trim, sid)
		} else {
			drop = append(drop, sid)
		}
	}
	dr := dropRecord{deleteRange: true, bucket: b, min: min, max: max, trim: trim, drop: drop}
	if err := e.wal.Write(encodeDropRecord(dr)); err != nil {
		return fmt.Errorf("wal: %w", err)
	}
	defer e.notifyDrop(e.dropTouch(dr, false)) // keys now, the report once applied
	return e.applyDeleteRange(b, min, max, trim, drop)
}

// hasPointsOutside tells whether series sid has any point outside [min, max].
func (e *Engine) hasPointsOutside(b BucketID, sid SeriesID, fields []FieldInfo, min, max int64) (bool, error) {
	for _, f := range fields {
		if min > math.MinInt64 {
			if found, err := e.HasPoints(b, sid, f.ID, math.MinInt64, min-1); err != nil || found {
				return found, err
			}
		}
		if max < math.MaxInt64 {
			if found, err := e.HasPoints(b, sid, f.ID, max+1, math.MaxInt64); err != nil || found {
				return found, err
			}
		}
	}
	return false, nil
}

// applyDeleteRange trims [min, max] out of the blocks and heads of trim, and drops
// the series of drop. The caller holds commitMu and flushMu.
func (e *Engine) applyDeleteRange(b BucketID, min, max int64, trim, drop []SeriesID) error {
	e.catMu.RLock()
	bk := e.cat.buckets[b]
	var fields []FieldInfo
	if bk != nil {
		for _, meas := range bk.measurements {
			for _, f := range meas.fields {
				fields = append(fields, *f)
			}
		}
	}
	e.catMu.RUnlock()
	if bk == nil {
		return nil
	}
	pb := e.pebble.NewBatch()
	enc := block.NewEncoder()
	dec := block.NewDecoder()
	for _, sid := range trim {
		for _, f := range fields {
			if err := e.trimBlocks(pb, enc, dec, b, sid, f.ID, min, max); err != nil {
				pb.Close()
				return err
			}
		}
	}
	if err := pb.Commit(pebble.NoSync); err != nil {
		return err
	}
	e.headsMu.RLock()
	heads := []*head{e.active, e.flushing}
	e.headsMu.RUnlock()
	for _, h := range heads {
		if h != nil {
			h.deleteRange(trim, min, max)
		}
	}
	return e.applyDropSeries(b, "", false, drop)
}

// trimBlocks rewrites the blocks of one series and field that overlap [min, max]
// without the points inside it. A rewritten block keeps its flush sequence number,
// so its precedence against overlapping blocks is unchanged.
func (e *Engine) trimBlocks(pb *pebble.Batch, enc *block.Encoder, dec *block.Decoder, b BucketID, sid SeriesID, fid FieldID, min, max int64) error {
	lower, upper := blockScanBounds(b, sid, fid, min, max)
	it, err := e.pebble.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return err
	}
	defer it.Close()
	var col block.Column
	for it.First(); it.Valid(); it.Next() {
		hdr, err := block.DecodeHeader(it.Value())
		if err != nil {
			return err
		}
		if hdr.MaxTime < min || hdr.MinTime > max {
			continue
		}
		_, seq, err := parseBlockKey(it.Key())
		if err != nil {
			return err
		}
		if err := dec.Decode(&col, it.Value()); err != nil {
			return err
		}
		kept := &block.Column{Type: col.Type}
		for i, t := range col.Times {
			if t < min || t > max {
				kept.AppendRow(&col, i)
			}
		}
		pb.Delete(it.Key(), nil)
		if kept.Len() == 0 {
			continue
		}
		v, err := enc.Encode(nil, kept)
		if err != nil {
			return err
		}
		pb.Set(blockKey(nil, b, sid, fid, kept.Times[kept.Len()-1], seq), v, nil)
	}
	return it.Error()
}

// dropRecord is a decoded drop-series (deleteRange false) or delete-range record
// (docs/format/wal-records.md).
type dropRecord struct {
	deleteRange bool
	bucket      BucketID
	measurement string // drop-series only
	dropFields  bool   // drop-series only
	min, max    int64  // delete-range only
	trim        []SeriesID
	drop        []SeriesID
}

func encodeDropRecord(d dropRecord) []byte {
	if d.deleteRange {
		rec := []byte{recordDeleteRange}
		rec = binary.AppendUvarint(rec, uint64(d.bucket))
		rec = binary.AppendVarint(rec, d.min)
		rec = binary.AppendVarint(rec, d.max)
		rec = appendIDs(rec, d.trim)
		return appendIDs(rec, d.drop)
	}
	rec := []byte{recordDropSeries}
	rec = binary.AppendUvarint(rec, uint64(d.bucket))
	rec = appendLP(rec, []byte(d.measurement))
	flags := byte(0)
	if d.dropFields {
		flags = dropFieldsFlag
	}
	rec = append(rec, flags)
	return appendIDs(rec, d.drop)
}

func decodeDropRecord(rec []byte) (dropRecord, error) {
	if len(rec) == 0 || (rec[0] != recordDropSeries && rec[0] != recordDeleteRange) {
		return dropRecord{}, fmt.Errorf("%w: unknown record type", errBadRecord)
	}
	r := &recordReader{b: rec[1:]}
	d := dropRecord{deleteRange: rec[0] == recordDeleteRange, bucket: BucketID(r.uvarint())}
	if d.deleteRange {
		d.min, d.max = r.varint(), r.varint()
		d.trim, d.drop = r.ids(), r.ids()
	} else {
		d.measurement = string(r.lp())
		d.dropFields = r.byte1()&dropFieldsFlag != 0
		d.drop = r.ids()
	}
	if r.err == nil && len(r.b) != 0 {
		r.fail()
	}
	return d, r.err
}

// replayDrop applies a drop or delete record during WAL replay.
func (e *Engine) replayDrop(rec []byte) error {
	d, err := decodeDropRecord(rec)
	if err != nil {
		return err
	}
	defer e.notifyDrop(e.dropTouch(d, true))
	if d.deleteRange {
		return e.applyDeleteRange(d.bucket, d.min, d.max, d.trim, d.drop)
	}
	return e.applyDropSeries(d.bucket, d.measurement, d.dropFields, d.drop)
}

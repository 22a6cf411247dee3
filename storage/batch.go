package storage

import (
	"math"
	"time"
	"unsafe"
)

// FieldValue is one field of a point handed to Batch.Add.
type FieldValue struct {
	Key   []byte
	Type  FieldType
	Float float64
	Int   int64
	Uint  uint64
	Bool  bool
	Str   []byte
}

// Batch collects the points of one write request to one database. Add validates each
// point against the schema as it comes and copies what it keeps, so the caller may
// reuse its buffers as soon as Add returns. A Batch is used by one goroutine.
type Batch struct {
	e        *Engine
	bkt      *bucket
	points   []batchPoint
	values   []batchValue
	arena    []byte // series keys and string values, referenced by offset
	newField []newField
	rec      []byte   // the WAL record, reused across uses of a pooled batch
	keyBuf   []byte   // scratch for index keys (lookupSeries)
	order    []uint64 // scratch for apply: series ID << 32 | point index
	rejected int
	errs     []error // rejection reasons, in order; capped at maxBatchErrors
	oldest   int64   // points before this are beyond the retention policy
	// droppedLate counts points of b.points that Write dropped (marked dropped);
	// points rejected by Add never enter b.points.
	droppedLate int
	offsets     []SourceOffset // stored with the points, see offsets.go
}

// maxBatchErrors bounds the reasons a batch remembers: a client sending a million
// bad points gets the first few reasons and an exact count, not a huge response.
const maxBatchErrors = 16

type batchPoint struct {
	keyOff, keyEnd int
	mLen           int // the measurement's share of the key: lp(m)
	sid            SeriesID
	absentAt       uint64 // sid 0 and no such series when the bucket's seriesGen was absentAt-1
	t              int64
	vOff, vEnd     int
	dropped        bool
}

// batchValue is 24 bytes: a 5,000-line TSBS batch holds 50,000 of them.
type batchValue struct {
	fid  FieldID // 0: a field new in this batch, see nf
	nf   int32   // index into Batch.newField when fid == 0
	strN uint32  // a string's length; its offset in the arena is bits
	typ  FieldType
	bits uint64
}

type newField struct {
	m, name string
	typ     FieldType
	fid     FieldID // set when the batch commits
}

// NewBatch starts a batch for bucket id.
func (e *Engine) NewBatch(id BucketID) (*Batch, error) {
	b, err := e.bucketByID(id)
	if err != nil {
		return nil, err
	}
	var batch *Batch
	select {
	case batch = <-e.batches:
	default:
		batch = &Batch{}
	}
	batch.e, batch.bkt, batch.oldest = e, b, math.MinInt64
	if d := b.rp.Duration; d > 0 {
		batch.oldest = time.Now().Add(-d).UnixNano()
	}
	return batch, nil
}

// Release returns the batch's memory for reuse by later batches. The batch must not
// be used afterwards. Releasing is optional; it saves the allocations of growing
// a batch's buffers anew for every request (most of a write's garbage).
func (b *Batch) Release() {
	e := b.e
	// A batch grown by an unusually large request is not kept: it would pin memory.
	if b.footprint() > maxPooledBatchBytes {
		return
	}
	*b = Batch{points: b.points[:0], values: b.values[:0], arena: b.arena[:0], errs: b.errs[:0], rec: b.rec[:0], keyBuf: b.keyBuf[:0], order: b.order[:0]}
	select {
	case e.batches <- b:
	default: // enough batches are free already
	}
}

// maxPooledBatchBytes: a 5,000-line TSBS batch holds ~1 MB of keys and 2.3 MB of
// points and values; keep batches up to 12 MB (10,000 such lines; 25 MB bodies
// are the limit) and let the rare larger ones go.
const maxPooledBatchBytes = 12 << 20

// footprint is the memory of the batch's reusable buffers.
func (b *Batch) footprint() int {
	return cap(b.arena) + cap(b.rec) + 8*cap(b.order) + cap(b.points)*int(unsafe.Sizeof(batchPoint{})) + cap(b.values)*int(unsafe.Sizeof(batchValue{}))
}

// freeBatches is how many released batches the engine keeps for reuse. Not a
// sync.Pool: the collector empties a pool every second cycle, and under a
// steady load of big batches (TSBS: 5,000 lines, ~3 MB of points, values and
// keys each) it ran more often than each writer came back, so every request
// grew a batch anew (a seventh of the garbage). A handful covers the writers
// that commit at once on a small machine; more writers grow the rest.
const freeBatches = 4

// Len returns the number of accepted points in the batch.
func (b *Batch) Len() int { return len(b.points) - b.droppedLate }

// Rejected returns the number of points Add or Write rejected, and the first reasons.
func (b *Batch) Rejected() (int, []error) { return b.rejected, b.errs }

func (b *Batch) reject(err error) error {
	b.rejected++
	if len(b.errs) < maxBatchErrors {
		b.errs = append(b.errs, err)
	}
	return err
}

// Add adds one point: measurement m, tags sorted by key with unique keys, fields and
// a timestamp in nanoseconds. It returns a non-nil error if the point is rejected
// (type conflict, field or tag named "time"); the batch stays usable.
//
// Add is called with the engine's catalog read-locked per point, so it sees fields
// created by concurrent batches; Write re-checks what was new under the write lock.
func (b *Batch) Add(m []byte, tags []Tag, fields []FieldValue, t int64) error {
	if t < b.oldest {
		return b.reject(ErrBeyondRetention)
	}
	for _, tg := range tags {
		if string(tg.Key) == "time" {
			return b.reject(&InvalidTagKeyError{Measurement: string(m), Tag: "time"})
		}
	}
	nTime := 0
	for i := range fields {
		if string(fields[i].Key) == "time" {
			nTime++
		}
	}
	if nTime == len(fields) {
		return b.reject(&InvalidFieldNameError{Measurement: string(m), Field: "time"})
	}

	p := batchPoint{t: t, keyOff: len(b.arena), vOff: len(b.values)}
	b.arena = AppendSeriesKey(b.arena, m, tags)
	p.keyEnd = len(b.arena)
	p.mLen = lpLen(len(m))

	e := b.e
	e.catMu.RLock()
	var meas *measurement
	if d := b.bkt; d != nil {
		meas = d.measurements[string(m)]
		// An error leaves sid 0: resolve looks again under the write lock and reports it.
		var err error
		if p.sid, err = e.lookupSeries(d, b.arena[p.keyOff:p.keyEnd], &b.keyBuf); p.sid == 0 && err == nil {
			p.absentAt = d.seriesGen + 1
		}
	}
	for i := range fields {
		f := &fields[i]
		if string(f.Key) == "time" {
			continue // InfluxDB drops a "time" field that has company
		}
		v := batchValue{typ: f.Type}
		if meas != nil {
			if fi := meas.fields[string(f.Key)]; fi != nil {
				if fi.Type != f.Type {
					e.catMu.RUnlock()
					return b.dropPoint(p, &FieldTypeConflictError{Measurement: string(m), Field: string(f.Key), Type: f.Type, Existing: fi.Type})
				}
				v.fid = fi.ID
			}
		}
		if v.fid == 0 {
			nf, conflict := b.lookupNewField(m, f)
			if conflict != nil {
				e.catMu.RUnlock()
				return b.dropPoint(p, conflict)
			}
			v.nf = int32(nf)
		}
		switch f.Type {
		case Float:
			v.bits = math.Float64bits(f.Float)
		case Integer:
			v.bits = uint64(f.Int)
		case Unsigned:
			v.bits = f.Uint
		case Boolean:
			if f.Bool {
				v.bits = 1
			}
		case String:
			v.bits = uint64(len(b.arena))
			b.arena = append(b.arena, f.Str...)
			v.strN = uint32(len(f.Str))
		}
		b.values = append(b.values, v)
	}
	e.catMu.RUnlock()
	p.vEnd = len(b.values)
	b.points = append(b.points, p)
	return nil
}

// dropPoint undoes the partial additions of a rejected point.
func (b *Batch) dropPoint(p batchPoint, err error) error {
	b.arena = b.arena[:p.keyOff]
	b.values = b.values[:p.vOff]
	return b.reject(err)
}

// lookupNewField finds or registers a field that the catalog does not know yet.
func (b *Batch) lookupNewField(m []byte, f *FieldValue) (int, error) {
	for i := range b.newField {
		nf := &b.newField[i]
		if nf.name == string(f.Key) && nf.m == string(m) {
			if nf.typ != f.Type {
				return 0, &FieldTypeConflictError{Measurement: nf.m, Field: nf.name, Type: f.Type, Existing: nf.typ}
			}
			return i, nil
		}
	}
	b.newField = append(b.newField, newField{m: string(m), name: string(f.Key), typ: f.Type})
	return len(b.newField) - 1, nil
}

func (v *batchValue) value(arena []byte) value {
	out := value{typ: v.typ, bits: v.bits}
	if v.typ == String {
		out.bits = 0
		out.str = v.str(arena)
	}
	return out
}

// str returns a string value's bytes in the batch's arena.
func (v *batchValue) str(arena []byte) []byte {
	return arena[v.bits : v.bits+uint64(v.strN)]
}

func lpLen(n int) int {
	w := 1
	for x := uint64(n); x >= 0x80; x >>= 7 {
		w++
	}
	return w + n
}

package storage

import (
	"math"
	"sort"
	"sync"

	"github.com/strata-db/strata/storage/block"
)

// Head memory accounting counts what chunks allocate, not the values in them:
// every field's last chunk is partly empty, and with a thousand series fields that
// slack was half the head (heap profile of TSBS ingest: 49 MB held for a 32 MB
// budget counted per value).

// head buffers recent points per series and field until a flush turns them into
// blocks. The engine has an active head taking writes and, while a flush runs, the
// previous head (immutable from then on) that is being written out.
//
// mu guards series and the columns in it; bytes is only changed under mu too but is
// read without it.
type head struct {
	mu     sync.RWMutex
	series map[SeriesID]*seriesHead
	bytes  int64
	points int64
	// frozen is set when the head starts being flushed: the flush reads it without
	// locks, so from then on nothing may change it, not even a read's sort.
	frozen bool
}

type seriesHead struct {
	bucket BucketID
	fields []*fieldHead // a handful per series: a slice beats a map
}

type fieldHead struct {
	id     FieldID
	typ    FieldType
	chunks []*block.Column // in arrival order; fixed capacity, never reallocated
	arena  []byte          // backing store of string values
	// sorted: every time is greater than the one before, across chunks, so the
	// chunks can be read as they are. Concurrent writers commit batches slightly
	// out of order; the first read after that sorts the field once (sortInPlace).
	sorted bool
	last   int64  // the greatest time appended
	gen    uint64 // bumped by every change, so a sort made under the read lock can be installed safely
}

// Head chunk sizes: a field's values go into chunks that are filled, never grown,
// so appending never copies what is buffered and a full head holds no doubling
// slack. Chunks start small (a series written once a minute should not reserve
// kilobytes) and double up to headChunkMax.
const (
	headChunkMin = 32
	headChunkMax = 1024
)

// appendValue adds one value, starting a new chunk when the last is full, and
// returns the bytes it allocated.
func (f *fieldHead) appendValue(t int64, v value) (allocated int64) {
	c, allocated := f.tail(t)
	appendValue(c, &f.arena, t, v)
	return allocated + int64(len(v.str))
}

// appendBits is appendValue for a value that is not a string, given as its
// bits (see value): the write path's common case, without building a value.
func (f *fieldHead) appendBits(t int64, bits uint64) (allocated int64) {
	c, allocated := f.tail(t)
	c.Times = append(c.Times, t)
	switch c.Type {
	case block.Float:
		c.Floats = append(c.Floats, math.Float64frombits(bits))
	case block.Integer:
		c.Ints = append(c.Ints, int64(bits))
	case block.Unsigned:
		c.Uints = append(c.Uints, bits)
	case block.Boolean:
		c.Bools = append(c.Bools, bits != 0)
	}
	return allocated
}

// tail notes that a value of time t is coming and returns the chunk it goes
// into, starting a new one when the last is full, and the bytes that took.
func (f *fieldHead) tail(t int64) (c *block.Column, allocated int64) {
	if len(f.chunks) > 0 && t <= f.last {
		f.sorted = false
	}
	if len(f.chunks) == 0 || t > f.last {
		f.last = t
	}
	f.gen++
	if n := len(f.chunks); n > 0 {
		c = f.chunks[n-1]
	}
	if c == nil || len(c.Times) == cap(c.Times) {
		size := headChunkMin
		if c != nil {
			size = min(2*cap(c.Times), headChunkMax)
		}
		c = &block.Column{Type: f.typ, Times: make([]int64, 0, size)}
		switch f.typ {
		case block.Float:
			c.Floats = make([]float64, 0, size)
		case block.Integer:
			c.Ints = make([]int64, 0, size)
		case block.Unsigned:
			c.Uints = make([]uint64, 0, size)
		case block.Boolean:
			c.Bools = make([]bool, 0, size)
		case block.String:
			c.Strings = make([][]byte, 0, size)
		}
		f.chunks = append(f.chunks, c)
		allocated = int64(size) * slotBytes(f.typ)
	}
	return c, allocated
}

// slotBytes is the memory of one value slot in a chunk: its time and its value.
func slotBytes(t FieldType) int64 {
	switch t {
	case block.Boolean:
		return 8 + 1
	case block.String:
		return 8 + 24 // a slice header; the bytes are counted as they come
	}
	return 8 + 8
}

// len returns the number of buffered values.
func (f *fieldHead) len() int {
	n := 0
	for _, c := range f.chunks {
		n += len(c.Times)
	}
	return n
}

// column returns all buffered values as one column, in arrival order.
func (f *fieldHead) column() *block.Column {
	if len(f.chunks) == 1 {
		return f.chunks[0]
	}
	out := newColumn(f.typ, f.len())
	for _, c := range f.chunks {
		out.AppendRows(c, 0, len(c.Times))
	}
	return out
}

func newHead() *head {
	return &head{series: map[SeriesID]*seriesHead{}}
}

// fieldAt is field with a guess: the field is probably s.fields[hint].
func (s *seriesHead) fieldAt(hint int, id FieldID, t FieldType) *fieldHead {
	if hint < len(s.fields) && s.fields[hint].id == id {
		return s.fields[hint]
	}
	return s.field(id, t)
}

func (s *seriesHead) field(id FieldID, t FieldType) *fieldHead {
	for _, f := range s.fields {
		if f.id == id {
			return f
		}
	}
	f := &fieldHead{id: id, typ: t, sorted: true}
	s.fields = append(s.fields, f)
	return f
}

// seriesHead returns series s of bucket db, adding it. The caller holds h.mu.
func (h *head) seriesHead(db BucketID, s SeriesID) *seriesHead {
	sh := h.series[s]
	if sh == nil {
		sh = &seriesHead{bucket: db}
		h.series[s] = sh
	}
	return sh
}

// append adds one value. The caller holds h.mu.
func (h *head) append(db BucketID, s SeriesID, f FieldID, t int64, v value) {
	fh := h.seriesHead(db, s).field(f, v.typ)
	h.bytes += fh.appendValue(t, v)
	h.points++
}

// snapshot returns series s, field f within [min, max] as sorted, deduplicated,
// non-overlapping columns in time order, or nil if the head holds none. They are
// views of the head's chunks, which are append-only (an append writes past every
// view's end; deletions replace chunks rather than edit them), so nothing is
// copied; they must not be modified.
func (h *head) snapshot(s SeriesID, f FieldID, min, max int64) []*block.Column {
	h.mu.RLock()
	fh := h.field(s, f)
	if fh == nil {
		h.mu.RUnlock()
		return nil
	}
	if !fh.sorted {
		// Sort once, then let every later read take views.
		sorted, gen := sortDedupChunks(fh.typ, fh.chunks), fh.gen
		// Views are taken before the sorted column is installed: once installed,
		// appends change its slice headers.
		views := viewsOf([]*block.Column{sorted}, min, max)
		frozen := h.frozen
		h.mu.RUnlock()
		if !frozen {
			h.mu.Lock()
			if !h.frozen && fh.gen == gen { // a flush may have frozen it meanwhile
				fh.chunks = []*block.Column{sorted}
				fh.sorted = true
				fh.gen++
			}
			h.mu.Unlock()
		}
		return views
	}
	defer h.mu.RUnlock()
	return viewsOf(fh.chunks, min, max)
}

// viewsOf cuts time-sorted chunks to [min, max] without copying. The first
// chunk reaching min is found by binary search: a day of 10 s points is 14
// chunks per field, and a dashboard's read of the last minute touched every
// one of them per series, cold in memory after the seconds between refreshes.
func viewsOf(chunks []*block.Column, min, max int64) []*block.Column {
	var out []*block.Column
	// An empty chunk counts as reaching min: then every chunk before the
	// one found ends before min (chunks that hold points ascend), whatever
	// empty chunks lie between.
	reaches := func(i int) bool {
		c := chunks[i]
		return len(c.Times) == 0 || c.Times[len(c.Times)-1] >= min
	}
	first, n := 0, len(chunks)
	if n > 1 && len(chunks[n-1].Times) > 0 && chunks[n-1].Times[0] <= min {
		// The last chunk starts before min, so every other ends before it:
		// a read of the latest points (a refresh's window at now) probes
		// one chunk.
		first = n - 1
	} else {
		first = sort.Search(n, reaches)
	}
	for _, c := range chunks[first:] {
		n := len(c.Times)
		if n > 0 && c.Times[0] > max {
			break
		}
		if n == 0 || c.Times[n-1] < min {
			continue
		}
		if v := TrimColumn(sliceColumn(c, 0, n), min, max); len(v.Times) > 0 {
			out = append(out, v)
		}
	}
	return out
}

func (h *head) field(s SeriesID, f FieldID) *fieldHead {
	sh := h.series[s]
	if sh == nil {
		return nil
	}
	for _, fh := range sh.fields {
		if fh.id == f {
			return fh
		}
	}
	return nil
}

// dropBucket forgets every series of bucket b.
func (h *head) dropBucket(b BucketID) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for id, s := range h.series {
		if s.bucket == b {
			delete(h.series, id)
		}
	}
}

// dropSeries forgets the given series.
func (h *head) dropSeries(ids []SeriesID) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, id := range ids {
		delete(h.series, id)
	}
}

// deleteRange removes the points within [min, max] of the given series.
func (h *head) deleteRange(ids []SeriesID, min, max int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, id := range ids {
		s := h.series[id]
		if s == nil {
			continue
		}
		for _, f := range s.fields {
			var kept []*block.Column
			for _, c := range f.chunks {
				k := &block.Column{Type: c.Type}
				for i, t := range c.Times {
					if t < min || t > max {
						k.AppendRow(c, i)
					}
				}
				if len(k.Times) > 0 {
					kept = append(kept, k)
				}
			}
			f.chunks = kept
			f.gen++
		}
	}
}

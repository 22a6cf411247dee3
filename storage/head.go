package storage

import (
	"sync"

	"github.com/strata-db/strata/storage/block"
)

// Head memory accounting: what one buffered value costs, roughly, in the slices
// that hold it (8-byte timestamp + up to 8-byte value) plus slice growth slack. The
// estimate only has to be proportional: it decides when to flush.
const headBytesPerValue = 20

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
}

type seriesHead struct {
	bucket BucketID
	fields []*fieldHead // a handful per series: a slice beats a map
}

type fieldHead struct {
	id    FieldID
	col   block.Column // in arrival order; sortDedup makes it block-ready
	arena []byte       // backing store of string values
}

func newHead() *head {
	return &head{series: map[SeriesID]*seriesHead{}}
}

func (s *seriesHead) field(id FieldID, t FieldType) *fieldHead {
	for _, f := range s.fields {
		if f.id == id {
			return f
		}
	}
	f := &fieldHead{id: id, col: block.Column{Type: t}}
	s.fields = append(s.fields, f)
	return f
}

// append adds one value. The caller holds h.mu.
func (h *head) append(db BucketID, s SeriesID, f FieldID, t int64, v value) {
	sh := h.series[s]
	if sh == nil {
		sh = &seriesHead{bucket: db}
		h.series[s] = sh
	}
	fh := sh.field(f, v.typ)
	appendValue(&fh.col, &fh.arena, t, v)
	h.bytes += headBytesPerValue + int64(len(v.str))
	h.points++
}

// snapshot returns a sorted, deduplicated copy of series s, field f within
// [min, max], or nil if the head holds none.
func (h *head) snapshot(s SeriesID, f FieldID, min, max int64) *block.Column {
	h.mu.RLock()
	defer h.mu.RUnlock()
	sh := h.series[s]
	if sh == nil {
		return nil
	}
	for _, fh := range sh.fields {
		if fh.id != f {
			continue
		}
		out := &block.Column{Type: fh.col.Type}
		for i, t := range fh.col.Times {
			if t >= min && t <= max {
				copyRow(out, &fh.col, i)
			}
		}
		if len(out.Times) == 0 {
			return nil
		}
		return sortDedup(out)
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
			kept := block.Column{Type: f.col.Type}
			for i, t := range f.col.Times {
				if t < min || t > max {
					copyRow(&kept, &f.col, i)
				}
			}
			f.col = kept
		}
	}
}

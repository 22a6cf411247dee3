package storage

import (
	"fmt"
	"io"
	"regexp"
	"sort"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/cockroachdb/pebble"
)

// bitmapMerger lets the tag index grow incrementally: adding a series to a posting
// list is a Pebble Merge of a one-element bitmap, and Pebble ORs operands together
// when it reads or compacts, so a write never reads a posting list. The name is
// persisted by Pebble; changing it makes existing data unreadable.
var bitmapMerger = &pebble.Merger{
	Name: "strata.roaring32.or.v1",
	Merge: func(key, value []byte) (pebble.ValueMerger, error) {
		m := &bitmapValueMerger{bm: roaring.New()}
		if err := m.add(value); err != nil {
			return nil, err
		}
		return m, nil
	},
}

type bitmapValueMerger struct{ bm *roaring.Bitmap }

func (m *bitmapValueMerger) add(v []byte) error {
	// UnmarshalBinary copies: Or may share containers with its argument, and Pebble
	// reuses v's memory after the call.
	var o roaring.Bitmap
	if err := o.UnmarshalBinary(v); err != nil {
		return fmt.Errorf("tag index: corrupt bitmap: %w", err)
	}
	m.bm.Or(&o)
	return nil
}

func (m *bitmapValueMerger) MergeNewer(v []byte) error { return m.add(v) }
func (m *bitmapValueMerger) MergeOlder(v []byte) error { return m.add(v) }
func (m *bitmapValueMerger) Finish(includesBase bool) ([]byte, io.Closer, error) {
	m.bm.RunOptimize()
	b, err := m.bm.ToBytes()
	return b, nil, err
}

func bitmapOf(ids []SeriesID) []byte {
	bm := roaring.New()
	for _, id := range ids {
		bm.Add(uint32(id))
	}
	bm.RunOptimize()
	b, _ := bm.ToBytes() // writing to memory cannot fail
	return b
}

// TagOp is the operator of a TagExpr node.
type TagOp uint8

// Tag predicate operators. Their meaning for series that lack the tag follows
// InfluxDB: a missing tag compares as the empty string, so `t != 'x'` and
// `t =~ /^$/` match series without t.
const (
	TagAnd TagOp = iota + 1
	TagOr
	TagEq
	TagNotEq
	TagMatch
	TagNotMatch
)

// TagExpr is a predicate over a series' tags. A nil *TagExpr matches every series.
type TagExpr struct {
	Op       TagOp
	LHS, RHS *TagExpr       // TagAnd, TagOr
	Key      string         // comparisons
	Value    string         // TagEq, TagNotEq
	Regex    *regexp.Regexp // TagMatch, TagNotMatch
}

// The tag index is read from memory: each measurement's posting lists are loaded
// from Pebble at open (catalog.loadPostings) and kept up to date under catMu as
// series are created and dropped. Pebble holds the durable copy; reading it per
// query meant merging every posting list's operands again (the write path adds
// one operand per new series), which dominated small queries.

// SeriesIDs returns the IDs of the series of measurement m in bucket b matching expr,
// resolved on the tag index alone. The bitmap is the caller's.
func (e *Engine) SeriesIDs(b BucketID, m string, expr *TagExpr) (*roaring.Bitmap, error) {
	e.catMu.RLock()
	defer e.catMu.RUnlock()
	d := e.cat.buckets[b]
	if d == nil {
		return nil, ErrBucketDropped
	}
	meas := d.measurements[m]
	if meas == nil || meas.all == nil || meas.all.IsEmpty() {
		return roaring.New(), nil
	}
	if expr == nil {
		return meas.all.Clone(), nil
	}
	return evalTagExpr(meas, meas.all, expr)
}

// evalTagExpr evaluates x over one measurement's index. The caller holds catMu;
// every bitmap returned is new (the index's own are never modified).
func evalTagExpr(meas *measurement, all *roaring.Bitmap, x *TagExpr) (*roaring.Bitmap, error) {
	switch x.Op {
	case TagAnd, TagOr:
		l, err := evalTagExpr(meas, all, x.LHS)
		if err != nil {
			return nil, err
		}
		if x.Op == TagAnd && l.IsEmpty() {
			return l, nil
		}
		r, err := evalTagExpr(meas, all, x.RHS)
		if err != nil {
			return nil, err
		}
		if x.Op == TagAnd {
			l.And(r)
		} else {
			l.Or(r)
		}
		return l, nil
	case TagEq, TagNotEq:
		var eq *roaring.Bitmap
		if x.Value == "" {
			// Series without the tag: all minus those having any value of it.
			eq = roaring.AndNot(all, tagValuesUnion(meas, x.Key, nil))
		} else if bm := meas.tags[x.Key][x.Value]; bm != nil {
			eq = bm.Clone()
		} else {
			eq = roaring.New()
		}
		if x.Op == TagEq {
			return eq, nil
		}
		return roaring.AndNot(all, eq), nil
	case TagMatch, TagNotMatch:
		matched := tagValuesUnion(meas, x.Key, x.Regex)
		if x.Regex.MatchString("") {
			matched.Or(roaring.AndNot(all, tagValuesUnion(meas, x.Key, nil)))
		}
		if x.Op == TagMatch {
			return matched, nil
		}
		return roaring.AndNot(all, matched), nil
	}
	return nil, fmt.Errorf("storage: unknown tag operator %d", x.Op)
}

// tagValuesUnion ORs the posting lists of every value of tag key k (matching re if
// not nil). The caller holds catMu.
func tagValuesUnion(meas *measurement, k string, re *regexp.Regexp) *roaring.Bitmap {
	var lists []*roaring.Bitmap
	for v, bm := range meas.tags[k] {
		if re == nil || re.MatchString(v) {
			lists = append(lists, bm)
		}
	}
	return roaring.FastOr(lists...)
}

// TagKeys returns the sorted tag keys of measurement m.
func (e *Engine) TagKeys(b BucketID, m string) ([]string, error) {
	e.catMu.RLock()
	defer e.catMu.RUnlock()
	d := e.cat.buckets[b]
	if d == nil {
		return nil, ErrBucketDropped
	}
	meas := d.measurements[m]
	if meas == nil {
		return nil, nil
	}
	keys := make([]string, 0, len(meas.tags))
	for k, vals := range meas.tags {
		if len(vals) > 0 {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return keys, nil
}

// TagValues returns the sorted values of tag key k in measurement m, with the series
// holding each (the bitmaps are the caller's).
func (e *Engine) TagValues(b BucketID, m, k string) (values []string, series []*roaring.Bitmap, err error) {
	e.catMu.RLock()
	defer e.catMu.RUnlock()
	d := e.cat.buckets[b]
	if d == nil {
		return nil, nil, ErrBucketDropped
	}
	meas := d.measurements[m]
	if meas == nil {
		return nil, nil, nil
	}
	for v := range meas.tags[k] {
		values = append(values, v)
	}
	sort.Strings(values)
	for _, v := range values {
		series = append(series, meas.tags[k][v].Clone())
	}
	return values, series, nil
}

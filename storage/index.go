package storage

import (
	"fmt"
	"io"
	"regexp"

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

// readBitmap returns the posting list stored under key (empty if none).
func readBitmap(r pebble.Reader, key []byte) (*roaring.Bitmap, error) {
	v, closer, err := r.Get(key)
	if err == pebble.ErrNotFound {
		return roaring.New(), nil
	}
	if err != nil {
		return nil, err
	}
	defer closer.Close()
	bm := roaring.New()
	if err := bm.UnmarshalBinary(v); err != nil {
		return nil, fmt.Errorf("tag index %x: %w", key, err)
	}
	return bm, nil
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

// SeriesIDs returns the IDs of the series of measurement m in bucket b matching expr,
// resolved on the tag index alone.
func (e *Engine) SeriesIDs(b BucketID, m string, expr *TagExpr) (*roaring.Bitmap, error) {
	d, err := e.bucketByID(b)
	if err != nil {
		return nil, err
	}
	all, err := readBitmap(e.pebble, measurementKey(d.id, []byte(m)))
	if err != nil {
		return nil, err
	}
	if expr == nil || all.IsEmpty() {
		return all, nil
	}
	return e.evalTagExpr(d.id, []byte(m), all, expr)
}

func (e *Engine) evalTagExpr(db BucketID, m []byte, all *roaring.Bitmap, x *TagExpr) (*roaring.Bitmap, error) {
	switch x.Op {
	case TagAnd, TagOr:
		l, err := e.evalTagExpr(db, m, all, x.LHS)
		if err != nil {
			return nil, err
		}
		if x.Op == TagAnd && l.IsEmpty() {
			return l, nil
		}
		r, err := e.evalTagExpr(db, m, all, x.RHS)
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
		var err error
		if x.Value == "" {
			// Series without the tag: all minus those having any value of it.
			having, err := e.tagValuesUnion(db, m, x.Key, nil)
			if err != nil {
				return nil, err
			}
			eq = roaring.AndNot(all, having)
		} else if eq, err = readBitmap(e.pebble, tagPostingKey(db, m, []byte(x.Key), []byte(x.Value))); err != nil {
			return nil, err
		}
		if x.Op == TagEq {
			return eq, nil
		}
		return roaring.AndNot(all, eq), nil
	case TagMatch, TagNotMatch:
		matched, err := e.tagValuesUnion(db, m, x.Key, x.Regex)
		if err != nil {
			return nil, err
		}
		if x.Regex.MatchString("") {
			having, err := e.tagValuesUnion(db, m, x.Key, nil)
			if err != nil {
				return nil, err
			}
			matched.Or(roaring.AndNot(all, having))
		}
		if x.Op == TagMatch {
			return matched, nil
		}
		return roaring.AndNot(all, matched), nil
	}
	return nil, fmt.Errorf("storage: unknown tag operator %d", x.Op)
}

// tagValuesUnion ORs the posting lists of every value of tag key k (matching re if
// not nil) in measurement m.
func (e *Engine) tagValuesUnion(db BucketID, m []byte, k string, re *regexp.Regexp) (*roaring.Bitmap, error) {
	out := roaring.New()
	prefix := tagKeyPrefix(db, m, []byte(k))
	err := scanPrefix(e.pebble, prefix, func(key, v []byte) error {
		if re != nil && !re.Match(key[len(prefix):]) {
			return nil
		}
		var bm roaring.Bitmap
		if err := bm.UnmarshalBinary(v); err != nil {
			return fmt.Errorf("tag index %x: %w", key, err)
		}
		out.Or(&bm)
		return nil
	})
	return out, err
}

// TagKeys returns the sorted tag keys of measurement m.
func (e *Engine) TagKeys(b BucketID, m string) ([]string, error) {
	d, err := e.bucketByID(b)
	if err != nil {
		return nil, err
	}
	prefix := tagMeasurementPrefix(d.id, []byte(m))
	var keys []string
	err = scanPrefix(e.pebble, prefix, func(key, _ []byte) error {
		k, _, err := readLP(key[len(prefix):])
		if err != nil {
			return err
		}
		if len(keys) == 0 || keys[len(keys)-1] != string(k) {
			keys = append(keys, string(k))
		}
		return nil
	})
	return keys, err
}

// TagValues returns the sorted values of tag key k in measurement m, with the series
// holding each.
func (e *Engine) TagValues(b BucketID, m, k string) (values []string, series []*roaring.Bitmap, err error) {
	d, err := e.bucketByID(b)
	if err != nil {
		return nil, nil, err
	}
	prefix := tagKeyPrefix(d.id, []byte(m), []byte(k))
	err = scanPrefix(e.pebble, prefix, func(key, v []byte) error {
		bm := roaring.New()
		if err := bm.UnmarshalBinary(v); err != nil {
			return err
		}
		values = append(values, string(key[len(prefix):]))
		series = append(series, bm)
		return nil
	})
	return values, series, err
}

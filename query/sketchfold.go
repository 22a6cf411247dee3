// Operator: window/aggregate, the sketches' fold of a block that lies in
// one window. HLL, the quantile sketch and Count-Min fold values in any
// order and ignore their times, so such a block's values are read without
// its timestamps (storage.Cursor.Values, block.Decoder.DecodeValues): the
// header's MinTime places it. A float block stored as decimals comes to an
// HLL as its mantissas (storage.Cursor.Decimals, partial.Decimals), which
// it hashes once each: on the TSBS day that is 10,001 hashes of 864,000
// values, and a block whose range of mantissas the HLL already holds
// whole is not decoded at all (Cursor.DecimalRange, HLL.HoldsDecimals).
// An integer block is skipped likewise on its header's minimum and
// maximum (HLL.HoldsInts): TSBS's own day is integer percentages. The
// states are those the whole column gives, byte for byte.
package query

import (
	"github.com/strata-db/strata/query/funcs"
	"github.com/strata-db/strata/query/partial"
	"github.com/strata-db/strata/storage"
)

// valuesOnly tells whether c's state over values of type t takes a block's
// values without their times: a sketch whose result does not depend on the
// order of its input (exactSketch: Space-Saving's does), over numbers (a
// string column can be stored sketches, whose corruption errors name each
// one's time).
func valuesOnly(c *callPlan, t storage.FieldType) bool {
	if c.tag || !exactSketch(c.name) {
		return false
	}
	switch t {
	case storage.Float, storage.Integer, storage.Unsigned:
		return true
	}
	return false
}

// foldUntimed folds the cursor's current chunk, one stored block lying in
// one window whose header is h, into w by its values alone, when c's state
// takes them so; it reports whether it did.
func (r *selectRun) foldUntimed(cur *storage.Cursor, h *storage.BlockStats, c *callPlan, w *windowStates, points *int64, cc *canceller) (bool, error) {
	if !valuesOnly(c, h.Type) {
		return false, nil
	}
	e, _, err := w.get(r.windowOf(h.MinTime), funcs.Type(h.Type))
	if err != nil {
		return false, err
	}
	u, ok := e.st.(partial.Untimed)
	if !ok {
		return false, nil
	}
	d, memo := u.(partial.Decimals)
	if memo && h.Type == storage.Integer && d.HoldsInts(h.IMin, h.IMax) {
		*points += int64(h.Count)
		return true, cc.add(h.Count)
	}
	if memo && h.Type == storage.Float && d.TakesDecimals() {
		scale, lo, hi, ok, err := cur.DecimalRange()
		if err != nil {
			return false, err
		}
		if ok && d.HoldsDecimals(lo, hi, scale) {
			*points += int64(h.Count)
			return true, cc.add(h.Count)
		}
		col, scale, ok, err := cur.Decimals()
		if err != nil {
			return false, err
		}
		if ok {
			err = d.AddDecimalValues(col.Ints, scale)
		} else {
			err = u.AddFloatValues(col.Floats)
		}
		if err != nil {
			return false, err
		}
		*points += int64(h.Count)
		return true, cc.add(h.Count)
	}
	col, err := cur.Values()
	if err != nil {
		return false, err
	}
	switch col.Type {
	case storage.Float:
		err = u.AddFloatValues(col.Floats)
	case storage.Integer:
		err = u.AddIntValues(col.Ints)
	case storage.Unsigned:
		err = u.AddUintValues(col.Uints)
	}
	if err != nil {
		return false, err
	}
	*points += int64(h.Count)
	return true, cc.add(h.Count)
}

// Column helpers of the scan operators: a block header's statistics and last
// value, cells of a typed column, columns of a subquery series' points and row
// times, columns and points reversed. This is where the executor touches the
// decoded column format.
package query

import (
	"github.com/strata-db/strata/query/funcs"
	"github.com/strata-db/strata/storage"
)

// lastOfHeader returns a block's newest value from its header (numeric types).
func lastOfHeader(h *storage.BlockStats) (*storage.Column, bool) {
	c := &storage.Column{Type: h.Type, Times: []int64{h.MaxTime}}
	switch h.Type {
	case storage.Float:
		c.Floats = []float64{h.FLast}
	case storage.Integer:
		c.Ints = []int64{h.ILast}
	case storage.Unsigned:
		c.Uints = []uint64{h.ULast}
	default:
		return nil, false
	}
	return c, true
}

// cell boxes row i of a column.
func cell(c *storage.Column, i int) any {
	switch c.Type {
	case storage.Float:
		return c.Floats[i]
	case storage.Integer:
		return c.Ints[i]
	case storage.Unsigned:
		return c.Uints[i]
	case storage.String:
		return string(c.Strings[i])
	case storage.Boolean:
		return c.Bools[i]
	}
	return nil
}

func reversePoints(p []funcs.Point) {
	for i, j := 0, len(p)-1; i < j; i, j = i+1, j-1 {
		p[i], p[j] = p[j], p[i]
	}
}

func appendPoints(out []funcs.Point, c *storage.Column) []funcs.Point {
	for i, t := range c.Times {
		var v any
		switch c.Type {
		case storage.Float:
			v = c.Floats[i]
		case storage.Integer:
			v = c.Ints[i]
		case storage.Unsigned:
			v = c.Uints[i]
		case storage.String:
			v = string(c.Strings[i])
		case storage.Boolean:
			v = c.Bools[i]
		}
		out = append(out, funcs.Point{Time: t, Value: v})
	}
	return out
}

// memTimesColumn is a column of a subquery series' row times within the range
// (values unused), in time order: a fieldStream walks it backwards when desc.
func (r *selectRun) memTimesColumn(s *seriesRef) *storage.Column {
	c := &storage.Column{Type: storage.Boolean}
	for _, t := range s.memTimes {
		if t >= r.plan.tr.Min && t <= r.plan.tr.Max && (len(c.Times) == 0 || t != c.Times[len(c.Times)-1]) {
			c.Times = append(c.Times, t)
			c.Bools = append(c.Bools, false)
		}
	}
	return c
}

// pointsColumn turns in-memory points (a subquery's column) into a typed column of
// the first point's type. A subquery column mixing types keeps only the values of
// that type.
func pointsColumn(pts []funcs.Point) *storage.Column {
	c := &storage.Column{}
	if len(pts) == 0 {
		return c
	}
	c.Type = storage.FieldType(funcs.TypeOf(pts[0].Value))
	for _, p := range pts {
		if storage.FieldType(funcs.TypeOf(p.Value)) != c.Type {
			continue // a subquery column mixing types: keep the first type's values
		}
		c.Times = append(c.Times, p.Time)
		switch v := p.Value.(type) {
		case float64:
			c.Floats = append(c.Floats, v)
		case int64:
			c.Ints = append(c.Ints, v)
		case uint64:
			c.Uints = append(c.Uints, v)
		case string:
			c.Strings = append(c.Strings, []byte(v))
		case bool:
			c.Bools = append(c.Bools, v)
		}
	}
	return c
}

func reversedColumn(c *storage.Column) *storage.Column {
	out := &storage.Column{Type: c.Type}
	for i := c.Len() - 1; i >= 0; i-- {
		out.Times = append(out.Times, c.Times[i])
		switch c.Type {
		case storage.Float:
			out.Floats = append(out.Floats, c.Floats[i])
		case storage.Integer:
			out.Ints = append(out.Ints, c.Ints[i])
		case storage.Unsigned:
			out.Uints = append(out.Uints, c.Uints[i])
		case storage.String:
			out.Strings = append(out.Strings, c.Strings[i])
		case storage.Boolean:
			out.Bools = append(out.Bools, c.Bools[i])
		}
	}
	return out
}

func statsOf(h *storage.BlockStats) funcs.Stats {
	return funcs.Stats{
		Type: uint8(h.Type), Count: h.Count, MinTime: h.MinTime, MaxTime: h.MaxTime,
		FMin: h.FMin, FMax: h.FMax, FSum: h.FSum, FFirst: h.FFirst, FLast: h.FLast,
		IMin: h.IMin, IMax: h.IMax, ISum: h.ISum, IFirst: h.IFirst, ILast: h.ILast,
		UMin: h.UMin, UMax: h.UMax, USum: h.USum, UFirst: h.UFirst, ULast: h.ULast,
	}
}

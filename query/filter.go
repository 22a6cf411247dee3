// Operator: rows and filter. A rowStream pulls the fieldStreams of one series
// (fieldstream.go), joins them into rows by timestamp and applies the WHERE
// field condition, reading only the condition's fields until a row passes; it
// hands rows to the group merge (merge.go) or, through readRows, to the
// aggregate window functions (call.go). rowReader resolves each select-list
// expression of a row once per series.
package query

import (
	"github.com/strata-db/strata/query/influxql"
)

// seriesRow is one timestamp of one series with the values of the fields read,
// indexed like the fields list it was read with.
type seriesRow struct {
	time   int64
	vals   []any
	series *seriesRef
}

// rowReader reads rows of given fields; index maps a field name to its position.
// cols, set by layout, says per select-list expression where its value comes
// from, so that the row loop does no name lookups.
type rowReader struct {
	fields []string
	index  map[string]int
	cols   []exprSource
	sel    []int // the fields the expressions read: a row with one of them prints
}

type exprSource struct {
	field int               // index into fields for a plain field reference, else -1
	cast  influxql.DataType // the reference's ::type
	tag   bool              // a plain tag reference
	name  string            // the tag's name
}

// layout resolves each expression of a series' rows once.
func (rr *rowReader) layout(exprs []influxql.Expr, s *seriesRef, r *selectRun) {
	rr.cols = make([]exprSource, len(exprs))
	seen := map[int]bool{}
	for _, ex := range exprs {
		influxql.Walk(ex, func(n influxql.Node) {
			v, ok := n.(*influxql.VarRef)
			if !ok || v.Type == influxql.Tag || v.Type != influxql.AnyField && r.isTagOf(s, v.Val) {
				return
			}
			if k, ok := rr.index[v.Val]; ok && !seen[k] {
				seen[k] = true
				rr.sel = append(rr.sel, k)
			}
		})
	}
	for i, ex := range exprs {
		rr.cols[i] = exprSource{field: -1}
		v, ok := ex.(*influxql.VarRef)
		if !ok {
			continue
		}
		// A typed reference (SELECT * of a key that is both) reads what it names.
		if v.Type == influxql.Tag || v.Type != influxql.AnyField && r.isTagOf(s, v.Val) {
			rr.cols[i].tag, rr.cols[i].name = true, v.Val
		} else if k, ok := rr.index[v.Val]; ok {
			rr.cols[i].field, rr.cols[i].cast = k, v.Type
		}
	}
}

// sharedLayout is a row reader laid out for the series of one measurement
// with one set of tag keys: which names of the select list are tags, and so
// which fields are read, depends on nothing else (isTagOf).
type sharedLayout struct {
	measurement string
	tags        map[string]string // a series of that layout: its keys are the set
	rr          *rowReader
}

// rowReaderFor returns the row reader of stored series s, shared with the
// other series of the run that have its measurement and tag keys; a row
// reader is not changed once laid out. Laying one out per series (maps of
// fields, a sort) was a tenth of lastpoint's allocations, a hundred groups
// of one series each.
func (r *selectRun) rowReaderFor(s *seriesRef) *rowReader {
	if s.mem != nil {
		rr := newRowReader(r.neededFields(r.plan.exprs, s))
		rr.layout(r.plan.exprs, s, r)
		return rr
	}
	r.layoutMu.Lock()
	defer r.layoutMu.Unlock()
	for _, l := range r.layouts {
		if l.measurement == s.measurement && sameKeys(l.tags, s.tags) {
			return l.rr
		}
	}
	rr := newRowReader(r.neededFields(r.plan.exprs, s))
	rr.layout(r.plan.exprs, s, r)
	if len(r.layouts) < maxSharedLayouts {
		r.layouts = append(r.layouts, sharedLayout{measurement: s.measurement, tags: s.tags, rr: rr})
	}
	return rr
}

// maxSharedLayouts bounds the layouts a run keeps and scans: schemas have a
// handful of tag-key sets per measurement; past 64 (a scan of 64 short
// comparisons) a series gets its own, as before.
const maxSharedLayouts = 64

// sameKeys tells whether two tag sets have the same keys.
func sameKeys(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if _, ok := b[k]; !ok {
			return false
		}
	}
	return true
}

func newRowReader(fields []string) *rowReader {
	rr := &rowReader{fields: fields, index: make(map[string]int, len(fields))}
	for i, f := range fields {
		rr.index[f] = i
	}
	return rr
}

// value resolves a name in a row: a field read, else a tag of the row's series.
func (rr *rowReader) value(row *seriesRow, name string) any {
	if i, ok := rr.index[name]; ok {
		return row.vals[i]
	}
	if v, ok := row.series.tags[name]; ok {
		return v
	}
	return nil
}

// rowStream merges the fields of one series into rows by timestamp (newest first
// if desc), keeping those that pass the field condition; max > 0 stops after
// that many rows. With a condition, rows are found on the condition's fields
// alone (a row where all of them are missing cannot pass a comparison) and the
// other fields are boxed only for the rows that pass.
type rowStream struct {
	r       *selectRun
	rr      *rowReader
	fields  []*fieldStream
	drivers []bool
	desc    bool
	max     int
	n       int
	// cond is the WHERE field condition, nil for a series of another node,
	// whose rows passed it there (partialexec.go).
	cond    influxql.Expr
	row     seriesRow // the row in hand after next; vals is reused by the next call
	scratch seriesRow
	cc      canceller
	cost    int // canceller units per row: the field condition's size
	// condLookup resolves names in the field condition against scratch: a tag
	// the series lacks, or a name that is neither tag nor field, compares as the
	// empty string, as in the index (1.x).
	condLookup func(string) any
	err        error
}

func (r *selectRun) newRowStream(s *seriesRef, rr *rowReader, max int, desc bool) (*rowStream, error) {
	cond := r.plan.fieldCond
	if s.remote != nil {
		cond = nil
	}
	perField := max
	if cond != nil {
		perField = 0 // the condition may reject rows: read on
	}
	st := &rowStream{r: r, rr: rr, desc: desc, max: max, cond: cond, cc: r.e.canceller(r.ctx), cost: condCost(cond)}
	for _, name := range rr.fields {
		f, err := r.newFieldStream(s, name, perField, desc)
		if err != nil {
			st.close()
			return nil, err
		}
		st.fields = append(st.fields, f)
	}
	if s.mem != nil && cond == nil {
		// Every row of a subquery is a row of the outer query, also one whose
		// selected values are all null (1.x emits the inner points as they are):
		// the series' row times drive the merge as one more (value-less) field.
		st.fields = append(st.fields, &fieldStream{r: r, max: perField, desc: desc, cc: r.e.canceller(r.ctx),
			mem: memOf(r.ctx), col: r.memTimesColumn(s)})
	}
	st.row = seriesRow{vals: make([]any, len(st.fields)), series: s}
	st.scratch = seriesRow{vals: make([]any, len(st.fields)), series: s}
	st.drivers = make([]bool, len(st.fields))
	anyDriver := false
	if cond != nil {
		influxql.Walk(cond, func(n influxql.Node) {
			if v, ok := n.(*influxql.VarRef); ok {
				if i, ok := rr.index[v.Val]; ok {
					st.drivers[i], anyDriver = true, true
				}
			}
		})
	}
	if !anyDriver {
		for i := range st.drivers {
			st.drivers[i] = true
		}
	}
	if cond != nil {
		var info *measurementInfo
		if s.mem == nil {
			info = r.measurementInfo(s)
		}
		st.condLookup = func(name string) any {
			if v := rr.value(&st.scratch, name); v != nil || info == nil {
				return v
			}
			if _, isField := info.fields[name]; isField {
				return nil
			}
			return ""
		}
		// A condition true without any of its fields (tag != 'x' OR f > 1 on a
		// series without that tag value) lets every row of the series through.
		if anyDriver && evalCond(cond, st.condLookup) {
			for i := range st.drivers {
				st.drivers[i] = true
			}
		}
	}
	return st, nil
}

func (st *rowStream) before(a, b int64) bool {
	if st.desc {
		return a > b
	}
	return a < b
}

// next moves to the next row (st.row); false at the end or on error (st.err).
func (st *rowStream) next() bool {
	cond := st.cond
	for {
		if st.max > 0 && st.n >= st.max {
			return false
		}
		if err := st.cc.tickCost(st.cost); err != nil {
			st.err = err
			return false
		}
		found := false
		var t int64
		for i, f := range st.fields {
			if st.drivers[i] && f.valid() && (!found || st.before(f.time(), t)) {
				t, found = f.time(), true
			}
		}
		for _, f := range st.fields {
			if f.err != nil {
				st.err = f.err
				return false
			}
		}
		if !found {
			return false
		}
		// Advance every field to t.
		for _, f := range st.fields {
			for f.valid() && st.before(f.time(), t) {
				f.advance()
			}
		}
		if cond != nil {
			st.scratch.time = t
			for i, f := range st.fields {
				st.scratch.vals[i] = nil
				if st.drivers[i] && f.valid() && f.time() == t {
					st.scratch.vals[i] = f.value()
				}
			}
			if !evalCond(cond, st.condLookup) {
				for i, f := range st.fields {
					if st.drivers[i] && f.valid() && f.time() == t {
						f.advance()
					}
				}
				continue
			}
		}
		st.row.time = t
		for i, f := range st.fields {
			st.row.vals[i] = nil
			if f.valid() && f.time() == t {
				st.row.vals[i] = f.value()
				f.advance()
			}
		}
		st.n++
		return true
	}
}

func (st *rowStream) close() {
	for _, f := range st.fields {
		f.close()
	}
}

// readRows reads every row of one series (see rowStream) into memory.
func (r *selectRun) readRows(s *seriesRef, rr *rowReader, max int, desc bool) ([]seriesRow, error) {
	st, err := r.newRowStream(s, rr, max, desc)
	if err != nil {
		return nil, err
	}
	defer st.close()
	var rows []seriesRow
	for st.next() {
		rows = append(rows, seriesRow{time: st.row.time, vals: append([]any(nil), st.row.vals...), series: s})
	}
	return rows, st.err
}

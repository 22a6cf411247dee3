// Operator: scan. It reads one field of one series within the plan's range
// from the store's cursors (or a subquery series' points) and hands points or
// typed columns to the aggregate paths (call.go, aggregate.go); the raw path
// streams the same cursors through fieldstream.go. The measurement's schema
// (tag keys, fields) is looked up once per statement here.
package query

import (
	"sort"
	"strconv"

	"github.com/strata-db/strata/query/funcs"
	"github.com/strata-db/strata/query/influxql"
	"github.com/strata-db/strata/storage"
)

// measurementInfo caches what every series of one stored measurement shares: its
// tag keys and fields, looked up once per statement instead of once per row.
type measurementInfo struct {
	tags   map[string]bool
	fields map[string]storage.FieldInfo
}

func (r *selectRun) measurementInfo(s *seriesRef) *measurementInfo {
	if s.info != nil {
		return s.info
	}
	s.info = r.lookupMeasurementInfo(s)
	return s.info
}

func (r *selectRun) lookupMeasurementInfo(s *seriesRef) *measurementInfo {
	key := strconv.FormatUint(uint64(s.bucket), 10) + "\x00" + s.measurement
	r.infoMu.Lock()
	defer r.infoMu.Unlock()
	if mi := r.infos[key]; mi != nil {
		return mi
	}
	// The maps are sized from the schema: grown one key at a time they cost
	// a third of a small TSBS query's allocations.
	keys, kerr := r.e.store.TagKeys(s.bucket, s.measurement)
	fields, ferr := r.e.store.Fields(s.bucket, s.measurement)
	mi := &measurementInfo{tags: make(map[string]bool, len(keys)), fields: make(map[string]storage.FieldInfo, len(fields))}
	if kerr == nil {
		for _, k := range keys {
			mi.tags[k] = true
		}
	}
	if ferr == nil {
		for _, f := range fields {
			mi.fields[f.Name] = f
		}
	}
	if r.infos == nil {
		r.infos = map[string]*measurementInfo{}
	}
	r.infos[key] = mi
	return mi
}

// readField returns the points of one field of one series within the plan's range,
// in time order (newest first if desc); at most max points when max > 0.
func (r *selectRun) readField(s *seriesRef, field string, max int, desc bool) ([]funcs.Point, error) {
	if s.mem != nil {
		var out []funcs.Point
		cc := r.e.canceller(r.ctx)
		for _, pt := range s.mem[field] {
			if err := cc.tick(); err != nil {
				return nil, err
			}
			if pt.Time >= r.plan.tr.Min && pt.Time <= r.plan.tr.Max {
				out = append(out, pt)
			}
		}
		if desc {
			reversePoints(out)
		}
		if max > 0 && len(out) > max {
			out = out[:max]
		}
		return out, nil
	}
	col, err := r.readColumn(s, field, max, desc)
	if err != nil || col == nil {
		return nil, err
	}
	return appendPoints(nil, col), nil
}

// readColumn reads one field of a stored series within the plan's range as a typed
// column, newest first if desc, at most max values when max > 0. Nil if the
// series' measurement lacks the field.
func (r *selectRun) readColumn(s *seriesRef, field string, max int, desc bool) (*storage.Column, error) {
	fid, ok := r.fieldID(s, field)
	if !ok {
		return nil, nil
	}
	cur, err := r.cursor(s, fid)
	if err != nil {
		return nil, err
	}
	defer cur.Close()
	if desc {
		cur.Descending()
	}
	var out *storage.Column
	cc := r.e.canceller(r.ctx)
	for cur.Next() {
		if desc && max == 1 {
			// The newest point of an untouched block is in its header: ORDER BY time
			// DESC LIMIT 1 (TSBS lastpoint) decodes nothing.
			if h := cur.Stats(); h != nil {
				if c, ok := lastOfHeader(h); ok {
					out = c
					r.stats.blocksStats.Add(1)
					break
				}
			}
		}
		col, err := cur.Column()
		if err != nil {
			return nil, err
		}
		if err := cc.add(col.Len()); err != nil {
			return nil, err
		}
		if out == nil {
			out = &storage.Column{Type: col.Type}
		}
		if desc {
			n := out.Len()
			for i := col.Len() - 1; i >= 0 && (max <= 0 || out.Len() < max); i-- {
				out.AppendRow(col, i)
			}
			out.OwnStrings(n) // the cursor reuses its decode buffer
		} else {
			n, start := col.Len(), out.Len()
			if max > 0 && out.Len()+n > max {
				n = max - out.Len()
			}
			out.AppendRows(col, 0, n)
			out.OwnStrings(start) // the cursor reuses its decode buffer
		}
		if max > 0 && out.Len() >= max {
			break
		}
	}
	r.stats.blocksDecoded.Add(int64(cur.BlocksDecoded()))
	if err := cur.Err(); err != nil {
		return nil, err
	}
	if out == nil {
		return nil, nil
	}
	r.stats.points.Add(int64(out.Len()))
	if lim := r.e.limits.MaxPoints; lim > 0 && r.stats.points.Load() > lim {
		return nil, errorf("max-select-point limit exceeded: (%d/%d)", r.stats.points.Load(), lim)
	}
	return out, nil
}

// cursor opens a cursor over one field of a stored series within the plan's range,
// through the series' group snapshot when it has one.
func (r *selectRun) cursor(s *seriesRef, fid storage.FieldID) (*storage.Cursor, error) {
	return r.cursorIn(s, fid, r.plan.tr.Min, r.plan.tr.Max)
}

// cursorIn is cursor over [min, max] of the plan's range (the result cache
// reads the windows it lacks).
func (r *selectRun) cursorIn(s *seriesRef, fid storage.FieldID, min, max int64) (*storage.Cursor, error) {
	if s.snap != nil {
		return s.snap.NewCursor(s.bucket, s.id, fid, min, max)
	}
	return r.e.store.NewCursor(s.bucket, s.id, fid, min, max)
}

// fieldID finds the ID of a stored series' field.
func (r *selectRun) fieldID(s *seriesRef, field string) (storage.FieldID, bool) {
	f, ok := r.measurementInfo(s).fields[field]
	return f.ID, ok
}

// neededFields lists the stored fields an expression list reads (not tags).
func (r *selectRun) neededFields(exprs []influxql.Expr, s *seriesRef) []string {
	seen := map[string]bool{}
	var out []string
	add := func(n influxql.Node) {
		if v, ok := n.(*influxql.VarRef); ok && (v.Type == influxql.AnyField || v.Type != influxql.Tag && !r.isTagOf(s, v.Val)) && !seen[v.Val] {
			seen[v.Val] = true
			out = append(out, v.Val)
		}
	}
	for _, ex := range exprs {
		influxql.Walk(ex, add)
	}
	if r.plan.fieldCond != nil {
		influxql.Walk(r.plan.fieldCond, add)
	}
	sort.Strings(out)
	return out
}

func (r *selectRun) isTagOf(s *seriesRef, name string) bool {
	if _, ok := s.tags[name]; ok {
		if s.mem == nil {
			// A field of the same name wins, as in 1.x (k::tag reads the tag).
			_, isField := r.measurementInfo(s).fields[name]
			return !isField
		}
		return true
	}
	if s.mem != nil {
		_, isField := s.mem[name]
		return !isField
	}
	// A tag key of the measurement that this series lacks is still a tag.
	return r.measurementInfo(s).tags[name]
}

// openSnapshot gives a group one snapshot of the store: its cursors (one per
// series and field, opened one at a time by the group's worker) share a Pebble
// iterator instead of creating one each. closeSnapshot ends it; a group of
// only subquery series needs none (nil). Two functions rather than a returned
// closure: a group costs no allocation more than before.
func (r *selectRun) openSnapshot(g *group) (*storage.Snapshot, error) {
	if allMem(g) {
		return nil, nil
	}
	snap, err := r.e.store.Snapshot()
	if err != nil {
		return nil, err
	}
	for _, s := range g.series {
		s.snap = snap
	}
	return snap, nil
}

// closeSnapshot detaches g's series from snap and closes it (nil: nothing).
func closeSnapshot(g *group, snap *storage.Snapshot) {
	if snap == nil {
		return
	}
	for _, s := range g.series {
		s.snap = nil
	}
	snap.Close()
}

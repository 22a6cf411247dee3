// Operator: a tag as the argument of an approximate function
// (approx_count_distinct(host), approx_top_k(host, k), approx_count(host,
// 'value') and their sketch_ forms). Each row of a series (a timestamp in
// the window at which at least one of its fields has a value) carries the
// series' value of the tag; a series without the tag contributes nothing.
// A tag is constant per series, so a series feeds each window's state one
// weighted insert, the weight its row count there: an HLL takes the value
// once, Space-Saving and Count-Min take the count (AddN). The counts come
// from merging the time columns of the series' fields (rowCounts), each
// block's times decoded without its values (storage.Cursor.Times), from
// block headers when the series has one field. The partial states are the
// functions' own over strings, so they merge across windows, cores, the
// result cache and nodes like any other. Rows that must pass a WHERE field
// condition, or a subquery's rows, take the window path (call.go) row by
// row, with the tag's value as each row's value.
package query

import (
	"sort"

	"github.com/strata-db/strata/query/funcs"
	"github.com/strata-db/strata/query/influxql"
	"github.com/strata-db/strata/storage"
)

// tagSketch tells the functions that take a tag: those whose sketch keys
// or hashes values (HLL, Space-Saving, Count-Min). A quantile sketch needs
// numbers and a merge_ function stored sketches, which a tag is not.
func tagSketch(name string) bool {
	switch name {
	case "approx_count_distinct", "sketch_count_distinct", "approx_top_k", "sketch_top_k", "approx_count", "sketch_count":
		return true
	}
	return false
}

// resolveArg decides whether c's argument is a field or a tag and sets its
// input type. A name that is both is the field, as in InfluxDB 1.x, unless
// written name::tag (name::field is always the field); a name that is neither reads nothing (no rows, as
// InfluxDB answers a missing field).
func (p *selectPlan) resolveArg(c *callPlan) error {
	sch := p.src.schema
	t, isField := sch.fields[c.field]
	asTag := c.cast == influxql.Tag || c.cast != influxql.AnyField && !isField && sch.tags[c.field]
	if !asTag || !funcs.IsApprox(c.name) {
		if isField {
			c.inType = funcType(t)
		}
		return nil
	}
	if !tagSketch(c.name) {
		return errorf("%s(%s): %s is a tag; %s takes a field", c.name, c.field, c.field, c.name)
	}
	if c.name == "approx_count" && len(c.args) == 1 {
		if _, ok := c.args[0].(string); !ok {
			return errorf("approx_count(%s, %v): %s is a tag, whose values are strings: quote the value", c.field, c.args[0], c.field)
		}
	}
	c.tag, c.inType = true, funcs.String
	return nil
}

// accumulateTag folds series s's rows in [min, max] into w: in each window,
// the series' tag value weighted by its row count there.
func (r *selectRun) accumulateTag(s *seriesRef, c *callPlan, w *windowStates, points *int64, min, max int64) error {
	v, ok := s.tags[c.field]
	if !ok || v == "" {
		return nil // InfluxDB: a series without the tag has none
	}
	return r.rowCounts(s, min, max, points, func(ws int64, n uint64) error {
		return w.addWeighted(ws, v, n)
	})
}

// timeStream is one field's time column, a block at a time, decoded
// without its values (storage.Cursor.Times) into buf.
type timeStream struct {
	cur   *storage.Cursor
	times []int64
	buf   []int64
	i     int
}

// rowCounts calls emit with each window of s that has rows
// and their number, the distinct timestamps among s's fields in [lo, hi],
// in ascending window order.
func (r *selectRun) rowCounts(s *seriesRef, lo, hi int64, points *int64, emit func(ws int64, n uint64) error) error {
	fields := r.measurementInfo(s).fields
	ids := make([]storage.FieldID, 0, len(fields))
	for _, f := range fields {
		ids = append(ids, f.ID)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	streams := make([]*timeStream, 0, len(ids))
	defer func() {
		for _, st := range streams {
			r.stats.blocksDecoded.Add(int64(st.cur.BlocksDecoded()))
			st.cur.Close()
		}
	}()
	for _, id := range ids {
		cur, err := r.cursorIn(s, id, lo, hi)
		if err != nil {
			return err
		}
		streams = append(streams, &timeStream{cur: cur})
	}
	wc := &windowCounter{r: r, emit: emit}
	cc := r.e.canceller(r.ctx)
	if len(streams) == 1 {
		// One field: its rows are its points, and a block inside one window
		// is counted from its header.
		cur := streams[0].cur
		for cur.Next() {
			if err := stopErr(r.ctx); err != nil {
				return err
			}
			if h := cur.Stats(); h != nil && (r.plan.interval <= 0 || r.windowOf(h.MinTime) == r.windowOf(h.MaxTime)) {
				r.stats.blocksStats.Add(1)
				*points += int64(h.Count)
				if err := wc.add(h.MinTime, uint64(h.Count)); err != nil {
					return err
				}
				continue
			}
			ts, err := cur.Times(streams[0].buf)
			if err != nil {
				return err
			}
			streams[0].buf = ts[:0]
			*points += int64(len(ts))
			if err := cc.add(len(ts)); err != nil {
				return err
			}
			if err := wc.times(ts); err != nil {
				return err
			}
		}
		if err := cur.Err(); err != nil {
			return err
		}
		return wc.flush()
	}
	// Several fields: a merge of their time columns, each timestamp once.
	valid := func(st *timeStream) (bool, error) {
		for st.i >= len(st.times) {
			if !st.cur.Next() {
				return false, st.cur.Err()
			}
			ts, err := st.cur.Times(st.buf)
			if err != nil {
				return false, err
			}
			*points += int64(len(ts))
			if err := cc.add(len(ts)); err != nil {
				return false, err
			}
			st.times, st.buf, st.i = ts, ts[:0], 0
		}
		return true, nil
	}
	live := streams[:0:0]
	for _, st := range streams {
		ok, err := valid(st)
		if err != nil {
			return err
		}
		if ok {
			live = append(live, st)
		}
	}
	for len(live) > 0 {
		t := live[0].times[live[0].i]
		for _, st := range live[1:] {
			t = min(t, st.times[st.i])
		}
		if err := wc.add(t, 1); err != nil {
			return err
		}
		next := live[:0]
		for _, st := range live {
			if st.times[st.i] == t {
				st.i++
				ok, err := valid(st)
				if err != nil {
					return err
				}
				if !ok {
					continue
				}
			}
			next = append(next, st)
		}
		live = next
	}
	return wc.flush()
}

// windowCounter sums row counts by window, for rows in ascending time.
type windowCounter struct {
	r    *selectRun
	emit func(ws int64, n uint64) error
	ws   int64 // the window being counted
	end  int64 // its end (exclusive; MaxInt64 without GROUP BY time)
	n    uint64
}

// add counts n rows at time t.
func (c *windowCounter) add(t int64, n uint64) error {
	if c.n > 0 && t >= c.ws && t < c.end {
		c.n += n
		return nil
	}
	if err := c.flush(); err != nil {
		return err
	}
	c.ws = c.r.windowOf(t)
	c.end = int64(1<<63 - 1)
	if c.r.plan.interval > 0 {
		c.end = c.r.nextWindow(c.ws)
	}
	c.n = n
	return nil
}

// times counts a column's rows, a window at a time.
func (c *windowCounter) times(ts []int64) error {
	for i := 0; i < len(ts); {
		if err := c.add(ts[i], 1); err != nil {
			return err
		}
		end := c.end
		j := i + 1 + sort.Search(len(ts)-i-1, func(k int) bool { return ts[i+1+k] >= end })
		c.n += uint64(j - i - 1)
		i = j
	}
	return nil
}

func (c *windowCounter) flush() error {
	if c.n == 0 {
		return nil
	}
	n := c.n
	c.n = 0
	return c.emit(c.ws, n)
}

// tagPoints are series s's rows as points of a tag call on the window path:
// the rows of every field that pass the WHERE field condition (a
// subquery's rows with a value), each with the series' tag value.
func (r *selectRun) tagPoints(g *group, s *seriesRef, c *callPlan, aux []string) ([]funcs.Point, error) {
	v, ok := s.tags[c.field]
	if !ok || v == "" {
		return nil, nil
	}
	var names []string
	if s.mem != nil {
		for f := range s.mem {
			names = append(names, f)
		}
	} else {
		for f := range r.measurementInfo(s).fields {
			names = append(names, f)
		}
	}
	sort.Strings(names)
	rr := newRowReader(names)
	rows, err := r.readRows(s, rr, 0, false)
	if err != nil {
		return nil, err
	}
	if err := r.holdGroup(g, int64(len(rows))*int64(rowBytes+valueBytes*len(names))); err != nil {
		return nil, err
	}
	pts := make([]funcs.Point, 0, len(rows))
	for i := range rows {
		row := &rows[i]
		has := false
		for _, x := range row.vals[:len(names)] { // past them: a subquery's row times
			if x != nil {
				has = true
				break
			}
		}
		if !has {
			continue
		}
		pt := funcs.Point{Time: row.time, Value: v}
		for _, name := range aux {
			pt.Aux = append(pt.Aux, rr.value(row, name))
		}
		pts = append(pts, pt)
	}
	return pts, nil
}

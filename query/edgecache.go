// Operator: the result cache's edge window. A dashboard's range starts at
// now() - 6h, inside a window: that window is cut, so it is never cached as a
// window, and every refresh read it again, decoding for each series the
// whole block it lies in (4,320 points for a minute of them: a sixth of a
// cached refresh's CPU). The edge keeps the cut window's raw points instead,
// all of the window's, stamped like a cached window: while no change
// touched the window, the next refreshes (the start moving forward inside
// it) take its points from memory and fold those from the range's start on.
package query

import (
	"encoding/binary"
	"math"
	"sort"

	"github.com/strata-db/strata/query/resultcache"
	"github.com/strata-db/strata/storage"
)

// maxEdgePoints bounds the points an edge keeps per series: a minute of
// 10 s data is 6; a window of raw points beyond this is not a dashboard's
// edge and is read as before.
const maxEdgePoints = 4096

// edgeWindow is the cut first window of runs: its start when runs begin
// inside a window, that window ends where the first run does, and the
// statement can use an edge; ok false otherwise.
func (r *selectRun) edgeWindow(runs []timeSpan) (ws int64, ok bool) {
	p := r.plan
	if len(runs) == 0 || !p.ascending || p.interval <= 0 {
		return 0, false
	}
	ws = r.windowOf(runs[0].min)
	if ws == runs[0].min || r.nextWindow(ws)-1 != runs[0].max {
		return 0, false
	}
	return ws, true
}

// edgeKey names an edge: the field read, the window geometry and the
// group's exact series (the rows key's group identity).
func (r *selectRun) edgeKey(g *group, c *callPlan) (string, resultcache.Scope, bool) {
	ids, sc, ok := groupIdentity(g)
	if !ok {
		return "", sc, false
	}
	return "edge-v1|" + c.field + "|" + r.windowGeometry() + "|" + ids, sc, true
}

// edgePoints are the raw points of the edge window, per series of the group
// in order (nil: none).
type edgePoints []*storage.Column

// accumulateEdge folds the cut first run of runs (the points of window ws
// from runs[0].min on) for every series of g, from the cache's edge when it
// holds ws still unchanged; else each series' edge window is read with the
// other runs, through one cursor (foldReadingEdge), and kept for the next
// refresh. ok is false when the edge does not apply (then nothing was
// folded).
func (r *selectRun) accumulateEdge(g *group, c *callPlan, w *windowStates, runs []timeSpan, ws int64) (ok bool, err error) {
	if c.tag {
		return false, nil // a tag's values are not a field's points
	}
	key, sc, ok := r.edgeKey(g, c)
	if !ok {
		return false, nil
	}
	end := r.nextWindow(ws) - 1
	var kept []byte // the edge's points as encodeEdge laid them out
	found := r.e.cache.Lookup(key, sc, []int64{ws}, r.nextWindow)
	if found[0].Found {
		if kept = found[0].Value; !edgeValid(kept, len(g.series)) {
			kept = nil
			r.e.cache.Forgo(found)
		}
	}

	var points int64
	defer func() { r.stats.points.Add(points) }()
	rest := runs[1:]
	from := runs[0].min
	if kept == nil {
		pts := make(edgePoints, len(g.series))
		keep := true
		for i, s := range g.series {
			col, ok, err := r.foldReadingEdge(s, c, w, &points, ws, end, from, rest)
			if err != nil {
				return true, err
			}
			pts[i], keep = col, keep && ok
			w.endSeries()
		}
		if keep {
			if v, ok := encodeEdge(pts); ok {
				r.e.cache.Store(key, []resultcache.Window{{Start: ws, Seq: r.cacheSeq, Value: v}})
			}
		}
		return true, nil
	}
	var within []storage.TimeRange
	for _, run := range rest {
		within = append(within, storage.TimeRange{Min: run.min, Max: run.max})
	}
	// Each series' points from the range's start on, decoded into one
	// column reused across the group (the states copy what they keep, as
	// they do a cursor's pooled columns): decoding every series' edge into
	// columns of its own and copying its part was 6 of a cached refresh's
	// 57 allocations per group.
	var part storage.Column
	for _, s := range g.series {
		if kept = nextEdgeSeries(kept, from, &part); part.Len() > 0 {
			points += int64(part.Len())
			if err := r.feed(&part, w); err != nil {
				return true, err
			}
		}
		if len(rest) > 0 {
			if err := r.accumulateWithin(s, c, w, &points, rest[0].min, rest[len(rest)-1].max, within); err != nil {
				return true, err
			}
		}
		w.endSeries()
	}
	return true, nil
}

// foldReadingEdge folds series s's points of c.field in [from, end] and in
// the runs rest into w, through one cursor from the edge window's start ws,
// and returns the edge window's points, [ws, end], owned, to keep. Reading
// the edge apart from the rest, as before, decoded the block both lie in
// twice: on 1-hour ranges of 8 series and 5 fields, a refresh that kept its
// edge took 1.6x the uncached time (stop 22). Every chunk is decoded (no
// header shortcut): the edge needs its points, and decoded folds are exact
// in every order. keep is false for points the edge does not keep
// (strings, booleans, more than maxEdgePoints).
func (r *selectRun) foldReadingEdge(s *seriesRef, c *callPlan, w *windowStates, points *int64, ws, end, from int64, rest []timeSpan) (edge *storage.Column, keep bool, err error) {
	fid, ok := r.fieldID(s, c.field)
	if !ok {
		return nil, true, nil
	}
	hi := end
	within := []storage.TimeRange{{Min: ws, Max: end}}
	for _, run := range rest {
		within = append(within, storage.TimeRange{Min: run.min, Max: run.max})
		hi = run.max
	}
	cur, err := r.cursorIn(s, fid, ws, hi)
	if err != nil {
		return nil, false, err
	}
	defer cur.Close()
	cur.Within(within)
	keep = true
	cc := r.e.canceller(r.ctx)
	for cur.Next() {
		if err := stopErr(r.ctx); err != nil {
			return nil, false, err
		}
		col, err := cur.Column()
		if err != nil {
			return nil, false, err
		}
		n := col.Len()
		if inEdge := sort.Search(n, func(i int) bool { return col.Times[i] > end }); inEdge > 0 && keep {
			switch {
			case col.Type != storage.Float && col.Type != storage.Integer && col.Type != storage.Unsigned,
				edge != nil && (edge.Type != col.Type || edge.Len()+inEdge > maxEdgePoints),
				inEdge > maxEdgePoints:
				edge, keep = nil, false
			default:
				if edge == nil {
					edge = &storage.Column{Type: col.Type}
				}
				edge.AppendRows(col, 0, inEdge)
			}
		}
		k := sort.Search(n, func(i int) bool { return col.Times[i] >= from })
		if k == n {
			continue // all before the range's start
		}
		part := col
		if k > 0 {
			part = &storage.Column{Type: col.Type}
			part.AppendRows(col, k, n)
		}
		*points += int64(part.Len())
		if err := cc.add(part.Len()); err != nil {
			return nil, false, err
		}
		if err := r.feed(part, w); err != nil {
			return nil, false, err
		}
	}
	r.stats.blocksDecoded.Add(int64(cur.BlocksDecoded()))
	if err := cur.Err(); err != nil {
		return nil, false, err
	}
	return edge, keep, nil
}

// encodeEdge lays the points out for the cache (memory only, never stored
// or sent): per series a type byte (0: none) and a count, then the times
// and the values' bits, 8 bytes each, little-endian.
func encodeEdge(pts edgePoints) ([]byte, bool) {
	var b []byte
	for _, col := range pts {
		if col == nil {
			b = append(b, 0)
			continue
		}
		b = append(b, byte(col.Type))
		b = binary.AppendUvarint(b, uint64(col.Len()))
		for i, t := range col.Times {
			b = binary.LittleEndian.AppendUint64(b, uint64(t))
			var bits uint64
			switch col.Type {
			case storage.Float:
				bits = math.Float64bits(col.Floats[i])
			case storage.Integer:
				bits = uint64(col.Ints[i])
			case storage.Unsigned:
				bits = col.Uints[i]
			default:
				return nil, false
			}
			b = binary.LittleEndian.AppendUint64(b, bits)
		}
	}
	return b, true
}

// edgeValid tells whether b holds encodeEdge's layout for n series, whole
// (false is a defect: the key holds the group's series).
func edgeValid(b []byte, n int) bool {
	for range n {
		if len(b) == 0 {
			return false
		}
		typ := storage.FieldType(b[0])
		b = b[1:]
		if typ == 0 {
			continue
		}
		if typ != storage.Float && typ != storage.Integer && typ != storage.Unsigned {
			return false
		}
		cnt, k := binary.Uvarint(b)
		if k <= 0 || cnt > maxEdgePoints || uint64(len(b)-k) < 16*cnt {
			return false
		}
		b = b[k+16*int(cnt):]
	}
	return len(b) == 0
}

// nextEdgeSeries decodes the next series of an edge edgeValid accepted into
// col (reset, keeping its memory): its points at or after from. It returns
// the bytes of the series after it.
func nextEdgeSeries(b []byte, from int64, col *storage.Column) []byte {
	typ := storage.FieldType(b[0])
	col.Reset(typ)
	b = b[1:]
	if typ == 0 {
		return b
	}
	cnt, k := binary.Uvarint(b)
	b = b[k:]
	for range cnt {
		t := int64(binary.LittleEndian.Uint64(b))
		bits := binary.LittleEndian.Uint64(b[8:])
		b = b[16:]
		if t < from {
			continue
		}
		col.Times = append(col.Times, t)
		switch typ {
		case storage.Float:
			col.Floats = append(col.Floats, math.Float64frombits(bits))
		case storage.Integer:
			col.Ints = append(col.Ints, int64(bits))
		case storage.Unsigned:
			col.Uints = append(col.Uints, bits)
		}
	}
	return b
}

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

// edgeAheadWindows is how many windows after the cut one an edge read keeps
// too (within maxEdgePoints a series), each under its own start and stamp:
// the range's start moves into the next window every few refreshes (every
// sixth, refreshing every 10 s by the minute), and each move read every
// series' new edge from its block, a seek and a decode per series: 36% of
// the groups' CPU of a dashboard over live ingest
// (BenchmarkDashboardRefresh/cached-live). The windows after the edge lie
// in the block it is decoded from, so keeping 15 more (a quarter of an hour
// by the minute; 90 points a series at 10 s) costs no read, and the next 15
// moves find their edge kept.
const edgeAheadWindows = 15

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
		ahead := r.edgeAheadEnd(ws)
		for i, s := range g.series {
			col, upTo, err := r.foldReadingEdge(s, c, w, &points, ws, end, ahead, from, rest)
			if err != nil {
				return true, err
			}
			// Every series' points up to the same end: a kept window holds
			// the whole group's.
			pts[i], ahead = col, min(ahead, upTo)
			keep = keep && upTo >= end
			w.endSeries()
		}
		if keep {
			r.e.cache.Store(key, r.edgeWindows(pts, ws, ahead))
		}
		return true, nil
	}
	within := spansOf(rest)
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
// and returns the points of [ws, kept], owned, to keep: the edge window's
// and those of the windows after it up to ahead (edgeAheadWindows), which
// it reads but does not fold unless a run holds them. kept is less than
// ahead when a series' points beyond maxEdgePoints were left out (the end
// of the last window they hold whole), and less than end when the edge
// itself is not kept (strings, booleans, too many points). Reading the edge
// apart from the rest, as before, decoded the block both lie in twice: on
// 1-hour ranges of 8 series and 5 fields, a refresh that kept its edge took
// 1.6x the uncached time (stop 22). Every chunk is decoded (no header
// shortcut): the edge needs its points, and decoded folds are exact in
// every order.
func (r *selectRun) foldReadingEdge(s *seriesRef, c *callPlan, w *windowStates, points *int64, ws, end, ahead, from int64, rest []timeSpan) (edge *storage.Column, kept int64, err error) {
	fid, ok := r.fieldID(s, c.field)
	if !ok {
		return nil, ahead, nil
	}
	// What is folded: the edge from the range's start, and the runs.
	fold := append([]storage.TimeRange{{Min: from, Max: end}}, spansOf(rest)...)
	within := unionRanges(append([]storage.TimeRange{{Min: ws, Max: max(ahead, end)}}, spansOf(rest)...))
	cur, err := r.cursorIn(s, fid, ws, within[len(within)-1].Max)
	if err != nil {
		return nil, 0, err
	}
	defer cur.Close()
	cur.Within(within)
	kept = ahead
	cc := r.e.canceller(r.ctx)
	var part storage.Column // a folded span's points, reused
	for cur.Next() {
		if err := stopErr(r.ctx); err != nil {
			return nil, 0, err
		}
		col, err := cur.Column()
		if err != nil {
			return nil, 0, err
		}
		edge, kept = r.keepEdgePoints(edge, col, ws, end, kept)
		for _, f := range fold {
			k := sort.Search(col.Len(), func(i int) bool { return col.Times[i] >= f.Min })
			j := sort.Search(col.Len(), func(i int) bool { return col.Times[i] > f.Max })
			if k >= j {
				continue
			}
			in := col // the whole column, as a chunk inside one span mostly is
			if k > 0 || j < col.Len() {
				part.Reset(col.Type)
				part.AppendRows(col, k, j)
				in = &part
			}
			*points += int64(in.Len())
			if err := cc.add(in.Len()); err != nil {
				return nil, 0, err
			}
			if err := r.feed(in, w); err != nil {
				return nil, 0, err
			}
		}
	}
	r.stats.blocksDecoded.Add(int64(cur.BlocksDecoded()))
	if err := cur.Err(); err != nil {
		return nil, 0, err
	}
	return edge, kept, nil
}

// keepEdgePoints appends col's points in [ws, kept] to edge and returns it
// with kept lowered where the points stop being kept: below ws (nothing
// kept) for a type the edge does not keep, else, past maxEdgePoints, to
// the end of the last window before the first point left out.
func (r *selectRun) keepEdgePoints(edge, col *storage.Column, ws, end, kept int64) (*storage.Column, int64) {
	if kept < ws {
		return edge, kept
	}
	if col.Type != storage.Float && col.Type != storage.Integer && col.Type != storage.Unsigned ||
		edge != nil && edge.Type != col.Type {
		return nil, ws - 1
	}
	k := sort.Search(col.Len(), func(i int) bool { return col.Times[i] >= ws })
	j := sort.Search(col.Len(), func(i int) bool { return col.Times[i] > kept })
	if k >= j {
		return edge, kept
	}
	if edge == nil {
		edge = &storage.Column{Type: col.Type}
	}
	if room := maxEdgePoints - edge.Len(); j-k > room {
		// The first point left out cuts its window and every later one.
		kept = r.windowOf(col.Times[k+room]) - 1
		j = k + sort.Search(j-k, func(i int) bool { return col.Times[k+i] > kept })
	}
	edge.AppendRows(col, k, j)
	if kept < end {
		return nil, kept
	}
	return edge, kept
}

// edgeAheadEnd is where an edge read at window ws stops keeping points:
// the end of the edgeAheadWindows-th window after it, or of the last one
// before the range's end.
func (r *selectRun) edgeAheadEnd(ws int64) int64 {
	end := r.nextWindow(ws) - 1
	for range edgeAheadWindows {
		next := r.nextWindow(end+1) - 1
		if next > r.plan.tr.Max {
			break
		}
		end = next
	}
	return end
}

// edgeWindows splits the kept points of each series (pts, [ws, ahead]) by
// window into the cache's windows, one from ws through the one ending at
// ahead, each stamped with the run's sequence number: a later edge in any
// of them is taken from memory while no change touched it.
func (r *selectRun) edgeWindows(pts edgePoints, ws, ahead int64) []resultcache.Window {
	var out []resultcache.Window
	cut := make([]int, len(pts)) // per series, the first point not yet laid out
	one := make(edgePoints, len(pts))
	for start := ws; start <= ahead; start = r.nextWindow(start) {
		last := r.nextWindow(start) - 1
		for i, col := range pts {
			one[i] = nil
			if col == nil {
				continue
			}
			j := cut[i] + sort.Search(col.Len()-cut[i], func(k int) bool { return col.Times[cut[i]+k] > last })
			if j > cut[i] {
				one[i] = &storage.Column{Type: col.Type}
				one[i].AppendRows(col, cut[i], j)
			}
			cut[i] = j
		}
		v, ok := encodeEdge(one)
		if !ok {
			break
		}
		out = append(out, resultcache.Window{Start: start, Seq: r.cacheSeq, Value: v})
	}
	return out
}

// unionRanges merges ascending ranges (by Min) that overlap or touch, in
// rs's memory.
func unionRanges(rs []storage.TimeRange) []storage.TimeRange {
	out := rs[:1]
	for _, x := range rs[1:] {
		last := &out[len(out)-1]
		if x.Min <= last.Max || x.Min-1 == last.Max {
			last.Max = max(last.Max, x.Max)
			continue
		}
		out = append(out, x)
	}
	return out
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

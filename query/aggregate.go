// Operator: window/aggregate, the partial-state path. It pulls a group's
// columns and block headers from the scan (scan.go, column.go), folds them into
// one partial state per window and hands the windows' results to fill.go
// through call.go.
package query

import (
	"errors"
	"fmt"
	"sort"
	"sync"

	"github.com/strata-db/strata/query/funcs"
	"github.com/strata-db/strata/query/partial"
	"github.com/strata-db/strata/storage"
)

// The partial-state path (pathHeaders, pathPartial): each window of a group
// holds one partial.State of the call, fed decoded columns and, where a block
// lies in one window, the block's header statistics. The arithmetic is
// query/partial's, which its property tests prove equal to query/funcs'.
//
// Groups run in parallel (streamGroups); the series of one group run on one
// core. Splitting a group's series across idle cores, each worker with
// states of its own merged at the end (mean and float sum in contiguous
// shares merged in series order, to keep InfluxDB's bits), was built and
// measured: on the project's shared two-core machine it was no faster than
// one core (BenchmarkAggregateTSBS, same GOMAXPROCS, split on and off
// interleaved), so the simpler code stays. Partial states make it a local
// change should a machine with idle cores show a gain. The exception is the
// sketches whose merge is exact, when a statement has fewer groups than
// cores (sketchsplit.go): a whole-range approx_count_distinct is one group
// whose fold of every value is most of its time.

// errMixedTypes: the group's series store the field in different types,
// which one state cannot take; the call runs through its window function.
var errMixedTypes = errors.New("query: mixed field types in a group")

// windowStates is one call's partial states by window start, over a group's
// series.
type windowStates struct {
	c   *callPlan
	typ funcs.Type // the values' type, from the first column or header seen
	// newState makes an empty state of the call for typ (nil before the
	// first value).
	newState func() partial.State
	// m maps a window start to its entry in states: one allocation per
	// growth of states, not one per window. In dense mode (slot != nil) it
	// holds only the windows outside slot's range, made when first needed.
	m map[int64]int
	// slot, in dense mode (newDenseWindowStates), is the entry in states
	// plus one (0: none) of window first + k*interval at index k: a window's
	// lookup is a division, not a hash, and 4 bytes a window replace the
	// map's ~40.
	slot       []int32
	first, ivl int64
	bufs       *denseBufs // where slot, states and fed came from, in dense mode
	// kind is the states' kind (stateAt), known once one was made.
	kind      partial.Kind
	kindKnown bool
	states    []winState
	// next is the entry after the one get returned last: a series feeds its
	// windows in time order and every series of a group meets them in the
	// order the first created them, so the next lookup is usually there and
	// skips the map.
	next     int
	reserved int   // states accounted in the budget, in chunks of stateChunk
	cur      int   // ordinal of the series being fed, from 1
	fed      []int // the entries the current series has fed
	// exactOrder: float sum and mean, whose header sums are the additions
	// of InfluxDB's order only when the block starts its series' share of
	// the window (see partial.State.AddStats).
	exactOrder bool
	// hold accounts working memory in the statement's budget: each state,
	// and each value a collection state (median, mode, distinct...) keeps.
	hold    func(int64) error
	collect bool
}

// stateFactories keeps a call's partial-state constructor per input type,
// shared by the groups that run in parallel: partial.NewFactory checks the
// arguments, which once per group and call was 1% of a TSBS double-groupby's
// CPU. The constructors are pure, so sharing them is safe.
type stateFactories struct {
	mu     sync.Mutex
	byType map[funcs.Type]func() partial.State
}

func (f *stateFactories) get(c *callPlan, t funcs.Type) (func() partial.State, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if nf, ok := f.byType[t]; ok {
		return nf, nil
	}
	nf, err := partial.NewFactory(c.name, t, c.args...)
	if err != nil {
		return nil, err
	}
	if f.byType == nil {
		f.byType = map[funcs.Type]func() partial.State{}
	}
	f.byType[t] = nf
	return nf, nil
}

type winState struct {
	ws     int64
	st     partial.State
	series int // the last series that fed it (windowStates.cur)
}

// stateChunk is how many window states windowStates accounts in the budget at
// once: accounting each one touched the statement's shared counter 12,000
// times per TSBS double-groupby-all query (3% of its CPU); a chunk
// over-accounts at most 63 states (8 KB) per call and group.
const stateChunk = 64

// maxPresizedWindows caps the states allocated up front from the plan's time
// range (about 80 bytes each with the map entry): TSBS's widest, 12 hours of
// minutes (720), is presized; a sparse group in a range of millions of
// windows does not pay for the empty ones, its states grow as it is fed.
const maxPresizedWindows = 1024

func newWindowStates(c *callPlan, windows int) *windowStates {
	n := min(max(windows, 1), maxPresizedWindows)
	return &windowStates{c: c, m: make(map[int64]int, n), states: make([]winState, 0, n), fed: make([]int, 0, n), cur: 1}
}

// maxDenseWindows caps the windows newDenseWindowStates indexes by slot (4
// bytes each, allocated up front): 16,384 is 64 KB, beyond TSBS's 720; a
// wider range keeps the map, which pays only for the windows fed.
const maxDenseWindows = 1 << 14

// newDenseWindowStates is newWindowStates for n windows of ivl nanoseconds
// from first, looked up by index (slot), not by map, its arrays from b.
func newDenseWindowStates(c *callPlan, first, ivl int64, n int, b *denseBufs) *windowStates {
	p := min(max(n, 1), maxPresizedWindows)
	w := &windowStates{c: c, first: first, ivl: ivl, cur: 1, bufs: b}
	w.slot = grown(b.slot, n)[:n]
	w.states, w.fed = grown(b.states, p), grown(b.fed, p)
	b.slot, b.states, b.fed = nil, nil, nil
	return w
}

// denseBufs are the arrays of one call's dense window states and result,
// kept for the next (Executor.denseBufs): a TSBS single-groupby-5-1-12 made
// 300 KB of them per query, which alone set off a collection every three
// queries on a small heap.
type denseBufs struct {
	slot   []int32
	states []winState
	fed    []int
	off    []int32
	pts    []funcs.Point
}

// grown is s emptied, with room for n.
func grown[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, 0, n)
	}
	return s[:0]
}

// maxKeptWindows caps the arrays put back for reuse: beyond TSBS's 720
// windows a query's arrays are left to the collector, not held.
const maxKeptWindows = 4096

// getDenseBufs returns arrays for dense states, reused when there are some.
func (e *Executor) getDenseBufs() *denseBufs {
	if b, ok := e.denseBufs.Get().(*denseBufs); ok {
		return b
	}
	return &denseBufs{}
}

// putDenseBufs keeps b's arrays for reuse, cleared of what they point to.
// Only up to each array's length: the arrays are only ever appended to, so
// what lies beyond was cleared by an earlier put (or never written). A
// cached refresh folds two of its 361 windows per group, and clearing the
// whole capacity was an eighth of its groups' CPU (BenchmarkDashboardRefresh).
func (e *Executor) putDenseBufs(b *denseBufs) {
	if b == nil || cap(b.slot) > maxKeptWindows || cap(b.pts) > maxKeptWindows {
		return
	}
	clear(b.slot)
	for i, e := range b.states {
		// The resettable states stay for the next call's windows (stateAt);
		// the others, which may hold many values, go.
		if _, ok := e.st.(partial.Resetter); !ok {
			e.st = nil
		}
		b.states[i] = winState{st: e.st}
	}
	clear(b.pts)
	e.denseBufs.Put(b)
}

// slotOf is window ws's index in slot, or -1 outside it (or not in dense mode).
func (w *windowStates) slotOf(ws int64) int {
	if w.slot == nil || ws < w.first {
		return -1
	}
	d := ws - w.first
	if d%w.ivl != 0 || d/w.ivl >= int64(len(w.slot)) {
		return -1
	}
	return int(d / w.ivl)
}

// lookup returns window ws's entry in states.
func (w *windowStates) lookup(ws int64) (int, bool) {
	if k := w.slotOf(ws); k >= 0 {
		return int(w.slot[k]) - 1, w.slot[k] > 0
	}
	i, ok := w.m[ws]
	return i, ok
}

// get returns window ws's state for values of type t, creating it, and
// whether the current series had not fed it yet.
func (w *windowStates) get(ws int64, t funcs.Type) (*winState, bool, error) {
	if err := w.setType(t); err != nil {
		return nil, false, err
	}
	i := w.next
	if i >= len(w.states) || w.states[i].ws != ws {
		var ok bool
		if i, ok = w.lookup(ws); !ok {
			var err error
			if i, err = w.insert(ws, w.stateAt(len(w.states))); err != nil {
				return nil, false, err
			}
		}
	}
	w.next = i + 1
	e := &w.states[i]
	fresh := e.series != w.cur
	if fresh {
		e.series = w.cur
		w.fed = append(w.fed, i)
	}
	return e, fresh, nil
}

// stateAt returns an empty state for entry i of states: in dense mode the
// one a previous call left there, reset, when it is of the same kind and
// type and resettable (a selector's is 80 bytes, one per window), else a
// new one.
func (w *windowStates) stateAt(i int) partial.State {
	if w.bufs == nil || i >= cap(w.states) {
		return w.newState()
	}
	if !w.kindKnown {
		st := w.newState()
		w.kind, w.kindKnown = st.Kind(), true
		return st
	}
	old := w.states[:i+1][i].st
	if r, ok := old.(partial.Resetter); ok && old.Kind() == w.kind && old.Type() == w.typ {
		r.Reset()
		return old
	}
	return w.newState()
}

// setType fixes the values' type at the first column or header, and
// refuses another one after.
func (w *windowStates) setType(t funcs.Type) error {
	if w.newState != nil {
		if t != w.typ {
			return errMixedTypes
		}
		return nil
	}
	f, err := w.c.factories.get(w.c, t)
	if err != nil {
		return err
	}
	w.typ, w.newState = t, f
	w.exactOrder = t == funcs.Float && (w.c.name == "sum" || w.c.name == "mean")
	w.collect = collectsValues(w.c.name)
	return nil
}

// insert adds st as window ws's state, accounting it, and returns its index.
func (w *windowStates) insert(ws int64, st partial.State) (int, error) {
	if len(w.states) == w.reserved {
		if err := w.account(stateChunk * accBytes); err != nil {
			return 0, err
		}
		w.reserved += stateChunk
	}
	if b, ok := st.(interface{ MaxBytes() int64 }); ok {
		// A sketch: its bound, not its values, beyond the state itself.
		if err := w.account(b.MaxBytes()); err != nil {
			return 0, err
		}
	}
	i := len(w.states)
	w.states = append(w.states, winState{ws: ws, st: st})
	if k := w.slotOf(ws); k >= 0 {
		w.slot[k] = int32(i + 1)
		return i, nil
	}
	if w.m == nil {
		w.m = map[int64]int{}
	}
	w.m[ws] = i
	return i, nil
}

// addStats folds a block that lies in window ws through its header, and
// reports whether it could (else the block is decoded).
func (w *windowStates) addStats(ws int64, s funcs.Stats) (bool, error) {
	e, fresh, err := w.get(ws, funcs.Type(s.Type))
	if err != nil {
		return false, err
	}
	if w.exactOrder && !fresh {
		return false, nil
	}
	return e.st.AddStats(s)
}

// add folds rows [i, j) of a column into window ws's state.
func (w *windowStates) add(ws int64, col *storage.Column, i, j int) error {
	e, _, err := w.get(ws, funcs.Type(col.Type))
	if err != nil {
		return err
	}
	if w.collect {
		if err := w.account(int64(j-i) * pointBytes); err != nil {
			return err
		}
	}
	ts := col.Times[i:j]
	switch col.Type {
	case storage.Float:
		return e.st.AddFloats(ts, col.Floats[i:j])
	case storage.Integer:
		return e.st.AddInts(ts, col.Ints[i:j])
	case storage.Unsigned:
		return e.st.AddUints(ts, col.Uints[i:j])
	case storage.String:
		vs := make([]string, j-i)
		for k, b := range col.Strings[i:j] {
			vs[k] = string(b)
		}
		return e.st.AddStrings(ts, vs)
	case storage.Boolean:
		return e.st.AddBools(ts, col.Bools[i:j])
	}
	return errMixedTypes
}

// addWeighted folds n rows of the string v into window ws's state (a tag's
// value, tagarg.go).
func (w *windowStates) addWeighted(ws int64, v string, n uint64) error {
	e, _, err := w.get(ws, funcs.String)
	if err != nil {
		return err
	}
	ps, ok := e.st.(partial.Weighted)
	if !ok {
		return fmt.Errorf("query: %s takes no tag", w.c.name)
	}
	return ps.AddWeighted(v, n)
}

func (w *windowStates) account(n int64) error {
	if w.hold == nil {
		return nil
	}
	return w.hold(n)
}

// collectsValues tells the calls whose partial state keeps every value (or
// every distinct one) it is given, so that what it holds grows with the input.
func collectsValues(name string) bool {
	switch name {
	case "median", "percentile", "mode", "distinct", "count_distinct":
		return true
	}
	return false
}

// endSeries closes the current series in the states it fed.
func (w *windowStates) endSeries() {
	for _, i := range w.fed {
		w.states[i].st.EndSeries()
	}
	w.fed = w.fed[:0]
	w.cur++
	w.next = 0
}

// result turns the states into the call's rows per window.
func (w *windowStates) result() *callResult {
	if w.slot != nil && w.m == nil {
		return w.denseResult()
	}
	res := &callResult{byWindow: make(map[int64][]funcs.Point, len(w.states))}
	for _, e := range w.states {
		if pts := e.st.Final(e.ws); len(pts) > 0 {
			res.byWindow[e.ws] = pts
		}
	}
	return res
}

// denseResult is result for dense states with every window in slot. The
// states' arrays go back to w.bufs, which the result holds until release.
func (w *windowStates) denseResult() *callResult {
	b := w.bufs
	d := &denseResult{first: w.first, ivl: w.ivl, bufs: b}
	d.off = grown(b.off, len(w.slot)+1)[:len(w.slot)+1]
	d.off[0] = 0
	d.pts = grown(b.pts, len(w.states))
	for k, i := range w.slot {
		if i > 0 {
			e := &w.states[i-1]
			if one, ok := e.st.(partial.Single); ok {
				if pt, ok := one.FinalPoint(e.ws); ok {
					d.pts = append(d.pts, pt)
					d.windows++
				}
			} else if pts := e.st.Final(e.ws); len(pts) > 0 {
				d.pts = append(d.pts, pts...)
				d.windows++
			}
		}
		d.off[k+1] = int32(len(d.pts))
	}
	b.slot, b.states, b.fed = w.slot, w.states, w.fed
	b.off, b.pts = d.off, d.pts
	w.slot, w.states, w.fed, w.bufs = nil, nil, nil, nil
	return &callResult{dense: d}
}

// groupStates is partialStates with errMixedTypes reported as mixed.
func (r *selectRun) groupStates(g *group, c *callPlan) (*windowStates, bool, error) {
	w, err := r.partialStates(g, c)
	if errors.Is(err, errMixedTypes) {
		if hasRemote(g) {
			return nil, false, errRemoteMixed
		}
		return nil, true, nil
	}
	return w, false, err
}

// partialStates folds g's series, in key order, into window states, closing
// each series (EndSeries) for sum and mean. errMixedTypes reports a group the
// states cannot take.
func (r *selectRun) partialStates(g *group, c *callPlan) (*windowStates, error) {
	if r.cacheable(c) {
		if w, ok, err := r.cachedStates(g, c); ok {
			return w, err
		}
	}
	if ways := r.splitWays(g, c); ways > 1 {
		return r.splitStates(g, c, ways)
	}
	w := r.newGroupStates(c)
	w.hold = func(n int64) error { return r.holdGroup(g, n) }
	var points int64
	defer func() { r.stats.points.Add(points) }()
	for _, s := range g.series {
		if s.remote != nil {
			if err := r.mergeRemote(s, c, w); err != nil {
				return nil, err
			}
			w.endSeries()
			continue
		}
		if err := r.accumulateSeries(s, c, w, &points, r.plan.tr.Min, r.plan.tr.Max); err != nil {
			return nil, err
		}
		w.endSeries()
	}
	return w, nil
}

// newGroupStates makes the window states of one group's call: dense (by
// index) when the windows are evenly spaced and not too many to index.
func (r *selectRun) newGroupStates(c *callPlan) *windowStates {
	p := r.plan
	n := r.windowsInRange()
	if n > 0 && n <= maxDenseWindows && p.interval > 0 && !r.zonedDays() {
		return newDenseWindowStates(c, r.windowOf(p.tr.Min), int64(p.interval), n, r.e.getDenseBufs())
	}
	return newWindowStates(c, n)
}

// display is the series as a user writes it: measurement,tag=value,...
func (s *seriesRef) display() string {
	keys := make([]string, 0, len(s.tags))
	for k := range s.tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := s.measurement
	for _, k := range keys {
		out += "," + k + "=" + s.tags[k]
	}
	return out
}

// accumulate is the hot path: partial states per window (aggregate.go), fed
// block by block, answering from block headers when a block lies in one window.
func (r *selectRun) accumulate(g *group, c *callPlan) (*callResult, error) {
	if c.name == "integral" && len(g.series) > 1 {
		// InfluxDB integrates the group's time-merged points; per-series
		// integral partials overlap in time and do not merge.
		return r.windowCall(g, c, nil)
	}
	w, mixed, err := r.groupStates(g, c)
	if err != nil {
		return nil, err
	}
	if mixed {
		// Series storing the field in different types: the window function
		// reports them as InfluxDB does.
		return r.windowCall(g, c, nil)
	}
	return w.result(), nil
}

// accumulateSeries folds one series' values of c's field in [min, max] into
// the window states.
func (r *selectRun) accumulateSeries(s *seriesRef, c *callPlan, w *windowStates, points *int64, min, max int64) error {
	return r.accumulateWithin(s, c, w, points, min, max, nil)
}

// accumulateWithin is accumulateSeries over only the ranges within of [min,
// max] (nil: all of it), through one cursor.
func (r *selectRun) accumulateWithin(s *seriesRef, c *callPlan, w *windowStates, points *int64, min, max int64, within []storage.TimeRange) (err error) {
	defer func() {
		if errors.Is(err, partial.ErrCorrupt) {
			// A stored sketch that does not decode: say where it is.
			err = fmt.Errorf("series %s: %w", s.display(), err)
		}
	}()
	p := r.plan
	if c.tag {
		return r.accumulateTag(s, c, w, points, min, max)
	}
	fid, ok := r.fieldID(s, c.field)
	if !ok {
		return nil
	}
	if done, err := r.foldHead(s, fid, w, points, min, max, within); done || err != nil {
		return err
	}
	cur, err := r.cursorIn(s, fid, min, max)
	if err != nil {
		return err
	}
	defer cur.Close()
	if within != nil {
		cur.Within(within)
	}
	var desc []*storage.Column
	cc := r.e.canceller(r.ctx)
	for cur.Next() {
		if err := stopErr(r.ctx); err != nil {
			return err
		}
		if h := cur.Stats(); h != nil && (p.interval <= 0 || r.windowOf(h.MinTime) == r.windowOf(h.MaxTime)) {
			if c.path == pathHeaders {
				ok, err := w.addStats(r.windowOf(h.MinTime), statsOf(h))
				if err != nil {
					return err
				}
				if ok {
					r.stats.blocksStats.Add(1)
					*points += int64(h.Count)
					continue
				}
			}
			if ok, err := r.foldUntimed(cur, h, c, w, points, &cc); ok || err != nil {
				if err != nil {
					return err
				}
				continue
			}
		}
		col, err := cur.Column()
		if err != nil {
			return err
		}
		*points += int64(col.Len())
		if err := cc.add(col.Len()); err != nil {
			return err
		}
		if !p.ascending {
			// ORDER BY time DESC: InfluxDB folds the points newest first, and float
			// sums depend on the order; feed them reversed, last chunk first.
			desc = append(desc, reversedColumn(col))
			continue
		}
		if err := r.feed(col, w); err != nil {
			return err
		}
	}
	for i := len(desc) - 1; i >= 0; i-- {
		if err := r.feed(desc[i], w); err != nil {
			return err
		}
	}
	r.stats.blocksDecoded.Add(int64(cur.BlocksDecoded()))
	return cur.Err()
}

// foldHead is accumulateWithin for a range the snapshot's heads alone hold
// (storage.Snapshot.HeadRange): their views, cut to within, are fed as the
// cursor would yield them, without one. done is false when it does not
// apply (no snapshot, ORDER BY DESC, a range stored blocks may reach).
func (r *selectRun) foldHead(s *seriesRef, fid storage.FieldID, w *windowStates, points *int64, min, max int64, within []storage.TimeRange) (done bool, err error) {
	if s.snap == nil || !r.plan.ascending {
		return false, nil
	}
	cols, ok := s.snap.HeadRange(s.id, fid, min, max)
	if !ok {
		return false, nil
	}
	if within == nil {
		within = []storage.TimeRange{{Min: min, Max: max}}
	}
	cc := r.e.canceller(r.ctx)
	for _, tr := range within {
		for _, col := range cols {
			part := storage.TrimColumn(col, tr.Min, tr.Max)
			if part.Len() == 0 {
				continue
			}
			*points += int64(part.Len())
			if err := cc.add(part.Len()); err != nil {
				return true, err
			}
			if err := r.feed(part, w); err != nil {
				return true, err
			}
		}
	}
	return true, stopErr(r.ctx)
}

// feed folds a column into the states of its windows; its times run in one
// direction (ascending, or descending for ORDER BY DESC).
func (r *selectRun) feed(col *storage.Column, w *windowStates) error {
	n := col.Len()
	for i := 0; i < n; {
		ws := r.windowOf(col.Times[i])
		j := n
		if r.plan.interval > 0 {
			j = i + 1
			if r.plan.ascending {
				end := r.nextWindow(ws)
				j = i + sort.Search(n-i, func(k int) bool { return col.Times[i+k] >= end })
			} else {
				for j < n && col.Times[j] >= ws {
					j++
				}
			}
			if j <= i {
				j = i + 1
			}
		}
		if err := w.add(ws, col, i, j); err != nil {
			return err
		}
		i = j
	}
	return nil
}

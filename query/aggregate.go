package query

import (
	"errors"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/strata-db/strata/query/funcs"
	"github.com/strata-db/strata/query/partial"
	"github.com/strata-db/strata/storage"
	"github.com/strata-db/strata/storage/block"
)

// The partial-state path (pathHeaders, pathPartial): each window of a group
// holds one partial.State of the call, fed decoded columns and, where a block
// lies in one window, the block's header statistics. The arithmetic is
// query/partial's, which its property tests prove equal to query/funcs'.
//
// A group with many series is split across cores when there are fewer
// groups than cores: each worker folds its series into states of its own,
// merged at the end. Mean and float sum, whose answers depend on the order
// of the merge, split the series into contiguous shares merged in series
// order (partialStatesOrdered), so answers are the same bit for bit
// whatever the number of workers.

// errMixedTypes: the group's series store the field in different types,
// which one state cannot take; the call runs through its window function.
var errMixedTypes = errors.New("query: mixed field types in a group")

// minSeriesPerWorker keeps small groups on one core: below it the cost of
// a worker (a snapshot, a goroutine, a merge) is not repaid.
const minSeriesPerWorker = 16

// windowStates is one call's partial states by window start, over some of a
// group's series.
type windowStates struct {
	c   *callPlan
	typ funcs.Type // the values' type, from the first column or header seen
	// newState makes an empty state of the call for typ (nil before the
	// first value).
	newState func() partial.State
	// m maps a window start to its entry in states: one allocation per
	// growth of states, not one per window.
	m      map[int64]int
	states []winState
	cur    int   // ordinal of the series being fed, from 1
	fed    []int // the entries the current series has fed
	// exactOrder: float sum and mean, whose header sums are the additions
	// of InfluxDB's order only when the block starts its series' share of
	// the window (see partial.State.AddStats).
	exactOrder bool
}

type winState struct {
	ws     int64
	st     partial.State
	series int // the last series that fed it (windowStates.cur)
}

func newWindowStates(c *callPlan) *windowStates {
	return &windowStates{c: c, m: map[int64]int{}, cur: 1}
}

// get returns window ws's state for values of type t, creating it, and
// whether the current series had not fed it yet.
func (w *windowStates) get(ws int64, t funcs.Type) (*winState, bool, error) {
	if w.newState == nil {
		f, err := partial.NewFactory(w.c.name, t, w.c.args...)
		if err != nil {
			return nil, false, err
		}
		w.typ, w.newState = t, f
		w.exactOrder = t == funcs.Float && (w.c.name == "sum" || w.c.name == "mean")
	} else if t != w.typ {
		return nil, false, errMixedTypes
	}
	i, ok := w.m[ws]
	if !ok {
		i = len(w.states)
		w.states = append(w.states, winState{ws: ws, st: w.newState()})
		w.m[ws] = i
	}
	e := &w.states[i]
	fresh := e.series != w.cur
	if fresh {
		e.series = w.cur
		w.fed = append(w.fed, i)
	}
	return e, fresh, nil
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
func (w *windowStates) add(ws int64, col *block.Column, i, j int) error {
	e, _, err := w.get(ws, funcs.Type(col.Type))
	if err != nil {
		return err
	}
	ts := col.Times[i:j]
	switch col.Type {
	case block.Float:
		return e.st.AddFloats(ts, col.Floats[i:j])
	case block.Integer:
		return e.st.AddInts(ts, col.Ints[i:j])
	case block.Unsigned:
		return e.st.AddUints(ts, col.Uints[i:j])
	case block.String:
		vs := make([]string, j-i)
		for k, b := range col.Strings[i:j] {
			vs[k] = string(b)
		}
		return e.st.AddStrings(ts, vs)
	case block.Boolean:
		return e.st.AddBools(ts, col.Bools[i:j])
	}
	return errMixedTypes
}

// endSeries closes the current series in the states it fed.
func (w *windowStates) endSeries() {
	for _, i := range w.fed {
		w.states[i].st.EndSeries()
	}
	w.fed = w.fed[:0]
	w.cur++
}

// merge folds o's states into w's.
func (w *windowStates) merge(o *windowStates) error {
	if len(o.m) == 0 {
		return nil
	}
	if w.newState == nil {
		w.typ, w.exactOrder, w.newState = o.typ, o.exactOrder, o.newState
	} else if o.typ != w.typ {
		return errMixedTypes
	}
	for _, e := range o.states {
		i, ok := w.m[e.ws]
		if !ok {
			w.m[e.ws] = len(w.states)
			w.states = append(w.states, winState{ws: e.ws, st: e.st})
			continue
		}
		if err := w.states[i].st.Merge(e.st); err != nil {
			return err
		}
	}
	return nil
}

// result turns the states into the call's rows per window.
func (w *windowStates) result() *callResult {
	res := &callResult{byWindow: make(map[int64][]funcs.Point, len(w.states))}
	for _, e := range w.states {
		if pts := e.st.Final(e.ws); len(pts) > 0 {
			res.byWindow[e.ws] = pts
		}
	}
	return res
}

// groupWorkers is how many cores one group's call may use: the cores the
// other groups leave idle, at least minSeriesPerWorker series each. Integral
// needs the group's points in one time-ordered stream and stays on one; mean
// and float sum split only when the states they hold per series are bounded.
func (r *selectRun) groupWorkers(g *group, c *callPlan) int {
	if c.name == "integral" {
		return 1
	}
	n := runtime.GOMAXPROCS(0)
	if r.groupCount > 1 {
		n /= r.groupCount
	}
	n = max(1, min(n, len(g.series)/minSeriesPerWorker))
	if n > 1 && !mergesInAnyOrder(c) {
		// Per-series states of all but the first share are held until
		// the merge: only when they are few.
		w, ok := r.windowsBound()
		if !ok || w*int64(len(g.series)) > maxHeldStates {
			return 1
		}
	}
	return n
}

// maxHeldStates bounds the per-series states the ordered split holds (a few
// MiB).
const maxHeldStates = 1 << 16

// windowsBound is how many windows the plan's time range holds at most, and
// false when the range is open.
func (r *selectRun) windowsBound() (int64, bool) {
	p := r.plan
	if p.interval <= 0 {
		return 1, true
	}
	if !p.tr.HasMin() || !p.tr.HasMax() {
		return 0, false
	}
	return (p.tr.Max-p.tr.Min)/int64(p.interval) + 2, true
}

// groupStates is partialStates with errMixedTypes reported as mixed.
func (r *selectRun) groupStates(g *group, c *callPlan) (*windowStates, bool, error) {
	w, err := r.partialStates(g, c)
	if errors.Is(err, errMixedTypes) {
		return nil, true, nil
	}
	return w, false, err
}

// mergesInAnyOrder reports whether c's per-worker states may merge in any
// order and give one core's answer bit for bit. Mean and float sum may not:
// InfluxDB adds the per-series means and sums in series order, and float
// additions round in that order (partialStatesOrdered keeps it). Integral's
// partials must be time-disjoint (groupWorkers keeps it on one core).
func mergesInAnyOrder(c *callPlan) bool {
	switch c.name {
	case "mean", "integral":
		return false
	case "sum":
		return c.inType == funcs.Integer || c.inType == funcs.Unsigned
	}
	return true
}

// partialStates folds g's series into window states, on several cores when
// groupWorkers allows. errMixedTypes reports a group the states cannot take.
func (r *selectRun) partialStates(g *group, c *callPlan) (*windowStates, error) {
	var points atomic.Int64
	defer func() { r.stats.points.Add(points.Load()) }()
	workers := r.groupWorkers(g, c)
	if workers <= 1 {
		w := newWindowStates(c)
		var n int64
		for _, s := range g.series {
			if err := r.accumulateSeries(s, c, w, nil, &n); err != nil {
				return nil, err
			}
			w.endSeries()
		}
		points.Add(n)
		return w, nil
	}
	if !mergesInAnyOrder(c) {
		return r.partialStatesOrdered(g, c, workers, &points)
	}
	// Any merge order gives the same answer: each worker folds a share of
	// the series (claimed one by one, so a slow series does not hold up a
	// share), and the shares merge at the end.
	var next atomic.Int64
	shares := make([]*windowStates, workers)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for k := range shares {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := newWindowStates(c)
			shares[k] = w
			errs[k] = r.workerSeries(g, &next, func(i int, snap *storage.Snapshot, err error) error {
				if err != nil {
					return err
				}
				var n int64
				err = r.accumulateSeries(g.series[i], c, w, snap, &n)
				points.Add(n)
				w.endSeries()
				return err
			})
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	for _, w := range shares[1:] {
		if err := shares[0].merge(w); err != nil {
			return nil, err
		}
	}
	return shares[0], nil
}

// workerSeries calls fn for each series index of g this worker claims from
// next, with a store snapshot of the worker's own (a snapshot's cursors are
// used one at a time), until fn returns an error or the series run out.
// err, when not nil, is why series i cannot be read (the snapshot did not
// open, the query was cancelled); fn decides what to do.
func (r *selectRun) workerSeries(g *group, next *atomic.Int64, fn func(i int, snap *storage.Snapshot, err error) error) error {
	snap, snapErr := r.e.store.Snapshot()
	if snapErr == nil {
		defer snap.Close()
	}
	for {
		i := int(next.Add(1) - 1)
		if i >= len(g.series) {
			return nil
		}
		err := snapErr
		if err == nil {
			err = r.ctx.Err()
		}
		if err := fn(i, snap, err); err != nil {
			return err
		}
	}
}

// partialStatesOrdered is partialStates for mean and float sum, whose
// per-series results InfluxDB adds in series order: the series are cut into
// contiguous shares, the first share folds straight into the group's
// states, the others keep a state per series and window, and those merge
// into the group's states in series order at the end, which is the order
// of one core's additions bit for bit.
func (r *selectRun) partialStatesOrdered(g *group, c *callPlan, workers int, points *atomic.Int64) (*windowStates, error) {
	n := len(g.series)
	total := newWindowStates(c)
	held := make([][]*windowStates, workers)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for k := 0; k < workers; k++ {
		lo, hi := k*n/workers, (k+1)*n/workers
		wg.Add(1)
		go func() {
			defer wg.Done()
			var next atomic.Int64
			share := &group{series: g.series[lo:hi]}
			errs[k] = r.workerSeries(share, &next, func(i int, snap *storage.Snapshot, err error) error {
				if err != nil {
					return err
				}
				w := total
				if k > 0 {
					w = newWindowStates(c)
					held[k] = append(held[k], w)
				}
				var pts int64
				err = r.accumulateSeries(share.series[i], c, w, snap, &pts)
				points.Add(pts)
				w.endSeries()
				return err
			})
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	for _, share := range held[1:] {
		for _, w := range share {
			if err := total.merge(w); err != nil {
				return nil, err
			}
		}
	}
	return total, nil
}

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
// merged at the end. Sum and mean are the exception to "any order": InfluxDB
// adds the per-series partials in series order, and float additions round in
// that order, so for them every series gets states of its own, merged into
// the group's states in series order as the workers finish them. Answers are
// therefore the same bit for bit whatever the number of workers.

// errMixedTypes: the group's series store the field in different types,
// which one state cannot take; the call runs through its window function.
var errMixedTypes = errors.New("query: mixed field types in a group")

// minSeriesPerWorker keeps small groups on one core: below it the cost of
// a worker (a snapshot, a goroutine, a merge) is not repaid.
const minSeriesPerWorker = 8

// windowStates is one call's partial states by window start, over some of a
// group's series.
type windowStates struct {
	c   *callPlan
	typ funcs.Type // the values' type, from the first column or header seen
	m   map[int64]*winState
	cur int         // ordinal of the series being fed, from 1
	fed []*winState // states the current series has fed
	// exactOrder: float sum and mean, whose header sums are the additions
	// of InfluxDB's order only when the block starts its series' share of
	// the window (see partial.State.AddStats).
	exactOrder bool
}

type winState struct {
	st     partial.State
	series int // the last series that fed it (windowStates.cur)
}

func newWindowStates(c *callPlan) *windowStates {
	return &windowStates{c: c, m: map[int64]*winState{}, cur: 1}
}

// get returns window ws's state for values of type t, creating it, and
// whether the current series had not fed it yet.
func (w *windowStates) get(ws int64, t funcs.Type) (*winState, bool, error) {
	if w.typ == funcs.Unknown {
		w.typ = t
		w.exactOrder = t == funcs.Float && (w.c.name == "sum" || w.c.name == "mean")
	} else if t != w.typ {
		return nil, false, errMixedTypes
	}
	e := w.m[ws]
	if e == nil {
		st, err := partial.New(w.c.name, t, w.c.args...)
		if err != nil {
			return nil, false, err
		}
		e = &winState{st: st}
		w.m[ws] = e
	}
	fresh := e.series != w.cur
	if fresh {
		e.series = w.cur
		w.fed = append(w.fed, e)
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
	for _, e := range w.fed {
		e.st.EndSeries()
	}
	w.fed = w.fed[:0]
	w.cur++
}

// merge folds o's states into w's.
func (w *windowStates) merge(o *windowStates) error {
	if len(o.m) == 0 {
		return nil
	}
	if w.typ == funcs.Unknown {
		w.typ, w.exactOrder = o.typ, o.exactOrder
	} else if o.typ != w.typ {
		return errMixedTypes
	}
	for ws, e := range o.m {
		have := w.m[ws]
		if have == nil {
			w.m[ws] = &winState{st: e.st}
			continue
		}
		if err := have.st.Merge(e.st); err != nil {
			return err
		}
	}
	return nil
}

// result turns the states into the call's rows per window.
func (w *windowStates) result() *callResult {
	res := &callResult{byWindow: make(map[int64][]funcs.Point, len(w.m))}
	for ws, e := range w.m {
		if pts := e.st.Final(ws); len(pts) > 0 {
			res.byWindow[ws] = pts
		}
	}
	return res
}

// groupWorkers is how many cores one group's call may use: the cores the
// other groups leave idle, at least minSeriesPerWorker series each. Integral
// needs the group's points in one time-ordered stream and stays on one.
func (r *selectRun) groupWorkers(g *group, c *callPlan) int {
	if c.name == "integral" {
		return 1
	}
	n := runtime.GOMAXPROCS(0)
	if r.groupCount > 1 {
		n /= r.groupCount
	}
	return max(1, min(n, len(g.series)/minSeriesPerWorker))
}

// groupStates is partialStates with errMixedTypes reported as mixed.
func (r *selectRun) groupStates(g *group, c *callPlan) (*windowStates, bool, error) {
	w, err := r.partialStates(g, c)
	if errors.Is(err, errMixedTypes) {
		return nil, true, nil
	}
	return w, false, err
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
	if c.name == "sum" || c.name == "mean" {
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
			errs[k] = r.workerSeries(g, &next, nil, func(i int, snap *storage.Snapshot, err error) error {
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

// partialStatesOrdered is partialStates for sum and mean: states per series,
// merged in series order while the workers go on.
func (r *selectRun) partialStatesOrdered(g *group, c *callPlan, workers int, points *atomic.Int64) (*windowStates, error) {
	n := len(g.series)
	perSeries := make([]*windowStates, n)
	errs := make([]error, n)
	done := make([]chan struct{}, n)
	for i := range done {
		done[i] = make(chan struct{})
	}
	var next atomic.Int64
	var stop atomic.Bool
	var wg sync.WaitGroup
	for k := 0; k < workers; k++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = r.workerSeries(g, &next, &stop, func(i int, snap *storage.Snapshot, err error) error {
				defer close(done[i])
				if err != nil {
					errs[i] = err
					return nil
				}
				w := newWindowStates(c)
				var pts int64
				errs[i] = r.accumulateSeries(g.series[i], c, w, snap, &pts)
				points.Add(pts)
				w.endSeries()
				perSeries[i] = w
				return nil
			})
		}()
	}
	total := newWindowStates(c)
	var err error
	for i := 0; i < n && err == nil; i++ {
		<-done[i]
		if err = errs[i]; err == nil {
			err = total.merge(perSeries[i])
		}
		perSeries[i] = nil
	}
	stop.Store(true)
	wg.Wait()
	if err != nil {
		return nil, err
	}
	return total, nil
}

// workerSeries calls fn for each series index of g this worker claims from
// next, with a store snapshot of the worker's own (a snapshot's cursors are
// used one at a time), until fn returns an error, the series run out or
// stop is set. err, when not nil, is why series i cannot be read (the
// snapshot did not open, the query was cancelled); fn decides what to do.
func (r *selectRun) workerSeries(g *group, next *atomic.Int64, stop *atomic.Bool, fn func(i int, snap *storage.Snapshot, err error) error) error {
	snap, snapErr := r.e.store.Snapshot()
	if snapErr == nil {
		defer snap.Close()
	}
	for {
		if stop != nil && stop.Load() {
			return nil
		}
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

// Operator: window/aggregate, a group's series split across cores for the
// sketches whose merge is exact (HLL, the quantile sketch, Count-Min).
// When a statement has fewer groups than cores (a whole-range
// approx_count_distinct is one group), the group's series are cut into
// contiguous shares, each folded by its own goroutine into window states
// of its own through a clone of the group's snapshot, and the shares'
// states are merged in share order. The merges are exact, so the states,
// and the answers, are those of one pass, byte for byte. Space-Saving
// merges within its bound but not to one pass's counters, and the exact
// functions' states are left to one core: aggregate.go says why.
package query

import (
	"errors"
	"sync"

	"github.com/strata-db/strata/storage"
)

// minShare is the fewest series a share takes: below it a goroutine, a
// snapshot clone and a merge of the window states cost more than the
// share's cursors and values (a few TSBS series of a day are ~1 ms).
const minShare = 8

// exactSketch tells the calls whose states split across cores.
func exactSketch(name string) bool {
	switch name {
	case "approx_count_distinct", "sketch_count_distinct", "approx_percentile", "approx_median",
		"sketch_percentile", "approx_count", "sketch_count":
		return true
	}
	return false
}

// splitWays is how many shares c's states over g take: 1 unless spare
// cores, an exactly merging sketch and enough stored series of this node.
func (r *selectRun) splitWays(g *group, c *callPlan) int {
	if r.spare < 2 || !exactSketch(c.name) || len(g.series) < 2*minShare {
		return 1
	}
	for _, s := range g.series {
		if s.mem != nil || s.remote != nil || s.snap == nil {
			return 1
		}
	}
	return min(r.spare, len(g.series)/minShare)
}

// splitStates is partialStates over ways contiguous shares of g's series
// folded in parallel, merged in share order.
func (r *selectRun) splitStates(g *group, c *callPlan, ways int) (*windowStates, error) {
	shares := make([][]*seriesRef, ways)
	for i := range shares {
		shares[i] = g.series[i*len(g.series)/ways : (i+1)*len(g.series)/ways]
	}
	// Each share past the first reads through a clone of the group's
	// snapshot: a snapshot serves one goroutine.
	snaps := make([]*storage.Snapshot, ways)
	defer func() {
		for i, sn := range snaps[1:] {
			if sn == nil {
				continue
			}
			for _, s := range shares[i+1] {
				s.snap = g.series[0].snap
			}
			sn.Close()
		}
	}()
	for i := 1; i < ways; i++ {
		sn, err := g.series[0].snap.Clone()
		if err != nil {
			return nil, err
		}
		snaps[i] = sn
		for _, s := range shares[i] {
			s.snap = sn
		}
	}
	var mu sync.Mutex // the group's budget account is one counter
	hold := func(n int64) error {
		mu.Lock()
		defer mu.Unlock()
		return r.holdGroup(g, n)
	}
	states := make([]*windowStates, ways)
	errs := make([]error, ways)
	var wg sync.WaitGroup
	for i := range shares {
		w := newWindowStates(c, r.windowsInRange())
		w.hold = hold
		states[i] = w
		wg.Add(1)
		go func() {
			defer wg.Done()
			var points int64
			defer func() { r.stats.points.Add(points) }()
			for _, s := range shares[i] {
				if err := r.accumulateSeries(s, c, w, &points, r.plan.tr.Min, r.plan.tr.Max); err != nil {
					errs[i] = err
					return
				}
				w.endSeries()
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		if errors.Is(err, errMixedTypes) {
			return nil, errMixedTypes
		}
		return nil, err
	}
	out := states[0]
	for _, w := range states[1:] {
		for _, e := range w.states {
			into, _, err := out.get(e.ws, w.typ)
			if err != nil {
				return nil, err
			}
			if err := into.st.Merge(e.st); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

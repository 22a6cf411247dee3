package partial

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/strata-db/strata/query/funcs"
)

// TestMergeMatchesFuncs is the property the package exists for: for every
// aggregate and every type it accepts, random points split at random places
// into k partials (empty ones included), each fed by columns or block
// statistics, some round-tripped through the encoding, merged in a random
// tree order, give the rows funcs.NewWindowFunc gives for all the points at
// once. Integer, string, boolean and selector results must be identical;
// float sums, means, stddev and integrals within tolerance() (a merge
// rounds once; see sum.go), and bit for bit when nothing was split.
func TestMergeMatchesFuncs(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	iters := 300
	if testing.Short() {
		iters = 40
	}
	for _, c := range calls {
		for _, typ := range allTypes {
			if !accepts(c.name, typ) {
				continue
			}
			name := fmt.Sprintf("%s%v/%s", c.name, c.args, typ)
			wf, err := funcs.NewWindowFunc(c.name, c.args)
			if err != nil {
				t.Fatal(err)
			}
			for it := 0; it < iters; it++ {
				if err := checkOnce(r, c, typ, wf); err != nil {
					t.Fatalf("%s, iteration %d: %v", name, it, err)
				}
			}
		}
	}
}

func checkOnce(r *rand.Rand, c fcall, typ funcs.Type, wf funcs.WindowFunc) error {
	start := []int64{0, 1000, -50}[r.IntN(3)]
	pts := genSeries(r, typ, 40, start, false)
	ws := start
	if r.IntN(2) == 0 && len(pts) > 0 {
		ws = pts[0].Time // the window start edge cases of integral
	}
	want, err := wf(pts, ws)
	if err != nil {
		return fmt.Errorf("funcs: %v", err)
	}

	// One pass, no split: exact for everything but stddev.
	whole, err := New(c.name, typ, c.args...)
	if err != nil {
		return err
	}
	if err := feed(r, whole, pts, false); err != nil {
		return err
	}
	tol := tolerance(c.name, typ, pts, unitOf(c), false)
	exact := 0.0
	if c.name == "stddev" {
		exact = tol
	}
	if err := sameResult(whole.Final(ws), want, exact); err != nil {
		return fmt.Errorf("one pass over %v: %v", pts, err)
	}

	// k partials over contiguous slices (some empty), merged in a random tree.
	k := 1 + r.IntN(6)
	cuts := make([]int, k-1)
	for i := range cuts {
		cuts[i] = r.IntN(len(pts) + 1)
	}
	slices.Sort(cuts)
	cuts = append(append([]int{0}, cuts...), len(pts))
	parts := make([]State, k)
	for i := 0; i < k; i++ {
		s, err := New(c.name, typ, c.args...)
		if err != nil {
			return err
		}
		if err := feed(r, s, pts[cuts[i]:cuts[i+1]], true); err != nil {
			return err
		}
		if r.IntN(2) == 0 {
			if s, err = roundTrip(s); err != nil {
				return err
			}
		}
		parts[i] = s
	}
	// Integral orders partials by time, and two partials holding one and the
	// same time are ordered receiver first: keep sequence order for it.
	merged, err := mergeTree(r, parts, c.name != "integral")
	if err != nil {
		return err
	}
	if err := sameResult(merged.Final(ws), want, tol); err != nil {
		return fmt.Errorf("%d partials at %v of %v: %v", k, cuts, pts, err)
	}
	return nil
}

// TestSeriesMergeMatchesFuncs merges per-series partials of a group the way
// a multi-node or per-core executor would: each series split by time into
// partials, merged, closed with EndSeries, then merged across series. The
// reference is InfluxDB's: for sum and mean the per-series results merged in
// series order (seriesRef), otherwise the window function over the group's
// time-merged points. Integral is excluded: per-series partials overlap in
// time (see integral.go).
func TestSeriesMergeMatchesFuncs(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	iters := 200
	if testing.Short() {
		iters = 30
	}
	for _, c := range calls {
		if c.name == "integral" {
			continue
		}
		for _, typ := range allTypes {
			if !accepts(c.name, typ) {
				continue
			}
			for it := 0; it < iters; it++ {
				if err := checkGroup(r, c, typ); err != nil {
					t.Fatalf("%s%v/%s, iteration %d: %v", c.name, c.args, typ, it, err)
				}
			}
		}
	}
}

func checkGroup(r *rand.Rand, c fcall, typ funcs.Type) error {
	nseries := 1 + r.IntN(3)
	var series [][]funcs.Point
	var all []funcs.Point
	for i := 0; i < nseries; i++ {
		s := genSeries(r, typ, 20, 0, true) // storage keeps one point per time
		series = append(series, s)
		all = append(all, s...)
	}
	// The executor's merge: by time, ties in series order.
	slices.SortStableFunc(all, func(a, b funcs.Point) int {
		switch {
		case a.Time < b.Time:
			return -1
		case a.Time > b.Time:
			return 1
		}
		return 0
	})
	const ws = 0
	var want []funcs.Point
	// exact: one state fed series by series, no merges, gives the reference
	// bit for bit, float sums and means included (what the executor does).
	exact := typ != funcs.String && typ != funcs.Boolean && slices.Contains(
		[]string{"count", "sum", "mean", "min", "max", "first", "last", "spread"}, c.name)
	if c.name == "sum" || c.name == "mean" {
		want = seriesRef(c.name, typ, series, ws)
	} else {
		wf, err := funcs.NewWindowFunc(c.name, c.args)
		if err != nil {
			return err
		}
		if want, err = wf(all, ws); err != nil {
			return err
		}
	}

	if exact {
		one, err := New(c.name, typ, c.args...)
		if err != nil {
			return err
		}
		for _, s := range series {
			if err := feed(r, one, s, false); err != nil {
				return err
			}
			one.EndSeries()
		}
		if err := sameResult(one.Final(ws), want, 0); err != nil {
			return fmt.Errorf("one state over %v: %v", series, err)
		}
	}

	var perSeries []State
	for _, s := range series {
		k := 1 + r.IntN(4)
		var parts []State
		for i := 0; i < k; i++ {
			lo, hi := len(s)*i/k, len(s)*(i+1)/k
			st, err := New(c.name, typ, c.args...)
			if err != nil {
				return err
			}
			if err := feed(r, st, s[lo:hi], true); err != nil {
				return err
			}
			parts = append(parts, st)
		}
		m, err := mergeTree(r, parts, true)
		if err != nil {
			return err
		}
		m.EndSeries()
		if r.IntN(2) == 0 {
			if m, err = roundTrip(m); err != nil {
				return err
			}
		}
		perSeries = append(perSeries, m)
	}
	got, err := mergeTree(r, perSeries, true)
	if err != nil {
		return err
	}
	tol := tolerance(c.name, typ, all, unitOf(c), true)
	if err := sameResult(got.Final(ws), want, tol); err != nil {
		return fmt.Errorf("%d series %v: %v", nseries, series, err)
	}
	return nil
}

// seriesRef is InfluxDB's sum or mean of a group, written out: each
// series' sum (from its first value) or mean (its sum from 0 over its count,
// weighted back by the count), then the per-series results added in series
// order. Integer sums wrap; integer means wrap within a series only.
func seriesRef(name string, typ funcs.Type, series [][]funcs.Point, ws int64) []funcs.Point {
	var fsum, wsum float64
	var isum int64
	var usum uint64
	var n, nSeries int64
	for _, s := range series {
		var f, mf float64
		var i int64
		var u uint64
		var k int64
		for _, p := range s {
			switch x := p.Value.(type) {
			case float64:
				if k == 0 {
					f = x
				} else {
					f += x
				}
				mf += x
			case int64:
				i += x
			case uint64:
				u += x
			default:
				continue
			}
			k++
		}
		if k == 0 {
			continue
		}
		switch typ {
		case funcs.Integer:
			mf = float64(i)
		case funcs.Unsigned:
			mf = float64(u)
		}
		if nSeries == 0 {
			fsum = f
		} else {
			fsum += f
		}
		isum += i
		usum += u
		wsum += mf / float64(k) * float64(k)
		n += k
		nSeries++
	}
	if n == 0 {
		return nil
	}
	if name == "mean" {
		return []funcs.Point{{Time: ws, Value: wsum / float64(n)}}
	}
	switch typ {
	case funcs.Integer:
		return []funcs.Point{{Time: ws, Value: isum}}
	case funcs.Unsigned:
		return []funcs.Point{{Time: ws, Value: usum}}
	}
	return []funcs.Point{{Time: ws, Value: fsum}}
}

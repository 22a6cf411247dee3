package storage

import (
	"fmt"
	"math"
	"math/rand"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// TestIndexCachesAnswerLikePebble runs one random workload (new series, writes to
// existing ones, DROP SERIES, DELETE, restarts) under cache budgets from "nothing
// fits" to "everything fits", and after every step checks the tag index against a
// model of which series exist: tag predicates, tag keys and values, series counts,
// series keys by ID and the write path's series lookups (a write to a known series
// must not create a new one).
func TestIndexCachesAnswerLikePebble(t *testing.T) {
	cases := []struct {
		name           string
		series, posts  int64
		wantEvictions  bool
		wantNoEntries  bool
		reopenEachStep bool
	}{
		{name: "nothing fits", series: 1, posts: 1, wantNoEntries: true},
		{name: "a few entries", series: 8 << 10, posts: 4 << 10, wantEvictions: true},
		{name: "everything fits", series: 64 << 20, posts: 64 << 20},
		{name: "a few entries, restarts", series: 8 << 10, posts: 4 << 10, wantEvictions: true, reopenEachStep: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			opts := Options{SeriesCacheBytes: tc.series, PostingsCacheBytes: tc.posts}
			reg := prometheus.NewRegistry()
			opts.Registerer = reg
			e := openTestEngine(t, dir, opts)
			defer func() { e.Close() }()
			if err := e.CreateDatabase("db", nil); err != nil {
				t.Fatal(err)
			}
			rng := rand.New(rand.NewSource(1))
			model := map[string]map[string]string{} // series string -> tags
			next := 0
			var evicted uint64 // postings evictions of the engines closed so far
			for step := 0; step < 12; step++ {
				switch op := step % 4; op {
				case 0, 1: // new series and points on existing ones
					var pts []pt
					for i := 0; i < 150; i++ {
						tags := map[string]string{"host": fmt.Sprintf("h%d", rng.Intn(12)), "id": fmt.Sprint(next)}
						if next%3 == 0 {
							tags["dc"] = []string{"eu", "us"}[rng.Intn(2)]
						}
						next++
						model[seriesString("cpu", tags)] = tags
						pts = append(pts, pt{"cpu", tags, map[string]any{"v": 1.0}, int64(step + 1)})
					}
					for _, tags := range model {
						if rng.Intn(4) == 0 {
							pts = append(pts, pt{"cpu", tags, map[string]any{"v": 2.0}, int64(step + 1)})
						}
					}
					before, _ := e.SeriesCount(bucketOf(t, e, "db"))
					res, _ := write(t, e, "db", pts...)
					if res.Rejected > 0 {
						t.Fatalf("step %d: rejected %v", step, res.Errors)
					}
					after, _ := e.SeriesCount(bucketOf(t, e, "db"))
					if after-before != 150 {
						t.Fatalf("step %d: %d new series, want 150 (a known series was created again)", step, after-before)
					}
				case 2: // DROP SERIES of one host
					h := fmt.Sprintf("h%d", rng.Intn(12))
					if _, err := e.DropSeries(bucketOf(t, e, "db"), "cpu", &TagExpr{Op: TagEq, Key: "host", Value: h}); err != nil {
						t.Fatal(err)
					}
					for s, tags := range model {
						if tags["host"] == h {
							delete(model, s)
						}
					}
				case 3: // DELETE of every point of the eu series: they leave the index
					if err := e.Delete(bucketOf(t, e, "db"), "cpu", &TagExpr{Op: TagEq, Key: "dc", Value: "eu"}, math.MinInt64, math.MaxInt64); err != nil {
						t.Fatal(err)
					}
					for s, tags := range model {
						if tags["dc"] == "eu" {
							delete(model, s)
						}
					}
				}
				if tc.reopenEachStep || step == 6 {
					evicted += e.idx.postings.evictions.Load()
					if err := e.Close(); err != nil {
						t.Fatal(err)
					}
					reg = prometheus.NewRegistry()
					opts.Registerer = reg
					e = openTestEngine(t, dir, opts)
				}
				checkTagIndex(t, e, fmt.Sprintf("step %d", step), model)
			}
			keys, _ := e.idx.keys.stats()
			posts, n := e.idx.postings.stats()
			if keys > tc.series || posts > tc.posts {
				t.Errorf("caches over budget: series keys %d of %d, postings %d of %d", keys, tc.series, posts, tc.posts)
			}
			if tc.wantNoEntries && n != 0 {
				t.Errorf("%d postings cached with a 1-byte budget", n)
			}
			ev := testutil.ToFloat64(collectorFor(t, reg, "strata_storage_index_cache_evictions_total", "postings"))
			if tc.wantEvictions && ev+float64(evicted) == 0 {
				t.Errorf("no postings evicted with a %d-byte budget", tc.posts)
			}
		})
	}
}

func seriesString(m string, tags map[string]string) string {
	var ks []string
	for k := range tags {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	s := m
	for _, k := range ks {
		s += "," + k + "=" + tags[k]
	}
	return s
}

// checkTagIndex compares the engine's tag index with the model.
func checkTagIndex(t *testing.T, e *Engine, at string, model map[string]map[string]string) {
	t.Helper()
	b := bucketOf(t, e, "db")
	eq := func(k, v string) *TagExpr { return &TagExpr{Op: TagEq, Key: k, Value: v} }
	exprs := []struct {
		expr  *TagExpr
		match func(map[string]string) bool
	}{
		{nil, func(map[string]string) bool { return true }},
		{eq("host", "h3"), func(t map[string]string) bool { return t["host"] == "h3" }},
		{eq("id", "7"), func(t map[string]string) bool { return t["id"] == "7" }},
		{eq("dc", ""), func(t map[string]string) bool { return t["dc"] == "" }},
		{&TagExpr{Op: TagNotEq, Key: "dc", Value: "us"}, func(t map[string]string) bool { return t["dc"] != "us" }},
		{&TagExpr{Op: TagMatch, Key: "host", Regex: regexp.MustCompile("^h1")}, func(t map[string]string) bool { return strings.HasPrefix(t["host"], "h1") }},
		{&TagExpr{Op: TagAnd, LHS: eq("host", "h5"), RHS: eq("dc", "us")}, func(t map[string]string) bool { return t["host"] == "h5" && t["dc"] == "us" }},
	}
	for i, x := range exprs {
		ids, err := e.SeriesIDs(b, "cpu", x.expr)
		if err != nil {
			t.Fatal(err)
		}
		var got, want []string
		ids.Iterate(func(id uint32) bool {
			m, tags, ok := e.Series(SeriesID(id))
			if !ok {
				t.Fatalf("%s: expr %d: series %d has no key", at, i, id)
			}
			tm := map[string]string{}
			for _, tg := range tags {
				tm[string(tg.Key)] = string(tg.Value)
			}
			got = append(got, seriesString(string(m), tm))
			return true
		})
		for s, tags := range model {
			if x.match(tags) {
				want = append(want, s)
			}
		}
		sort.Strings(got)
		sort.Strings(want)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("%s: expr %d: got %d series, want %d\ngot  %v\nwant %v", at, i, len(got), len(want), got, want)
		}
	}
	if n, _ := e.SeriesCount(b); n != len(model) {
		t.Fatalf("%s: series count %d, want %d", at, n, len(model))
	}
	wantVals := map[string]map[string]int{}
	for _, tags := range model {
		for k, v := range tags {
			if wantVals[k] == nil {
				wantVals[k] = map[string]int{}
			}
			wantVals[k][v]++
		}
	}
	keys, err := e.TagKeys(b, "cpu")
	if err != nil {
		t.Fatal(err)
	}
	var wantKeys []string
	for k := range wantVals {
		wantKeys = append(wantKeys, k)
	}
	sort.Strings(wantKeys)
	if fmt.Sprint(keys) != fmt.Sprint(wantKeys) {
		t.Fatalf("%s: tag keys %v, want %v", at, keys, wantKeys)
	}
	for _, k := range []string{"host", "dc"} {
		vals, bms, err := e.TagValues(b, "cpu", k)
		if err != nil {
			t.Fatal(err)
		}
		if len(vals) != len(wantVals[k]) {
			t.Fatalf("%s: %s has values %v, want %v", at, k, vals, wantVals[k])
		}
		for i, v := range vals {
			if int(bms[i].GetCardinality()) != wantVals[k][v] {
				t.Fatalf("%s: %s=%s has %d series, want %d", at, k, v, bms[i].GetCardinality(), wantVals[k][v])
			}
		}
	}
}

func collectorFor(t *testing.T, reg *prometheus.Registry, name, cache string) prometheus.Collector {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "cache" && l.GetValue() == cache {
					return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "x"}, func() float64 { return m.GetCounter().GetValue() })
				}
			}
		}
	}
	t.Fatalf("no metric %s{cache=%q}", name, cache)
	return nil
}

// TestLRUBudget checks the cache's accounting: it never holds more than its
// budget, evicts least recently used first, and refuses entries over an eighth.
func TestLRUBudget(t *testing.T) {
	c := newLRU("t", 10*(lruEntryOverhead+2+4), func(int) int64 { return 4 })
	for i := 0; i < 10; i++ {
		c.put([]byte(fmt.Sprintf("%02d", i)), i)
	}
	if _, ok := c.get([]byte("00")); !ok { // 00 becomes the most recent
		t.Fatal("00 evicted before the budget was reached")
	}
	c.put([]byte("10"), 10) // evicts 01, the least recently used
	if _, ok := c.get([]byte("01")); ok {
		t.Fatal("01 still cached")
	}
	if v, ok := c.get([]byte("00")); !ok || v != 0 {
		t.Fatal("00 evicted although recently used")
	}
	if b, n := c.stats(); b > c.budget || n != 10 {
		t.Fatalf("%d bytes in %d entries, budget %d", b, n, c.budget)
	}
	c.update([]byte("00"), func(v int) int { return v + 100 })
	if v, _ := c.get([]byte("00")); v != 100 {
		t.Fatalf("update: %d", v)
	}
	big := newLRU("big", 8*lruEntryOverhead, func(v int) int64 { return int64(v) })
	big.put([]byte("k"), 1<<20)
	if _, n := big.stats(); n != 0 {
		t.Fatal("an entry over an eighth of the budget was cached")
	}
	c.removePrefix([]byte("0"))
	if _, n := c.stats(); n != 1 {
		t.Fatalf("removePrefix left %d entries, want 1 (10)", n)
	}
}

// TestConcurrentWritersCreateEachSeriesOnce has writers race to create the same
// new series with caches too small to remember them: each key must get one ID
// (Add's "absent" answer is reused by resolve only while no series was added).
func TestConcurrentWritersCreateEachSeriesOnce(t *testing.T) {
	e := openTestEngine(t, t.TempDir(), Options{SeriesCacheBytes: 1, PostingsCacheBytes: 1})
	defer e.Close()
	if err := e.CreateDatabase("db", nil); err != nil {
		t.Fatal(err)
	}
	const writers, rounds, perRound = 4, 20, 50
	errs := make(chan error, writers)
	for w := 0; w < writers; w++ {
		go func(w int) {
			for r := 0; r < rounds; r++ {
				b, err := e.NewBatch(bucketOf(t, e, "db"))
				if err != nil {
					errs <- err
					return
				}
				for i := 0; i < perRound; i++ {
					// Every writer writes the same keys of round r, in its own order.
					k := (i*(w+1) + w) % perRound
					tags := []Tag{{Key: []byte("k"), Value: []byte(fmt.Sprintf("%d-%d", r, k))}}
					if err := b.Add([]byte("m"), tags, []FieldValue{{Key: []byte("v"), Type: Float, Float: 1}}, int64(w+1)); err != nil {
						errs <- err
						return
					}
				}
				if _, err := e.Write(b); err != nil {
					errs <- err
					return
				}
				b.Release()
			}
			errs <- nil
		}(w)
	}
	for w := 0; w < writers; w++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	n, _ := e.SeriesCount(bucketOf(t, e, "db"))
	if n != rounds*perRound {
		t.Fatalf("%d series for %d keys: a key was created twice", n, rounds*perRound)
	}
	vals, bms, err := e.TagValues(bucketOf(t, e, "db"), "m", "k")
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range vals {
		if bms[i].GetCardinality() != 1 {
			t.Fatalf("k=%s has %d series", v, bms[i].GetCardinality())
		}
	}
}

// TestTagKeysFollowSeries: TagKeys is cached per measurement; a new series
// with a new tag key and the drop of the last series holding a key both show
// in the next answer.
func TestTagKeysFollowSeries(t *testing.T) {
	e := openTestEngine(t, t.TempDir(), Options{})
	defer e.Close()
	e.CreateDatabase("db", nil)
	b := bucketOf(t, e, "db")
	keys := func() string {
		t.Helper()
		k, err := e.TagKeys(b, "cpu")
		if err != nil {
			t.Fatal(err)
		}
		return fmt.Sprint(k)
	}
	write(t, e, "db", pt{"cpu", map[string]string{"host": "a"}, map[string]any{"v": 1.0}, 1})
	if got := keys(); got != "[host]" {
		t.Fatalf("tag keys %s, want [host]", got)
	}
	keys() // answered from the cache
	write(t, e, "db", pt{"cpu", map[string]string{"host": "b", "dc": "eu"}, map[string]any{"v": 1.0}, 1})
	if got := keys(); got != "[dc host]" {
		t.Fatalf("after a series with dc: tag keys %s, want [dc host]", got)
	}
	if _, err := e.DropSeries(b, "cpu", &TagExpr{Op: TagEq, Key: "dc", Value: "eu"}); err != nil {
		t.Fatal(err)
	}
	if got := keys(); got != "[host]" {
		t.Fatalf("after dropping the dc series: tag keys %s, want [host]", got)
	}
}

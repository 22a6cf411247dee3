package query

import (
	"context"
	"fmt"
	"math"
	"math/rand"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/strata-db/strata/query/influxql"
	"github.com/strata-db/strata/storage"
)

// The tests in this file check SELECT against expectations computed here, by plain
// loops over the points the test wrote (a model of the stored data), never by
// calling the code under test. Every query runs through Executor.Execute on a real
// storage engine.

// selSeries is one series of the model: its field values by time. Writing the
// same timestamp again replaces the value, as the engine does (last write wins).
type selSeries struct {
	m      string
	tags   map[string]string
	fields map[string]map[int64]any
}

// selPt is one point to write.
type selPt struct {
	m      string
	tags   map[string]string
	t      int64
	fields map[string]any
}

// selEnv is a storage engine, an executor over it, and the model of what was
// written to database "db".
type selEnv struct {
	eng    *storage.Engine
	ex     *Executor
	series map[string]*selSeries
	now    time.Time
	cache  map[string][]selRow // rows by measurement, all times; reset by write
}

func newSelEnv(t testing.TB, limits Limits) *selEnv {
	t.Helper()
	eng := openMetaEngine(t)
	if err := eng.CreateDatabase("db", nil); err != nil {
		t.Fatal(err)
	}
	return &selEnv{
		eng:    eng,
		ex:     NewExecutor(eng, nil, limits),
		series: map[string]*selSeries{},
		now:    time.Unix(0, t0).Add(365 * 24 * time.Hour),
	}
}

func selKey(m string, tags map[string]string) string {
	keys := make([]string, 0, len(tags))
	for k := range tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	s := m
	for _, k := range keys {
		s += "," + k + "=" + tags[k]
	}
	return s
}

func (env *selEnv) write(t testing.TB, pts ...selPt) {
	t.Helper()
	b, err := env.eng.Bucket("db", "")
	if err != nil {
		t.Fatal(err)
	}
	batch, err := env.eng.NewBatch(b)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pts {
		keys := make([]string, 0, len(p.tags))
		for k := range p.tags {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var tags []storage.Tag
		for _, k := range keys {
			tags = append(tags, storage.Tag{Key: []byte(k), Value: []byte(p.tags[k])})
		}
		fnames := make([]string, 0, len(p.fields))
		for f := range p.fields {
			fnames = append(fnames, f)
		}
		sort.Strings(fnames)
		var fields []storage.FieldValue
		for _, f := range fnames {
			fields = append(fields, metaField(f, p.fields[f]))
		}
		if err := batch.Add([]byte(p.m), tags, fields, p.t); err != nil {
			t.Fatal(err)
		}
		env.cache = nil
		key := selKey(p.m, p.tags)
		s := env.series[key]
		if s == nil {
			s = &selSeries{m: p.m, tags: p.tags, fields: map[string]map[int64]any{}}
			env.series[key] = s
		}
		for f, v := range p.fields {
			if s.fields[f] == nil {
				s.fields[f] = map[int64]any{}
			}
			s.fields[f][p.t] = v
		}
	}
	if _, err := env.eng.Write(batch); err != nil {
		t.Fatal(err)
	}
}

// run executes q (one statement) and returns its series or its error text.
func (env *selEnv) run(t testing.TB, q string) ([]*ResultSeries, string) {
	t.Helper()
	res := env.runResult(t, q)
	return res.Series, res.Err
}

func (env *selEnv) runResult(t testing.TB, q string) *StatementResult {
	t.Helper()
	parsed, err := influxql.ParseQuery(q)
	if err != nil {
		t.Fatalf("parse %q: %v", q, err)
	}
	var c Collector
	if err := env.ex.Execute(context.Background(), parsed, ExecOptions{Database: "db", Now: env.now}, &c); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	if len(c.Results) == 0 {
		return nil
	}
	return c.Results[0]
}

func (env *selEnv) mustRun(t testing.TB, q string) []*ResultSeries {
	t.Helper()
	s, e := env.run(t, q)
	if e != "" {
		t.Fatalf("%s: %s", q, e)
	}
	return s
}

// selRow is one model row: a timestamp of one series with all its field values.
type selRow struct {
	t      int64
	s      *selSeries
	fields map[string]any
}

func (r selRow) get(name string) any {
	if v, ok := r.fields[name]; ok {
		return v
	}
	if v, ok := r.s.tags[name]; ok {
		return v
	}
	return nil
}

// rows returns the model rows of measurement m within [min, max] of the series
// keep accepts, ordered by time then series key.
func (env *selEnv) rows(m string, min, max int64, keep func(*selSeries) bool) []selRow {
	all, ok := env.cache[m]
	if !ok {
		all = env.allRows(m)
		if env.cache == nil {
			env.cache = map[string][]selRow{}
		}
		env.cache[m] = all
	}
	var out []selRow
	for _, r := range all {
		if r.t >= min && r.t <= max && (keep == nil || keep(r.s)) {
			out = append(out, r)
		}
	}
	return out
}

func (env *selEnv) allRows(m string) []selRow {
	var out []selRow
	for _, key := range env.sortedKeys() {
		s := env.series[key]
		if s.m != m {
			continue
		}
		byTime := map[int64]map[string]any{}
		for f, vals := range s.fields {
			for ts, v := range vals {
				if byTime[ts] == nil {
					byTime[ts] = map[string]any{}
				}
				byTime[ts][f] = v
			}
		}
		for ts, fs := range byTime {
			out = append(out, selRow{t: ts, s: s, fields: fs})
		}
	}
	// Series were appended in key order: a stable sort by time keeps it for ties.
	sort.SliceStable(out, func(i, j int) bool { return out[i].t < out[j].t })
	return out
}

func (env *selEnv) sortedKeys() []string {
	keys := make([]string, 0, len(env.series))
	for k := range env.series {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// ---- comparison ----

// selEqual compares two values: same Go type, floats within a relative 1e-9
// (summation order may differ), NaN never expected.
func selEqual(got, want any) bool {
	if g, ok := got.(int); ok {
		got = int64(g)
	}
	switch w := want.(type) {
	case float64:
		g, ok := got.(float64)
		if !ok {
			return false
		}
		d := math.Abs(g - w)
		return d <= 1e-9 || d <= 1e-9*math.Max(math.Abs(g), math.Abs(w))
	default:
		return got == want
	}
}

func fmtSeries(ss []*ResultSeries) string {
	var b strings.Builder
	for _, s := range ss {
		fmt.Fprintf(&b, "%s %v %v\n", s.Name, s.Tags, s.Columns)
		for i, r := range s.Rows {
			if i == 40 {
				fmt.Fprintf(&b, "  ... %d rows\n", len(s.Rows))
				break
			}
			fmt.Fprintf(&b, "  %s", time.Unix(0, r.Time).UTC().Format(time.RFC3339Nano))
			for _, v := range r.Values {
				fmt.Fprintf(&b, " %T(%v)", v, v)
			}
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// checkSeries fails t when got and want differ; empty and nil tags are equal.
func checkSeries(t testing.TB, q string, got, want []*ResultSeries) {
	t.Helper()
	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf("%s\n%s\ngot:\n%swant:\n%s", q, fmt.Sprintf(format, args...), fmtSeries(got), fmtSeries(want))
	}
	if len(got) != len(want) {
		fail("got %d series, want %d", len(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.Name != w.Name || fmt.Sprint(g.Columns) != fmt.Sprint(w.Columns) || len(g.Tags)+len(w.Tags) > 0 && fmt.Sprint(g.Tags) != fmt.Sprint(w.Tags) {
			fail("series %d: got %s %v %v, want %s %v %v", i, g.Name, g.Tags, g.Columns, w.Name, w.Tags, w.Columns)
		}
		if len(g.Rows) != len(w.Rows) {
			fail("series %d: got %d rows, want %d", i, len(g.Rows), len(w.Rows))
		}
		for j := range w.Rows {
			gr, wr := g.Rows[j], w.Rows[j]
			if gr.Time != wr.Time || len(gr.Values) != len(wr.Values) {
				fail("series %d row %d: got %d %v, want %d %v", i, j, gr.Time, gr.Values, wr.Time, wr.Values)
			}
			for k := range wr.Values {
				if !selEqual(gr.Values[k], wr.Values[k]) {
					fail("series %d row %d col %s: got %T(%v), want %T(%v)", i, j, w.Columns[k+1], gr.Values[k], gr.Values[k], wr.Values[k], wr.Values[k])
				}
			}
		}
	}
}

// ---- reference aggregates: plain loops over the model's values ----

func floorDivT(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

func asFloat(v any) float64 {
	switch x := v.(type) {
	case float64:
		return x
	case int64:
		return float64(x)
	}
	panic(fmt.Sprintf("not a number: %T", v))
}

// refAgg computes InfluxDB 1.x's answer of aggregate name over pts (time order):
// its value and the time of the selected point for selectors. ok is false when
// the function yields no row.
func refAgg(name string, pts []selRow, field string, arg float64) (val any, at int64, ok bool) {
	var vals []any
	var times []int64
	for _, r := range pts {
		if v, has := r.fields[field]; has {
			vals = append(vals, v)
			times = append(times, r.t)
		}
	}
	n := len(vals)
	if n == 0 {
		return nil, 0, false
	}
	_, isInt := vals[0].(int64)
	switch name {
	case "count":
		return int64(n), 0, true
	case "sum":
		if isInt {
			s := int64(0)
			for _, v := range vals {
				s += v.(int64)
			}
			return s, 0, true
		}
		s := 0.0
		for _, v := range vals {
			s += v.(float64)
		}
		return s, 0, true
	case "mean":
		s := 0.0
		for _, v := range vals {
			s += asFloat(v)
		}
		return s / float64(n), 0, true
	case "min", "max":
		best := 0
		for i := 1; i < n; i++ {
			a, b := asFloat(vals[i]), asFloat(vals[best])
			if name == "min" && a < b || name == "max" && a > b {
				best = i
			}
		}
		return vals[best], times[best], true
	case "first":
		return vals[0], times[0], true
	case "last":
		return vals[n-1], times[n-1], true
	case "spread":
		lo, hi := vals[0], vals[0]
		for _, v := range vals {
			if asFloat(v) < asFloat(lo) {
				lo = v
			}
			if asFloat(v) > asFloat(hi) {
				hi = v
			}
		}
		if isInt {
			return hi.(int64) - lo.(int64), 0, true
		}
		return hi.(float64) - lo.(float64), 0, true
	case "median":
		f := make([]float64, n)
		for i, v := range vals {
			f[i] = asFloat(v)
		}
		sort.Float64s(f)
		if n%2 == 1 {
			return f[n/2], 0, true
		}
		return (f[n/2-1] + f[n/2]) / 2, 0, true
	case "percentile":
		idx := make([]int, n)
		for i := range idx {
			idx[i] = i
		}
		sort.SliceStable(idx, func(a, b int) bool { return asFloat(vals[idx[a]]) < asFloat(vals[idx[b]]) })
		i := int(math.Floor(float64(n)*arg/100+0.5)) - 1
		if i < 0 || i >= n {
			return nil, 0, false
		}
		return vals[idx[i]], times[idx[i]], true
	case "stddev":
		if n < 2 {
			return nil, 0, true
		}
		mean := 0.0
		for _, v := range vals {
			mean += asFloat(v)
		}
		mean /= float64(n)
		ss := 0.0
		for _, v := range vals {
			d := asFloat(v) - mean
			ss += d * d
		}
		return math.Sqrt(ss / float64(n-1)), 0, true
	case "count_distinct":
		seen := map[any]bool{}
		for _, v := range vals {
			seen[v] = true
		}
		return int64(len(seen)), 0, true
	}
	panic("refAgg: unknown " + name)
}

// refDistinct returns the distinct values of field, ascending.
func refDistinct(pts []selRow, field string) []any {
	seen := map[int64]bool{}
	var out []int64
	for _, r := range pts {
		if v, ok := r.fields[field].(int64); ok && !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	// pts are in time order, so out is in first-seen order, as 1.x emits them
	// (the data set has no two points at one time).
	res := make([]any, len(out))
	for i, v := range out {
		res[i] = v
	}
	return res
}

// ---- the random data set ----

const (
	selHour = int64(time.Hour)
)

// cpuData writes measurement cpu: hosts h0..h3 in regions r0/r1, float x, integer
// i (0..49, so distinct values repeat), a sparse float y; points every 20-80 s over
// two hours with a per-series nanosecond offset, so no two series share a time,
// and a 20-minute hole in h2.
func cpuData(t testing.TB, env *selEnv, seed int64) {
	rng := rand.New(rand.NewSource(seed))
	var pts []selPt
	for h := 0; h < 4; h++ {
		tags := map[string]string{"host": fmt.Sprintf("h%d", h), "region": fmt.Sprintf("r%d", h%2)}
		for ts := t0 + int64(h)*int64(time.Millisecond); ts < t0+2*selHour; ts += int64(20+rng.Intn(60)) * int64(time.Second) {
			if h == 2 && ts > t0+30*int64(time.Minute) && ts < t0+50*int64(time.Minute) {
				continue
			}
			f := map[string]any{"x": math.Round(rng.Float64()*10000) / 100, "i": int64(rng.Intn(50))}
			if rng.Intn(4) == 0 {
				f["y"] = rng.NormFloat64()
			}
			pts = append(pts, selPt{m: "cpu", tags: tags, t: ts, fields: f})
		}
	}
	env.write(t, pts...)
}

// selWindow is the UTC GROUP BY time window start of ts.
func selWindow(ts, iv, off int64) int64 { return floorDivT(ts-off, iv)*iv + off }

// TestSelectAggregates checks every aggregate and selector over random data,
// ungrouped, by time, by tag and both, under tag and field conditions.
func TestSelectAggregates(t *testing.T) {
	env := newSelEnv(t, Limits{})
	cpuData(t, env, 1)
	min, max := t0, t0+2*selHour-1
	rangeCond := fmt.Sprintf("time >= %d AND time < %d", t0, t0+2*selHour)

	wheres := []struct {
		cond string
		keep func(r selRow) bool
	}{
		{"", func(selRow) bool { return true }},
		{"host = 'h1'", func(r selRow) bool { return r.s.tags["host"] == "h1" }},
		{"host != 'h1'", func(r selRow) bool { return r.s.tags["host"] != "h1" }},
		{"host =~ /h[12]/", func(r selRow) bool { return r.s.tags["host"] == "h1" || r.s.tags["host"] == "h2" }},
		{"host !~ /^h[01]$/", func(r selRow) bool { return r.s.tags["host"] != "h0" && r.s.tags["host"] != "h1" }},
		{"(host = 'h0' OR region = 'r1') AND host != 'h3'", func(r selRow) bool {
			h := r.s.tags["host"]
			return (h == "h0" || r.s.tags["region"] == "r1") && h != "h3"
		}},
		{"x > 50", func(r selRow) bool { v, ok := r.fields["x"].(float64); return ok && v > 50 }},
		{"i < 20 OR x >= 90", func(r selRow) bool {
			i, iok := r.fields["i"].(int64)
			x, xok := r.fields["x"].(float64)
			return iok && i < 20 || xok && x >= 90
		}},
		{"region = 'r0' AND i >= 10", func(r selRow) bool {
			i, ok := r.fields["i"].(int64)
			return r.s.tags["region"] == "r0" && ok && i >= 10
		}},
	}
	calls := []struct {
		expr, name, field, col string
		arg                    float64
	}{
		{"count(x)", "count", "x", "count", 0},
		{"count(y)", "count", "y", "count", 0},
		{"sum(x)", "sum", "x", "sum", 0},
		{"sum(i)", "sum", "i", "sum", 0},
		{"mean(x)", "mean", "x", "mean", 0},
		{"mean(i)", "mean", "i", "mean", 0},
		{"min(x)", "min", "x", "min", 0},
		{"max(x)", "max", "x", "max", 0},
		{"first(x)", "first", "x", "first", 0},
		{"last(i)", "last", "i", "last", 0},
		{"spread(x)", "spread", "x", "spread", 0},
		{"spread(i)", "spread", "i", "spread", 0},
		{"median(x)", "median", "x", "median", 0},
		{"median(i)", "median", "i", "median", 0},
		{"percentile(x, 90)", "percentile", "x", "percentile", 90},
		{"percentile(x, 5)", "percentile", "x", "percentile", 5},
		{"stddev(x)", "stddev", "x", "stddev", 0},
		{"stddev(y)", "stddev", "y", "stddev", 0},
		{"count(distinct(i))", "count_distinct", "i", "count", 0},
		{"distinct(i)", "distinct", "i", "distinct", 0},
	}
	groupings := []struct {
		clause   string
		interval int64
		byHost   bool
	}{
		{"", 0, false},
		{"GROUP BY time(10m) fill(none)", int64(10 * time.Minute), false},
		{"GROUP BY host", 0, true},
		{"GROUP BY time(25m), host fill(none)", int64(25 * time.Minute), true},
	}
	all := env.rows("cpu", min, max, nil)
	queries, wantRows := 0, 0
	for _, w := range wheres {
		var rows []selRow
		for _, r := range all {
			if w.keep(r) {
				rows = append(rows, r)
			}
		}
		for _, g := range groupings {
			// Group the model rows: by host if asked, then by window.
			byGroup := map[string][]selRow{}
			var groupKeys []string
			for _, r := range rows {
				k := ""
				if g.byHost {
					k = r.s.tags["host"]
				}
				if _, ok := byGroup[k]; !ok {
					groupKeys = append(groupKeys, k)
				}
				byGroup[k] = append(byGroup[k], r)
			}
			sort.Strings(groupKeys)
			for _, c := range calls {
				cond := rangeCond
				if w.cond != "" {
					cond = "(" + w.cond + ") AND " + rangeCond
				}
				q := fmt.Sprintf("SELECT %s FROM cpu WHERE %s %s", c.expr, cond, g.clause)
				var want []*ResultSeries
				for _, k := range groupKeys {
					var tags map[string]string
					if g.byHost {
						tags = map[string]string{"host": k}
					}
					rs := &ResultSeries{Name: "cpu", Tags: tags, Columns: []string{"time", c.col}}
					windows := map[int64][]selRow{}
					var starts []int64
					for _, r := range byGroup[k] {
						ws := min
						if g.interval > 0 {
							ws = selWindow(r.t, g.interval, 0)
						}
						if _, ok := windows[ws]; !ok {
							starts = append(starts, ws)
						}
						windows[ws] = append(windows[ws], r)
					}
					sort.Slice(starts, func(i, j int) bool { return starts[i] < starts[j] })
					for _, ws := range starts {
						if c.name == "distinct" {
							for _, v := range refDistinct(windows[ws], c.field) {
								rs.Rows = append(rs.Rows, Row{Time: ws, Values: []any{v}})
							}
							continue
						}
						v, at, ok := refAgg(c.name, windows[ws], c.field, c.arg)
						if !ok {
							continue
						}
						ts := ws
						if g.interval == 0 && (c.name == "min" || c.name == "max" || c.name == "first" || c.name == "last" || c.name == "percentile") {
							ts = at // a lone selector keeps its point's time
						}
						rs.Rows = append(rs.Rows, Row{Time: ts, Values: []any{v}})
					}
					if len(rs.Rows) > 0 {
						want = append(want, rs)
					}
				}
				checkSeries(t, q, env.mustRun(t, q), want)
				queries++
				for _, rs := range want {
					wantRows += len(rs.Rows)
				}
			}
		}
	}
	if queries < 500 || wantRows < 10000 {
		t.Fatalf("only %d queries ran, expecting %d rows", queries, wantRows)
	}
}

// refFill computes GROUP BY time output of one aggregate over rows with fill:
// every window from the one holding min to the one holding max, InfluxDB 1.x's
// fill rules for the empty ones (fill is "null", "none", "previous", "linear" or a
// number; count prints 0 for null).
func refFill(rows []selRow, fn, field string, min, max, iv, off int64, fill string) []Row {
	first, last := selWindow(min, iv, off), selWindow(max, iv, off)
	type win struct {
		ws  int64
		val any
	}
	var wins []win
	for ws := first; ws <= last; ws += iv {
		var in []selRow
		for _, r := range rows {
			if r.t >= ws && r.t < ws+iv && r.t >= min && r.t <= max {
				in = append(in, r)
			}
		}
		v, _, ok := refAgg(fn, in, field, 0)
		if !ok {
			v = nil
		}
		wins = append(wins, win{ws, v})
	}
	outInt := fn == "count" || fn == "sum" && field == "i"
	var out []Row
	var prev any
	for k, w := range wins {
		v := w.val
		if v == nil {
			switch fill {
			case "none":
				continue
			case "null":
				if fn == "count" {
					v = int64(0)
				}
			case "previous":
				v = prev
			case "linear":
				lo, hi := -1, -1
				for j := k - 1; j >= 0 && lo < 0; j-- {
					if wins[j].val != nil {
						lo = j
					}
				}
				for j := k + 1; j < len(wins) && hi < 0; j++ {
					if wins[j].val != nil {
						hi = j
					}
				}
				if lo >= 0 && hi >= 0 {
					m := (asFloat(wins[hi].val) - asFloat(wins[lo].val)) / float64(wins[hi].ws-wins[lo].ws)
					f := m*float64(w.ws-wins[lo].ws) + asFloat(wins[lo].val)
					if outInt {
						v = int64(f)
					} else {
						v = f
					}
				}
			default:
				var num float64
				fmt.Sscan(fill, &num)
				if outInt {
					v = int64(num)
				} else {
					v = num
				}
			}
		} else {
			prev = v
		}
		out = append(out, Row{Time: w.ws, Values: []any{v}})
	}
	return out
}

// TestSelectFillEdges checks every fill mode where windows are hard: the range
// starting and ending inside a window, empty first and last windows, a gap in the
// middle, offsets, negative offsets, and a series with no point in the range.
func TestSelectFillEdges(t *testing.T) {
	env := newSelEnv(t, Limits{})
	rng := rand.New(rand.NewSource(2))
	minute := int64(time.Minute)
	var pts []selPt
	a := map[string]string{"host": "a"}
	for _, span := range [][2]int64{{2, 3}, {21, 39}, {51, 52}, {63, 77}, {97, 99}} {
		for m := span[0]; m < span[1]; m++ {
			ts := t0 + m*minute + int64(rng.Intn(50))*int64(time.Second)
			pts = append(pts, selPt{m: "cpu", tags: a, t: ts, fields: map[string]any{"x": float64(rng.Intn(1000)) / 10, "i": int64(rng.Intn(100))}})
		}
	}
	// Host b has points only before the range: no series for it.
	pts = append(pts, selPt{m: "cpu", tags: map[string]string{"host": "b"}, t: t0 + minute, fields: map[string]any{"x": 1.0, "i": int64(1)}})
	env.write(t, pts...)

	min, max := t0+5*minute, t0+95*minute-1
	rows := env.rows("cpu", min, max, func(s *selSeries) bool { return s.tags["host"] == "a" })
	if len(rows) < 30 {
		t.Fatalf("only %d rows in range", len(rows))
	}
	type fnCase struct{ expr, fn, field, col string }
	fns := []fnCase{
		{"mean(x)", "mean", "x", "mean"},
		{"count(x)", "count", "x", "count"},
		{"sum(i)", "sum", "i", "sum"},
		{"max(x)", "max", "x", "max"},
	}
	windows := []struct {
		clause  string
		iv, off int64
	}{
		{"time(10m)", 10 * minute, 0},
		{"time(10m, 3m)", 10 * minute, 3 * minute},
		{"time(10m, -3m)", 10 * minute, -3 * minute},
		{"time(7m)", 7 * minute, 0},
		{"time(30m, 20m)", 30 * minute, 20 * minute},
	}
	for _, fill := range []string{"null", "none", "previous", "linear", "7", "2.5"} {
		for _, w := range windows {
			for _, f := range fns {
				fillClause := " fill(" + fill + ")"
				if fill == "null" && f.fn == "mean" {
					fillClause = "" // the default
				}
				q := fmt.Sprintf("SELECT %s FROM cpu WHERE time >= %d AND time < %d GROUP BY %s, host%s",
					f.expr, min, max+1, w.clause, fillClause)
				want := []*ResultSeries{{Name: "cpu", Tags: a, Columns: []string{"time", f.col},
					Rows: refFill(rows, f.fn, f.field, min, max, w.iv, w.off, fill)}}
				checkSeries(t, q, env.mustRun(t, q), want)
			}
		}
	}
}

// TestSelectTimeZoneDST checks tz('Europe/Berlin') across both 2024 DST changes:
// GROUP BY time(1d) windows start at local midnight, so the last Sunday of March
// has 23 hours and that of October 25; times print with the offset of the day;
// GROUP BY time(1h) keeps hourly windows through the change.
func TestSelectTimeZoneDST(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skip("no tzdata:", err)
	}
	env := newSelEnv(t, Limits{})
	step := 20 * time.Minute
	var pts []selPt
	for _, start := range []time.Time{
		time.Date(2024, 3, 28, 12, 0, 0, 0, time.UTC),
		time.Date(2024, 10, 24, 12, 0, 0, 0, time.UTC),
	} {
		for ts, k := start, int64(0); ts.Before(start.Add(5 * 24 * time.Hour)); ts, k = ts.Add(step), k+1 {
			pts = append(pts, selPt{m: "cpu", tags: map[string]string{"host": "a"}, t: ts.UnixNano(), fields: map[string]any{"i": k % 13}})
		}
	}
	env.write(t, pts...)
	rows := env.rows("cpu", math.MinInt64, math.MaxInt64, nil)

	for _, c := range []struct {
		name     string
		from, to time.Time // local midnights
		days     []int     // expected window lengths in hours
	}{
		{"spring", time.Date(2024, 3, 29, 0, 0, 0, 0, berlin), time.Date(2024, 4, 2, 0, 0, 0, 0, berlin), []int{24, 24, 23, 24}},
		{"autumn", time.Date(2024, 10, 25, 0, 0, 0, 0, berlin), time.Date(2024, 10, 29, 0, 0, 0, 0, berlin), []int{24, 24, 25, 24}},
	} {
		t.Run(c.name+"/1d", func(t *testing.T) {
			q := fmt.Sprintf("SELECT count(i), sum(i) FROM cpu WHERE time >= %d AND time < %d GROUP BY time(1d) tz('Europe/Berlin')",
				c.from.UnixNano(), c.to.UnixNano())
			var want []Row
			var js []string
			for d, day := 0, c.from; day.Before(c.to); d, day = d+1, day.AddDate(0, 0, 1) {
				next := day.AddDate(0, 0, 1)
				if h := int(next.Sub(day) / time.Hour); h != c.days[d] {
					t.Fatalf("%v has %d hours, want %d", day, h, c.days[d])
				}
				n, sum := int64(0), int64(0)
				for _, r := range rows {
					if r.t >= day.UnixNano() && r.t < next.UnixNano() {
						n++
						sum += r.fields["i"].(int64)
					}
				}
				if n != int64(c.days[d]*3) {
					t.Fatalf("%v: model has %d points", day, n)
				}
				want = append(want, Row{Time: day.UnixNano(), Values: []any{n, sum}})
				js = append(js, fmt.Sprintf(`["%s",%d,%d]`, day.Format(time.RFC3339), n, sum))
			}
			res := env.runResult(t, q)
			if res.Err != "" {
				t.Fatal(res.Err)
			}
			checkSeries(t, q, res.Series, []*ResultSeries{{Name: "cpu", Columns: []string{"time", "count", "sum"}, Rows: want}})
			wantJSON := `{"results":[{"statement_id":0,"series":[{"name":"cpu","columns":["time","count","sum"],"values":[` +
				strings.Join(js, ",") + `]}]}]}`
			if got := renderJSON(t, res); got != wantJSON {
				t.Fatalf("rendered:\n%s\nwant:\n%s", got, wantJSON)
			}
		})
		t.Run(c.name+"/1h", func(t *testing.T) {
			// The 6 hours around the change, in UTC hours.
			mid := c.from.AddDate(0, 0, 2).Add(-3 * time.Hour) // local 21:00 before the change day
			from, to := mid.Add(4*time.Hour), mid.Add(10*time.Hour)
			q := fmt.Sprintf("SELECT count(i) FROM cpu WHERE time >= %d AND time < %d GROUP BY time(1h) tz('Europe/Berlin')",
				from.UnixNano(), to.UnixNano())
			var want []Row
			var js []string
			offsets := map[string]bool{}
			for h := from; h.Before(to); h = h.Add(time.Hour) {
				n := int64(0)
				for _, r := range rows {
					if r.t >= h.UnixNano() && r.t < h.Add(time.Hour).UnixNano() {
						n++
					}
				}
				want = append(want, Row{Time: h.UnixNano(), Values: []any{n}})
				s := h.In(berlin).Format(time.RFC3339)
				offsets[s[len(s)-6:]] = true
				js = append(js, fmt.Sprintf(`["%s",%d]`, s, n))
			}
			if !offsets["+01:00"] || !offsets["+02:00"] {
				t.Fatalf("hours do not cross the change: %v", js)
			}
			res := env.runResult(t, q)
			if res.Err != "" {
				t.Fatal(res.Err)
			}
			checkSeries(t, q, res.Series, []*ResultSeries{{Name: "cpu", Columns: []string{"time", "count"}, Rows: want}})
			wantJSON := `{"results":[{"statement_id":0,"series":[{"name":"cpu","columns":["time","count"],"values":[` +
				strings.Join(js, ",") + `]}]}]}`
			if got := renderJSON(t, res); got != wantJSON {
				t.Fatalf("rendered:\n%s\nwant:\n%s", got, wantJSON)
			}
		})
	}
}

// byWindow buckets time-ordered rows by window start (iv 0: one window at start).
func byWindow(rows []selRow, iv, off, start int64) ([]int64, map[int64][]selRow) {
	m := map[int64][]selRow{}
	var starts []int64
	for _, r := range rows {
		ws := start
		if iv > 0 {
			ws = selWindow(r.t, iv, off)
		}
		if _, ok := m[ws]; !ok {
			starts = append(starts, ws)
		}
		m[ws] = append(m[ws], r)
	}
	sort.Slice(starts, func(i, j int) bool { return starts[i] < starts[j] })
	return starts, m
}

// checkMultiAgg runs SELECT <fns of field> ... GROUP BY time(iv, off) fill(none)
// [ORDER BY time DESC] over host a within [min, max] and compares with the model.
func checkMultiAgg(t *testing.T, env *selEnv, field string, fns []string, min, max, iv, off int64, desc bool) {
	t.Helper()
	var exprs []string
	for _, f := range fns {
		exprs = append(exprs, f+"("+field+")")
	}
	group := ""
	if iv > 0 {
		group = fmt.Sprintf(" GROUP BY time(%dns, %dns) fill(none)", iv, off)
	}
	if desc {
		group += " ORDER BY time DESC"
	}
	q := fmt.Sprintf("SELECT %s FROM cpu WHERE host = 'a' AND time >= %d AND time <= %d%s", strings.Join(exprs, ", "), min, max, group)
	rows := env.rows("cpu", min, max, func(s *selSeries) bool { return s.tags["host"] == "a" })
	starts, wins := byWindow(rows, iv, off, min)
	rs := &ResultSeries{Name: "cpu", Columns: append([]string{"time"}, fns...)}
	for _, ws := range starts {
		row := Row{Time: ws}
		for _, f := range fns {
			v, _, _ := refAgg(f, wins[ws], field, 0)
			row.Values = append(row.Values, v)
		}
		rs.Rows = append(rs.Rows, row)
	}
	if desc {
		for i, j := 0, len(rs.Rows)-1; i < j; i, j = i+1, j-1 {
			rs.Rows[i], rs.Rows[j] = rs.Rows[j], rs.Rows[i]
		}
	}
	checkSeries(t, q, env.mustRun(t, q), []*ResultSeries{rs})
}

// explainCount runs EXPLAIN ANALYZE q and returns the figure on the line starting
// with label.
func explainCount(t *testing.T, env *selEnv, q, label string) int {
	t.Helper()
	ss := env.mustRun(t, "EXPLAIN ANALYZE "+q)
	for _, r := range ss[0].Rows {
		line := r.Values[0].(string)
		if strings.HasPrefix(line, label+": ") {
			var n int
			if _, err := fmt.Sscan(strings.TrimPrefix(line, label+": "), &n); err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatalf("EXPLAIN ANALYZE %s: no %q line", q, label)
	return 0
}

// TestSelectHeadAndBlocks writes three days, flushing every six hours (blocks that
// windows of 12 hours hold whole and windows of 5 hours cut), overwrites and adds points out of order into the head, flushes again
// and overwrites once more, checking aggregates (block headers where a block fits a
// window, decoded and merged blocks elsewhere) and raw rows against the model,
// where the last write wins.
func TestSelectHeadAndBlocks(t *testing.T) {
	env := newSelEnv(t, Limits{})
	rng := rand.New(rand.NewSource(3))
	day := 24 * selHour
	sec := int64(time.Second)
	pt := func(host string, ts int64) selPt {
		return selPt{m: "cpu", tags: map[string]string{"host": host}, t: ts,
			fields: map[string]any{"x": math.Round(rng.NormFloat64()*1000) / 10, "i": int64(rng.Intn(1000) - 500)}}
	}
	// Six hours per flush: at least four disjoint blocks per series and day,
	// whatever the storage's block size.
	for slice := t0; slice < t0+3*day; slice += 6 * selHour {
		var pts []selPt
		for _, h := range []string{"a", "b"} {
			for ts := slice; ts < slice+6*selHour; ts += 30 * sec {
				pts = append(pts, pt(h, ts))
			}
		}
		env.write(t, pts...)
		if err := env.eng.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	// Overwrites of flushed points and new points between them, in random order,
	// only in the first two days: the third day's blocks stay untouched.
	var second []selPt
	for k := 0; k < 800; k++ {
		ts := t0 + int64(rng.Intn(2*86400/30))*30*sec
		if k%2 == 1 {
			ts += int64(1+rng.Intn(29)) * sec
		}
		second = append(second, pt("a", ts))
	}
	second = append(second, pt("a", t0+3*day+5*sec), pt("a", t0-7*sec))
	rng.Shuffle(len(second), func(i, j int) { second[i], second[j] = second[j], second[i] })
	for len(second) > 0 {
		n := min(len(second), 1+rng.Intn(100))
		env.write(t, second[:n]...)
		second = second[n:]
	}

	min0, max0 := t0-day, t0+4*day
	check := func(t *testing.T) {
		for _, w := range []struct{ iv, off int64 }{{0, 0}, {12 * selHour, 0}, {5 * selHour, 0}, {selHour, 17 * int64(time.Minute)}} {
			for _, r := range [][2]int64{{min0, max0}, {t0 + 7*selHour + 3*sec, t0 + 2*day + 13*selHour}, {t0 + 2*day, t0 + 3*day - 1}} {
				checkMultiAgg(t, env, "x", []string{"count", "sum", "min", "max", "mean", "first", "last", "spread"}, r[0], r[1], w.iv, w.off, false)
				checkMultiAgg(t, env, "i", []string{"count", "sum", "min", "max", "mean", "first", "last", "spread"}, r[0], r[1], w.iv, w.off, false)
			}
		}
		checkMultiAgg(t, env, "x", []string{"count", "sum", "mean", "max"}, min0, max0, 5*selHour, 0, true)
		checkMultiAgg(t, env, "i", []string{"sum", "first", "last"}, min0, max0, day, 0, true)

		// Raw rows, both directions.
		lo, hi := t0+day-600*sec, t0+day+600*sec
		rows := env.rows("cpu", lo, hi, func(s *selSeries) bool { return s.tags["host"] == "a" })
		want := &ResultSeries{Name: "cpu", Columns: []string{"time", "i", "x"}}
		for _, r := range rows {
			want.Rows = append(want.Rows, Row{Time: r.t, Values: []any{r.fields["i"], r.fields["x"]}})
		}
		q := fmt.Sprintf("SELECT i, x FROM cpu WHERE host = 'a' AND time >= %d AND time <= %d", lo, hi)
		checkSeries(t, q, env.mustRun(t, q), []*ResultSeries{want})
		for i, j := 0, len(want.Rows)-1; i < j; i, j = i+1, j-1 {
			want.Rows[i], want.Rows[j] = want.Rows[j], want.Rows[i]
		}
		checkSeries(t, q+" ORDER BY time DESC", env.mustRun(t, q+" ORDER BY time DESC"), []*ResultSeries{want})
	}
	t.Run("head over blocks", check)

	// The untouched third day answers from block headers (count, the sum and mean
	// of integers, a float sum or mean's first block of a series in a window;
	// min/max decode for the times); the first day, merged with the head, cannot.
	q := fmt.Sprintf("SELECT count(x), sum(i), mean(i), min(x) FROM cpu WHERE time >= %d AND time < %d GROUP BY time(1d)", t0+2*day, t0+3*day)
	if n := explainCount(t, env, q, "BLOCKS ANSWERED FROM HEADERS"); n < 6 {
		t.Fatalf("%d blocks answered from headers, want at least 6 (3 calls x 2 series)", n)
	}
	q = fmt.Sprintf("SELECT count(x) FROM cpu WHERE host = 'a' AND time >= %d AND time < %d GROUP BY time(1d)", t0, t0+day)
	if n := explainCount(t, env, q, "BLOCKS ANSWERED FROM HEADERS"); n != 0 {
		t.Fatalf("%d blocks overlapped by the head answered from headers", n)
	}

	// A second flush makes overlapping stored blocks of two generations; then more
	// overwrites in the head.
	if err := env.eng.Flush(); err != nil {
		t.Fatal(err)
	}
	var third []selPt
	for k := 0; k < 300; k++ {
		third = append(third, pt("a", t0+int64(rng.Intn(3*86400))*sec))
	}
	env.write(t, third...)
	t.Run("two generations and head", check)
	if err := env.eng.Flush(); err != nil {
		t.Fatal(err)
	}
	t.Run("three generations", check)
}

// TestSelectRaw checks raw selects: SELECT *, fields and tags, arithmetic, ORDER BY
// time DESC, LIMIT/OFFSET/SLIMIT/SOFFSET, several measurements and a regex FROM.
func TestSelectRaw(t *testing.T) {
	env := newSelEnv(t, Limits{})
	cpuData(t, env, 4)
	var mem []selPt
	for k := int64(0); k < 40; k++ {
		mem = append(mem, selPt{m: "mem", tags: map[string]string{"host": fmt.Sprintf("h%d", k%2)}, t: t0 + k*int64(3*time.Minute) + 5, fields: map[string]any{"used": k * 3}})
	}
	env.write(t, mem...)
	min, max := t0+10*int64(time.Minute), t0+100*int64(time.Minute)
	rng := fmt.Sprintf("time >= %d AND time <= %d", min, max)
	host := func(h string) func(*selSeries) bool { return func(s *selSeries) bool { return s.tags["host"] == h } }
	reverse := func(rs []Row) []Row {
		out := make([]Row, len(rs))
		for i, r := range rs {
			out[len(rs)-1-i] = r
		}
		return out
	}
	build := func(rows []selRow, f func(r selRow) []any) []Row {
		var out []Row
		for _, r := range rows {
			if v := f(r); v != nil {
				out = append(out, Row{Time: r.t, Values: v})
			}
		}
		return out
	}
	cols := func(c ...string) []string { return append([]string{"time"}, c...) }

	h1 := env.rows("cpu", min, max, host("h1"))
	star := build(h1, func(r selRow) []any { return []any{"h1", r.get("i"), "r1", r.get("x"), r.get("y")} })
	all := env.rows("cpu", min, max, nil)
	arith := build(h1, func(r selRow) []any {
		x, i := r.fields["x"].(float64), r.fields["i"].(int64)
		return []any{x + float64(i), x * 2, x / 0, i % 7, i - 1, float64(i) / 4, i * i}
	})
	var byHost []*ResultSeries
	for _, h := range []string{"h0", "h1", "h2", "h3"} {
		rs := build(env.rows("cpu", min, max, host(h)), func(r selRow) []any { return []any{r.get("x")} })
		byHost = append(byHost, &ResultSeries{Name: "cpu", Tags: map[string]string{"host": h}, Columns: cols("x"), Rows: rs[3:8]})
	}
	yOnly := build(all, func(r selRow) []any {
		if r.fields["y"] == nil {
			return nil // a row prints only where a selected field has a value
		}
		return []any{r.get("host"), r.get("y")}
	})
	cpuH0 := build(env.rows("cpu", min, max, host("h0")), func(r selRow) []any { return []any{nil, r.get("x")} })
	memH0 := build(env.rows("mem", min, max, host("h0")), func(r selRow) []any { return []any{r.get("used"), nil} })

	cases := []struct {
		q    string
		want []*ResultSeries
	}{
		{"SELECT * FROM cpu WHERE host = 'h1' AND " + rng,
			[]*ResultSeries{{Name: "cpu", Columns: cols("host", "i", "region", "x", "y"), Rows: star}}},
		{"SELECT * FROM cpu WHERE host = 'h1' AND " + rng + " ORDER BY time DESC LIMIT 7 OFFSET 2",
			[]*ResultSeries{{Name: "cpu", Columns: cols("host", "i", "region", "x", "y"), Rows: reverse(star)[2:9]}}},
		{"SELECT x + i, x * 2, x / 0, i % 7, i - 1, i / 4, i * i FROM cpu WHERE host = 'h1' AND " + rng,
			[]*ResultSeries{{Name: "cpu", Columns: cols("x_i", "x", "x_1", "i", "i_1", "i_2", "i_i"), Rows: arith}}},
		{"SELECT host, y FROM cpu WHERE " + rng,
			[]*ResultSeries{{Name: "cpu", Columns: cols("host", "y"), Rows: yOnly}}},
		{"SELECT x FROM cpu WHERE " + rng + " GROUP BY host LIMIT 5 OFFSET 3", byHost},
		{"SELECT x FROM cpu WHERE " + rng + " GROUP BY host LIMIT 5 OFFSET 3 SLIMIT 2 SOFFSET 1", byHost[1:3]},
		{"SELECT used, x FROM cpu, mem WHERE host = 'h0' AND " + rng, []*ResultSeries{
			{Name: "cpu", Columns: cols("used", "x"), Rows: cpuH0},
			{Name: "mem", Columns: cols("used", "x"), Rows: memH0}}},
		{"SELECT used FROM /^me/ WHERE host = 'h0' AND " + rng + " ORDER BY time DESC", []*ResultSeries{
			{Name: "mem", Columns: cols("used"), Rows: reverse(build(env.rows("mem", min, max, host("h0")), func(r selRow) []any { return []any{r.get("used")} }))}}},
		{"SELECT x FROM cpu WHERE host = 'nope' AND " + rng, nil},
	}
	for _, c := range cases {
		checkSeries(t, c.q, env.mustRun(t, c.q), c.want)
	}
}

// TestSelectTransformations checks derivative, non_negative_derivative,
// difference, moving_average, cumulative_sum and elapsed over GROUP BY time
// aggregates and over raw points.
func TestSelectTransformations(t *testing.T) {
	env := newSelEnv(t, Limits{})
	cpuData(t, env, 5)
	min, max := t0, t0+2*selHour-1
	rng := fmt.Sprintf("time >= %d AND time <= %d", min, max)
	raw := env.rows("cpu", min, max, func(s *selSeries) bool { return s.tags["host"] == "h0" })
	iv := int64(10 * time.Minute)
	starts, wins := byWindow(raw, iv, 0, min)
	if len(starts) != 12 {
		t.Fatalf("h0 has points in %d windows, want all 12", len(starts))
	}
	type tp struct {
		t int64
		v any
	}
	agg := func(fn, field string) []tp {
		var out []tp
		for _, ws := range starts {
			v, _, _ := refAgg(fn, wins[ws], field, 0)
			out = append(out, tp{ws, v})
		}
		return out
	}
	rawPts := func(field string) []tp {
		var out []tp
		for _, r := range raw {
			out = append(out, tp{r.t, r.fields[field]})
		}
		return out
	}
	derivative := func(in []tp, unit int64, nonNeg bool) []Row {
		var out []Row
		for k := 1; k < len(in); k++ {
			d := (asFloat(in[k].v) - asFloat(in[k-1].v)) / (float64(in[k].t-in[k-1].t) / float64(unit))
			if nonNeg && d < 0 {
				continue
			}
			out = append(out, Row{Time: in[k].t, Values: []any{d}})
		}
		return out
	}
	difference := func(in []tp) []Row {
		var out []Row
		for k := 1; k < len(in); k++ {
			var d any
			if a, ok := in[k].v.(int64); ok {
				d = a - in[k-1].v.(int64)
			} else {
				d = in[k].v.(float64) - in[k-1].v.(float64)
			}
			out = append(out, Row{Time: in[k].t, Values: []any{d}})
		}
		return out
	}
	movingAvg := func(in []tp, n int) []Row {
		var out []Row
		for k := n - 1; k < len(in); k++ {
			s := 0.0
			for j := k - n + 1; j <= k; j++ {
				s += asFloat(in[j].v)
			}
			out = append(out, Row{Time: in[k].t, Values: []any{s / float64(n)}})
		}
		return out
	}
	cumSum := func(in []tp) []Row {
		var out []Row
		var si int64
		var sf float64
		for _, p := range in {
			if v, ok := p.v.(int64); ok {
				si += v
				out = append(out, Row{Time: p.t, Values: []any{si}})
			} else {
				sf += p.v.(float64)
				out = append(out, Row{Time: p.t, Values: []any{sf}})
			}
		}
		return out
	}
	elapsed := func(in []tp, unit int64) []Row {
		var out []Row
		for k := 1; k < len(in); k++ {
			out = append(out, Row{Time: in[k].t, Values: []any{(in[k].t - in[k-1].t) / unit}})
		}
		return out
	}
	sec, minute := int64(time.Second), int64(time.Minute)
	cases := []struct {
		sel, group, col string
		rows            []Row
	}{
		{"derivative(mean(x), 1m)", "GROUP BY time(10m)", "derivative", derivative(agg("mean", "x"), minute, false)},
		// Without a unit, a derivative over GROUP BY time is per interval.
		{"derivative(mean(x))", "GROUP BY time(10m)", "derivative", derivative(agg("mean", "x"), iv, false)},
		{"derivative(x)", "", "derivative", derivative(rawPts("x"), sec, false)},
		{"non_negative_derivative(max(x), 1s)", "GROUP BY time(10m)", "non_negative_derivative", derivative(agg("max", "x"), sec, true)},
		{"difference(max(i))", "GROUP BY time(10m)", "difference", difference(agg("max", "i"))},
		{"moving_average(mean(x), 3)", "GROUP BY time(10m)", "moving_average", movingAvg(agg("mean", "x"), 3)},
		{"cumulative_sum(sum(i))", "GROUP BY time(10m)", "cumulative_sum", cumSum(agg("sum", "i"))},
		{"elapsed(mean(x), 1m)", "GROUP BY time(10m)", "elapsed", elapsed(agg("mean", "x"), minute)},
		{"derivative(x, 1s)", "", "derivative", derivative(rawPts("x"), sec, false)},
		{"non_negative_derivative(x, 1m)", "", "non_negative_derivative", derivative(rawPts("x"), minute, true)},
		{"difference(i)", "", "difference", difference(rawPts("i"))},
		{"moving_average(x, 4)", "", "moving_average", movingAvg(rawPts("x"), 4)},
		{"cumulative_sum(x)", "", "cumulative_sum", cumSum(rawPts("x"))},
		{"elapsed(x, 1ms)", "", "elapsed", elapsed(rawPts("x"), int64(time.Millisecond))},
	}
	for _, c := range cases {
		q := fmt.Sprintf("SELECT %s FROM cpu WHERE host = 'h0' AND %s %s", c.sel, rng, c.group)
		checkSeries(t, q, env.mustRun(t, q), []*ResultSeries{{Name: "cpu", Columns: []string{"time", c.col}, Rows: c.rows}})
	}
}

// TestSelectTransformLeadWindows checks that a transformation of a GROUP BY
// time aggregate sees the windows before the range (filled as asked), as 1.x
// reads them, and that no row before the range is printed.
func TestSelectTransformLeadWindows(t *testing.T) {
	env := newSelEnv(t, Limits{})
	sec := int64(time.Second)
	for i, v := range map[int64]float64{-3: 100, 0: 10, 1: 15, 4: 30, 5: 35} {
		env.write(t, selPt{m: "cpu", t: t0 + i*sec, fields: map[string]any{"v": v}})
	}
	at := func(s int64, v ...any) Row { return Row{Time: t0 + s*sec, Values: v} }
	rng := fmt.Sprintf("time >= %d AND time <= %d GROUP BY time(2s)", t0, t0+5*sec)
	cases := []struct {
		sel  string
		fill string
		cols []string
		rows []Row
	}{
		// The window before the range, [-2s, 0), is empty (100 at -3s is two
		// windows back), so count there is 0 and mean is null.
		{"difference(count(v))", "", []string{"difference"}, []Row{at(0, int64(2)), at(2, int64(-2)), at(4, int64(2))}},
		{"moving_average(count(v), 2)", "fill(0)", []string{"moving_average"}, []Row{at(0, 1.0), at(2, 1.0), at(4, 1.0)}},
		{"moving_average(count(v), 3)", "fill(0)", []string{"moving_average"}, []Row{at(0, 1.0), at(2, 2.0/3), at(4, 4.0/3)}},
		{"difference(mean(v))", "fill(previous)", []string{"difference"}, []Row{at(2, 0.0), at(4, 20.0)}},
		{"mean(v), difference(mean(v))", "fill(0)", []string{"mean", "difference"},
			[]Row{at(0, 12.5, 12.5), at(2, 0.0, -12.5), at(4, 32.5, 32.5)}},
	}
	for _, c := range cases {
		q := fmt.Sprintf("SELECT %s FROM cpu WHERE %s %s", c.sel, rng, c.fill)
		checkSeries(t, q, env.mustRun(t, q), []*ResultSeries{{Name: "cpu", Columns: append([]string{"time"}, c.cols...), Rows: c.rows}})
	}
	// Two windows back, [-4s, -2s), holds 100; null windows are skipped.
	q := fmt.Sprintf("SELECT moving_average(mean(v), 3) FROM cpu WHERE time >= %d AND time <= %d GROUP BY time(2s)", t0, t0+5*sec)
	checkSeries(t, q, env.mustRun(t, q), []*ResultSeries{{Name: "cpu", Columns: []string{"time", "moving_average"},
		Rows: []Row{at(4, (100+12.5+32.5)/3)}}})
}

// TestSelectImplicitStartUnderBucketLimit: without a lower time bound, GROUP
// BY time reads the last max-select-buckets windows, printed from the first
// with data, instead of failing on older data (1.x's implicit start).
func TestSelectImplicitStartUnderBucketLimit(t *testing.T) {
	env := newSelEnv(t, Limits{MaxBuckets: 5})
	h := int64(time.Hour)
	for _, p := range []struct {
		at int64
		v  float64
	}{{11*h + h/2, 1}, {12 * h, 3}, {16*h + h/2, 5}} {
		env.write(t, selPt{m: "fills", t: t0 + p.at, fields: map[string]any{"v": p.v}})
	}
	at := func(hour int64, v any) Row { return Row{Time: t0 + hour*h, Values: []any{v}} }
	cases := []struct {
		end  int64
		rows []Row
	}{
		{18, []Row{at(16, 5.0), at(17, nil)}},
		{17, []Row{at(12, 3.0), at(13, nil), at(14, nil), at(15, nil), at(16, 5.0)}},
	}
	for _, c := range cases {
		q := fmt.Sprintf("SELECT mean(v) FROM fills WHERE time < %d GROUP BY time(1h)", t0+c.end*h)
		checkSeries(t, q, env.mustRun(t, q), []*ResultSeries{{Name: "fills", Columns: []string{"time", "mean"}, Rows: c.rows}})
	}
	// An explicit lower bound still counts every window against the limit.
	if _, err := env.run(t, fmt.Sprintf("SELECT mean(v) FROM fills WHERE time >= %d AND time < %d GROUP BY time(1h)", t0, t0+17*h)); !strings.Contains(err, "max-select-buckets limit exceeded") {
		t.Errorf("bounded range over the limit: %q", err)
	}
}

// TestSelectGroupByTimeEndsAtNow: a GROUP BY time range without an upper
// bound ends at now(), as 1.x's does; a point ahead of the clock is read
// only by a query without GROUP BY time or with a later explicit bound.
func TestSelectGroupByTimeEndsAtNow(t *testing.T) {
	env := newSelEnv(t, Limits{})
	now := env.now.UnixNano()
	past, ahead := now-int64(90*time.Second), now+int64(time.Hour)
	for _, at := range []int64{past, ahead} {
		env.write(t, selPt{m: "m", t: at, fields: map[string]any{"v": 1.0}})
	}
	window := func(ns int64) int64 { return ns - ns%int64(10*time.Minute) }
	cols := []string{"time", "count"}
	cases := []struct {
		q    string
		rows []Row
	}{
		{"SELECT count(v) FROM m WHERE time > now() - 10m GROUP BY time(10m) fill(none)",
			[]Row{{Time: window(past), Values: []any{int64(1)}}}},
		{"SELECT count(v) FROM m WHERE time > now() - 10m AND time <= now() + 2h GROUP BY time(10m) fill(none)",
			[]Row{{Time: window(past), Values: []any{int64(1)}}, {Time: window(ahead), Values: []any{int64(1)}}}},
		{"SELECT count(v) FROM m WHERE time > now() - 10m",
			[]Row{{Time: now - int64(10*time.Minute) + 1, Values: []any{int64(2)}}}},
	}
	for _, c := range cases {
		checkSeries(t, c.q, env.mustRun(t, c.q), []*ResultSeries{{Name: "m", Columns: cols, Rows: c.rows}})
	}
	// Only points ahead of the clock: no windows at all.
	q := "SELECT count(v) FROM m WHERE time > now() + 1m GROUP BY time(10m)"
	checkSeries(t, q, env.mustRun(t, q), nil)
}

// TestSelectWhereMissingTagsAndTagPairs: a missing tag compares as "" also
// when OR-ed with a field test (rows without that field included), and tag
// against tag compares the keys' presence, as 1.x's index does.
func TestSelectWhereMissingTagsAndTagPairs(t *testing.T) {
	env := newSelEnv(t, Limits{})
	env.write(t,
		selPt{m: "ev", tags: map[string]string{"tn": "paul"}, t: t0, fields: map[string]any{"foo": "bar"}},
		selPt{m: "ev", tags: map[string]string{"tn": "paul"}, t: t0 + 1, fields: map[string]any{"foo": "baz"}},
		selPt{m: "ev", tags: map[string]string{"tn": "todd", "zone": "a"}, t: t0 + 2, fields: map[string]any{"foo": "bar"}},
		selPt{m: "ev", tags: map[string]string{"tn": "todd", "zone": "a"}, t: t0 + 3, fields: map[string]any{"other": 1.0}})
	row := func(i int64, foo any) Row { return Row{Time: t0 + i, Values: []any{foo}} }
	all := []Row{row(0, "bar"), row(1, "baz"), row(2, "bar")}
	cases := []struct {
		where string
		rows  []Row
	}{
		{"nope != 'paul' OR foo = 'bar'", all},
		{"nope = 'paul' OR foo = 'bar'", []Row{row(0, "bar"), row(2, "bar")}},
		{"tn != 'paul' OR foo = 'bar'", []Row{row(0, "bar"), row(2, "bar")}},
		{"tn != 'paul' OR foo = 'baz'", []Row{row(1, "baz"), row(2, "bar")}},
		{"tn = tn", all},
		{"tn = zone", []Row{row(2, "bar")}},
		{"tn != zone", []Row{row(0, "bar"), row(1, "baz")}},
		{`tn = "paul"`, nil},
	}
	for _, c := range cases {
		q := "SELECT foo FROM ev WHERE " + c.where
		var want []*ResultSeries
		if c.rows != nil {
			want = []*ResultSeries{{Name: "ev", Columns: []string{"time", "foo"}, Rows: c.rows}}
		}
		checkSeries(t, q, env.mustRun(t, q), want)
	}
	// The row with only "other" passes a condition its series satisfies on tags.
	q := "SELECT other FROM ev WHERE zone = 'a' OR foo = 'x'"
	checkSeries(t, q, env.mustRun(t, q), []*ResultSeries{{Name: "ev", Columns: []string{"time", "other"}, Rows: []Row{{Time: t0 + 3, Values: []any{1.0}}}}})
}

// TestSelectCasts: ::integer truncates a float, ::float widens an integer, a
// cast to another type is null, in plain references and in arithmetic.
func TestSelectCasts(t *testing.T) {
	env := newSelEnv(t, Limits{})
	env.write(t, selPt{m: "c", t: t0, fields: map[string]any{"f": 28.6, "i": int64(7)}},
		selPt{m: "c", t: t0 + 1, fields: map[string]any{"f": -3.7, "i": int64(-2)}})
	q := "SELECT f::integer, i::float, f::string, f::integer + 1, f FROM c"
	checkSeries(t, q, env.mustRun(t, q), []*ResultSeries{{Name: "c", Columns: []string{"time", "f", "i", "f_1", "f_2", "f_3"},
		Rows: []Row{{Time: t0, Values: []any{int64(28), 7.0, nil, int64(29), 28.6}}, {Time: t0 + 1, Values: []any{int64(-3), -2.0, nil, int64(-2), -3.7}}}}})
}

// TestSelectRowsAsIn1x: rows of one time from several series come in reverse
// series order under ORDER BY time DESC; a row prints for a point with a field
// the expressions read even when they are null (f1 + f2 without f2), and every
// row of a subquery is a row of the outer query; sample(*, N) is allowed.
func TestSelectRowsAsIn1x(t *testing.T) {
	env := newSelEnv(t, Limits{})
	sec := int64(time.Second)
	env.write(t,
		selPt{m: "mem", tags: map[string]string{"host": "a"}, t: t0 + sec, fields: map[string]any{"free": 1.0}},
		selPt{m: "mem", tags: map[string]string{"host": "a"}, t: t0 + 2*sec, fields: map[string]any{"free": 2.0}},
		selPt{m: "mem", tags: map[string]string{"host": "b"}, t: t0 + sec, fields: map[string]any{"used": 3.0}},
		selPt{m: "mem", tags: map[string]string{"host": "b"}, t: t0 + 2*sec, fields: map[string]any{"used": 4.0}},
		selPt{m: "m0", t: t0, fields: map[string]any{"f2": 4.0, "f3": 2.0}},
		selPt{m: "m0", t: t0 + 10*sec, fields: map[string]any{"f1": 5.0, "f3": 8.0}},
		selPt{m: "m0", t: t0 + 20*sec, fields: map[string]any{"f1": 5.0, "f2": 3.0, "f3": 6.0}})
	at := func(s int64, v ...any) Row { return Row{Time: t0 + s*sec, Values: v} }
	cases := []struct {
		q    string
		name string
		cols []string
		rows []Row
	}{
		{"SELECT used, free FROM mem ORDER BY time DESC", "mem", []string{"time", "used", "free"},
			[]Row{at(2, 4.0, nil), at(2, nil, 2.0), at(1, 3.0, nil), at(1, nil, 1.0)}},
		{"SELECT used, free FROM mem", "mem", []string{"time", "used", "free"},
			[]Row{at(1, nil, 1.0), at(1, 3.0, nil), at(2, nil, 2.0), at(2, 4.0, nil)}},
		{"SELECT f1 + f2 + f3 AS sum FROM m0", "m0", []string{"time", "sum"}, []Row{at(0, nil), at(10, nil), at(20, 14.0)}},
		{"SELECT sum FROM (SELECT f1 + f2 + f3 AS sum FROM m0)", "m0", []string{"time", "sum"}, []Row{at(0, nil), at(10, nil), at(20, 14.0)}},
		{"SELECT sample(*, 5) FROM m0", "m0", []string{"time", "sample_f1", "sample_f2", "sample_f3"},
			[]Row{at(0, nil, 4.0, 2.0), at(10, 5.0, nil, 8.0), at(20, 5.0, 3.0, 6.0)}},
	}
	for _, c := range cases {
		checkSeries(t, c.q, env.mustRun(t, c.q), []*ResultSeries{{Name: c.name, Columns: c.cols, Rows: c.rows}})
	}
	if _, err := env.run(t, "SELECT sample(f1, 1), sample(f2, 1) FROM m0"); err == "" {
		t.Error("two sample() calls: no error")
	}
}

// TestSelectSubqueryTakesOuterTimeRange: the inner query of a subquery reads
// the outer statement's time range, so its GROUP BY time windows are those of a
// 4-second outer window, not everything since the first point.
func TestSelectSubqueryTakesOuterTimeRange(t *testing.T) {
	env := newSelEnv(t, Limits{MaxBuckets: 10})
	sec := int64(time.Second)
	env.write(t, selPt{m: "cpu", t: t0 - 3600*sec, fields: map[string]any{"v": 100.0}},
		selPt{m: "cpu", t: t0 + sec, fields: map[string]any{"v": 2.0}},
		selPt{m: "cpu", t: t0 + sec + 1, fields: map[string]any{"v": 4.0}},
		selPt{m: "cpu", t: t0 + 3*sec, fields: map[string]any{"v": 6.0}})
	rng := fmt.Sprintf("time >= %d AND time < %d", t0, t0+4*sec)
	q := "SELECT max(m) FROM (SELECT mean(v) AS m FROM cpu GROUP BY time(1s)) WHERE " + rng + " GROUP BY time(2s)"
	checkSeries(t, q, env.mustRun(t, q), []*ResultSeries{{Name: "cpu", Columns: []string{"time", "max"},
		Rows: []Row{{Time: t0, Values: []any{3.0}}, {Time: t0 + 2*sec, Values: []any{6.0}}}}})
	// The inner range intersects the outer one.
	q = fmt.Sprintf("SELECT count(m) FROM (SELECT mean(v) AS m FROM cpu WHERE time >= %d GROUP BY time(1s) fill(none)) WHERE %s", t0+2*sec, rng)
	checkSeries(t, q, env.mustRun(t, q), []*ResultSeries{{Name: "cpu", Columns: []string{"time", "count"},
		Rows: []Row{{Time: t0, Values: []any{int64(1)}}}}})
}

// TestSelectColumnNames: generated names repeat as name_1, name_2; names given
// with AS are kept, even twice, as 1.x names them.
func TestSelectColumnNames(t *testing.T) {
	env := newSelEnv(t, Limits{})
	env.write(t, selPt{m: "m", t: t0, fields: map[string]any{"v": 2.0}})
	cases := []struct {
		sel  string
		cols []string
	}{
		{"mean(v), mean(v), mean(v)", []string{"mean", "mean_1", "mean_2"}},
		{"mean(v) AS a, max(v) AS a", []string{"a", "a"}},
		{"max(v) AS mean, mean(v)", []string{"mean", "mean_1"}},
		{"mean(v), max(v) AS mean_1, min(v) AS mean", []string{"mean_2", "mean_1", "mean"}},
	}
	for _, c := range cases {
		q := "SELECT " + c.sel + " FROM m"
		ss := env.mustRun(t, q)
		if len(ss) != 1 || fmt.Sprint(ss[0].Columns[1:]) != fmt.Sprint(c.cols) {
			t.Errorf("%s: columns %v, want %v", q, fmtSeries(ss), c.cols)
		}
	}
}

// TestSelectCountDistinctSpellings: count(distinct(x)), the SQL spelling
// COUNT(DISTINCT x) and any letter case mean the same.
func TestSelectCountDistinctSpellings(t *testing.T) {
	env := newSelEnv(t, Limits{})
	for i, v := range []float64{3, 1, 3, 2, 1} {
		env.write(t, selPt{m: "m", t: t0 + int64(i), fields: map[string]any{"v": v}})
	}
	for _, sel := range []string{"count(distinct(v))", "COUNT(DISTINCT v)", "Count(Distinct(v))", "count(DISTINCT v)"} {
		q := "SELECT " + sel + " FROM m"
		checkSeries(t, q, env.mustRun(t, q), []*ResultSeries{{Name: "m", Columns: []string{"time", "count"},
			Rows: []Row{{Time: 0, Values: []any{int64(3)}}}}})
	}
}

// TestSelectTagAndFieldOfOneName: SELECT * prints the field as k and the tag as
// k_1; a plain k reads the field, k::tag the tag, as in 1.x.
func TestSelectTagAndFieldOfOneName(t *testing.T) {
	env := newSelEnv(t, Limits{})
	env.write(t, selPt{m: "net", tags: map[string]string{"core": "1", "host": "a"}, t: t0, fields: map[string]any{"core": int64(2), "rx": int64(10)}},
		selPt{m: "net", tags: map[string]string{"core": "2", "host": "b"}, t: t0 + 1, fields: map[string]any{"core": int64(3), "rx": int64(40)}})
	cases := []struct {
		q    string
		cols []string
		rows []Row
	}{
		{"SELECT * FROM net", []string{"time", "core", "core_1", "host", "rx"},
			[]Row{{Time: t0, Values: []any{int64(2), "1", "a", int64(10)}}, {Time: t0 + 1, Values: []any{int64(3), "2", "b", int64(40)}}}},
		{"SELECT core, rx FROM net", []string{"time", "core", "rx"},
			[]Row{{Time: t0, Values: []any{int64(2), int64(10)}}, {Time: t0 + 1, Values: []any{int64(3), int64(40)}}}},
		{"SELECT core::tag, rx FROM net", []string{"time", "core", "rx"},
			[]Row{{Time: t0, Values: []any{"1", int64(10)}}, {Time: t0 + 1, Values: []any{"2", int64(40)}}}},
		{"SELECT /o/ FROM net", []string{"time", "core", "core_1", "host"},
			[]Row{{Time: t0, Values: []any{int64(2), "1", "a"}}, {Time: t0 + 1, Values: []any{int64(3), "2", "b"}}}},
	}
	for _, c := range cases {
		checkSeries(t, c.q, env.mustRun(t, c.q), []*ResultSeries{{Name: "net", Columns: c.cols, Rows: c.rows}})
	}
}

// TestSelectSelectorsSubqueryInto checks selectors with aux fields and tags,
// top/bottom with a tag argument, a subquery and SELECT INTO.
func TestSelectSelectorsSubqueryInto(t *testing.T) {
	env := newSelEnv(t, Limits{})
	cpuData(t, env, 6)
	min, max := t0, t0+2*selHour-1
	rng := fmt.Sprintf("time >= %d AND time <= %d", min, max)
	all := env.rows("cpu", min, max, nil)
	argBest := func(rows []selRow, field string, better func(a, b float64) bool) selRow {
		best := rows[0]
		for _, r := range rows[1:] {
			if better(asFloat(r.fields[field]), asFloat(best.fields[field])) {
				best = r
			}
		}
		return best
	}
	gt := func(a, b float64) bool { return a > b }
	lt := func(a, b float64) bool { return a < b }
	byTimeRows := func(rows []Row) []Row {
		sort.SliceStable(rows, func(i, j int) bool { return rows[i].Time < rows[j].Time })
		return rows
	}

	t.Run("aux", func(t *testing.T) {
		// max(x) with the host tag and i field of the chosen point, per 30 minutes.
		iv := int64(30 * time.Minute)
		starts, wins := byWindow(all, iv, 0, min)
		var want []Row
		for _, ws := range starts {
			b := argBest(wins[ws], "x", gt)
			want = append(want, Row{Time: ws, Values: []any{b.fields["x"], b.s.tags["host"], b.fields["i"]}})
		}
		q := "SELECT max(x), host, i FROM cpu WHERE " + rng + " GROUP BY time(30m)"
		checkSeries(t, q, env.mustRun(t, q), []*ResultSeries{{Name: "cpu", Columns: []string{"time", "max", "host", "i"}, Rows: want}})

		// min(x) per host without GROUP BY time keeps the point's own time.
		var wantHosts []*ResultSeries
		for _, h := range []string{"h0", "h1", "h2", "h3"} {
			rows := env.rows("cpu", min, max, func(s *selSeries) bool { return s.tags["host"] == h })
			b := argBest(rows, "x", lt)
			wantHosts = append(wantHosts, &ResultSeries{Name: "cpu", Tags: map[string]string{"host": h}, Columns: []string{"time", "min", "region", "i"},
				Rows: []Row{{Time: b.t, Values: []any{b.fields["x"], b.s.tags["region"], b.fields["i"]}}}})
		}
		q = "SELECT min(x), region, i FROM cpu WHERE " + rng + " GROUP BY host"
		checkSeries(t, q, env.mustRun(t, q), wantHosts)
	})

	t.Run("top bottom", func(t *testing.T) {
		// top(x, host, 2): the largest x of each host, then the two largest of those.
		var perHost []selRow
		for _, h := range []string{"h0", "h1", "h2", "h3"} {
			rows := env.rows("cpu", min, max, func(s *selSeries) bool { return s.tags["host"] == h })
			perHost = append(perHost, argBest(rows, "x", gt))
		}
		sort.Slice(perHost, func(i, j int) bool { return perHost[i].fields["x"].(float64) > perHost[j].fields["x"].(float64) })
		var want []Row
		for _, r := range perHost[:2] {
			want = append(want, Row{Time: r.t, Values: []any{r.fields["x"], r.s.tags["host"]}})
		}
		q := "SELECT top(x, host, 2) FROM cpu WHERE " + rng
		checkSeries(t, q, env.mustRun(t, q), []*ResultSeries{{Name: "cpu", Columns: []string{"time", "top", "host"}, Rows: byTimeRows(want)}})
		// The tag argument comes right after the value, before selected tags.
		var withRegion []Row
		for _, r := range perHost[:2] {
			withRegion = append(withRegion, Row{Time: r.t, Values: []any{r.fields["x"], r.s.tags["host"], r.s.tags["region"]}})
		}
		q = "SELECT top(x, host, 2), region FROM cpu WHERE " + rng
		checkSeries(t, q, env.mustRun(t, q), []*ResultSeries{{Name: "cpu", Columns: []string{"time", "top", "host", "region"}, Rows: byTimeRows(withRegion)}})
		if _, err := env.run(t, "SELECT top(x, 3) FROM cpu LIMIT 2"); err != "limit (3) in top function can not be larger than the LIMIT (2) in the select statement" {
			t.Errorf("top N over LIMIT: %q", err)
		}
		// INTO keeps the tag argument a tag of the points written.
		q = "SELECT top(x, host, 2) INTO cpu_top FROM cpu WHERE " + rng
		checkSeries(t, q, env.mustRun(t, q), []*ResultSeries{{Name: "result", Columns: []string{"time", "written"}, Rows: []Row{{Time: 0, Values: []any{int64(2)}}}}})
		var wantTop []*ResultSeries
		for _, r := range perHost[:2] {
			wantTop = append(wantTop, &ResultSeries{Name: "cpu_top", Tags: map[string]string{"host": r.s.tags["host"]}, Columns: []string{"time", "top"},
				Rows: []Row{{Time: r.t, Values: []any{r.fields["x"]}}}})
		}
		sort.Slice(wantTop, func(i, j int) bool { return wantTop[i].Tags["host"] < wantTop[j].Tags["host"] })
		q = "SELECT top FROM cpu_top GROUP BY host"
		checkSeries(t, q, env.mustRun(t, q), wantTop)

		// bottom(x, 3) per hour: the three smallest of each window, own times.
		starts, wins := byWindow(all, selHour, 0, min)
		want = nil
		for _, ws := range starts {
			rows := append([]selRow(nil), wins[ws]...)
			sort.SliceStable(rows, func(i, j int) bool { return rows[i].fields["x"].(float64) < rows[j].fields["x"].(float64) })
			var w []Row
			for _, r := range rows[:3] {
				w = append(w, Row{Time: r.t, Values: []any{r.fields["x"]}})
			}
			want = append(want, byTimeRows(w)...)
		}
		q = "SELECT bottom(x, 3) FROM cpu WHERE " + rng + " GROUP BY time(1h)"
		checkSeries(t, q, env.mustRun(t, q), []*ResultSeries{{Name: "cpu", Columns: []string{"time", "bottom"}, Rows: want}})
	})

	t.Run("subquery", func(t *testing.T) {
		// Inner: the mean of x per host and minute (empty minutes print null and
		// are not points of the outer query); outer: their max per 10 minutes.
		type hm struct {
			t int64
			m float64
		}
		var inner []hm
		for _, h := range []string{"h0", "h1", "h2", "h3"} {
			rows := env.rows("cpu", min, max, func(s *selSeries) bool { return s.tags["host"] == h })
			starts, wins := byWindow(rows, int64(time.Minute), 0, min)
			for _, ws := range starts {
				v, _, _ := refAgg("mean", wins[ws], "x", 0)
				inner = append(inner, hm{ws, v.(float64)})
			}
		}
		iv := int64(10 * time.Minute)
		best := map[int64]float64{}
		for _, p := range inner {
			ws := selWindow(p.t, iv, 0)
			if b, ok := best[ws]; !ok || p.m > b {
				best[ws] = p.m
			}
		}
		var want []Row
		for ws := min; ws <= max; ws += iv {
			want = append(want, Row{Time: ws, Values: []any{best[ws]}})
		}
		q := fmt.Sprintf("SELECT max(m) FROM (SELECT mean(x) AS m FROM cpu WHERE %s GROUP BY time(1m), host) WHERE %s GROUP BY time(10m)", rng, rng)
		checkSeries(t, q, env.mustRun(t, q), []*ResultSeries{{Name: "cpu", Columns: []string{"time", "max"}, Rows: want}})
	})

	t.Run("into", func(t *testing.T) {
		iv := int64(10 * time.Minute)
		var want []*ResultSeries
		written := int64(0)
		for _, h := range []string{"h0", "h1", "h2", "h3"} {
			rows := env.rows("cpu", min, max, func(s *selSeries) bool { return s.tags["host"] == h })
			starts, wins := byWindow(rows, iv, 0, min)
			rs := &ResultSeries{Name: "cpu_10m", Tags: map[string]string{"host": h}, Columns: []string{"time", "mean"}}
			for _, ws := range starts {
				v, _, _ := refAgg("mean", wins[ws], "x", 0)
				rs.Rows = append(rs.Rows, Row{Time: ws, Values: []any{v}})
			}
			written += int64(len(rs.Rows))
			want = append(want, rs)
		}
		if len(want[2].Rows) >= 12 {
			t.Fatal("h2 should miss a window")
		}
		q := "SELECT mean(x) INTO cpu_10m FROM cpu WHERE " + rng + " GROUP BY time(10m), host"
		checkSeries(t, q, env.mustRun(t, q), []*ResultSeries{{Name: "result", Columns: []string{"time", "written"}, Rows: []Row{{Time: 0, Values: []any{written}}}}})
		q = "SELECT mean FROM cpu_10m GROUP BY host"
		checkSeries(t, q, env.mustRun(t, q), want)
	})
}

// TestSelectLimits checks that MaxSeries, MaxBuckets and Timeout end a statement
// with a clear error instead of exhausting memory or time.
func TestSelectLimits(t *testing.T) {
	year := fmt.Sprintf("time >= %d AND time < %d", t0, t0+365*24*selHour)
	cases := []struct {
		name   string
		limits Limits
		q      string
		err    string
	}{
		{"series", Limits{MaxSeries: 3}, "SELECT x FROM cpu WHERE " + year, "max-select-series limit exceeded: (4/3)"},
		{"series ok", Limits{MaxSeries: 4}, "SELECT count(x) FROM cpu WHERE " + year, ""},
		{"buckets default", Limits{}, "SELECT count(x) FROM cpu WHERE " + year + " GROUP BY time(1s)", "max-select-buckets limit exceeded"},
		{"buckets", Limits{MaxBuckets: 100}, "SELECT mean(x) FROM cpu WHERE " + year + " GROUP BY time(1d), host", "max-select-buckets limit exceeded"},
		{"buckets fill none", Limits{MaxBuckets: 100}, "SELECT mean(x) FROM cpu WHERE " + year + " GROUP BY time(1m) fill(none)", ""},
		{"points", Limits{MaxPoints: 50}, "SELECT x FROM cpu WHERE " + year, "max-select-point limit exceeded"},
		{"timeout", Limits{Timeout: time.Nanosecond}, "SELECT mean(x) FROM cpu WHERE " + year + " GROUP BY time(1m), host", "query-timeout limit exceeded"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			env := newSelEnv(t, c.limits)
			cpuData(t, env, 7)
			series, err := env.run(t, c.q)
			if c.err == "" {
				if err != "" || len(series) == 0 {
					t.Fatalf("%s: error %q, %d series", c.q, err, len(series))
				}
				return
			}
			if !strings.Contains(err, c.err) {
				t.Fatalf("%s: error %q, want %q", c.q, err, c.err)
			}
		})
	}
}

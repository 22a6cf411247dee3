package funcs

import (
	"bufio"
	"encoding/json"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The oracle: answers InfluxDB 1.6.7 gave to queries over dataset.lp, copied
// verbatim from the compatibility corpus (see testdata/funcs/README.md).
const (
	datasetPath = "../../testdata/funcs/dataset.lp"
	oraclePath  = "../../testdata/funcs/oracle.jsonl"
)

type lpSeries struct {
	meas   string
	key    string
	tags   map[string]string
	fields map[string]map[int64]any // field -> time -> value (last write wins)
}

// loadDataset parses the small line-protocol subset dataset.lp uses
// (precision s): escaped quotes in strings, commas and spaces inside quotes.
func loadDataset(t *testing.T) []*lpSeries {
	t.Helper()
	f, err := os.Open(datasetPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	byKey := map[string]*lpSeries{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		parts := splitOutsideQuotes(line, ' ')
		if len(parts) != 3 {
			t.Fatalf("bad line %q", line)
		}
		s := byKey[parts[0]]
		if s == nil {
			kv := strings.Split(parts[0], ",")
			s = &lpSeries{meas: kv[0], key: parts[0], tags: map[string]string{}, fields: map[string]map[int64]any{}}
			for _, p := range kv[1:] {
				k, v, _ := strings.Cut(p, "=")
				s.tags[k] = v
			}
			byKey[parts[0]] = s
		}
		sec, err := strconv.ParseInt(parts[2], 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		ts := sec * int64(time.Second)
		for _, fv := range splitOutsideQuotes(parts[1], ',') {
			k, v, _ := strings.Cut(fv, "=")
			if s.fields[k] == nil {
				s.fields[k] = map[int64]any{}
			}
			s.fields[k][ts] = parseLPValue(t, v)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	out := make([]*lpSeries, 0, len(byKey))
	for _, s := range byKey {
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b *lpSeries) int { return strings.Compare(a.key, b.key) })
	return out
}

func splitOutsideQuotes(s string, sep byte) []string {
	var out []string
	quoted, start := false, 0
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '\\' && quoted:
			i++
		case s[i] == '"':
			quoted = !quoted
		case s[i] == sep && !quoted:
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

func parseLPValue(t *testing.T, v string) any {
	switch {
	case strings.HasPrefix(v, `"`):
		r := strings.NewReplacer(`\"`, `"`, `\\`, `\`)
		return r.Replace(v[1 : len(v)-1])
	case strings.HasSuffix(v, "i"):
		n, err := strconv.ParseInt(v[:len(v)-1], 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		return n
	case v == "t" || v == "T" || v == "true" || v == "True" || v == "TRUE":
		return true
	case v == "f" || v == "F" || v == "false" || v == "False" || v == "FALSE":
		return false
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// query selects one field's points in [from, to) per series (sorted by series
// key, each in time order), with Aux = the listed tags' values.
func query(ds []*lpSeries, meas, field string, keep func(*lpSeries) bool, from, to int64, aux ...string) [][]Point {
	var out [][]Point
	for _, s := range ds {
		if s.meas != meas || (keep != nil && !keep(s)) || s.fields[field] == nil {
			continue
		}
		var pts []Point
		for ts, v := range s.fields[field] {
			if ts < from || ts >= to {
				continue
			}
			p := Point{Time: ts, Value: v}
			for _, a := range aux {
				p.Aux = append(p.Aux, s.tags[a])
			}
			pts = append(pts, p)
		}
		slices.SortFunc(pts, func(a, b Point) int { return cmpInt(a.Time, b.Time) })
		if len(pts) > 0 {
			out = append(out, pts)
		}
	}
	return out
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// merged is the group's points in time order, ties in series order.
func merged(per [][]Point) []Point {
	var all []Point
	for _, s := range per {
		all = append(all, s...)
	}
	slices.SortStableFunc(all, func(a, b Point) int { return cmpInt(a.Time, b.Time) })
	return all
}

func inWindow(pts []Point, from, to int64) []Point {
	var out []Point
	for _, p := range pts {
		if p.Time >= from && p.Time < to {
			out = append(out, p)
		}
	}
	return out
}

type oracleSeries struct {
	Name    string            `json:"name"`
	Tags    map[string]string `json:"tags"`
	Columns []string          `json:"columns"`
	Values  [][]any           `json:"values"`
}

type oracleResult struct {
	Series []oracleSeries `json:"series"`
	Error  string         `json:"error"`
}

func loadOracle(t *testing.T) map[string][]oracleResult {
	t.Helper()
	f, err := os.Open(oraclePath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string][]oracleResult{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var c struct{ Name, Response string }
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			t.Fatal(err)
		}
		// Chunked answers are several documents; keep each result.
		dec := json.NewDecoder(strings.NewReader(c.Response))
		dec.UseNumber()
		for dec.More() {
			var body struct{ Results []oracleResult }
			if err := dec.Decode(&body); err != nil {
				t.Fatalf("%s: %v", c.Name, err)
			}
			out[c.Name] = append(out[c.Name], body.Results...)
		}
	}
	if len(out) == 0 {
		t.Fatal("empty oracle")
	}
	return out
}

// wantValue compares a computed value with the recorded JSON number, string or
// bool bit for bit (tolerance 0) or within a relative tolerance.
func wantValue(t *testing.T, what string, got any, want any, tol float64) {
	t.Helper()
	switch w := want.(type) {
	case json.Number:
		wf, err := strconv.ParseFloat(string(w), 64)
		if err != nil {
			t.Fatal(err)
		}
		var gf float64
		switch g := got.(type) {
		case float64:
			gf = g
		case int64:
			wi, err := strconv.ParseInt(string(w), 10, 64)
			if err != nil || g != wi {
				t.Errorf("%s = %d, InfluxDB %s", what, g, w)
			}
			return
		default:
			t.Errorf("%s = %#v, InfluxDB %s", what, got, w)
			return
		}
		if tol == 0 && gf != wf || math.Abs(gf-wf) > tol*math.Abs(wf) {
			t.Errorf("%s = %s, InfluxDB %s", what, strconv.FormatFloat(gf, 'g', -1, 64), w)
		}
	case nil:
		if got != nil {
			t.Errorf("%s = %#v, InfluxDB null", what, got)
		}
	default:
		if got != want {
			t.Errorf("%s = %#v, InfluxDB %#v", what, got, want)
		}
	}
}

func wantTime(t *testing.T, what string, got int64, want any) {
	t.Helper()
	var ns int64
	switch w := want.(type) {
	case string:
		tm, err := time.Parse(time.RFC3339Nano, w)
		if err != nil {
			t.Fatal(err)
		}
		ns = tm.UnixNano()
	case json.Number: // epoch=ms in grp14
		ms, _ := w.Int64()
		ns = ms * int64(time.Millisecond)
	}
	if got != ns {
		t.Errorf("%s time = %s, InfluxDB %v", what, time.Unix(0, got).UTC().Format(time.RFC3339Nano), want)
	}
}

func call(t *testing.T, name string, args []any, pts []Point, ws int64) []Point {
	t.Helper()
	f, err := NewWindowFunc(name, args)
	if err != nil {
		t.Fatal(err)
	}
	out, err := f(pts, ws)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func one1(t *testing.T, name string, args []any, pts []Point, ws int64) any {
	t.Helper()
	out := call(t, name, args, pts, ws)
	if len(out) != 1 {
		t.Fatalf("%s: %d points", name, len(out))
	}
	return out[0].Value
}

// accumulate computes name over a group's per-series points as InfluxDB 1.x
// does (and query/partial's states, fed series by series, reproduce): sum and
// mean per series, the per-series results then merged in series order; the
// other functions over the time-merged points.
func accumulate(t *testing.T, name string, per [][]Point, ws int64) any {
	t.Helper()
	switch name {
	case "sum":
		var tot any
		for _, s := range per {
			v := one1(t, "sum", nil, s, ws)
			switch x := v.(type) {
			case float64:
				if tot == nil {
					tot = x
				} else {
					tot = tot.(float64) + x
				}
			case int64:
				if tot == nil {
					tot = x
				} else {
					tot = tot.(int64) + x
				}
			case uint64:
				if tot == nil {
					tot = x
				} else {
					tot = tot.(uint64) + x
				}
			}
		}
		return tot
	case "mean":
		// Each series' mean from its own sum (0 + x1 + ... + xn), weighted
		// back by its count.
		var wsum float64
		var n int64
		for _, s := range per {
			var sum float64
			k := int64(0)
			var isum int64
			var usum uint64
			for _, p := range s {
				switch x := p.Value.(type) {
				case float64:
					sum += x
				case int64:
					isum += x
				case uint64:
					usum += x
				default:
					continue
				}
				k++
			}
			switch s[0].Value.(type) {
			case int64:
				sum = float64(isum)
			case uint64:
				sum = float64(usum)
			}
			if k > 0 {
				wsum += sum / float64(k) * float64(k)
				n += k
			}
		}
		if n == 0 {
			return nil
		}
		return wsum / float64(n)
	}
	out := call(t, name, nil, merged(per), ws)
	if len(out) == 0 {
		return nil
	}
	return out[0].Value
}

func TestInfluxDB16Oracle(t *testing.T) {
	ds := loadDataset(t)
	or := loadOracle(t)
	const (
		all = math.MaxInt64
		h   = int64(time.Hour)
	)
	day := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano()
	row := func(name string, series, i int) []any {
		t.Helper()
		r := or[name]
		if len(r) == 0 || len(r[0].Series) <= series || len(r[0].Series[series].Values) <= i {
			t.Fatalf("%s: no row %d of series %d", name, i, series)
		}
		return r[0].Series[series].Values[i]
	}
	host := func(h string) func(*lpSeries) bool { return func(s *lpSeries) bool { return s.tags["host"] == h } }

	t.Run("agg01_all_aggregates", func(t *testing.T) {
		per := query(ds, "cpu", "usage_user", nil, math.MinInt64, all)
		pts := merged(per)
		r := row("agg01_all_aggregates", 0, 0)
		wantValue(t, "count", accumulate(t, "count", per, 0), r[1], 0)
		wantValue(t, "sum", accumulate(t, "sum", per, 0), r[2], 0)
		wantValue(t, "mean", accumulate(t, "mean", per, 0), r[3], 0)
		wantValue(t, "median", one1(t, "median", nil, pts, 0), r[4], 0)
		wantValue(t, "min", one1(t, "min", nil, pts, 0), r[5], 0)
		wantValue(t, "max", one1(t, "max", nil, pts, 0), r[6], 0)
		wantValue(t, "first", one1(t, "first", nil, pts, 0), r[7], 0)
		wantValue(t, "last", one1(t, "last", nil, pts, 0), r[8], 0)
		wantValue(t, "spread", one1(t, "spread", nil, pts, 0), r[9], 0)
		// InfluxDB merges series with equal times in heap order, which moves
		// the last bits of the running mean; the value is otherwise the same.
		wantValue(t, "stddev", one1(t, "stddev", nil, pts, 0), r[10], 1e-14)
		wantValue(t, "percentile", one1(t, "percentile", []any{int64(95)}, pts, 0), r[11], 0)
		for _, fn := range []string{"count", "min", "max", "first", "last", "spread"} {
			wantValue(t, fn+" accumulator", accumulate(t, fn, per, 0), row("agg01_all_aggregates", 0, 0)[slices.Index(or["agg01_all_aggregates"][0].Series[0].Columns, fn)], 0)
		}
	})
	t.Run("agg07_aggregate_with_time_range", func(t *testing.T) {
		per := query(ds, "cpu", "usage_user", nil, day, day+2*h)
		r := row("agg07_aggregate_with_time_range", 0, 0)
		wantValue(t, "count", accumulate(t, "count", per, day), r[1], 0)
		wantValue(t, "mean", accumulate(t, "mean", per, day), r[2], 0)
	})
	t.Run("agg03_count_star", func(t *testing.T) {
		res := or["agg03_count_star_multi_measurement"][0]
		for _, s := range res.Series {
			for j, col := range s.Columns[1:] {
				field := strings.TrimPrefix(col, "count_")
				pts := merged(query(ds, s.Name, field, nil, math.MinInt64, all))
				var got any
				if len(pts) > 0 {
					got = one1(t, "count", nil, pts, 0)
				}
				wantValue(t, s.Name+"."+col, got, s.Values[0][j+1], 0)
			}
		}
	})
	t.Run("agg05_selector_with_tag_and_field", func(t *testing.T) {
		pts := merged(query(ds, "cpu", "usage_user", nil, math.MinInt64, all, "host"))
		p := call(t, "max", nil, pts, 0)[0]
		r := row("agg05_selector_with_tag_and_field", 0, 0)
		wantTime(t, "max", p.Time, r[0])
		wantValue(t, "max", p.Value, r[1], 0)
		wantValue(t, "host", p.Aux[0], r[2], 0)
	})
	t.Run("agg09_distinct", func(t *testing.T) {
		got := call(t, "distinct", nil, merged(query(ds, "status", "code", nil, math.MinInt64, all)), 0)
		res := or["agg09_distinct"][0].Series[0].Values
		if len(got) != len(res) {
			t.Fatalf("distinct: %v, InfluxDB %v", got, res)
		}
		for i := range got {
			wantTime(t, "distinct", got[i].Time, res[i][0])
			wantValue(t, "distinct", got[i].Value, res[i][1], 0)
		}
	})
	t.Run("type errors", func(t *testing.T) {
		for name, fn := range map[string]string{"agg12c_max_of_string_error": "max", "agg13_mean_of_string_error": "mean"} {
			f, _ := NewWindowFunc(fn, nil)
			_, err := f(merged(query(ds, "status", "msg", nil, math.MinInt64, all)), 0)
			if err == nil || err.Error() != or[name][0].Error {
				t.Errorf("%s: %v, InfluxDB %q", name, err, or[name][0].Error)
			}
		}
		// The chunked answer of http36 shows the real error of statement 1.
		f, _ := NewWindowFunc("mean", nil)
		_, err := f(merged(query(ds, "status", "msg", nil, math.MinInt64, all)), 0)
		if r := or["http36_multi_statement_middle_fails"]; err == nil || len(r) == 0 {
			t.Fatal("no error or no oracle")
		}
		wantValue(t, "count(code)", one1(t, "count", nil, merged(query(ds, "status", "code", nil, math.MinInt64, all)), 0), row("http36_multi_statement_middle_fails", 0, 0)[1], 0)
	})
	t.Run("agg15_percentile_edges", func(t *testing.T) {
		pts := merged(query(ds, "cpu", "usage_user", host("server01"), math.MinInt64, all))
		r := row("agg15_percentile_edges", 0, 0)
		if got := call(t, "percentile", []any{int64(0)}, pts, 0); got != nil {
			t.Errorf("percentile 0 = %v, InfluxDB null", got)
		}
		wantValue(t, "percentile 50", one1(t, "percentile", []any{int64(50)}, pts, 0), r[2], 0)
		wantValue(t, "percentile 100", one1(t, "percentile", []any{int64(100)}, pts, 0), r[3], 0)
		wantValue(t, "median", one1(t, "median", nil, pts, 0), r[4], 0)
	})
	t.Run("agg16b_top", func(t *testing.T) {
		got := call(t, "top", []any{int64(3)}, merged(query(ds, "cpu", "usage_user", nil, math.MinInt64, all)), 0)
		res := or["agg16b_top"][0].Series[0].Values
		if len(got) != len(res) {
			t.Fatalf("top: %v, InfluxDB %v", got, res)
		}
		for i := range got {
			wantTime(t, "top", got[i].Time, res[i][0])
			wantValue(t, "top", got[i].Value, res[i][1], 0)
		}
	})
	t.Run("agg17_top_with_tag", func(t *testing.T) {
		got := call(t, "top", []any{"host", int64(2)}, merged(query(ds, "cpu", "usage_user", nil, day, day+2*h, "host")), day)
		res := or["agg17_top_with_tag"][0].Series[0].Values
		if len(got) != len(res) {
			t.Fatalf("top: %v, InfluxDB %v", got, res)
		}
		for i := range got {
			wantTime(t, "top", got[i].Time, res[i][0])
			wantValue(t, "top", got[i].Value, res[i][1], 0)
			wantValue(t, "host", got[i].Aux[0], res[i][2], 0)
		}
	})
	t.Run("agg16d_mean_wildcard", func(t *testing.T) {
		s := or["agg16d_mean_wildcard"][0].Series[0]
		for j, col := range s.Columns[1:] {
			per := query(ds, "cpu", strings.TrimPrefix(col, "mean_"), nil, math.MinInt64, all)
			wantValue(t, col, accumulate(t, "mean", per, 0), s.Values[0][j+1], 0)
		}
	})
	t.Run("agg21_count_where_field", func(t *testing.T) {
		var pts []Point
		for _, p := range merged(query(ds, "cpu", "usage_user", nil, math.MinInt64, all)) {
			if p.Value.(float64) > 50 {
				pts = append(pts, p)
			}
		}
		wantValue(t, "count", one1(t, "count", nil, pts, 0), row("agg21_aggregate_no_time_range_with_where_field", 0, 0)[1], 0)
	})
	t.Run("math03_aggregate_arithmetic", func(t *testing.T) {
		uu := query(ds, "cpu", "usage_user", nil, day, day+2*h)
		us := query(ds, "cpu", "usage_system", nil, day, day+2*h)
		r := row("math03_aggregate_arithmetic", 0, 0)
		wantValue(t, "mean+mean", accumulate(t, "mean", uu, day).(float64)+accumulate(t, "mean", us, day).(float64), r[1], 0)
		wantValue(t, "max-min", accumulate(t, "max", uu, day).(float64)-accumulate(t, "min", uu, day).(float64), r[2], 0)
	})

	// GROUP BY time: windows aligned on the epoch (plus offset).
	windows := func(name string, series int, meas, field string, keep func(*lpSeries) bool, from, to, every, offset int64, fn string) {
		t.Run(name, func(t *testing.T) {
			per := query(ds, meas, field, keep, from, to)
			start := from - ((from-offset)%every+every)%every
			i := 0
			for ws := start; ws < to; ws += every {
				var win [][]Point
				for _, s := range per {
					if w := inWindow(s, max(ws, from), min(ws+every, to)); len(w) > 0 {
						win = append(win, w)
					}
				}
				var got any
				var gotT = ws
				if len(win) > 0 {
					got = accumulate(t, fn, win, ws)
				}
				vals := or[name][0].Series[series].Values
				if got == nil && fn == "count" {
					got = int64(0) // fill() of count is the executor's: 0
				}
				if got == nil {
					continue // fill(none)
				}
				if i >= len(vals) {
					t.Fatalf("extra window %d", ws)
				}
				wantTime(t, name, gotT, vals[i][0])
				wantValue(t, name, got, vals[i][1], 0)
				i++
			}
			if i != len(or[name][0].Series[series].Values) {
				t.Errorf("%d windows, InfluxDB %d", i, len(or[name][0].Series[series].Values))
			}
		})
	}
	min30 := int64(30 * time.Minute)
	for i, hst := range []string{"server01", "server02", "server03"} {
		windows("grp01_time_and_tag", i, "cpu", "usage_user", host(hst), day, day+2*h, min30, 0, "mean")
	}
	windows("grp03_negative_offset", 0, "cpu", "usage_user", nil, day, day+2*h, h, -int64(10*time.Minute), "count")
	windows("grp12_mem_gap_count", 0, "mem", "used", host("server01"), day+50*int64(time.Minute), day+80*int64(time.Minute), int64(5*time.Minute), 0, "count")
	windows("grp14_grafana_post_form_style", 0, "mem", "used", nil, day, day+2*h, min30, 0, "max")
	windows("grp15_group_by_time_with_selector", 0, "cpu", "usage_user", host("server03"), day, day+2*h, h, 0, "max")
}

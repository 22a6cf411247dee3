package main

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"net/url"
	"strings"
	"testing"
)

// sketchData writes three hours of requests from two hosts: a user name
// (about 400 distinct), a latency (log-normal, ms) and a status code
// (skewed), one point every 3 s per host.
func sketchData(t *testing.T, base string) {
	t.Helper()
	if r := runQuery(t, base, `CREATE DATABASE "web"`); r.status != 200 {
		t.Fatalf("create database: %d %s", r.status, r.body)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	codes := []int{200, 200, 200, 200, 200, 200, 404, 404, 500, 302}
	var b strings.Builder
	for i := 0; i < 3*3600/3; i++ {
		for _, h := range []string{"a", "b"} {
			fmt.Fprintf(&b, "req,host=%s uid=\"u%d\",lat=%.3f,code=%di %d\n", h, rng.IntN(400),
				math.Exp(3+rng.NormFloat64()), codes[rng.IntN(len(codes))], int64(i)*3e9)
		}
	}
	if r := do(t, "POST", base+"/write?db=web", []byte(b.String()), nil); r.status != 204 {
		t.Fatalf("write: %d %s", r.status, r.body)
	}
}

// series is one series of a query's JSON answer.
type series struct {
	Name    string            `json:"name"`
	Tags    map[string]string `json:"tags"`
	Columns []string          `json:"columns"`
	Values  [][]any           `json:"values"`
}

func seriesOf(t *testing.T, base, q string) ([]series, string) {
	t.Helper()
	return querySeriesDB(t, base, "web", q)
}

func querySeriesDB(t *testing.T, base, db, q string) ([]series, string) {
	t.Helper()
	r := do(t, "POST", base+"/query?db="+url.QueryEscape(db), []byte("q="+url.QueryEscape(q)),
		map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
	var out struct {
		Results []struct {
			Series []series `json:"series"`
			Error  string   `json:"error"`
		} `json:"results"`
		Error string `json:"error"`
	}
	if err := json.Unmarshal([]byte(r.body), &out); err != nil {
		t.Fatalf("%s: %d %s", q, r.status, r.body)
	}
	if out.Error != "" {
		return nil, out.Error
	}
	if len(out.Results) == 0 {
		t.Fatalf("%s: no results: %s", q, r.body)
	}
	return out.Results[0].Series, out.Results[0].Error
}

func mustSeries(t *testing.T, base, q string) []series {
	t.Helper()
	s, errText := seriesOf(t, base, q)
	if errText != "" {
		t.Fatalf("%s: %s", q, errText)
	}
	return s
}

func num(t *testing.T, v any) float64 {
	t.Helper()
	f, ok := v.(float64)
	if !ok {
		t.Fatalf("value %v (%T) is not a number", v, v)
	}
	return f
}

// column returns a single-series answer's column by name, window by window.
func column(t *testing.T, s []series, name string) []float64 {
	t.Helper()
	if len(s) != 1 {
		t.Fatalf("%d series, want 1", len(s))
	}
	at := -1
	for i, c := range s[0].Columns {
		if c == name {
			at = i
		}
	}
	if at < 0 {
		t.Fatalf("no column %s in %v", name, s[0].Columns)
	}
	var out []float64
	for _, row := range s[0].Values {
		out = append(out, num(t, row[at]))
	}
	return out
}

func within(t *testing.T, what string, got, want, rel float64) {
	t.Helper()
	if math.Abs(got-want) > rel*math.Abs(want) {
		t.Errorf("%s: got %v, want %v within %.2f%%", what, got, want, rel*100)
	}
}

// TestSketchFunctionsHTTP: each approximate function against its exact
// counterpart, through GROUP BY time and tags, fill, a subquery and
// EXPLAIN, on the real server.
func TestSketchFunctionsHTTP(t *testing.T) {
	_, base := startTestServer(t, testConfig(t.TempDir()))
	sketchData(t, base)
	const from = ` FROM req WHERE time >= 0 AND time < 3h`
	pairs := []struct {
		approx, exact string
		rel           float64
	}{
		{"approx_count_distinct(uid)", "count(distinct(uid))", 0.01},
		{"approx_count_distinct(uid, 10)", "count(distinct(uid))", 0.01},
		{"approx_percentile(lat, 99)", "percentile(lat, 99)", 0.01},
		{"approx_percentile(lat, 50)", "percentile(lat, 50)", 0.01},
		{"approx_median(lat)", "median(lat)", 0.011}, // median averages the middle two
		{"approx_count(code, 404)", "count(code) WHERE code = 404", 0.01},
	}
	for _, p := range pairs {
		for _, group := range []string{"", " GROUP BY time(1h)", " GROUP BY time(1h), host fill(0)"} {
			exactQ := "SELECT " + p.exact + from + group
			if strings.Contains(p.exact, "WHERE") {
				parts := strings.SplitN(p.exact, " WHERE ", 2)
				exactQ = "SELECT " + parts[0] + from + " AND " + parts[1] + group
			}
			a := mustSeries(t, base, "SELECT "+p.approx+" AS v"+from+group)
			e := mustSeries(t, base, strings.Replace(exactQ, "SELECT "+strings.SplitN(p.exact, " WHERE ", 2)[0], "SELECT "+strings.SplitN(p.exact, " WHERE ", 2)[0]+" AS v", 1))
			if len(a) != len(e) {
				t.Fatalf("%s%s: %d series, exact %d", p.approx, group, len(a), len(e))
			}
			for i := range a {
				av, ev := column(t, a[i:i+1], "v"), column(t, e[i:i+1], "v")
				if len(av) != len(ev) {
					t.Fatalf("%s%s: %d windows, exact %d", p.approx, group, len(av), len(ev))
				}
				for w := range av {
					within(t, fmt.Sprintf("%s%s series %d window %d", p.approx, group, i, w), av[w], ev[w], p.rel)
				}
			}
		}
	}

	// approx_top_k: the heaviest codes with their counts and bounds.
	s := mustSeries(t, base, "SELECT approx_top_k(code, 2)"+from)
	if got := strings.Join(s[0].Columns, ","); got != "time,approx_top_k,count,max_error" {
		t.Fatalf("top_k columns %s", got)
	}
	exact := map[float64]float64{}
	for _, code := range []int{200, 404} {
		c := column(t, mustSeries(t, base, fmt.Sprintf("SELECT count(code)%s AND code = %d", from, code)), "count")
		exact[float64(code)] = c[0]
	}
	if len(s[0].Values) != 2 || num(t, s[0].Values[0][1]) != 200 || num(t, s[0].Values[1][1]) != 404 {
		t.Fatalf("top_k rows %v", s[0].Values)
	}
	for _, row := range s[0].Values {
		v, c, e := num(t, row[1]), num(t, row[2]), num(t, row[3])
		if c < exact[v] || c-e > exact[v] {
			t.Errorf("top_k %v: count %v ± %v, true %v", v, c, e, exact[v])
		}
	}

	// A subquery source runs the window functions: the same sketch.
	sub := column(t, mustSeries(t, base, "SELECT approx_count_distinct(u) FROM (SELECT uid AS u"+from+")"), "approx_count_distinct")
	direct := column(t, mustSeries(t, base, "SELECT approx_count_distinct(uid)"+from), "approx_count_distinct")
	if sub[0] != direct[0] {
		t.Errorf("subquery %v, direct %v", sub, direct)
	}

	// EXPLAIN names the path of each call.
	r := runQuery(t, base, "EXPLAIN SELECT approx_count_distinct(uid), approx_percentile(lat, 99)"+strings.Replace(from, "req", "web..req", 1)+" GROUP BY time(1h)")
	if r.status != 200 || !strings.Contains(r.body, "approx_count_distinct") || !strings.Contains(r.body, "partial") {
		t.Errorf("explain: %d %s", r.status, r.body)
	}
}

// TestSketchErrorsHTTP: bad calls are InfluxQL errors naming the function.
func TestSketchErrorsHTTP(t *testing.T) {
	_, base := startTestServer(t, testConfig(t.TempDir()))
	sketchData(t, base)
	cases := []struct{ q, want string }{
		{"SELECT approx_percentile(lat) FROM req", "invalid number of arguments for approx_percentile, expected 2, got 1"},
		{"SELECT approx_percentile(lat, 101) FROM req", "percentile argument to approx_percentile must be from 0 to 100, got 101"},
		{"SELECT approx_count_distinct(uid, 30) FROM req", "precision argument to approx_count_distinct must be an integer from 4 to 18, got 30"},
		{"SELECT approx_count_distinct(uid, 'x') FROM req", "precision argument to approx_count_distinct must be an integer from 4 to 18, got 'x'"},
		{"SELECT approx_top_k(code, 0) FROM req", "k argument to approx_top_k must be an integer from 1 to 4096, got 0"},
		{"SELECT approx_top_k(code) FROM req", "invalid number of arguments for approx_top_k, expected 2, got 1"},
		{"SELECT approx_percentile(uid, 50) FROM req", "approx_percentile"},
		{"SELECT approx_top_k(code, 2), mean(lat) FROM req", "approx_top_k() cannot be combined with other functions"},
		{"SELECT merge_count_distinct(uid) FROM req", "merge_count_distinct"},
		{"SELECT approx_median(host) FROM req", "approx_median(host): host is a tag; approx_median takes a field"},
	}
	for _, c := range cases {
		_, errText := seriesOf(t, base, c.q)
		if !strings.Contains(errText, c.want) {
			t.Errorf("%s: error %q, want %q", c.q, errText, c.want)
		}
	}
}

// TestSketchRollupHTTP: per-minute sketches stored with SELECT INTO, merged
// hourly, give the sketch a direct pass over the raw data gives (the merges
// are exact), and so stay within the documented error of the exact answer;
// a rollup of the rollup (merge_sketch) too. A corrupt stored sketch is an
// error naming the function, series and time.
func TestSketchRollupHTTP(t *testing.T) {
	_, base := startTestServer(t, testConfig(t.TempDir()))
	sketchData(t, base)
	const where = ` WHERE time >= 0 AND time < 3h`
	into := "SELECT sketch_count_distinct(uid) AS visitors, sketch_percentile(lat) AS lat INTO rollup FROM req" + where + " GROUP BY time(1m), *"
	if s := mustSeries(t, base, into); len(s) != 1 || num(t, s[0].Values[0][1]) != 2*180 {
		t.Fatalf("SELECT INTO wrote %v", s)
	}
	hourly := func(q string) []float64 {
		t.Helper()
		return column(t, mustSeries(t, base, q+where+" GROUP BY time(1h)"), "v")
	}
	pairs := []struct{ merged, direct, exact string }{
		{"merge_count_distinct(visitors)", "approx_count_distinct(uid)", "count(distinct(uid))"},
		{"merge_percentile(lat, 99)", "approx_percentile(lat, 99)", "percentile(lat, 99)"},
		{"merge_median(lat)", "approx_median(lat)", "percentile(lat, 50)"},
	}
	for _, p := range pairs {
		m := hourly("SELECT " + p.merged + " AS v FROM rollup")
		d := hourly("SELECT " + p.direct + " AS v FROM req")
		e := hourly("SELECT " + p.exact + " AS v FROM req")
		if len(m) != 3 || fmt.Sprint(m) != fmt.Sprint(d) {
			t.Errorf("%s hourly %v, direct %s %v", p.merged, m, p.direct, d)
		}
		for i := range m {
			within(t, p.merged, m[i], e[i], 0.025) // 3σ of HLL at p=14; α for quantiles
		}
	}
	// A rollup of the rollup: hourly sketches merged into one.
	if s := mustSeries(t, base, "SELECT merge_sketch(visitors) AS visitors INTO rollup_h FROM rollup"+where+" GROUP BY time(1h)"); num(t, s[0].Values[0][1]) != 3 {
		t.Fatalf("hourly SELECT INTO wrote %v", s)
	}
	all := column(t, mustSeries(t, base, "SELECT merge_count_distinct(visitors) AS v FROM rollup_h"+where), "v")
	direct := column(t, mustSeries(t, base, "SELECT approx_count_distinct(uid) AS v FROM req"+where), "v")
	if all[0] != direct[0] {
		t.Errorf("merged twice %v, direct %v", all, direct)
	}

	// Corruption: a value that is not a sketch, in one series at one time.
	if r := do(t, "POST", base+"/write?db=web", []byte(`rollup,host=a visitors="bm90IGEgc2tldGNo" 30000000000`), nil); r.status != 204 {
		t.Fatalf("write: %d %s", r.status, r.body)
	}
	_, errText := seriesOf(t, base, "SELECT merge_count_distinct(visitors) FROM rollup"+where)
	for _, want := range []string{"merge_count_distinct", "corrupt sketch", "rollup,host=a", "1970-01-01T00:00:30Z"} {
		if !strings.Contains(errText, want) {
			t.Errorf("corrupt sketch error %q lacks %q", errText, want)
		}
	}
	// Precisions merge at the lower one, exactly: host a's sketches at
	// precision 10 and host b's at 14 give the precision-10 pass.
	for _, q := range []string{
		"SELECT sketch_count_distinct(uid, 10) AS v INTO mixed FROM req" + where + " AND host = 'a' GROUP BY time(1m), *",
		"SELECT sketch_count_distinct(uid) AS v INTO mixed FROM req" + where + " AND host = 'b' GROUP BY time(1m), *",
	} {
		mustSeries(t, base, q)
	}
	mixed := column(t, mustSeries(t, base, "SELECT merge_count_distinct(v) AS v FROM mixed"+where), "v")
	p10 := column(t, mustSeries(t, base, "SELECT approx_count_distinct(uid, 10) AS v FROM req"+where), "v")
	if mixed[0] != p10[0] {
		t.Errorf("precisions 10 and 14 merged: %v, precision-10 pass %v", mixed, p10)
	}
	// Other sketch kinds are refused.
	_, errText = seriesOf(t, base, "SELECT merge_count_distinct(lat) FROM rollup"+where)
	if !strings.Contains(errText, "is a quantile sketch, not a hyperloglog") {
		t.Errorf("wrong kind: %q", errText)
	}
}

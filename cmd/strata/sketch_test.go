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

func querySeries(t *testing.T, base, q string) ([]series, string) {
	t.Helper()
	r := do(t, "POST", base+"/query?db=web", []byte("q="+url.QueryEscape(q)),
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
	s, errText := querySeries(t, base, q)
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
	}
	for _, c := range cases {
		_, errText := querySeries(t, base, c.q)
		if !strings.Contains(errText, c.want) {
			t.Errorf("%s: error %q, want %q", c.q, errText, c.want)
		}
	}
}

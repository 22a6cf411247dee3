package query

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/strata-db/strata/query/funcs"
	"github.com/strata-db/strata/query/influxql"
)

var updatePlans = flag.Bool("update", false, "rewrite the golden plans under testdata/plans")

// planData writes a small TSBS-like data set: cpu with tags hostname and
// region, float usage_user/usage_system, integer requests and a string state,
// one point a minute for an hour on three hosts; and mem with one field.
func planData(t testing.TB, env *selEnv) int64 {
	start := time.Date(2016, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano()
	var pts []selPt
	for h := 0; h < 3; h++ {
		tags := map[string]string{"hostname": fmt.Sprintf("host_%d", h), "region": fmt.Sprintf("r%d", h%2)}
		for i := 0; i < 60; i++ {
			ts := start + int64(i)*int64(time.Minute)
			pts = append(pts, selPt{m: "cpu", tags: tags, t: ts, fields: map[string]any{
				"usage_user": float64((i*7+h*13)%100) + 0.5, "usage_system": float64((i*3 + h) % 50),
				"requests": int64(i * (h + 1)), "state": []string{"ok", "busy"}[i%2],
			}})
			pts = append(pts, selPt{m: "mem", tags: tags, t: ts, fields: map[string]any{"used": int64(i + h)}})
		}
	}
	env.write(t, pts...)
	return start
}

const planRange = `time >= '2016-01-01T00:00:00Z' AND time < '2016-01-01T01:00:00Z'`

// planCases are the representative statements whose plans are golden files.
var planCases = []struct{ name, q string }{
	{"raw", `SELECT usage_user, hostname FROM cpu WHERE hostname = 'host_1' AND ` + planRange + ` LIMIT 5 OFFSET 2`},
	{"raw_math_desc", `SELECT abs(usage_user - 50), round(requests / 3) FROM cpu WHERE ` + planRange + ` ORDER BY time DESC`},
	{"aggregate_time_tags_fill", `SELECT mean(usage_user), count(state), sum(requests) FROM cpu WHERE ` + planRange + ` GROUP BY time(10m), hostname fill(0)`},
	{"aggregate_desc", `SELECT sum(usage_user) FROM cpu WHERE ` + planRange + ` GROUP BY time(10m) ORDER BY time DESC`},
	{"aggregate_field_filter", `SELECT count(usage_user) FROM cpu WHERE usage_system > 20 AND ` + planRange + ` GROUP BY time(30m) fill(none)`},
	{"selector_aux", `SELECT max(usage_user), usage_system, hostname FROM cpu WHERE ` + planRange},
	{"transform_over_aggregate", `SELECT non_negative_derivative(max(usage_user), 1m), holt_winters(mean(usage_user), 3, 0) FROM cpu WHERE ` + planRange + ` GROUP BY time(10m), region`},
	{"transform_raw", `SELECT derivative(usage_user, 1m) FROM cpu WHERE hostname = 'host_0' AND ` + planRange},
	{"subquery", `SELECT max(m) FROM (SELECT mean(usage_user) AS m FROM cpu WHERE ` + planRange + ` GROUP BY time(10m), hostname) GROUP BY hostname`},
	{"top_tags", `SELECT top(usage_user, hostname, 2) FROM cpu WHERE ` + planRange},
	{"top_no_tags", `SELECT top(usage_user, 2) FROM cpu WHERE ` + planRange + ` GROUP BY time(30m)`},
	{"partial_collections", `SELECT median(usage_user), percentile(usage_user, 90), mode(requests), stddev(usage_user), spread(requests), count(distinct(state)) FROM cpu WHERE ` + planRange + ` GROUP BY time(10m)`},
	{"integral", `SELECT integral(usage_user, 1m) FROM cpu WHERE ` + planRange + ` GROUP BY hostname`},
	{"integral_windows", `SELECT integral(usage_user) FROM cpu WHERE ` + planRange + ` GROUP BY time(10m)`},
	{"into", `SELECT mean(usage_user) INTO cpu_10m FROM cpu WHERE ` + planRange + ` GROUP BY time(10m), *`},
	{"slimit", `SELECT last(usage_user) FROM cpu WHERE ` + planRange + ` GROUP BY hostname SLIMIT 2 SOFFSET 1`},
	{"regex_source", `SELECT count(used) FROM /^(cpu|mem|disk)$/ WHERE ` + planRange},
	{"empty_range", `SELECT mean(usage_user) FROM cpu WHERE time > '2016-01-01T01:00:00Z' AND time < '2016-01-01T00:00:00Z'`},
	{"tsbs_single_groupby", `SELECT max(usage_user) FROM cpu WHERE (hostname = 'host_1') AND ` + planRange + ` GROUP BY time(1m)`},
	{"approx", `SELECT approx_count_distinct(state), approx_percentile(usage_user, 99), approx_median(usage_user), approx_count(state, 'ok') FROM cpu WHERE ` + planRange + ` GROUP BY time(10m), hostname fill(0)`},
	{"approx_top_k", `SELECT approx_top_k(requests, 3) FROM cpu WHERE ` + planRange + ` GROUP BY time(30m)`},
	{"approx_tag", `SELECT approx_count_distinct(hostname), approx_count(hostname, 'host_1') FROM cpu WHERE ` + planRange + ` GROUP BY time(30m), region`},
	{"approx_tag_rows", `SELECT approx_top_k(hostname, 2) FROM cpu WHERE usage_user > 90 AND ` + planRange},
	{"approx_into", `SELECT sketch_count_distinct(state) AS s, sketch_percentile(usage_user) AS p INTO cpu_sketch FROM cpu WHERE ` + planRange + ` GROUP BY time(10m), *`},
	{"tsbs_multi_host", `SELECT max(usage_user) FROM cpu WHERE (hostname = 'host_1' OR hostname = 'host_2') AND ` + planRange + ` GROUP BY time(1m)`},
}

func planOf(t *testing.T, env *selEnv, q string) *selectPlan {
	t.Helper()
	st, err := influxql.ParseStatement(q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	sel := st.(*influxql.SelectStatement)
	if err := sel.Validate(funcs.Registry{}); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	plan, err := env.ex.prepareSelect(context.Background(), sel, ExecOptions{Database: "db", Now: env.now}, &execStats{})
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return plan
}

// TestPlanGolden compares the printed plan of each representative statement
// with testdata/plans/<name>.txt (rewrite them with -update), and checks that
// EXPLAIN prints that same tree.
func TestPlanGolden(t *testing.T) {
	env := newSelEnv(t, Limits{})
	planData(t, env)
	for _, c := range planCases {
		t.Run(c.name, func(t *testing.T) {
			got := planOf(t, env, c.q).String()
			path := filepath.Join("testdata", "plans", c.name+".txt")
			if *updatePlans {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if got != string(want) {
				t.Fatalf("plan of %s:\n%s\nwant (%s):\n%s", c.q, got, path, want)
			}
			ss := env.mustRun(t, "EXPLAIN "+c.q)
			lines := strings.Split(strings.TrimSuffix(got, "\n"), "\n")
			if len(ss) != 1 || len(ss[0].Rows) < len(lines) {
				t.Fatalf("EXPLAIN: %v", ss)
			}
			for i, l := range lines {
				if ss[0].Rows[i].Values[0] != l {
					t.Fatalf("EXPLAIN line %d = %q, want %q", i, ss[0].Rows[i].Values[0], l)
				}
			}
		})
	}
}

// TestExplainAnalyzeRunsThePlan checks that EXPLAIN ANALYZE executes what the
// SELECT executes: the same rows (SLIMIT/SOFFSET and an empty range included)
// and, for the header fast path, blocks answered from headers.
func TestExplainAnalyzeRunsThePlan(t *testing.T) {
	env := newSelEnv(t, Limits{})
	planData(t, env)
	if err := env.eng.Flush(); err != nil {
		t.Fatal(err)
	}
	for _, c := range planCases {
		if strings.Contains(c.q, " INTO ") {
			continue // EXPLAIN ANALYZE does not write; the SELECT would
		}
		rows := 0
		for _, s := range env.mustRun(t, c.q) {
			rows += len(s.Rows)
		}
		if got := explainCount(t, env, c.q, "ROWS RETURNED"); got != rows {
			t.Errorf("%s: EXPLAIN ANALYZE returned %d rows, SELECT %d", c.name, got, rows)
		}
		groups := explainCount(t, env, c.q, "NUMBER OF OUTPUT SERIES (groups)")
		if c.name == "slimit" && groups != 2 {
			t.Errorf("slimit: %d output series, want 2", groups)
		}
		if c.name == "empty_range" && (groups != 0 || rows != 0) {
			t.Errorf("empty range: %d groups, %d rows", groups, rows)
		}
	}
	q := planCases[len(planCases)-1].q
	// Everything is flushed and one field is read: the upper bound is exact.
	bound := explainCount(t, env, q, "NUMBER OF BLOCKS (upper bound, before header pruning)")
	if used := explainCount(t, env, q, "BLOCKS DECODED") + explainCount(t, env, q, "BLOCKS ANSWERED FROM HEADERS"); bound != used {
		t.Errorf("%s: %d blocks in the bound, %d decoded or answered from headers", q, bound, used)
	}
	if n := explainCount(t, env, q, "BLOCKS ANSWERED FROM HEADERS"); n != 0 {
		// GROUP BY time(1m) over one-minute points: each block spans many
		// windows, so none is answered from its header.
		t.Errorf("%s: %d blocks from headers", q, n)
	}
	q = `SELECT max(usage_user) FROM cpu WHERE ` + planRange
	if n := explainCount(t, env, q, "BLOCKS ANSWERED FROM HEADERS"); n == 0 {
		t.Errorf("%s: no block answered from headers", q)
	}
	q = `SELECT max(usage_user) FROM cpu WHERE ` + planRange + ` ORDER BY time DESC`
	if n := explainCount(t, env, q, "BLOCKS ANSWERED FROM HEADERS"); n != 0 {
		t.Errorf("%s: %d blocks from headers, the plan says none", q, n)
	}
}

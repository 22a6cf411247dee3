package bench

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/strata-db/strata/query/influxql"
)

var update = flag.Bool("update", false, "rewrite the golden files in ../testdata/bench")

const goldenDir = "../testdata/bench"

// TestQueryText checks every query type against TSBS's InfluxQL templates
// (cmd/tsbs_generate_queries/databases/influx/devops.go), filled in from the
// drawn parameters, and that the parameters obey TSBS's rules.
func TestQueryText(t *testing.T) {
	d := shapeOnly(DefaultGenConfig())
	start, end := d.Config.Start.UnixNano(), d.EndTime()
	hosts := func(q Query) string {
		var parts []string
		for _, h := range q.Hosts {
			parts = append(parts, fmt.Sprintf("hostname = 'host_%d'", h))
		}
		return "(" + strings.Join(parts, " or ") + ")"
	}
	ts := func(ns int64) string { return time.Unix(0, ns).UTC().Format(time.RFC3339) }
	maxOf := func(n int, sep string) string {
		var p []string
		for _, f := range FieldNames[:n] {
			p = append(p, "max("+f+")")
		}
		return strings.Join(p, sep)
	}
	meanOf := func(n int) string {
		var p []string
		for _, f := range FieldNames[:n] {
			p = append(p, "mean("+f+")")
		}
		return strings.Join(p, ", ")
	}
	tests := []struct {
		typ    string
		hosts  int
		window time.Duration
		text   func(q Query) string
	}{
		{"single-groupby-1-1-1", 1, time.Hour, func(q Query) string {
			return fmt.Sprintf("SELECT max(usage_user) from cpu where %s and time >= '%s' and time < '%s' group by time(1m)", hosts(q), ts(q.Start), ts(q.End))
		}},
		{"single-groupby-1-1-12", 1, 12 * time.Hour, func(q Query) string {
			return fmt.Sprintf("SELECT max(usage_user) from cpu where %s and time >= '%s' and time < '%s' group by time(1m)", hosts(q), ts(q.Start), ts(q.End))
		}},
		{"single-groupby-1-8-1", 8, time.Hour, func(q Query) string {
			return fmt.Sprintf("SELECT max(usage_user) from cpu where %s and time >= '%s' and time < '%s' group by time(1m)", hosts(q), ts(q.Start), ts(q.End))
		}},
		{"single-groupby-5-1-1", 1, time.Hour, func(q Query) string {
			return fmt.Sprintf("SELECT %s from cpu where %s and time >= '%s' and time < '%s' group by time(1m)", maxOf(5, ", "), hosts(q), ts(q.Start), ts(q.End))
		}},
		{"single-groupby-5-1-12", 1, 12 * time.Hour, func(q Query) string {
			return fmt.Sprintf("SELECT %s from cpu where %s and time >= '%s' and time < '%s' group by time(1m)", maxOf(5, ", "), hosts(q), ts(q.Start), ts(q.End))
		}},
		{"single-groupby-5-8-1", 8, time.Hour, func(q Query) string {
			return fmt.Sprintf("SELECT %s from cpu where %s and time >= '%s' and time < '%s' group by time(1m)", maxOf(5, ", "), hosts(q), ts(q.Start), ts(q.End))
		}},
		{"cpu-max-all-1", 1, 8 * time.Hour, func(q Query) string {
			return fmt.Sprintf("SELECT %s from cpu where %s and time >= '%s' and time < '%s' group by time(1m)", maxOf(10, ","), hosts(q), ts(q.Start), ts(q.End))
		}},
		{"cpu-max-all-8", 8, 8 * time.Hour, func(q Query) string {
			return fmt.Sprintf("SELECT %s from cpu where %s and time >= '%s' and time < '%s' group by time(1m)", maxOf(10, ","), hosts(q), ts(q.Start), ts(q.End))
		}},
		{"double-groupby-1", 0, 12 * time.Hour, func(q Query) string {
			return fmt.Sprintf("SELECT %s from cpu where time >= '%s' and time < '%s' group by time(1h),hostname", meanOf(1), ts(q.Start), ts(q.End))
		}},
		{"double-groupby-5", 0, 12 * time.Hour, func(q Query) string {
			return fmt.Sprintf("SELECT %s from cpu where time >= '%s' and time < '%s' group by time(1h),hostname", meanOf(5), ts(q.Start), ts(q.End))
		}},
		{"double-groupby-all", 0, 12 * time.Hour, func(q Query) string {
			return fmt.Sprintf("SELECT %s from cpu where time >= '%s' and time < '%s' group by time(1h),hostname", meanOf(10), ts(q.Start), ts(q.End))
		}},
		{"high-cpu-1", 1, 12 * time.Hour, func(q Query) string {
			return fmt.Sprintf("SELECT * from cpu where usage_user > 90.0 and %s and time >= '%s' and time < '%s'", hosts(q), ts(q.Start), ts(q.End))
		}},
		{"high-cpu-all", 0, 12 * time.Hour, func(q Query) string {
			// TSBS leaves two spaces where the host clause would be.
			return fmt.Sprintf("SELECT * from cpu where usage_user > 90.0  and time >= '%s' and time < '%s'", ts(q.Start), ts(q.End))
		}},
		{"lastpoint", 0, 0, func(Query) string {
			return `SELECT * from cpu group by "hostname" order by time desc limit 1`
		}},
		{"groupby-orderby-limit", 0, 0, func(q Query) string {
			return fmt.Sprintf("SELECT max(usage_user) from cpu WHERE time < '%s' group by time(1m) limit 5", ts(q.End))
		}},
	}
	if len(tests) != len(QueryTypes) {
		t.Fatalf("%d cases for %d query types", len(tests), len(QueryTypes))
	}
	gen := NewQueryGen(1, len(d.Hosts), start, end)
	for _, tt := range tests {
		t.Run(tt.typ, func(t *testing.T) {
			for range 50 {
				q, err := gen.Next(tt.typ)
				if err != nil {
					t.Fatal(err)
				}
				if want := tt.text(q); q.Text != want {
					t.Fatalf("text\n%s\nwant\n%s", q.Text, want)
				}
				if _, err := influxql.ParseQuery(q.Text); err != nil {
					t.Fatalf("%s: %v", q.Text, err)
				}
				if len(q.Hosts) != tt.hosts {
					t.Fatalf("%d hosts, want %d", len(q.Hosts), tt.hosts)
				}
				sorted := slices.Clone(q.Hosts)
				slices.Sort(sorted)
				if len(slices.Compact(sorted)) != len(q.Hosts) {
					t.Fatalf("hosts %v repeat", q.Hosts)
				}
				if tt.window > 0 {
					if q.End-q.Start != int64(tt.window) && tt.typ != "groupby-orderby-limit" {
						t.Fatalf("window %v, want %v", time.Duration(q.End-q.Start), tt.window)
					}
					if q.End%int64(time.Second) != 0 || q.End > end || q.End-int64(tt.window) < start {
						t.Fatalf("window [%s, %s) outside the data or not whole seconds", ts(q.Start), ts(q.End))
					}
				}
			}
		})
	}
	if _, err := gen.Next("nope"); err == nil {
		t.Error("unknown type: no error")
	}
}

// TestQueryGen_SmallDataSets: more hosts than exist and windows longer than the data
// are clamped, so tiny runs still run every type.
func TestQueryGen_SmallDataSets(t *testing.T) {
	start := t0.UnixNano()
	gen := NewQueryGen(3, 2, start, start+int64(10*time.Minute))
	q, err := gen.Next("cpu-max-all-8")
	if err != nil {
		t.Fatal(err)
	}
	if len(q.Hosts) != 2 || q.Start != start || q.End != start+int64(8*time.Hour) {
		t.Fatalf("hosts %v window [%d, %d)", q.Hosts, q.Start, q.End)
	}
}

// TestGolden pins the generator and the query generator for seed 1: a change in
// either changes what benchmark numbers mean, so it must be deliberate
// (go test ./bench -run TestGolden -update).
func TestGolden(t *testing.T) {
	c := DefaultGenConfig()
	c.Hosts, c.Duration, c.BatchLines = 3, time.Minute, 1000
	d := mustGenerate(t, c)
	plan, err := PlanQueries(c.Seed, shapeOnly(DefaultGenConfig()), QueryTypes, 2)
	if err != nil {
		t.Fatal(err)
	}
	var qs strings.Builder
	for i, typ := range QueryTypes {
		for _, q := range plan[i] {
			fmt.Fprintf(&qs, "%s\t%s\n", typ, q.Text)
		}
	}
	files := map[string][]byte{
		"cpu-only-seed1-3hosts-1m.lp": d.Bodies[0],
		"queries-seed1-scale100.tsv":  []byte(qs.String()),
	}
	for name, got := range files {
		path := filepath.Join(goldenDir, name)
		if *update {
			if err := os.WriteFile(path, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if string(want) != string(got) {
			t.Errorf("%s differs from the generator's output (run with -update if the change is deliberate)", path)
		}
	}
}

// TestGoldenDecodes reads the golden line protocol back with the project's parser,
// so the fixture stays valid line protocol with the documented shape.
func TestGoldenDecodes(t *testing.T) {
	body, err := os.ReadFile(filepath.Join(goldenDir, "cpu-only-seed1-3hosts-1m.lp"))
	if err != nil {
		t.Fatal(err)
	}
	c := DefaultGenConfig()
	c.Hosts, c.Duration, c.BatchLines = 3, time.Minute, 1000
	d := mustGenerate(t, c)
	n := parseBody(t, d, body, 0)
	if n != 18 {
		t.Fatalf("%d lines, want 3 hosts × 6 points", n)
	}
}

// shapeOnly is a data set with hosts and a time range but no values: all that
// query generation looks at.
func shapeOnly(c GenConfig) *Dataset {
	return &Dataset{Config: c, Hosts: make([]Host, c.Hosts), NumPoints: c.PointsPerHost()}
}

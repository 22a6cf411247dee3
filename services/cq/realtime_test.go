package cq

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/strata-db/strata/query"
	"github.com/strata-db/strata/query/influxql"
)

// TestRealTime: a SELECT on the rollup answers the windows the service has
// not computed (the current one, a dirty one) from raw data, the same rows
// the service writes once it runs; rollups=stored reads what was written;
// EXPLAIN says which windows were computed.
func TestRealTime(t *testing.T) {
	r := newRig(t, t.TempDir(), 0)
	defer r.close()
	if err := r.eng.CreateDatabase("db", nil); err != nil {
		t.Fatal(err)
	}
	r.q(rollupCQ)
	r.at(0, 0)
	for min := 0; min < 5; min++ {
		r.write("a", min, 10, float64(min))
		r.write("b", min, 20, float64(10+min))
		r.at(min+1, 0)
	}
	const rollup = "SELECT mean, count, max FROM m_1m WHERE time >= '2026-01-01T00:00:00Z' GROUP BY host"
	computed := r.stored(rollup)
	if len(computed) != 10 || !slices.Equal(r.q(rollup), computed) {
		t.Fatalf("all computed: real time %v, stored %v", r.q(rollup), computed)
	}
	// The current window (minute 5) has data the service computes at 00:06,
	// and a late point makes minute 2 of a dirty.
	r.write("a", 5, 30, 7)
	r.write("a", 2, 40, 100)
	r.now = r.base.Add(5*60e9 + 45e9) // not run yet
	real := r.q(rollup)
	if slices.Equal(real, r.stored(rollup)) {
		t.Fatal("real time equals stored before the service ran")
	}
	for _, want := range []string{"map[host:a]|00:02|51 2 100", "map[host:a]|00:05|7 1 7"} {
		if !slices.Contains(real, want) {
			t.Fatalf("real time lacks %q:\n%s", want, strings.Join(real, "\n"))
		}
	}
	plan := strings.Join(r.q("EXPLAIN "+rollup), "\n")
	if !strings.Contains(plan, "REAL-TIME ROLLUP db.c: 2 window(s) from raw data") || !strings.Contains(plan, "1 dirty group span(s)") {
		t.Fatalf("EXPLAIN:\n%s", plan)
	}
	if s := strings.Join(r.stored("EXPLAIN "+rollup), "\n"); strings.Contains(s, "REAL-TIME") {
		t.Fatalf("EXPLAIN with rollups=stored:\n%s", s)
	}
	// A requester who may read the rollup but not its raw source gets the
	// stored rollup.
	q, _ := influxql.ParseQuery(rollup)
	var denied []string
	if err := r.ex.Execute(context.Background(), q, query.ExecOptions{Database: "db", Now: r.now, Auth: rawDenied{}}, query.SinkFunc(func(res *query.StatementResult) error {
		for _, s := range res.Series {
			for _, row := range s.Rows {
				denied = append(denied, fmt.Sprintf("%v|%v|%s", s.Tags, time.Unix(0, row.Time).UTC().Format("15:04"), fmt.Sprint(row.Values...)))
			}
		}
		return nil
	})); err != nil {
		t.Fatal(err)
	}
	sort.Strings(denied)
	if !slices.Equal(denied, r.stored(rollup)) {
		t.Fatalf("without read access to the source: %v", denied)
	}
	// An aggregate over the rollup sees the same rows.
	if got := r.q("SELECT sum(count) FROM m_1m WHERE time >= '2026-01-01T00:00:00Z'"); !slices.Equal(got, []string{"map[]|00:00|12"}) {
		t.Fatalf("sum over the rollup in real time: %v", got)
	}
	// The service computes the dirty minute at once and the current one when
	// it ends: then the stored rollup is what real time answered.
	r.at(6, 0)
	if stored := r.stored(rollup); !slices.Equal(stored, real) {
		t.Fatalf("the service wrote\n%s\nreal time answered\n%s", strings.Join(stored, "\n"), strings.Join(real, "\n"))
	}
	if got := r.q(rollup); !slices.Equal(got, real) {
		t.Fatalf("real time after the run: %v", got)
	}
	if l := r.metric("late"); l != 1 {
		t.Fatalf("late windows recomputed = %v, want 1", l)
	}
}

// rawDenied authorizes every statement but those reading measurement m.
type rawDenied struct{}

func (rawDenied) AuthorizeStatement(stmt influxql.Statement, db string) error {
	if sel, ok := stmt.(*influxql.SelectStatement); ok {
		for _, src := range sel.Sources {
			if m, ok := src.(*influxql.Measurement); ok && m.Name == "m" {
				return errors.New("not authorized")
			}
		}
	}
	return nil
}

func (rawDenied) AuthorizeDatabase(influxql.Privilege, string) bool { return true }
func (rawDenied) Bootstrap() bool                                   { return false }

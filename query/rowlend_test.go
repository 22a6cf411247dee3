package query

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/strata-db/strata/query/influxql"
)

// borrowSink is a RowsBorrower that renders each piece as WriteResult gets
// it, as httpapi's writer does, and keeps only the text.
type borrowSink struct{ b strings.Builder }

func (s *borrowSink) BorrowsRows() {}

func (s *borrowSink) WriteResult(res *StatementResult) error {
	s.b.WriteString(renderPieces([]*StatementResult{res}))
	return nil
}

// renderPieces prints results' series pieces and rows, values with their
// types, for comparing what two sinks were given.
func renderPieces(results []*StatementResult) string {
	var b strings.Builder
	for _, res := range results {
		for _, s := range res.Series {
			fmt.Fprintf(&b, "%s %v %v\n", s.Name, s.Tags, s.Columns)
			for _, r := range s.Rows {
				fmt.Fprintf(&b, "  %d", r.Time)
				for _, v := range r.Values {
					fmt.Fprintf(&b, " %T(%v)", v, v)
				}
				b.WriteByte('\n')
			}
		}
		if res.Err != "" {
			fmt.Fprintf(&b, "error %s\n", res.Err)
		}
	}
	return b.String()
}

// TestLentRows checks that an executor lending row arrays to a borrowing
// sink gives it the rows a keeping sink gets, on one core (groups inline,
// arrays reused from group to group) and on several (several groups run in
// parallel and borrow nothing; one group runs inline and does), and that the rows a keeping sink was given stay as they
// were while later queries borrow.
func TestLentRows(t *testing.T) {
	env := newSelEnv(t, Limits{})
	workersData(t, env)
	rng := fmt.Sprintf("time >= %d AND time < %d", t0-30*int64(time.Minute), t0+4*selHour)
	var queries []string
	for _, sel := range []string{"max(x)", "mean(i), count(s)", "first(s), last(b), sum(x) * 2"} {
		for _, tail := range []string{"time(1m)", "time(7m), rack fill(none)", "time(10m), host fill(previous)", "time(1h) fill(3)"} {
			queries = append(queries, "SELECT "+sel+" FROM cpu WHERE "+rng+" GROUP BY "+tail)
		}
	}
	execute := func(ex *Executor, q string, sink ResultSink) {
		t.Helper()
		parsed, err := influxql.ParseQuery(q)
		if err != nil {
			t.Fatal(err)
		}
		if err := ex.Execute(context.Background(), parsed, ExecOptions{Database: "db", Now: env.now}, sink); err != nil {
			t.Fatal(err)
		}
	}
	keeping := NewExecutor(env.eng, nil, Limits{})
	kept := make([]*Collector, len(queries))
	want := make([]string, len(queries))
	for i, q := range queries {
		kept[i] = &Collector{}
		execute(keeping, q, kept[i])
		want[i] = renderPieces(kept[i].Results)
	}
	for _, procs := range []int{1, 4} {
		t.Run(fmt.Sprintf("GOMAXPROCS=%d", procs), func(t *testing.T) {
			defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
			lending := NewExecutor(env.eng, nil, Limits{})
			for round := 0; round < 2; round++ { // the second round reuses the first's arrays
				for i, q := range queries {
					var s borrowSink
					execute(lending, q, &s)
					if got := s.b.String(); got != want[i] {
						t.Fatalf("%s: borrowed rows differ\ngot:\n%s\nwant:\n%s", q, got, want[i])
					}
					// The keeping executor's answers, and a keeping sink's
					// rows from the lending one, are untouched.
					var c Collector
					execute(lending, q, &c)
					execute(lending, queries[(i+1)%len(queries)], &borrowSink{})
					if got := renderPieces(c.Results); got != want[i] {
						t.Fatalf("%s: kept rows changed by a later borrower\ngot:\n%s\nwant:\n%s", q, got, want[i])
					}
				}
			}
			// lent runs q on a new executor and tells whether arrays came back
			// to its pool; tried again, as sync.Pool drops some Puts under the
			// race detector.
			lent := func(q string) bool {
				ex := NewExecutor(env.eng, nil, Limits{})
				for try := 0; try < 20; try++ {
					execute(ex, q, &borrowSink{})
					if b, _ := ex.rowBufs.Get().(*rowBuf); b != nil {
						return true
					}
				}
				return false
			}
			if !lent(queries[0]) {
				t.Error("no arrays lent for one group") // it runs inline on any count of cores
			}
			// Several groups on several cores run in parallel: nothing lent.
			if got := lent("SELECT max(x) FROM cpu WHERE " + rng + " GROUP BY time(1m), host"); got != (procs == 1) {
				t.Errorf("arrays lent for groups by host: %v, want %v", got, procs == 1)
			}
		})
	}
	for i := range queries {
		if got := renderPieces(kept[i].Results); got != want[i] {
			t.Errorf("%s: kept rows changed", queries[i])
		}
	}
}

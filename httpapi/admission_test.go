package httpapi

import (
	"context"
	"errors"
	"testing"

	"github.com/strata-db/strata/query/influxql"
)

func mustParse(t *testing.T, s string) *influxql.Query {
	t.Helper()
	q, err := influxql.ParseQuery(s)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

// TestAdmissionAccounting walks tickets through the slots and the queue and
// checks that every path (run, wait then run, cancelled wait, refusal, exempt
// statements) gives back exactly what it took.
func TestAdmissionAccounting(t *testing.T) {
	a := NewAdmission(1, 1, nil)
	sel := mustParse(t, "SELECT v FROM m")
	run, err := a.enter(sel)
	if err != nil || !run.running {
		t.Fatalf("first: %v %+v", err, run)
	}
	wait, err := a.enter(sel)
	if err != nil || !wait.needsWait() || a.queued.Load() != 1 {
		t.Fatalf("second: %v %+v queued=%d", err, wait, a.queued.Load())
	}
	if _, err := a.enter(sel); !errors.Is(err, errTooManyQueries) {
		t.Fatalf("third: %v", err)
	}
	for _, q := range []string{"SHOW QUERIES", "KILL QUERY 1", "SHOW QUERIES; KILL QUERY 2"} {
		if tk, err := a.enter(mustParse(t, q)); err != nil || tk.running || tk.queued {
			t.Fatalf("%s is exempt: %v %+v", q, err, tk)
		}
	}
	if tk, err := a.enter(mustParse(t, "SHOW QUERIES; SELECT v FROM m")); err == nil {
		t.Fatalf("a query that also selects is not exempt: %+v", tk)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := wait.wait(ctx); err == nil || a.queued.Load() != 0 {
		t.Fatalf("cancelled wait: %v queued=%d", err, a.queued.Load())
	}
	wait.leave()
	if a.queued.Load() != 0 || len(a.slots) != 1 {
		t.Fatalf("after a cancelled wait: queued=%d running=%d", a.queued.Load(), len(a.slots))
	}

	next, err := a.enter(sel)
	if err != nil || !next.needsWait() {
		t.Fatalf("queue place not freed: %v", err)
	}
	run.leave()
	if err := next.wait(context.Background()); err != nil || !next.running {
		t.Fatalf("turn after the slot was freed: %v", err)
	}
	next.leave()
	next.leave() // idempotent
	if a.queued.Load() != 0 || len(a.slots) != 0 {
		t.Fatalf("at the end: queued=%d running=%d", a.queued.Load(), len(a.slots))
	}
	// No limit: everything runs at once, nothing is counted.
	var none *Admission
	if tk, err := none.enter(sel); err != nil || tk.needsWait() {
		t.Fatalf("nil admission: %v", err)
	}
}

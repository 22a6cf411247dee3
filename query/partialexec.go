// Multi-node SELECTs, the peer's side: ExecutePartial runs a statement the
// receiving node planned over this node's stored series only, and answers
// per series what the receiver needs to finish it (fanout.go): per-window
// partial states, closed, for each call whose path merges, and raw points
// of the fields the other calls and raw SELECTs read. Nothing after grouping
// runs here: SLIMIT, LIMIT, fill and transformations need every node's data.
package query

import (
	"context"
	"fmt"
	"slices"

	"github.com/strata-db/strata/query/funcs"
	"github.com/strata-db/strata/query/influxql"
	"github.com/strata-db/strata/query/nodewire"
)

// ExecutePartial executes req's SELECT on this node's data for the node that
// fanned it out; node names this node in the answer.
func (e *Executor) ExecutePartial(ctx context.Context, req PartialRequest, auth Authorizer, node string) (*nodewire.Response, error) {
	q, err := influxql.ParseQuery(req.Statement)
	if err != nil {
		return nil, err
	}
	if len(q.Statements) != 1 {
		return nil, fmt.Errorf("partial execution takes one statement, got %d", len(q.Statements))
	}
	stmt, ok := q.Statements[0].(*influxql.SelectStatement)
	if !ok || stmt.Target != nil {
		return nil, fmt.Errorf("partial execution takes a SELECT without INTO")
	}
	opts := ExecOptions{Database: req.Database, RetentionPolicy: req.RetentionPolicy, Now: req.Now, Auth: auth, Budget: e.NewBudget(), partialExec: true}
	if err := authorize(stmt, opts); err != nil {
		return nil, err
	}
	ctx, done := e.queries.register(ctx, "partial: "+req.Statement, req.Database)
	defer done()
	mem := &stmtMem{b: opts.Budget}
	defer mem.end()
	ctx = withMem(ctx, mem)
	if err := stmt.Validate(funcs.Registry{}); err != nil {
		return nil, err
	}
	stats := &execStats{}
	plan, err := e.prepareSelect(ctx, stmt, opts, stats)
	if err != nil {
		return nil, err
	}
	out := &nodewire.Response{Node: node}
	run, _, groups, err := e.startPlan(ctx, plan, opts, stats)
	if err != nil || run == nil {
		return out, err
	}
	raw := len(run.plan.calls) == 0
	for _, c := range run.plan.calls {
		if !mergesRemote(c) {
			raw = true
		}
	}
	for _, g := range groups {
		if err := run.partialGroup(g, raw, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// mergesRemote tells a call whose per-series states the receiver merges.
// Integral's states merge for a group of one series only; its raw points
// travel too (ExecutePartial), for the groups of several.
func mergesRemote(c *callPlan) bool {
	return (c.path == pathHeaders || c.path == pathPartial) && c.name != "integral"
}

// partialGroup appends the answer of each of g's series.
func (r *selectRun) partialGroup(g *group, raw bool, out *nodewire.Response) error {
	snap, err := r.openSnapshot(g)
	if err != nil {
		return err
	}
	defer closeSnapshot(g, snap)
	mem := memOf(r.ctx)
	defer func() { mem.release(g.held); g.held = 0 }()
	for _, s := range g.series {
		ws := nodewire.Series{Measurement: s.measurement, Tags: s.tags, Fields: map[string][]funcs.Point{}}
		for ci, c := range r.plan.calls {
			if c.path != pathHeaders && c.path != pathPartial {
				continue
			}
			w := newWindowStates(c, r.windowsInRange())
			w.hold = func(n int64) error { return r.holdGroup(g, n) }
			var points int64
			if err := r.accumulateSeries(s, c, w, &points, r.plan.tr.Min, r.plan.tr.Max); err != nil {
				return fmt.Errorf("series %s: %w", s.display(), err)
			}
			w.endSeries()
			if len(w.states) == 0 {
				continue
			}
			if ws.States == nil {
				ws.States = map[int][]nodewire.Window{}
			}
			wins := make([]nodewire.Window, len(w.states))
			for i, e := range w.states {
				wins[i] = nodewire.Window{Start: e.ws, State: e.st}
			}
			ws.States[ci] = wins
		}
		// The names the statement reads that are fields, so that the
		// receiver does not take them for tags (isTagOf of a memory series).
		for _, f := range r.neededFields(r.plan.exprs, s) {
			if _, ok := r.fieldID(s, f); !ok {
				continue
			}
			if !raw {
				ws.Fields[f] = nil
				continue
			}
			pts, err := r.readField(s, f, 0, false)
			if err != nil {
				return err
			}
			if err := r.holdGroup(g, int64(len(pts))*pointBytes); err != nil {
				return err
			}
			ws.Fields[f] = pts
		}
		if raw {
			ws.Times = rowTimes(ws.Fields)
		}
		out.Series = append(out.Series, ws)
	}
	return nil
}

// rowTimes is the ascending union of the fields' point times: the rows a
// stored series has, for the receiver's raw merge.
func rowTimes(fields map[string][]funcs.Point) []int64 {
	seen := map[int64]bool{}
	var out []int64
	for _, pts := range fields {
		for _, p := range pts {
			if !seen[p.Time] {
				seen[p.Time] = true
				out = append(out, p.Time)
			}
		}
	}
	slices.Sort(out)
	return out
}

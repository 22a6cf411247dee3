// Multi-node SELECTs, the peer's side: ExecutePartial runs a statement the
// receiving node planned over this node's stored series only, and answers
// per series what the receiver needs to finish it (fanout.go): per-window
// partial states, closed, for each call whose path merges, and the rows that
// pass the WHERE field condition, with the fields the other calls and raw
// SELECTs read. Nothing after grouping runs here: SLIMIT, OFFSET, fill and
// transformations need every node's data. Pushed down: the time range, the
// field condition, and for raw SELECTs at most LIMIT+OFFSET rows per series
// in output order (the first LIMIT+OFFSET rows of a merge by time are among
// the first LIMIT+OFFSET of each input, however a series' points are spread
// over nodes). SHOW statements answer their listing (fanout_show.go).
package query

import (
	"context"
	"fmt"
	"slices"
	"sort"

	"github.com/strata-db/strata/query/funcs"
	"github.com/strata-db/strata/query/influxql"
	"github.com/strata-db/strata/query/nodewire"
)

// ExecutePartial executes req's statement on this node's data for the node
// that fanned it out; node names this node in the answer.
func (e *Executor) ExecutePartial(ctx context.Context, req PartialRequest, auth Authorizer, node string) (*nodewire.Response, error) {
	q, err := influxql.ParseQuery(req.Statement)
	if err != nil {
		return nil, err
	}
	if len(q.Statements) != 1 {
		return nil, fmt.Errorf("partial execution takes one statement, got %d", len(q.Statements))
	}
	opts := ExecOptions{Database: req.Database, RetentionPolicy: req.RetentionPolicy, Now: req.Now, Auth: auth, Budget: e.NewBudget(), partialExec: true}
	if show, ok := mergedShow(q.Statements[0]); ok {
		return e.showPartial(ctx, show, opts, node)
	}
	stmt, ok := q.Statements[0].(*influxql.SelectStatement)
	if !ok || stmt.Target != nil {
		return nil, fmt.Errorf("partial execution takes a SELECT without INTO or a SHOW listing")
	}
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
	src, err := e.resolveSources(ctx, stmt, opts, stats)
	if err != nil {
		return nil, err
	}
	out := &nodewire.Response{Node: node, Schema: schemaOf(src.schema)}
	// The receiver's fields and tags too: a wildcard expands, and WHERE
	// splits, as on a node that holds every node's series.
	src.schema = withSchema(src.schema, req.Schema)
	plan, err := e.planSelect(stmt, src, opts.Now)
	if err != nil {
		// Not yet a failure: a node that stores nothing of the measurement,
		// asked by another such node, takes a field for a tag ("invalid tag
		// condition"). The schema alone goes back; the receiver asks again
		// with every node's, and with that one the receiver's own plan, made
		// from the same schema, reports an error that remains.
		return out, nil
	}
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
				return err // a corrupt stored sketch names its series (accumulateWithin)
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
		ship := r.shippedFields(s)
		if !raw {
			// The names the statement reads that are fields, so that the
			// receiver does not take them for tags (isTagOf of a memory series).
			for _, f := range ship {
				ws.Fields[f] = nil
			}
		} else if err := r.shipRows(g, s, ship, &ws); err != nil {
			return err
		}
		out.Series = append(out.Series, ws)
	}
	return nil
}

// shippedFields are the fields of s's measurement the receiver reads from a
// remote series: those of the select list and of the calls (top's and
// bottom's field arguments included; every field for a call over a tag,
// whose rows are theirs). Fields only the WHERE condition reads
// stay here: it was evaluated here.
func (r *selectRun) shippedFields(s *seriesRef) []string {
	names := r.neededFieldsOf(r.plan.exprs, s)
	for _, c := range r.plan.calls {
		names = append(names, c.field)
		names = append(names, topTagArgs(c)...)
		if c.tag {
			// A tag's rows are the rows of every field (tagarg.go).
			for f := range r.measurementInfo(s).fields {
				names = append(names, f)
			}
		}
	}
	sort.Strings(names)
	names = slices.Compact(names)
	out := names[:0]
	for _, f := range names {
		if _, ok := r.fieldID(s, f); ok {
			out = append(out, f)
		}
	}
	return out
}

// neededFieldsOf is neededFields without the field condition's names.
func (r *selectRun) neededFieldsOf(exprs []influxql.Expr, s *seriesRef) []string {
	var out []string
	for _, ex := range exprs {
		influxql.Walk(ex, func(n influxql.Node) {
			if v, ok := n.(*influxql.VarRef); ok && (v.Type == influxql.AnyField || v.Type != influxql.Tag && !r.isTagOf(s, v.Val)) {
				out = append(out, v.Val)
			}
		})
	}
	return out
}

// shipRows fills ws with s's rows that pass the field condition, as the
// receiver's merge would read them from a local series (rowStream, with the
// same row cap): their times, and the points of the shipped fields. A row
// none of whose shipped fields has a value would not print, nor feed a
// call, and stays here.
func (r *selectRun) shipRows(g *group, s *seriesRef, ship []string, ws *nodewire.Series) error {
	// The condition's fields are read too, to evaluate it.
	fields := append(r.neededFields(r.plan.exprs, s), ship...)
	sort.Strings(fields)
	rr := newRowReader(slices.Compact(fields))
	max, desc := 0, false
	if p := r.plan; len(p.calls) == 0 && p.stmt.Limit > 0 {
		max, desc = p.stmt.Limit+p.stmt.Offset, !p.ascending
	}
	r.stats.series.Add(1)
	st, err := r.newRowStream(s, rr, max, desc)
	if err != nil {
		return err
	}
	defer st.close()
	cols := make([]int, len(ship))
	for i, f := range ship {
		cols[i] = rr.index[f]
	}
	pts := make([][]funcs.Point, len(ship))
	var held int64
	for st.next() {
		has := false
		for _, c := range cols {
			if st.row.vals[c] != nil {
				has = true
				break
			}
		}
		if !has {
			continue
		}
		ws.Times = append(ws.Times, st.row.time)
		for i, c := range cols {
			if v := st.row.vals[c]; v != nil {
				pts[i] = append(pts[i], funcs.Point{Time: st.row.time, Value: v})
				held += pointBytes
			}
		}
		if held > 1<<16 {
			if err := r.holdGroup(g, held); err != nil {
				return err
			}
			held = 0
		}
	}
	if st.err != nil {
		return st.err
	}
	if err := r.holdGroup(g, held); err != nil {
		return err
	}
	if desc {
		slices.Reverse(ws.Times)
	}
	for i, f := range ship {
		if desc {
			reversePoints(pts[i])
		}
		ws.Fields[f] = pts[i]
	}
	return nil
}
